package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/signet/internal/platform"
)

// TestStubDependencies checks, for every target, that the loader stub builds with cgo off
// and imports only the standard library and the stub packages listed in docs/design.md.
func TestStubDependencies(t *testing.T) {
	root := repoRootForTest(t)
	const module = "github.com/signet-dev/signet/signet/"
	allowed := map[string]bool{}
	for _, p := range []string{"internal/manifest", "internal/apppath", "internal/payload", "internal/pefile",
		"internal/treecheck", "internal/interp", "internal/launch", "internal/auditlog", "internal/verifycache", "internal/loader", "cmd/loader"} {
		allowed[module+p] = true
	}
	for _, target := range platform.All {
		t.Run(target.Key(), func(t *testing.T) {
			t.Parallel()
			env := append(os.Environ(), "CGO_ENABLED=0", "GOOS="+target.GOOS, "GOARCH="+target.GOARCH)

			list := exec.Command(goTool(), "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", "./signet/cmd/loader")
			list.Dir, list.Env = root, env
			out, err := list.Output()
			if err != nil {
				t.Fatalf("go list -deps ./signet/cmd/loader: %v\n%s", err, stderrOf(err))
			}
			n := 0
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				path, standard, _ := strings.Cut(line, " ")
				if standard == "true" {
					continue
				}
				n++
				if !allowed[path] {
					t.Errorf("the stub imports %s, which is neither the standard library nor a stub package", path)
				}
			}
			if n == 0 {
				t.Errorf("go list found no signet package in the stub's dependencies:\n%s", out)
			}

			build := exec.Command(goTool(), "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "stub"), "./signet/cmd/loader")
			build.Dir, build.Env = root, env
			if out, err := build.CombinedOutput(); err != nil {
				t.Errorf("CGO_ENABLED=0 GOOS=%s GOARCH=%s go build ./signet/cmd/loader: %v\n%s", target.GOOS, target.GOARCH, err, out)
			}
		})
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
