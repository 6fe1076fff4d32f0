package stubs

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/signet-dev/signet/signet"
)

// TestEmbeddedSourceIsTheWholeStub checks that signet.StubSource holds every package the
// loader stub imports from this module, all of each package's non-test files, and nothing
// the stub does not need.
func TestEmbeddedSourceIsTheWholeStub(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}", "./cmd/loader")
	cmd.Dir = "../.." // the signet/ directory
	cmd.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	want := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		dir, ok := strings.CutPrefix(fields[0], ModulePath+"/signet/")
		if !ok {
			t.Fatalf("the stub imports %s, which is not a package of this module's signet/ tree (the stub must be stdlib-only)", fields[0])
		}
		for _, f := range fields[1:] {
			want[path.Join(dir, f)] = true
		}
	}
	src, err := (&Builder{Source: signet.StubSource}).readSource()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range src {
		got[f.name] = true
	}
	var missing, extra []string
	for f := range want {
		if !got[f] {
			missing = append(missing, f)
		}
	}
	for f := range got {
		// Files for other platforms are embedded too; every embedded directory must be a
		// package of the stub.
		if !want[f] && !wantsDir(want, path.Dir(f)) {
			extra = append(extra, f)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("signet/stubsource.go does not embed (add them to its go:embed line): %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("signet/stubsource.go embeds files of packages the stub does not use: %v", extra)
	}
}

func wantsDir(want map[string]bool, dir string) bool {
	for f := range want {
		if path.Dir(f) == dir {
			return true
		}
	}
	return false
}

// TestBuildEmbeddedStub builds the real loader stub from the embedded source for Linux and
// Windows, twice into separate caches, and checks the bytes are identical.
func TestBuildEmbeddedStub(t *testing.T) {
	for _, target := range [][3]string{{"linux", "amd64", "\x7fELF"}, {"windows", "amd64", "MZ"}} {
		var builds [][]byte
		for i := 0; i < 2; i++ {
			p, err := (&Builder{CacheDir: t.TempDir()}).Get(context.Background(), target[0], target[1])
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			builds = append(builds, b)
		}
		if !bytes.HasPrefix(builds[0], []byte(target[2])) {
			t.Errorf("%s/%s stub starts with %q", target[0], target[1], builds[0][:4])
		}
		if !bytes.Equal(builds[0], builds[1]) {
			t.Errorf("%s/%s: two builds of the embedded stub differ", target[0], target[1])
		}
	}
	if _, err := fs.Stat(signet.StubSource, "cmd/loader/main.go"); err != nil {
		t.Errorf("embedded source lacks the loader main: %v", err)
	}
}
