//go:build linux

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// bin holds the binaries TestMain builds once for every test.
var bin struct {
	signet string // the signet tool
	stub   string // the unsealed loader stub for this machine
	dir    string // a private directory for binaries the tests build
}

// repo is the repository root (the directory holding go.mod).
var repo string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	var err error
	repo, err = findRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	bin.dir, err = os.MkdirTemp("", "signet-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(bin.dir)
	if dir := os.Getenv("SIGNET_TEST_BIN"); dir != "" {
		// Prebuilt binaries, e.g. built on the host and run inside another root file
		// system (tools/test-rootfs), where building them again would need a Go toolchain
		// and a module cache there.
		bin.signet = filepath.Join(dir, "signet")
		bin.stub = filepath.Join(dir, "loader-stub")
		for _, p := range []string{bin.signet, bin.stub} {
			if _, err := os.Stat(p); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: SIGNET_TEST_BIN names a directory without the prebuilt %s: %v\n", filepath.Base(p), err)
				return 1
			}
		}
		return m.Run()
	}
	bin.signet = filepath.Join(bin.dir, "signet")
	bin.stub = filepath.Join(bin.dir, "loader-stub")
	for _, b := range []struct{ out, pkg string }{
		{bin.signet, "./signet/cmd/signet"},
		{bin.stub, "./signet/cmd/loader"},
	} {
		if err := goBuild(b.out, b.pkg, "", ""); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
	}
	return m.Run()
}

// goBuild builds pkg (relative to the repository root) into out, static (cgo off), for
// goos/goarch ("" for this machine's), stripped and without build IDs like a released stub.
func goBuild(out, pkg, goos, goarch string) error {
	cmd := exec.Command(goTool(), "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, pkg)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s for %s/%s: %w\n%s", pkg, goos, goarch, err, out)
	}
	return nil
}

// foreignBuilds caches goBuild results for other platforms (see built), by "pkg goos/goarch".
var foreignBuilds struct {
	sync.Mutex
	done map[string]string
}

// built returns the path of pkg built for goos/goarch, building it on first use (once per
// test process). ".exe" is added for Windows.
func built(t *testing.T, pkg, goos, goarch string) string {
	t.Helper()
	foreignBuilds.Lock()
	defer foreignBuilds.Unlock()
	key := pkg + " " + goos + "/" + goarch
	if p, ok := foreignBuilds.done[key]; ok {
		return p
	}
	name := filepath.Base(pkg) + "-" + goos + "-" + goarch
	if goos == "windows" {
		name += ".exe"
	}
	out := filepath.Join(bin.dir, name)
	if err := goBuild(out, pkg, goos, goarch); err != nil {
		t.Fatal(err)
	}
	if foreignBuilds.done == nil {
		foreignBuilds.done = map[string]string{}
	}
	foreignBuilds.done[key] = out
	return out
}

// python describes one interpreter under test.
type python struct {
	path     string // absolute path of the executable
	version  string // "X.Y"
	cacheTag string // sys.implementation.cache_tag, e.g. "cpython-311"
	extSuf   string // sysconfig EXT_SUFFIX, e.g. ".cpython-311-x86_64-linux-gnu.so"
	prefix   string // sys.prefix of a plain isolated run
}

// forEachPython runs f as a subtest for every interpreter under test.
func forEachPython(t *testing.T, f func(t *testing.T, py python)) {
	t.Helper()
	list := os.Getenv("SIGNET_TEST_PYTHONS")
	if list == "" {
		list = "/usr/bin/python3.11"
	}
	for _, p := range filepath.SplitList(list) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			py, err := describePython(p)
			if err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("interpreter under test unusable: %v", err)
				}
				t.Skipf("interpreter under test unusable (set SIGNET_TEST_PYTHONS; under CI=true this fails): %v", err)
			}
			f(t, py)
		})
	}
}

func describePython(p string) (python, error) {
	if !filepath.IsAbs(p) {
		return python{}, fmt.Errorf("%s: SIGNET_TEST_PYTHONS must list absolute paths", p)
	}
	out, err := exec.Command(p, "-I", "-S", "-c",
		"import sys, sysconfig; print('%d.%d' % sys.version_info[:2]); print(sys.implementation.cache_tag); "+
			"print(sysconfig.get_config_var('EXT_SUFFIX')); print(sys.prefix)").Output()
	if err != nil {
		return python{}, fmt.Errorf("%s: %w", p, err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) != 4 {
		return python{}, fmt.Errorf("%s: unexpected answer %q", p, out)
	}
	return python{path: p, version: f[0], cacheTag: f[1], extSuf: f[2], prefix: f[3]}, nil
}

// versionAtLeast reports whether the "X.Y" version v is at least major.minor.
func versionAtLeast(v string, major, minor int) bool {
	var x, y int
	if _, err := fmt.Sscanf(v, "%d.%d", &x, &y); err != nil {
		return false
	}
	return x > major || (x == major && y >= minor)
}

// copyApp copies the test app testdata/<name> into dst, replacing @CANARY_DIR@ in every
// file with canaryDir.
func copyApp(t *testing.T, name, dst, canaryDir string) {
	t.Helper()
	src := filepath.Join("testdata", name)
	copyTree(t, src, dst, "@CANARY_DIR@", canaryDir)
}

func copyTree(t *testing.T, src, dst, old, repl string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if old != "" {
			b = bytes.ReplaceAll(b, []byte(old), []byte(repl))
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying %s to %s: %v", src, dst, err)
	}
}

// sealOpts are the options of one `signet seal` run.
type sealOpts struct {
	main   string // entry script, relative to root
	python string // --python
	name   string // loader file name, default "hello"
	level  string // --level, default none (enforce)
	// noBytecode seals no bytecode (--no-bytecode): modules are compiled from their
	// verified source at every import.
	noBytecode bool
}

// seal seals the app in root with the built stub and returns the loader's path (in root).
func seal(t *testing.T, root string, o sealOpts) string {
	t.Helper()
	if o.name == "" {
		o.name = "hello"
	}
	loader := filepath.Join(root, o.name)
	args := []string{"seal", "--main", o.main, "--root", root, "--python", o.python,
		"--stub", bin.stub, "-o", loader}
	if o.level != "" {
		args = append(args, "--level", o.level)
	}
	if o.noBytecode {
		args = append(args, "--no-bytecode")
	}
	r := run(t, root, nil, "", bin.signet, args...)
	if r.code != 0 {
		t.Fatalf("signet %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return loader
}

// result is what a finished process left.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// baseEnv is the environment every process under test starts from: nothing inherited from
// the test runner, so a developer's GODEBUG or PYTHONPATH cannot change a result.
func baseEnv() []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + os.TempDir(), "LANG=C.UTF-8"}
}

// run runs name with args in dir, with baseEnv plus extraEnv and the given stdin, and waits
// for it (at most two minutes).
func run(t *testing.T, dir string, extraEnv []string, stdin string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && exitErr.Exited():
		r.code = exitErr.ExitCode()
	default:
		t.Fatalf("running %s %q: %v\nstderr:\n%s", name, args, err, r.stderr)
	}
	return r
}

// hasLine reports whether some line of text starts with prefix.
func hasLine(text, prefix string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// canarySource is one line of Python that appends who (ASCII) to <dir>/CANARY: attacker code
// whose only effect is to prove it ran. It is a single line so that it also works in a .pth
// file, and uses only os (not open, which does not exist yet while encodings is imported).
func canarySource(dir, who string) string {
	return fmt.Sprintf("import os; f = os.open(%q, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644); "+
		"os.write(f, b%q); os.close(f)\n", filepath.Join(dir, "CANARY"), who+"\n")
}

// assertNoCanary fails the test if attacker code left its mark in dir.
func assertNoCanary(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "CANARY"))
	if err == nil {
		t.Errorf("ATTACKER CODE RAN: %s/CANARY says %q", dir, b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("checking the canary: %v", err)
	}
}

// assertCanary fails the test unless attacker code left its mark in dir (for controls that
// prove an attack is live when the loader is not in the way).
func assertCanary(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "CANARY")); err != nil {
		t.Errorf("control: the attack did not run its canary without the loader (%v), so this case proves nothing", err)
	}
}

// probeReport is what testdata/probe/probe.py prints.
type probeReport struct {
	Sealed             bool           `json:"sealed"`
	Flags              map[string]int `json:"flags"`
	Environ            []string       `json:"environ"`
	Path               []string       `json:"path"`
	Prefix             string         `json:"prefix"`
	BasePrefix         string         `json:"base_prefix"`
	ExecPrefix         string         `json:"exec_prefix"`
	Comm               string         `json:"comm"`
	Argv               []string       `json:"argv"`
	ModulesFromOutside []string       `json:"modules_from_outside"`
}

func parseProbe(t *testing.T, r result) probeReport {
	t.Helper()
	var p probeReport
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("probe output is not its JSON report (%v):\n%s", err, r)
	}
	return p
}
