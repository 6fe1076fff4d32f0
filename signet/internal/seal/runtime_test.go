//go:build linux

package seal

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// miniRuntime makes the smallest relocatable CPython that starts: the interpreter of the
// tests with os.py (getpath's landmark) and the encodings package next to it, plus a
// __pycache__ directory, as a used installation has.
func miniRuntime(t *testing.T) string {
	t.Helper()
	requirePython(t)
	dir := t.TempDir()
	copyInto := func(src, dst string, mode fs.FileMode) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, mode); err != nil {
			t.Fatal(err)
		}
	}
	copyInto(python, filepath.Join(dir, "bin", "python3.11"), 0o755)
	lib := filepath.Join(dir, "lib", "python3.11")
	copyInto("/usr/lib/python3.11/os.py", filepath.Join(lib, "os.py"), 0o644)
	enc, err := filepath.Glob("/usr/lib/python3.11/encodings/*.py")
	if err != nil || len(enc) == 0 {
		t.Fatalf("no encodings package to copy: %v", err)
	}
	for _, f := range enc {
		copyInto(f, filepath.Join(lib, "encodings", filepath.Base(f)), 0o644)
	}
	copyInto("/usr/lib/python3.11/os.py", filepath.Join(lib, "__pycache__", "os.cpython-311.pyc"), 0o644)
	// getpath finds exec_prefix by lib-dynload; without it the interpreter would use the
	// system's (see "not self-contained" below).
	if err := os.MkdirAll(filepath.Join(lib, "lib-dynload"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// snapshot lists a tree's paths, sizes and modification times.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := d.Info()
		b.WriteString(p + " " + fi.Mode().String() + " " + fi.ModTime().String() + "\n")
		return nil
	})
	return b.String()
}

func TestSealBundledRuntime(t *testing.T) {
	rt := miniRuntime(t)
	before := snapshot(t, rt)
	root := writeApp(t, helloApp)
	out := filepath.Join(t.TempDir(), "dist", "hello")
	o := baseOptions(root, out)
	o.Python, o.Runtime = "", rt
	res, err := Seal(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if m.PythonPath != "runtime/bin/python3.11" || m.PythonVersion != "3.11" || !m.Bundled() {
		t.Errorf("interpreter recorded as %q %q", m.PythonPath, m.PythonVersion)
	}
	for _, tr := range m.PythonTrust {
		if !strings.HasPrefix(tr, "runtime/lib/") {
			t.Errorf("trust path %q is not inside the bundled runtime", tr)
		}
	}
	if f, ok := m.Lookup("runtime/lib/python3.11/encodings/utf_8.py"); !ok || f.Role != "module" {
		t.Errorf("the runtime's modules are not sealed: %+v %v", f, ok)
	}
	if _, ok := m.Lookup("__signet_pyc__/3.11/runtime/lib/python3.11/encodings/utf_8.py.pyc"); !ok {
		t.Errorf("the runtime's modules got no sealed bytecode")
	}
	for _, f := range m.Files {
		if strings.Contains(f.Path, "__pycache__") {
			t.Errorf("sealed %s", f.Path)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(out), "runtime", "bin", "python3.11")); err != nil {
		t.Errorf("the runtime was not copied into the delivery: %v", err)
	}
	if res.RuntimeFiles == 0 || res.Copied <= res.RuntimeFiles {
		t.Errorf("copied %d files, %d of the runtime", res.Copied, res.RuntimeFiles)
	}
	if after := snapshot(t, rt); after != before {
		t.Errorf("the seal wrote into the runtime it read:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestSealBundledRuntimeRefuses(t *testing.T) {
	rt := miniRuntime(t)
	outside := filepath.Join(t.TempDir(), "secret.py")
	if err := os.WriteFile(outside, []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, rt, root string) // may change the runtime copy or the app
		edit    func(o *Options, rt, root string)
		want    string
	}{
		{name: "not a CPython installation", edit: func(o *Options, _, root string) { o.Runtime = root },
			want: "is not a CPython installation for linux: it has no bin/python3.X"},
		{name: "not self-contained", prepare: func(t *testing.T, rt, _ string) {
			if err := os.Remove(filepath.Join(rt, "lib", "python3.11", "lib-dynload")); err != nil {
				t.Fatal(err)
			}
		}, want: "is not self-contained: its interpreter uses /usr/lib/python3.11/lib-dynload, outside the runtime"},
		{name: "not a directory", edit: func(o *Options, rt, _ string) { o.Runtime = filepath.Join(rt, "bin", "python3.11") },
			want: "is not a directory"},
		{name: "missing", edit: func(o *Options, rt, _ string) { o.Runtime = filepath.Join(rt, "nope") },
			want: "--runtime: lstat"},
		{name: "symlink out of the runtime", prepare: func(t *testing.T, rt, _ string) {
			if err := os.Symlink(outside, filepath.Join(rt, "lib", "python3.11", "leak.py")); err != nil {
				t.Fatal(err)
			}
		}, want: "runtime file lib/python3.11/leak.py is a symlink to " + outside + ", outside --runtime"},
		{name: "symlink to a directory", prepare: func(t *testing.T, rt, _ string) {
			if err := os.Symlink("encodings", filepath.Join(rt, "lib", "python3.11", "enc2")); err != nil {
				t.Fatal(err)
			}
		}, want: "runtime file lib/python3.11/enc2 is a symlink to a directory"},
		{name: "for another platform", edit: func(o *Options, _, _ string) { o.Target, o.PythonVersion = otherLinuxTarget(), "3.11" },
			want: "is for linux/" + runtime.GOARCH + ", not the target " + otherLinuxTarget()},
		{name: "for windows", edit: func(o *Options, _, _ string) {
			o.Target, o.PythonVersion, o.Stub, o.Python = "windows/amd64", "3.11", dummyStubs["windows"], "runtime/bin/python3.11"
		}, want: "is for linux/amd64, not the target windows/amd64"},
		{name: "older than 3.11", edit: func(o *Options, _, _ string) {
			o.Target, o.PythonVersion, o.PythonAsGiven = "linux/amd64", "3.10", true
		},
			want: "--python-version is Python 3.10, older than 3.11, the oldest signet supports"},
		{name: "python outside the runtime", edit: func(o *Options, _, _ string) { o.Python = python },
			want: "is outside --runtime"},
		{name: "python not in the runtime dir", edit: func(o *Options, _, _ string) { o.Python = "bin/python3.11" },
			want: "is not inside the runtime directory runtime of the delivery"},
		{name: "python not a file of the runtime", edit: func(o *Options, _, _ string) { o.Python = "runtime/bin/python9" },
			want: "has no file bin/python9"},
		{name: "with --seal-runtime", edit: func(o *Options, _, _ string) { o.SealRuntime = true },
			want: "--seal-runtime is for an interpreter installed on the target machine"},
		{name: "sealed in place", edit: func(o *Options, _, root string) { o.Output = filepath.Join(root, "hello") },
			want: "--runtime needs a delivery directory"},
		{name: "delivery inside the runtime", edit: func(o *Options, rt, _ string) { o.Output = filepath.Join(rt, "dist", "hello") },
			want: "is inside --runtime"},
		{name: "app file where the runtime goes", prepare: func(t *testing.T, _, root string) {
			if err := os.MkdirAll(filepath.Join(root, "runtime"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "runtime", "x.py"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: "app file runtime/x.py is in the directory runtime, where the runtime goes"},
		{name: "bad runtime dir", edit: func(o *Options, _, _ string) { o.RuntimeDir = "../up" },
			want: `--runtime-dir "../up"`},
		{name: "runtime dir reserved", edit: func(o *Options, _, _ string) { o.RuntimeDir = "__signet_pyc__/rt" },
			want: "is reserved for the sealed bytecode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rtCopy := t.TempDir()
			copyDir(t, rt, rtCopy)
			root := writeApp(t, helloApp)
			if tc.prepare != nil {
				tc.prepare(t, rtCopy, root)
			}
			outDir := filepath.Join(t.TempDir(), "dist")
			o := baseOptions(root, filepath.Join(outDir, "hello"))
			o.Python, o.Runtime = "", rtCopy
			if tc.edit != nil {
				tc.edit(&o, rtCopy, root)
			}
			_, err := Seal(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
			if _, err := os.Stat(outDir); err == nil {
				t.Errorf("a refused seal left %s behind", outDir)
			}
		})
	}
}

func TestCheckMinimumVersion(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{{"3.11", true}, {"3.14", true}, {"4.0", true}, {"3.10", false}, {"3.6", false}, {"2.7", false}, {"x", false}} {
		if err := checkMinimumVersion(tc.v, "python"); (err == nil) != tc.ok {
			t.Errorf("checkMinimumVersion(%q) = %v", tc.v, err)
		}
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		return os.WriteFile(target, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
