//go:build linux

package e2e_test

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// runtimes caches relocatableRuntime's copies, by interpreter path, for the test process.
var runtimes struct {
	sync.Mutex
	dirs map[string]string
}

// relocatableRuntime returns a relocatable CPython installation made from the interpreter under
// test, as a vendor would bundle one: bin/pythonX.Y plus a copy of its lib/pythonX.Y (Debian's
// CPython finds its standard library relative to the executable). Links into /etc, the
// config directory and the test suite are left out; __pycache__ directories are kept, so
// that the seal must leave them out. Made once per interpreter and test process.
func relocatableRuntime(t *testing.T, py python) string {
	t.Helper()
	runtimes.Lock()
	defer runtimes.Unlock()
	if dir, ok := runtimes.dirs[py.path]; ok {
		return dir
	}
	dir := filepath.Join(bin.dir, "runtime-"+py.version)
	lib := filepath.Join(py.prefix, "lib", "python"+py.version)
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, py.path, filepath.Join(dir, "bin", "python"+py.version), 0o755)
	skip := map[string]bool{"test": true, "idlelib": true, "tkinter": true, "turtledemo": true,
		"ensurepip": true, "lib2to3": true, "sitecustomize.py": true}
	err := filepath.WalkDir(lib, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(lib, p)
		if p != lib && (skip[rel] || strings.HasPrefix(d.Name(), "config-")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := filepath.Join(dir, "lib", "python"+py.version, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				return nil // a dangling link or a link to a directory: not part of the runtime
			}
		}
		copyFile(t, p, dst, 0o644)
		return nil
	})
	if err != nil {
		t.Fatalf("copying %s: %v", lib, err)
	}
	if runtimes.dirs == nil {
		runtimes.dirs = map[string]string{}
	}
	runtimes.dirs[py.path] = dir
	return dir
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// bundledApp writes a small app that uses the standard library's pure-Python modules, a C
// extension from lib-dynload and a package of its own, and prints what it found.
func bundledApp(t *testing.T, dir, canary string) {
	t.Helper()
	files := map[string]string{
		"main.py": `import sys, json, decimal, textwrap
from shop import price
print("json", json.dumps({"a": [1, 2]}, sort_keys=True))
print("decimal", decimal.Decimal(1) / 7, type(decimal.Decimal).__module__)
print("textwrap", textwrap.shorten("sealed python delivered whole", 20))
print("price", price(3))
print("python", "%d.%d" % sys.version_info[:2])
if len(sys.argv) > 1 and sys.argv[1] == "late":
    input()  # the test tampers with the delivery now
    import csv  # not imported before: its bytes are checked now
    print("csv", csv.QUOTE_ALL)
`,
		"shop/__init__.py": "from .pricing import price\n",
		"shop/pricing.py":  "def price(n):\n    return n * 7\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(body, "@CANARY@", canary)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// listTree lists every path under dir with its size, for before/after comparisons.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %s %d", rel, fi.Mode(), fi.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// sealBundled seals the app in appDir with the runtime rt into dist/hello.
func sealBundled(t *testing.T, appDir, rt, dist string, extra ...string) string {
	t.Helper()
	loader := filepath.Join(dist, "hello")
	args := append([]string{"seal", "--main", "main.py", "--root", appDir, "--runtime", rt,
		"--stub", bin.stub, "-o", loader}, extra...)
	r := run(t, appDir, nil, "", bin.signet, args...)
	if r.code != 0 {
		t.Fatalf("signet %s: %s", strings.Join(args, " "), r)
	}
	return loader
}

// TestBundledRuntime seals an app with its own interpreter (--runtime), then moves and copies
// the delivery: each copy runs with the output of the same runtime running the app without
// the loader. The seal writes nothing into the runtime it reads, and ships none of its
// __pycache__.
func TestBundledRuntime(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		rt := relocatableRuntime(t, py)
		work := t.TempDir()
		appDir := filepath.Join(work, "app")
		bundledApp(t, appDir, "")
		// __pycache__ in the runtime, as a used installation has: never shipped, never sealed.
		plain := run(t, appDir, nil, "", filepath.Join(rt, "bin", "python"+py.version), "-E", "main.py")
		if plain.code != 0 || !strings.Contains(plain.stdout, "decimal 0.142857") {
			t.Fatalf("the runtime does not run the app by itself: %s", plain)
		}
		before := listTree(t, rt)

		dist := filepath.Join(work, "dist")
		sealBundled(t, appDir, rt, dist)
		if after := listTree(t, rt); strings.Join(before, "\n") != strings.Join(after, "\n") {
			t.Errorf("sealing changed the runtime it read")
		}
		filepath.WalkDir(dist, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Name() == "__pycache__" {
				t.Errorf("the delivery ships %s", p)
			}
			return nil
		})
		moved := filepath.Join(work, "moved", "elsewhere")
		if err := os.MkdirAll(filepath.Dir(moved), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(dist, moved); err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(work, "copied")
		if out, err := exec.Command("cp", "-a", moved, copied).CombinedOutput(); err != nil {
			t.Fatalf("cp -a: %v\n%s", err, out)
		}
		for _, delivery := range []string{moved, copied} {
			got := run(t, work, nil, "", filepath.Join(delivery, "hello"))
			if got.code != 0 || got.stdout != plain.stdout {
				t.Errorf("%s: sealed run differs from the plain one\nsealed: %s\nplain stdout:\n%s", delivery, got, plain.stdout)
			}
		}
		// The auditor's check, with the loader named relative to the working directory.
		r := run(t, work, nil, "", bin.signet, "verify", filepath.Join("copied", "hello"))
		if r.code != 0 {
			t.Errorf("signet verify of the bundled delivery: %s", r)
		}
	})
}

// TestBundledTamper attacks a delivery with its own interpreter: a change to the
// interpreter, a standard-library module, a C extension of lib-dynload, a module planted in
// the standard library, a file that steers the interpreter, or a directory others may write
// is refused before the app's first line; bytes changed after the check are never run.
func TestBundledTamper(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		rt := relocatableRuntime(t, py)
		stdlib := "runtime/lib/python" + py.version
		extension := ""
		matches, _ := filepath.Glob(filepath.Join(rt, "lib", "python"+py.version, "lib-dynload", "_decimal*.so"))
		if len(matches) == 1 {
			extension = stdlib + "/lib-dynload/" + filepath.Base(matches[0])
		}
		canaryLine := func(canary string) string {
			return "\nopen(" + quote(canary) + ", 'a').write('ran')\n"
		}
		tests := []struct {
			name   string
			tamper func(t *testing.T, dist, canary string)
			code   int
			line   string
		}{
			{"interpreter changed", func(t *testing.T, dist, _ string) {
				appendTo(t, filepath.Join(dist, "runtime", "bin", "python"+py.version), "\x00")
			}, 101, "signet: MODIFIED runtime/bin/python" + py.version},
			{"standard-library module changed", func(t *testing.T, dist, canary string) {
				appendTo(t, filepath.Join(dist, filepath.FromSlash(stdlib), "textwrap.py"), canaryLine(canary))
			}, 101, "signet: MODIFIED " + stdlib + "/textwrap.py"},
			{"sealed bytecode of the standard library changed", func(t *testing.T, dist, _ string) {
				p := filepath.Join(dist, "__signet_pyc__", py.version, filepath.FromSlash(stdlib), "textwrap.py.pyc")
				appendTo(t, p, "\x00")
			}, 101, "signet: MODIFIED __signet_pyc__/" + py.version + "/" + stdlib + "/textwrap.py.pyc"},
			{"C extension changed", func(t *testing.T, dist, _ string) {
				if extension == "" {
					t.Fatal("no _decimal extension in the runtime")
				}
				appendTo(t, filepath.Join(dist, filepath.FromSlash(extension)), "\x00")
			}, 101, "signet: MODIFIED " + extension},
			{"module planted in the standard library", func(t *testing.T, dist, canary string) {
				writeTo(t, filepath.Join(dist, filepath.FromSlash(stdlib), "sitecustomize.py"), canaryLine(canary))
			}, 101, "signet: UNEXPECTED " + stdlib + "/sitecustomize.py"},
			{"pyvenv.cfg planted beside the interpreter", func(t *testing.T, dist, _ string) {
				writeTo(t, filepath.Join(dist, "runtime", "pyvenv.cfg"), "home = /tmp\n")
			}, 101, "signet: UNEXPECTED runtime/pyvenv.cfg"},
			{"runtime directory writable by others", func(t *testing.T, dist, _ string) {
				if err := os.Chmod(filepath.Join(dist, "runtime", "lib"), 0o777); err != nil {
					t.Fatal(err)
				}
			}, 102, "signet: INTERPRETER " + "@DIST@/runtime/lib: is writable by group or others"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				work := t.TempDir()
				appDir := filepath.Join(work, "app")
				canary := filepath.Join(work, "CANARY")
				bundledApp(t, appDir, canary)
				dist := filepath.Join(work, "dist")
				loader := sealBundled(t, appDir, rt, dist)
				tc.tamper(t, dist, canary)
				r := run(t, work, nil, "", loader)
				line := strings.ReplaceAll(tc.line, "@DIST@", dist)
				if r.code != tc.code || !hasLine(r.stderr, line) || r.stdout != "" {
					t.Errorf("want exit %d and a line %q: %s", tc.code, line, r)
				}
				if _, err := os.Stat(canary); err == nil {
					t.Errorf("the attacker's code ran")
				}
			})
		}

		// After the start-up check: the app waits, the test rewrites a module it has not
		// imported yet (its source and its sealed bytecode); the attacker's code never runs.
		// Without a verification cache the loader read the sealed bytecode into the payload
		// at start, so the app goes on with it ("csv 1"); with one (start-up that reads only
		// what changed), the bootstrap reads it at import and refuses it (106).
		for _, mode := range []struct {
			name     string
			cacheDir os.FileMode // the cache directory's mode: 0o777 is unsafe, so no cache
			want     func(seen []string, code int, stderr string) bool
		}{
			{"without a verification cache", 0o777, func(seen []string, code int, _ string) bool {
				return code == 0 && slices.Contains(seen, "csv 1")
			}},
			{"with a verification cache", 0o700, func(seen []string, code int, stderr string) bool {
				return code == 106 && hasLine(stderr, "signet: MODIFIED __signet_pyc__/"+py.version+"/"+stdlib+"/csv.py.pyc: changed since the start-up check")
			}},
		} {
			t.Run("changed after the check "+mode.name, func(t *testing.T) {
				work := t.TempDir()
				appDir := filepath.Join(work, "app")
				canary := filepath.Join(work, "CANARY")
				bundledApp(t, appDir, canary)
				dist := filepath.Join(work, "dist")
				loader := sealBundled(t, appDir, rt, dist)
				cache := filepath.Join(work, "cache")
				if err := os.Mkdir(cache, mode.cacheDir); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(cache, mode.cacheDir); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(loader, "late")
				cmd.Env = append(baseEnv(), "XDG_CACHE_HOME="+cache)
				stdin, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				stdout, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				var errOut strings.Builder
				cmd.Stderr = &errOut
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				defer cmd.Process.Kill()
				// The app's first lines: the check is over, csv is not imported yet.
				lines := bufio.NewScanner(stdout)
				var seen []string
				for lines.Scan() {
					seen = append(seen, lines.Text())
					if strings.HasPrefix(lines.Text(), "python ") {
						break
					}
				}
				csv := filepath.Join(dist, filepath.FromSlash(stdlib), "csv.py")
				writeTo(t, csv, canaryLine(canary)+"QUOTE_ALL = 'attacker'\n")
				pyc := filepath.Join(dist, "__signet_pyc__", py.version, filepath.FromSlash(stdlib), "csv.py.pyc")
				writeTo(t, pyc, "not bytecode")
				stdin.Write([]byte("\n"))
				stdin.Close()
				for lines.Scan() {
					seen = append(seen, lines.Text())
				}
				code := 0
				if err := cmd.Wait(); err != nil {
					var exit *exec.ExitError
					if !errors.As(err, &exit) {
						t.Fatal(err)
					}
					code = exit.ExitCode()
				}
				if !mode.want(seen, code, errOut.String()) {
					t.Errorf("exit %d\nstdout %q\nstderr %q", code, seen, errOut.String())
				}
				if _, err := os.Stat(canary); err == nil {
					t.Errorf("the attacker's code ran")
				}
			})
		}
	})
}

func appendTo(t *testing.T, p, s string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func writeTo(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func quote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}

// TestBundledVerifyRecompile checks the auditor's view of a bundled delivery: `signet verify
// --recompile` compiles every sealed source again with the delivery's own interpreter.
func TestBundledVerifyRecompile(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		rt := relocatableRuntime(t, py)
		work := t.TempDir()
		appDir := filepath.Join(work, "app")
		bundledApp(t, appDir, "")
		loader := sealBundled(t, appDir, rt, filepath.Join(work, "dist"))
		r := run(t, work, nil, "", bin.signet, "verify", "--recompile", loader)
		if r.code != 0 || !strings.Contains(r.stdout, "interpreter runtime/bin/python"+py.version) {
			t.Errorf("signet verify --recompile: %s", r)
		}
	})
}
