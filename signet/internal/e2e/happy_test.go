//go:build linux

package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelloExample(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		app := t.TempDir()
		copyTree(t, filepath.Join(repo, "examples", "hello"), app, "", "")
		loader := seal(t, app, sealOpts{main: "hello.py", python: py.path})
		r := run(t, t.TempDir(), nil, "", loader)
		if r.code != 0 || r.stdout != "hello from posix\n" || r.stderr != "" {
			t.Errorf("sealed hello: %s\nwant exit 0, stdout \"hello from posix\\n\", empty stderr", r)
		}
	})
}

// TestMultiPackageAppMatchesPlainPython runs an app with subpackages, relative imports and
// data files (read through importlib.resources) sealed, and the same app under a plain
// isolated interpreter, and wants the same stdout, stderr and exit status.
func TestMultiPackageAppMatchesPlainPython(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		sealedApp := t.TempDir()
		copyApp(t, "multipkg", sealedApp, "")
		loader := seal(t, sealedApp, sealOpts{main: "main.py", python: py.path, name: "shopapp"})
		plainApp := t.TempDir()
		copyApp(t, "multipkg", plainApp, "")
		// -I drops the script's directory from sys.path; put the app root back by hand.
		const runner = "import runpy, sys; sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[2:]; " +
			"runpy.run_path(sys.argv[0], run_name='__main__')"

		tests := []struct {
			name  string
			args  []string
			stdin string
			code  int
		}{
			{"no arguments", nil, "", 0},
			{"arguments and stdin", []string{"alpha", "--flag", "two words", "ünïcode"}, "line one\nline two\n", 0},
			{"exit status", []string{"--exit=7"}, "x", 7},
			{"loader-looking options go to the app", []string{"--level=warn", "-I", "--", "--exit=3"}, "", 3},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := run(t, t.TempDir(), nil, tc.stdin, loader, tc.args...)
				plainArgs := append([]string{"-I", "-S", "-B", "-c", runner, plainApp, filepath.Join(plainApp, "main.py")}, tc.args...)
				want := run(t, t.TempDir(), nil, tc.stdin, py.path, plainArgs...)
				if want.code != tc.code {
					t.Fatalf("plain python run: %s\nwant exit %d (the test app is broken)", want, tc.code)
				}
				if got != want {
					t.Errorf("sealed run differs from the plain python run\nsealed: %s\nplain: %s", got, want)
				}
			})
		}
	})
}

// TestMultiprocessing runs concurrent.futures worker pools with the spawn and forkserver
// start methods, and with the interpreter's default one, in a sealed app: the workers are
// the loader again (sys.executable; fork children are copies) and must compute.
func TestMultiprocessing(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		app := t.TempDir()
		copyApp(t, "mpapp", app, "")
		loader := seal(t, app, sealOpts{main: "main.py", python: py.path, name: "mpapp"})
		// The default start method on Linux is fork up to 3.13 and forkserver from 3.14.
		defaultMethod := "fork"
		if versionAtLeast(py.version, 3, 14) {
			defaultMethod = "forkserver"
		}
		for _, method := range []string{"spawn", "forkserver", "default"} {
			t.Run(method, func(t *testing.T) {
				r := run(t, t.TempDir(), nil, "", loader, method)
				shown := method
				if method == "default" {
					shown = "default(" + defaultMethod + ")"
				}
				want := shown + " [0, 1, 4, 9, 16, 25, 36, 49] [0, 1, 8, 27, 64]\n"
				if r.code != 0 || r.stdout != want {
					t.Errorf("sealed multiprocessing app: %s\nwant exit 0 and stdout %q", r, want)
				}
			})
		}
	})
}

// TestProcessNameIsAppName checks that a running sealed app shows as the app (the loader's
// name) in /proc/<pid>/comm, not as the interpreter, and that it runs sealed and hardened.
func TestProcessNameIsAppName(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		app := t.TempDir()
		copyApp(t, "probe", app, "")
		loader := seal(t, app, sealOpts{main: "probe.py", python: py.path, name: "probe-app"})
		r := run(t, t.TempDir(), nil, "", loader, "one", "two")
		if r.code != 0 {
			t.Fatalf("sealed probe: %s", r)
		}
		p := parseProbe(t, r)
		if p.Comm != "probe-app" {
			t.Errorf("/proc/self/comm = %q, want %q", p.Comm, "probe-app")
		}
		if !p.Sealed {
			t.Errorf("signet_runtime.sealed is not true in a sealed app")
		}
		if strings.Join(p.Argv, " ") != "one two" {
			t.Errorf("sys.argv[1:] = %q, want [one two]", p.Argv)
		}
		for _, f := range []string{"isolated", "no_site", "ignore_environment", "dont_write_bytecode"} {
			if p.Flags[f] != 1 {
				t.Errorf("sys.flags.%s = %d, want 1", f, p.Flags[f])
			}
		}
	})
}

// TestWarnLevelReportsAndRuns checks a warn-level seal: a changed data file is reported as a
// warning and the app still runs.
func TestWarnLevelReportsAndRuns(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		app := t.TempDir()
		copyApp(t, "victim", app, t.TempDir())
		loader := seal(t, app, sealOpts{main: "app.py", python: py.path, level: "warn"})
		writeFile(t, filepath.Join(app, "data.txt"), "changed data\n")
		r := run(t, t.TempDir(), nil, "", loader)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "app ok 42 sub") {
			t.Errorf("warn-level app with a changed data file: %s\nwant it to run", r)
		}
		if !hasLine(r.stderr, "signet: WARNING (warn-level seal): MODIFIED data.txt") {
			t.Errorf("stderr does not warn about data.txt:\n%s", r.stderr)
		}
	})
}

// TestWarnLevelNeverHandsOnBytecodeThatFailed: at warn level the app starts despite
// problems, so the bytes the start-up check read for a changed sealed pyc must not be what
// runs. A changed module pyc is refused when it is imported (exit 106, the tampered value
// never printed); a changed bootstrap pyc is replaced by the loader's own bootstrap source.
func TestWarnLevelNeverHandsOnBytecodeThatFailed(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		dir := "__signet_pyc__/" + py.version + "/"
		for _, tc := range []struct {
			name    string
			pyc     string // glob under the app root
			tamper  func(t *testing.T, app, pyc string)
			code    int
			stdout  string // prefix
			refusal string // stderr line prefix after the warnings, "" for none
		}{
			{
				// pkg/sub.py is NAME = "sub": the marshalled constant (length 3, then the
				// bytes) becomes "SUB" in place, a well-formed pyc of the same size that
				// would print "SUB" were it handed on.
				name: "module bytecode", pyc: dir + "pkg/sub.py.pyc",
				tamper: func(t *testing.T, _, pyc string) {
					b := readFile(t, pyc)
					if strings.Count(b, "\x03sub") != 1 {
						t.Fatalf("want exactly one marshalled \"sub\" in %s", pyc)
					}
					writeFile(t, pyc, strings.Replace(b, "\x03sub", "\x03SUB", 1))
				},
				code: 106, refusal: "signet: MODIFIED " + dir + "pkg/sub.py.pyc",
			},
			{
				name: "bootstrap bytecode", pyc: dir + "__signet_bootstrap__.*.pyc",
				tamper: func(t *testing.T, _, pyc string) { writeFile(t, pyc, readFile(t, pyc)+"\x00") },
				code:   0, stdout: "app ok 42 sub",
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				app := t.TempDir()
				copyApp(t, "victim", app, t.TempDir())
				loader := seal(t, app, sealOpts{main: "app.py", python: py.path, level: "warn"})
				matches, err := filepath.Glob(filepath.Join(app, filepath.FromSlash(tc.pyc)))
				if err != nil || len(matches) != 1 {
					t.Fatalf("want one file %s, found %v (%v)", tc.pyc, matches, err)
				}
				rel, _ := filepath.Rel(app, matches[0])
				tc.tamper(t, app, matches[0])

				r := run(t, t.TempDir(), nil, "", loader)
				if r.code != tc.code || !strings.HasPrefix(r.stdout, tc.stdout) || strings.Contains(r.stdout, "SUB") {
					t.Errorf("warn-level app with a changed %s: %s\nwant exit %d, stdout starting %q", rel, r, tc.code, tc.stdout)
				}
				if !hasLine(r.stderr, "signet: WARNING (warn-level seal): MODIFIED "+filepath.ToSlash(rel)) {
					t.Errorf("stderr does not warn about %s:\n%s", rel, r.stderr)
				}
				if tc.refusal != "" && !hasLine(r.stderr, tc.refusal) {
					t.Errorf("stderr has no line %q:\n%s", tc.refusal, r.stderr)
				}
			})
		}
	})
}

// TestLoaderFindsAppThroughSymlinkAndRelativeName starts the loader through a symlink in
// another directory and by a relative name: the app root is always the directory of the
// loader's real path.
func TestLoaderFindsAppThroughSymlinkAndRelativeName(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		app := t.TempDir()
		copyTree(t, filepath.Join(repo, "examples", "hello"), app, "", "")
		loader := seal(t, app, sealOpts{main: "hello.py", python: py.path})
		link := filepath.Join(t.TempDir(), "hello-link")
		if err := os.Symlink(loader, link); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ name, dir, cmd string }{
			{"symlink elsewhere", t.TempDir(), link},
			{"relative name", app, "./hello"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := run(t, c.dir, nil, "", c.cmd)
				if r.code != 0 || r.stdout != "hello from posix\n" {
					t.Errorf("%s: %s\nwant exit 0 and \"hello from posix\"", c.cmd, r)
				}
			})
		}
	})
}
