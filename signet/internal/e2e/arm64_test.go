//go:build linux && signet_emulators

package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinuxArm64LoaderUnderQemu runs the real linux/arm64 loader under qemu-aarch64 (user
// mode, invoked explicitly). The app is sealed for linux/arm64 against this machine's
// interpreter (a foreign target: the interpreter is taken as given). qemu emulates the
// loader, including /proc/self/exe, where the loader finds its payload; the loader's execve
// of the interpreter is passed to this machine's kernel, so the interpreter runs natively.
// So the arm64 loader's checks, refusals and launch (sealed memfd, execve) all run for real.
func TestLinuxArm64LoaderUnderQemu(t *testing.T) {
	qemu := requireTool(t, "SIGNET_TEST_QEMU_AARCH64")
	stub := built(t, "./signet/cmd/loader", "linux", "arm64")
	// ELF e_machine 183 is EM_AARCH64: what runs below is emulated, not this machine's code.
	if b := readFile(t, stub); len(b) < 20 || b[:4] != "\x7fELF" || b[18] != 183 || b[19] != 0 {
		t.Fatalf("%s is not an arm64 ELF executable", stub)
	}
	py := "/usr/bin/python3.11"
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("the interpreter the arm64 loader starts is missing: %v", err)
	}

	sealArm64 := func(t *testing.T, name, main, python string) (app, loader string) {
		t.Helper()
		app = t.TempDir()
		copyApp(t, name, app, t.TempDir())
		loader = filepath.Join(app, "hello")
		args := []string{"seal", "--target", "linux/arm64", "--python", python, "--python-version", "3.11",
			"--stub", stub, "--root", app, "--main", main, "-o", loader}
		if r := run(t, app, nil, "", bin.signet, args...); r.code != 0 {
			t.Fatalf("signet %s: %s", strings.Join(args, " "), r)
		}
		return app, loader
	}

	t.Run("intact app runs", func(t *testing.T) {
		t.Parallel()
		_, loader := sealArm64(t, "victim", "app.py", py)
		r := run(t, t.TempDir(), nil, "", qemu, loader)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "app ok 42 sub") || r.stderr != "" {
			t.Errorf("arm64 loader on an intact app: %s\nwant exit 0 and \"app ok 42 sub ...\"", r)
		}
	})

	t.Run("hostile environment does not reach the interpreter", func(t *testing.T) {
		t.Parallel()
		_, loader := sealArm64(t, "probe", "probe.py", py)
		canary := t.TempDir()
		evil := filepath.Join(t.TempDir(), "path")
		writeFile(t, filepath.Join(evil, "json.py"), canarySource(canary, "PYTHONPATH json.py ran"))
		env := []string{"PYTHONPATH=" + evil, "PYTHONINSPECT=1", "PYTHONHOME=" + evil}
		r := run(t, t.TempDir(), env, "", qemu, loader, "one")
		if r.code != 0 {
			t.Fatalf("arm64 loader running the probe: %s", r)
		}
		p := parseProbe(t, r)
		if !p.Sealed || strings.Join(p.Argv, " ") != "one" {
			t.Errorf("probe: sealed=%v argv=%q, want a sealed run with argv [one]", p.Sealed, p.Argv)
		}
		if p.Comm != "hello" {
			t.Errorf("/proc/self/comm = %q, want the app's name hello", p.Comm)
		}
		for _, k := range p.Environ {
			if strings.HasPrefix(k, "PYTHON") {
				t.Errorf("%s reached the interpreter", k)
			}
		}
		if p.Flags["inspect"] != 0 {
			t.Errorf("sys.flags.inspect = %d, want 0", p.Flags["inspect"])
		}
		assertNoCanary(t, canary)
	})

	tests := []struct {
		name   string
		python func(t *testing.T) string // --python; default py
		env    []string
		tamper func(t *testing.T, app, loader string)
		code   int
		lines  []string
	}{
		{
			name: "modified module",
			tamper: func(t *testing.T, app, _ string) {
				replaceInFile(t, filepath.Join(app, "mod.py"), "if 0 else", "if 1 else")
			},
			code:  101,
			lines: []string{"signet: MODIFIED mod.py: content differs from the sealed digest"},
		},
		{
			name:   "missing module",
			tamper: func(t *testing.T, app, _ string) { removeFile(t, filepath.Join(app, "pkg", "sub.py")) },
			code:   101,
			lines:  []string{"signet: MISSING pkg/sub.py"},
		},
		{
			name: "unexpected importable files",
			tamper: func(t *testing.T, app, _ string) {
				writeFile(t, filepath.Join(app, "json.py"), "raise SystemExit('shadowed')\n")
				writeFile(t, filepath.Join(app, "evil.pth"), "import os\n")
			},
			code:  101,
			lines: []string{"signet: UNEXPECTED json.py: ", "signet: UNEXPECTED evil.pth: "},
		},
		{
			name:   "damaged payload",
			tamper: func(t *testing.T, _, loader string) { flipManifestByte(t, loader) },
			code:   103,
			lines:  []string{"signet: refused: this loader's sealed manifest is damaged"},
		},
		{
			name: "truncated payload",
			tamper: func(t *testing.T, _, loader string) {
				info, err := os.Stat(loader)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(loader, info.Size()-20); err != nil {
					t.Fatal(err)
				}
			},
			code:  103,
			lines: []string{"signet: refused: this loader"},
		},
		{
			name:  "GODEBUG set",
			env:   []string{"GODEBUG=cpu.sha=off"},
			code:  104,
			lines: []string{"signet: refused: GODEBUG is set; it could change how this loader behaves. Unset it."},
		},
		{
			name:   "interpreter in a world-writable directory",
			python: func(t *testing.T) string { return inWorldWritableDir(t, py) },
			code:   102,
			lines:  []string{"signet: INTERPRETER "},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			python := py
			if tc.python != nil {
				python = tc.python(t)
			}
			app, loader := sealArm64(t, "victim", "app.py", python)
			if tc.tamper != nil {
				tc.tamper(t, app, loader)
			}
			r := run(t, t.TempDir(), tc.env, "", qemu, loader)
			t.Logf("loader: %s", r)
			if r.code != tc.code {
				t.Errorf("exit status %d, want %d", r.code, tc.code)
			}
			for _, l := range tc.lines {
				if !hasLine(r.stderr, l) {
					t.Errorf("stderr has no line starting %q", l)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing (the app must not run)", r.stdout)
			}
		})
	}
}
