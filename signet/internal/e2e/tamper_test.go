//go:build linux

package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tamperEnv is what one tamper case works on.
type tamperEnv struct {
	app    string // the app root (the sealed loader is in it)
	loader string // the sealed loader
	canary string // where attacker code would leave its mark
	py     python
}

// TestTamperMatrix seals the victim app (testdata/victim), attacks it one way per subtest,
// and runs the loader: it must refuse with the documented exit code and name the problem on
// stderr, and neither the app nor the attacker's canary may run. Where the attack works
// against the same tree without the loader, a control run proves the canary is live.
func TestTamperMatrix(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		tests := []struct {
			name   string
			main   string                    // entry script; default app.py
			python func(t *testing.T) string // --python for the seal; default py.path
			args   []string                  // loader arguments
			// noBytecode seals the app without bytecode (modules compiled from source).
			noBytecode bool
			env        []string                        // extra environment
			tamper     func(t *testing.T, e tamperEnv) // the attack, after sealing
			code       int                             // wanted exit status
			line       string                          // wanted prefix of a stderr line
			// mentions, when set, must appear somewhere on stderr (for refusals worded
			// by the bootstrap rather than the loader).
			mentions string
			stdout   string // wanted stdout (the app must not run)
			// control, when set, runs the tampered tree without the loader; the canary
			// must then appear.
			control func(t *testing.T, e tamperEnv)
		}{
			{
				name: "byte flip in a sealed module",
				tamper: func(t *testing.T, e tamperEnv) {
					replaceInFile(t, filepath.Join(e.app, "mod.py"), "if 0 else", "if 1 else")
				},
				code:    101,
				line:    "signet: MODIFIED mod.py: content differs from the sealed digest",
				control: plainRun("app.py"),
			},
			{
				name: "truncated sealed module",
				tamper: func(t *testing.T, e tamperEnv) {
					p := filepath.Join(e.app, "mod.py")
					b := readFile(t, p)
					cut := strings.Index(b, "  if 0 else")
					if cut < 0 {
						t.Fatal("victim mod.py has no truncation point")
					}
					if err := os.Truncate(p, int64(cut)); err != nil {
						t.Fatal(err)
					}
				},
				code:    101,
				line:    "signet: MODIFIED mod.py: size is ",
				control: plainRun("app.py"),
			},
			{
				name: "deleted sealed module",
				tamper: func(t *testing.T, e tamperEnv) {
					removeFile(t, filepath.Join(e.app, "pkg", "sub.py"))
				},
				code: 101,
				line: "signet: MISSING pkg/sub.py",
			},
			{
				name: "json.py in the app root shadows the standard library",
				tamper: func(t *testing.T, e tamperEnv) {
					writeFile(t, filepath.Join(e.app, "json.py"), canarySource(e.canary, "json.py shadowed the stdlib"))
				},
				code:    101,
				line:    "signet: UNEXPECTED json.py: ",
				control: plainRun("app.py"),
			},
			{
				name: "planted unchecked-hash pyc in __pycache__",
				tamper: func(t *testing.T, e tamperEnv) {
					src := filepath.Join(t.TempDir(), "mod.py")
					writeFile(t, src, canarySource(e.canary, "planted pyc ran")+"VALUE = 42\n")
					pyc := filepath.Join(e.app, "__pycache__", "mod."+e.py.cacheTag+".pyc")
					compileUncheckedPyc(t, e.py, src, pyc)
				},
				code:    101,
				line:    "signet: UNEXPECTED __pycache__: ",
				control: plainRun("app.py"),
			},
			{
				// The app root is not a site directory, so a .pth here does nothing even
				// without the loader (no control); it is refused because a site-enabled
				// interpreter pointed at this directory would execute it.
				name: "planted .pth file",
				tamper: func(t *testing.T, e tamperEnv) {
					writeFile(t, filepath.Join(e.app, "evil.pth"), canarySource(e.canary, "evil.pth ran"))
				},
				code: 101,
				line: "signet: UNEXPECTED evil.pth: ",
			},
			{
				name: "pyvenv.cfg beside the loader",
				tamper: func(t *testing.T, e tamperEnv) {
					evil := evilPrefix(t, e.py, e.canary)
					writeFile(t, filepath.Join(e.app, "pyvenv.cfg"), "home = "+filepath.Join(evil, "bin")+"\n")
				},
				code: 101,
				line: "signet: UNEXPECTED pyvenv.cfg: ",
			},
			{
				name: "planted extension module next to a sealed module",
				tamper: func(t *testing.T, e tamperEnv) {
					writeFile(t, filepath.Join(e.app, "mod"+e.py.extSuf), "\x7fELF not really an extension\n")
				},
				code: 101,
				line: "signet: UNEXPECTED mod" + py.extSuf + ": ",
			},
			{
				// The link points at a byte-identical copy outside the app: a hash check that
				// follows links would pass, but whoever controls the target can change it
				// after the check.
				name: "symlink replacing a sealed module",
				tamper: func(t *testing.T, e tamperEnv) {
					p := filepath.Join(e.app, "mod.py")
					outside := filepath.Join(t.TempDir(), "mod.py")
					writeFile(t, outside, readFile(t, p))
					removeFile(t, p)
					if err := os.Symlink(outside, p); err != nil {
						t.Fatal(err)
					}
				},
				code: 101,
				line: "signet: MODIFIED mod.py: ",
			},
			{
				name: "GODEBUG set",
				env:  []string{"GODEBUG=cpu.sha=off"},
				code: 104,
				line: "signet: refused: GODEBUG is set; it could change how this loader behaves. Unset it.",
			},
			{
				// Without sealed bytecode the finder hashes the source it compiles.
				name:       "sealed module swapped after the start-up check, before its import",
				main:       "swap_then_import.py",
				noBytecode: true,
				code:       106,
				mentions:   "late.py",
			},
			{
				// With sealed bytecode the finder runs the verified sealed bytecode and never
				// reads the swapped source: the sealed code runs, the attacker's does not.
				name:   "sealed module swapped after the start-up check, sealed bytecode runs",
				main:   "swap_then_import.py",
				code:   0,
				stdout: "imported late sealed\n",
			},
			{
				name: "sealed module swapped before a spawned worker imports it",
				main: "swap_then_spawn.py",
				args: []string{"spawn"},
				// The worker is the loader again: its start-up check finds late.py changed
				// and refuses; the parent sees a broken pool and exits with its own 3.
				code:   3,
				line:   "signet: MODIFIED late.py: ",
				stdout: "worker refused\n",
			},
			{
				name: "truncated loader payload",
				tamper: func(t *testing.T, e tamperEnv) {
					info, err := os.Stat(e.loader)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.Truncate(e.loader, info.Size()-20); err != nil {
						t.Fatal(err)
					}
				},
				code: 103,
				line: "signet: refused: this loader",
			},
			{
				name: "byte flipped in the loader's manifest",
				tamper: func(t *testing.T, e tamperEnv) {
					b := []byte(readFile(t, e.loader))
					// The trailer is sha256 (32) + length (8) + magic (8); the manifest
					// ends just before it with "... mod.py\n..." lines.
					b[len(b)-48-10] ^= 0x01
					if err := os.WriteFile(e.loader, b, 0o755); err != nil {
						t.Fatal(err)
					}
				},
				code: 103,
				line: "signet: refused: this loader's sealed manifest is damaged",
			},
			{
				// Tests run as root in CI, so ownership alone cannot make an interpreter
				// untrusted; a directory any user can write can.
				name:   "interpreter in a world-writable directory",
				python: func(t *testing.T) string { return inWorldWritableDir(t, py.path) },
				code:   102,
				line:   "signet: INTERPRETER ",
			},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				e := tamperEnv{app: t.TempDir(), canary: t.TempDir(), py: py}
				copyApp(t, "victim", e.app, e.canary)
				main := tc.main
				if main == "" {
					main = "app.py"
				}
				interpreter := py.path
				if tc.python != nil {
					interpreter = tc.python(t)
				}
				e.loader = seal(t, e.app, sealOpts{main: main, python: interpreter, noBytecode: tc.noBytecode})
				if tc.tamper != nil {
					tc.tamper(t, e)
				}

				r := run(t, t.TempDir(), tc.env, canarySource(e.canary, "stdin was executed"), e.loader, tc.args...)
				t.Logf("loader: %s", r)
				if r.code != tc.code {
					t.Errorf("exit status %d, want %d\n%s", r.code, tc.code, r)
				}
				if tc.line != "" && !hasLine(r.stderr, tc.line) {
					t.Errorf("stderr has no line starting %q:\n%s", tc.line, r.stderr)
				}
				if !strings.Contains(r.stderr, tc.mentions) {
					t.Errorf("stderr does not mention %q:\n%s", tc.mentions, r.stderr)
				}
				if r.stdout != tc.stdout {
					t.Errorf("stdout = %q, want %q (the app must not run)", r.stdout, tc.stdout)
				}
				assertNoCanary(t, e.canary)
				if tc.control != nil {
					tc.control(t, e)
					assertCanary(t, e.canary)
				}
			})
		}
	})
}

// plainRun returns a control that runs the app's entry script with the interpreter the usual
// way (script directory on sys.path, no -I), with the loader out of the way.
func plainRun(entry string) func(t *testing.T, e tamperEnv) {
	return func(t *testing.T, e tamperEnv) {
		t.Helper()
		run(t, e.app, nil, "", e.py.path, "-S", "-B", filepath.Join(e.app, entry))
	}
}

// compileUncheckedPyc compiles src into pyc with PEP 552 unchecked-hash invalidation: CPython
// loads such a pyc without looking at the source at all.
func compileUncheckedPyc(t *testing.T, py python, src, pyc string) {
	t.Helper()
	out, err := exec.Command(py.path, "-I", "-S", "-c",
		"import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True, "+
			"invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)", src, pyc).CombinedOutput()
	if err != nil {
		t.Fatalf("compiling %s: %v\n%s", src, err, out)
	}
}

// evilPrefix builds an attacker's Python prefix whose standard library runs the canary as
// soon as the interpreter initialises its codecs (encodings is not frozen). Anything that
// moved CPython's prefix here (PYTHONHOME, a pyvenv.cfg home=) would run it.
func evilPrefix(t *testing.T, py python, canary string) string {
	t.Helper()
	evil := t.TempDir()
	lib := filepath.Join(evil, "lib", "python"+py.version)
	for _, d := range []string{filepath.Join(evil, "bin"), filepath.Join(lib, "encodings"), filepath.Join(lib, "lib-dynload")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(lib, "os.py"), canarySource(canary, "evil os.py ran"))
	writeFile(t, filepath.Join(lib, "encodings", "__init__.py"), canarySource(canary, "evil encodings ran"))
	return evil
}

// inWorldWritableDir copies the interpreter at src into a new directory that any user can
// write, the one thing that makes an interpreter untrusted when tests run as root, and
// returns the copy's path.
func inWorldWritableDir(t *testing.T, src string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(p, []byte(readFile(t, src)), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeFile(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

func replaceInFile(t *testing.T, p, old, repl string) {
	t.Helper()
	b := readFile(t, p)
	if !strings.Contains(b, old) {
		t.Fatalf("%s does not contain %q", p, old)
	}
	writeFile(t, p, strings.Replace(b, old, repl, 1))
}
