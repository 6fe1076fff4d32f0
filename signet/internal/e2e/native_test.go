//go:build linux

package e2e_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nativeApp writes an app whose package holds a C extension (natpkg/_natext.abi3.so, of
// the stable ABI, built here with gcc from testdata/native) that needs a library of the
// delivery (natlibs/libnatdep.so.1) through its RUNPATH $ORIGIN/../natlibs. soname is the
// library's DT_SONAME ("" for none). The app prints what the extension and _decimal (an
// extension of the runtime's lib-dynload) compute, waits for a line on stdin, and prints
// it again.
func nativeApp(t *testing.T, dir, soname string) {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("gcc is needed to build the test's C extension: %v", err)
		}
		t.Skipf("gcc is needed to build the test's C extension (under CI=true this fails): %v", err)
	}
	for _, d := range []string{"natlibs", "natpkg"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := filepath.Abs(filepath.Join("testdata", "native"))
	if err != nil {
		t.Fatal(err)
	}
	lib := []string{"-shared", "-fPIC", "-nostdlib", "-O1", "-o", filepath.Join(dir, "natlibs", "libnatdep.so.1"),
		filepath.Join(src, "natdep.c")}
	if soname != "" {
		lib = append(lib, "-Wl,-soname,"+soname)
	}
	ext := []string{"-shared", "-fPIC", "-nostdlib", "-O1", "-o", filepath.Join(dir, "natpkg", "_natext.abi3.so"),
		filepath.Join(src, "natext.c"), "-L" + filepath.Join(dir, "natlibs"), "-l:libnatdep.so.1",
		"-Wl,-rpath,$ORIGIN/../natlibs", "-Wl,--enable-new-dtags"}
	for _, args := range [][]string{lib, ext} {
		if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	files := map[string]string{
		"main.py": `import decimal, sys
from natpkg import _natext
print("native", _natext.value(), decimal.Decimal(1) / 4, flush=True)
if len(sys.argv) > 1:
    input()  # the test changes the delivery's native code on disk now
    print("native", _natext.value(), decimal.Decimal(1) / 8, flush=True)
`,
		"natpkg/__init__.py": "",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// patchInPlace overwrites a file's bytes after its first page with int3 instructions,
// through the same inode, as an attacker who can write the delivery would patch the code
// of a library some process has mapped.
func patchInPlace(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat("\xcc", int(fi.Size())-4096)), 4096); err != nil {
		t.Fatal(err)
	}
}

// replaceByRename puts other bytes at p by renaming a new file over it (a new inode).
func replaceByRename(t *testing.T, p string) {
	t.Helper()
	tmp := p + ".new"
	if err := os.WriteFile(tmp, []byte("\x7fELF not a library"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// TestBundledNativeCode: native code of a bundled delivery (an extension of the app, the
// library it needs through $ORIGIN, an extension of the runtime's lib-dynload) runs only
// from verified bytes. Changed before the start: refused. Patched in place, or replaced,
// after the app loaded it: the running app goes on with the sealed code (mapped from a
// sealed memfd, not from the file). A library of the delivery that cannot be matched by its
// SONAME is refused rather than opened by path.
func TestBundledNativeCode(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		rt := relocatableRuntime(t, py)
		matches, _ := filepath.Glob(filepath.Join(rt, "lib", "python"+py.version, "lib-dynload", "_decimal*.so"))
		if len(matches) != 1 {
			t.Fatalf("want one _decimal extension in the runtime's lib-dynload, got %q", matches)
		}
		decimalSO := filepath.Join("runtime", "lib", "python"+py.version, "lib-dynload", filepath.Base(matches[0]))
		const first = "native 42 0.25"

		t.Run("library changed before the start", func(t *testing.T) {
			work := t.TempDir()
			appDir := filepath.Join(work, "app")
			nativeApp(t, appDir, "libnatdep.so.1")
			loader := sealBundled(t, appDir, rt, filepath.Join(work, "dist"))
			if r := run(t, work, nil, "", loader); r.code != 0 || r.stdout != first+"\n" {
				t.Fatalf("want %q: %s", first, r)
			}
			appendTo(t, filepath.Join(work, "dist", "natlibs", "libnatdep.so.1"), "\x00")
			r := run(t, work, nil, "", loader)
			if r.code != 101 || !hasLine(r.stderr, "signet: MODIFIED natlibs/libnatdep.so.1") || r.stdout != "" {
				t.Errorf("want exit 101 and the library named: %s", r)
			}
		})

		for _, change := range []struct {
			name string
			do   func(t *testing.T, p string)
		}{
			{"patched in place", patchInPlace},
			{"replaced by rename", replaceByRename},
		} {
			t.Run("native code "+change.name+" after it was loaded", func(t *testing.T) {
				work := t.TempDir()
				appDir := filepath.Join(work, "app")
				nativeApp(t, appDir, "libnatdep.so.1")
				dist := filepath.Join(work, "dist")
				loader := sealBundled(t, appDir, rt, dist)
				cmd := exec.Command(loader, "wait")
				cmd.Env = baseEnv()
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
				lines := bufio.NewScanner(stdout)
				var seen []string
				if lines.Scan() {
					seen = append(seen, lines.Text())
				}
				for _, p := range []string{"natlibs/libnatdep.so.1", "natpkg/_natext.abi3.so", decimalSO} {
					change.do(t, filepath.Join(dist, filepath.FromSlash(p)))
				}
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
				want := []string{first, "native 42 0.125"}
				if code != 0 || strings.Join(seen, "\n") != strings.Join(want, "\n") {
					t.Errorf("want exit 0 and %q, got exit %d (%v)\nstdout %q\nstderr %q", want, code, cmd.ProcessState, seen, errOut.String())
				}
			})
		}

		t.Run("library without a SONAME", func(t *testing.T) {
			work := t.TempDir()
			appDir := filepath.Join(work, "app")
			nativeApp(t, appDir, "")
			loader := sealBundled(t, appDir, rt, filepath.Join(work, "dist"))
			r := run(t, work, nil, "", loader)
			want := "signet: refused: natlibs/libnatdep.so.1 is needed as 'libnatdep.so.1', but has no SONAME"
			if r.code != 106 || !hasLine(r.stderr, want) || r.stdout != "" {
				t.Errorf("want exit 106 and a line %q: %s", want, r)
			}
		})
	})
}
