//go:build linux

package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileEnvironmentDoesNotReachPython sets, one per subtest, a variable that steers
// CPython or the dynamic linker, and runs a sealed probe app that reports the interpreter's
// flags, environment keys and sys.path. Nothing of the variable may reach the app, and the
// attacker code it points at (the canary) must never run. Controls run the plain interpreter
// with the same variable to prove each attack is live.
func TestHostileEnvironmentDoesNotReachPython(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		app := t.TempDir()
		copyApp(t, "probe", app, "")
		loader := seal(t, app, sealOpts{main: "probe.py", python: py.path, name: "probe"})

		tests := []struct {
			name string
			// setup builds the attacker's files in evil (an evil prefix is already there)
			// and returns the variable's value.
			setup func(t *testing.T, evil, canary string) string
			// control runs the plain interpreter with the variable set (env) and must make
			// the attack visible: the canary runs, or (ldPreload) the linker says so.
			controlArgs []string
			ldPreload   bool
			// controlStdout, when set, is what the control prints instead of running the
			// canary.
			controlStdout string
		}{
			{
				name: "PYTHONPATH",
				setup: func(t *testing.T, evil, canary string) string {
					dir := filepath.Join(evil, "path")
					writeFile(t, filepath.Join(dir, "json.py"), canarySource(canary, "PYTHONPATH json.py ran"))
					return dir
				},
				controlArgs: []string{"-S", "-c", "import json"},
			},
			{
				name: "PYTHONSTARTUP",
				setup: func(t *testing.T, evil, canary string) string {
					p := filepath.Join(evil, "startup.py")
					writeFile(t, p, canarySource(canary, "PYTHONSTARTUP ran"))
					return p
				},
				// The startup file runs only in interactive mode; no control.
			},
			{
				// If honoured, the interpreter goes interactive after the app and, on a
				// terminal, executes what is typed (here stdin holds the canary). Tests have
				// no terminal, so the control shows the flag instead.
				name:          "PYTHONINSPECT",
				setup:         func(t *testing.T, evil, canary string) string { return "1" },
				controlArgs:   []string{"-S", "-c", "import sys; print(sys.flags.inspect)"},
				controlStdout: "1\n",
			},
			{
				name:        "PYTHONHOME",
				setup:       func(t *testing.T, evil, canary string) string { return evil },
				controlArgs: []string{"-S", "-c", "pass"},
			},
			{
				// getpath reads it even under -I and searches the prefix from its directory:
				// evil/bin/python3 finds evil/lib/pythonX.Y/os.py and takes evil's stdlib.
				name: "PYTHONEXECUTABLE",
				setup: func(t *testing.T, evil, canary string) string {
					return filepath.Join(evil, "bin", "python3")
				},
				controlArgs: []string{"-I", "-S", "-c", "pass"},
			},
			{
				name: "LD_PRELOAD",
				setup: func(t *testing.T, evil, canary string) string {
					p := filepath.Join(evil, "libevil.so")
					writeFile(t, p, "not an ELF object\n")
					return p
				},
				controlArgs: []string{"-S", "-c", "pass"},
				ldPreload:   true,
			},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				canary := t.TempDir()
				evil := evilPrefix(t, py, canary)
				env := []string{tc.name + "=" + tc.setup(t, evil, canary)}
				stdin := canarySource(canary, "stdin was executed")

				r := run(t, t.TempDir(), env, stdin, loader)
				if r.code != 0 || r.stderr != "" {
					t.Fatalf("sealed probe under %s: %s\nwant exit 0 and empty stderr", env[0], r)
				}
				p := parseProbe(t, r)
				if !p.Sealed {
					t.Errorf("the probe did not run sealed")
				}
				for _, k := range p.Environ {
					if strings.HasPrefix(k, "PYTHON") || strings.HasPrefix(k, "LD_") {
						t.Errorf("%s reached the app's environment", k)
					}
				}
				for _, entry := range p.Path {
					if strings.HasPrefix(entry, evil) {
						t.Errorf("sys.path holds the attacker's %s", entry)
					}
				}
				for _, m := range p.ModulesFromOutside {
					if strings.Contains(m, evil) {
						t.Errorf("module loaded from the attacker's tree: %s", m)
					}
				}
				if p.Prefix != py.prefix || p.BasePrefix != py.prefix {
					t.Errorf("sys.prefix = %q, sys.base_prefix = %q, want both %q", p.Prefix, p.BasePrefix, py.prefix)
				}
				if p.Flags["inspect"] != 0 || p.Flags["interactive"] != 0 {
					t.Errorf("sys.flags inspect=%d interactive=%d, want 0", p.Flags["inspect"], p.Flags["interactive"])
				}
				assertNoCanary(t, canary)

				if tc.controlArgs == nil {
					return
				}
				c := run(t, t.TempDir(), env, stdin, py.path, tc.controlArgs...)
				switch {
				case tc.ldPreload:
					if !strings.Contains(c.stderr, "LD_PRELOAD") {
						t.Errorf("control: the plain interpreter did not try to preload %s: %s", env[0], c)
					}
					return
				case tc.controlStdout != "":
					if c.stdout != tc.controlStdout {
						t.Errorf("control: the plain interpreter under %s: %s\nwant stdout %q", env[0], c, tc.controlStdout)
					}
					return
				}
				assertCanary(t, canary)
			})
		}
	})
}

// TestPyvenvCfgAboveLoaderHasNoEffect plants a pyvenv.cfg one directory above the loader,
// pointing at an attacker's prefix. CPython looks for pyvenv.cfg beside its executable and
// one directory up, where "its executable" is argv[0]; the loader passes the interpreter's
// own absolute path as argv[0], so the file is never consulted: the sealed app runs, with the
// interpreter's own sys.prefix, and the canary in the attacker's encodings never runs. (The
// same file beside the loader is inside the app tree, so the loader refuses it as
// UNEXPECTED; see TestTamperMatrix.) A control run of the interpreter through a symlink in
// the app's directory proves the planted file is live when CPython does consult it: the
// canary runs (up to 3.13) or sys.prefix moves to the file's directory (3.14).
func TestPyvenvCfgAboveLoaderHasNoEffect(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		canary := t.TempDir()
		evil := evilPrefix(t, py, canary)
		outer := t.TempDir()
		cfg := "home = " + filepath.Join(evil, "bin") + "\ninclude-system-site-packages = true\n"
		writeFile(t, filepath.Join(outer, "pyvenv.cfg"), cfg)
		app := filepath.Join(outer, "app")
		copyApp(t, "probe", app, "")
		loader := seal(t, app, sealOpts{main: "probe.py", python: py.path, name: "probe"})

		r := run(t, t.TempDir(), nil, "", loader)
		if r.code != 0 {
			t.Fatalf("sealed probe below a planted pyvenv.cfg: %s", r)
		}
		p := parseProbe(t, r)
		if p.Prefix != py.prefix || p.BasePrefix != py.prefix || p.ExecPrefix != py.prefix {
			t.Errorf("sys.prefix %q, base_prefix %q, exec_prefix %q; want all %q (the interpreter's own)",
				p.Prefix, p.BasePrefix, p.ExecPrefix, py.prefix)
		}
		assertNoCanary(t, canary)

		ctlOuter := t.TempDir()
		writeFile(t, filepath.Join(ctlOuter, "pyvenv.cfg"), cfg)
		ctlBin := filepath.Join(ctlOuter, "app", "python3")
		if err := os.MkdirAll(filepath.Dir(ctlBin), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(py.path, ctlBin); err != nil {
			t.Fatal(err)
		}
		// Up to 3.13, home= moves the standard library to the attacker's prefix and the
		// canary runs; from 3.14 getpath takes the standard library from the real executable,
		// but the planted file still makes the symlink's directory above sys.prefix. Either
		// shows that CPython consults the file when argv[0] is in the app's directory.
		c := run(t, t.TempDir(), nil, "", ctlBin, "-I", "-S", "-c", "import sys; print(sys.prefix)")
		if _, err := os.Stat(filepath.Join(canary, "CANARY")); err != nil && c.stdout != ctlOuter+"\n" {
			t.Errorf("control: the planted pyvenv.cfg had no effect on a plain run through a symlink "+
				"(no canary, and %s), so this case proves nothing", c)
		}
	})
}
