package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
)

// fakeELF is the smallest input payload.Attach accepts as an ELF stub.
func fakeELF() []byte {
	b := make([]byte, 256)
	copy(b, "\x7fELF\x02\x01\x01")
	return b
}

func writeParams(t *testing.T, dir string, args []string) string {
	t.Helper()
	p := filepath.Join(dir, "params")
	if err := os.WriteFile(p, []byte(strings.Join(args, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return "@" + p
}

func TestSealAction(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"main.py": "print('hi')\n", "pkg/__init__.py": "", "pkg/data.txt": "x"}
	var inputs []string
	for name, body := range files {
		src := filepath.Join(dir, "src", strings.ReplaceAll(name, "/", "_"))
		os.MkdirAll(filepath.Dir(src), 0o755)
		if err := os.WriteFile(src, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, "--src", src, "--app", name)
	}
	stub := filepath.Join(dir, "stub")
	if err := os.WriteFile(stub, fakeELF(), 0o755); err != nil {
		t.Fatal(err)
	}
	base := []string{"--target", "linux/amd64", "--stub", stub, "--python", "/usr/bin/python3.11",
		"--python-version", "3.11", "--main", "main.py", "--loader-name", "app",
		"--out-loader", filepath.Join(dir, "app"), "--out-manifest", filepath.Join(dir, "app.manifest"),
		"--out-delivery", filepath.Join(dir, "app.tar")}

	tests := []struct {
		name    string
		args    []string
		wantErr string // "" means success
	}{
		{"ok", append(append([]string{}, base...), inputs...), ""},
		{"main missing", append(append([]string{}, base[:8]...), append([]string{"--main", "nope.py"}, append(base[10:], inputs...)...)...), "--main nope.py is not a file of the app"},
		{"path leaves root", append(append([]string{}, base...), "--src", stub, "--app", "../x"), "app file"},
		{"twice", append(append(append([]string{}, base...), inputs...), "--src", stub, "--app", "main.py"), "app path main.py is given twice"},
		{"reserved", append(append(append([]string{}, base...), inputs...), "--src", stub, "--app", "__signet_pyc__/x"), "is reserved for the sealed bytecode"},
		{"windows python for linux", append(append([]string{}, base...), append(inputs, "--python", "C:/Python311/python.exe")...), "is a Windows path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), []string{writeParams(t, t.TempDir(), tc.args)}, &stderr)
			if tc.wantErr != "" {
				if code == exitOK || !strings.Contains(stderr.String(), tc.wantErr) {
					t.Fatalf("exit %d, stderr %q; want failure containing %q", code, stderr.String(), tc.wantErr)
				}
				return
			}
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
		})
	}

	// The outputs of the successful run.
	loader, err := os.ReadFile(filepath.Join(dir, "app"))
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := payload.Find(bytes.NewReader(loader), int64(len(loader)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Decode(encoded)
	if err != nil {
		t.Fatal(err)
	}
	written, _ := os.ReadFile(filepath.Join(dir, "app.manifest"))
	if !bytes.Equal(written, encoded) {
		t.Errorf("the manifest output differs from the sealed payload")
	}
	if m.Entry != "main.py" || len(m.Files) != 3 || m.PythonTrust[0] != "/usr/lib/python3.11" {
		t.Errorf("manifest: entry %q, %d files, trust %v", m.Entry, len(m.Files), m.PythonTrust)
	}
	f, err := os.Open(filepath.Join(dir, "app.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: owner %d:%d mtime %v", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		got = append(got, h.Name+" "+h.FileInfo().Mode().String())
	}
	want := []string{"app -rwxr-xr-x", "main.py -rw-r--r--", "pkg/ drwxr-xr-x", "pkg/__init__.py -rw-r--r--", "pkg/data.txt -rw-r--r--"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("tar entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSealActionWithRuntime seals with a bundled runtime given as files (as signet_loader
// passes a py_runtime's): they are sealed and archived under runtime/, the interpreter and its
// search path are recorded inside the delivery, and its __pycache__ is left out.
func TestSealActionWithRuntime(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, "in", strings.ReplaceAll(name, "/", "_"))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	elf := make([]byte, 64)
	copy(elf, "\x7fELF\x02\x01\x01")
	elf[18] = 62 // EM_X86_64
	stub := write("stub", fakeELF(), 0o755)
	args := []string{"--target", "linux/amd64", "--stub", stub, "--python", "runtime/bin/python3.11",
		"--python-version", "3.11", "--main", "main.py", "--loader-name", "app",
		"--src", write("main.py", []byte("print(1)\n"), 0o644), "--app", "main.py",
		"--runtime-src", write("python", elf, 0o755), "--runtime-path", "bin/python3.11",
		"--runtime-src", write("os.py", []byte("# os\n"), 0o644), "--runtime-path", "lib/python3.11/os.py",
		"--runtime-src", write("os.pyc", []byte("cache"), 0o644), "--runtime-path", "lib/python3.11/__pycache__/os.cpython-311.pyc",
		"--out-loader", filepath.Join(dir, "app"), "--out-manifest", filepath.Join(dir, "app.manifest"),
		"--out-delivery", filepath.Join(dir, "app.tar")}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{writeParams(t, dir, args)}, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "app.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Bundled() || m.PythonPath != "runtime/bin/python3.11" {
		t.Errorf("interpreter %q, bundled %v", m.PythonPath, m.Bundled())
	}
	want := []string{"runtime/lib/python3.11", "runtime/lib/python3.11/lib-dynload", "runtime/lib/python311.zip"}
	if strings.Join(m.PythonTrust, " ") != strings.Join(want, " ") {
		t.Errorf("trust %q, want %q", m.PythonTrust, want)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	if got := strings.Join(paths, " "); got != "main.py runtime/bin/python3.11 runtime/lib/python3.11/os.py" {
		t.Errorf("sealed %s", got)
	}
	// The loader executes the bundled interpreter: the delivery tar must say so.
	tf, err := os.Open(filepath.Join(dir, "app.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	tr := tar.NewReader(tf)
	var modes []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			modes = append(modes, h.Name+" "+h.FileInfo().Mode().String())
		}
	}
	wantModes := "app -rwxr-xr-x|main.py -rw-r--r--|runtime/bin/python3.11 -rwxr-xr-x|runtime/lib/python3.11/os.py -rw-r--r--"
	if got := strings.Join(modes, "|"); got != wantModes {
		t.Errorf("tar modes %s, want %s", got, wantModes)
	}
	// A runtime for another CPU is refused.
	elf[18] = 183 // EM_AARCH64
	write("python", elf, 0o755)
	stderr.Reset()
	if code := run(context.Background(), []string{writeParams(t, dir, args)}, &stderr); code != exitError ||
		!strings.Contains(stderr.String(), "is for linux/arm64, not the target linux/amd64") {
		t.Errorf("an arm64 interpreter for linux/amd64: exit %d, %s", code, stderr.String())
	}
}
