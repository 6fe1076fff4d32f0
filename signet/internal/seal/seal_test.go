//go:build linux

package seal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/signet-dev/signet/signet/internal/launch"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/sorted"
	"github.com/signet-dev/signet/signet/internal/stubs"
	"github.com/signet-dev/signet/signet/internal/winresource"
)

// python is the real interpreter the tests seal against.
const python = "/usr/bin/python3.11"

// dummyStubs are small Go executables standing in for the loader stub, per GOOS.
var dummyStubs = map[string]string{}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		cache, err := os.MkdirTemp("", "seal-test-stubs-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(cache)
		b := &stubs.Builder{CacheDir: cache, Source: fstest.MapFS{
			"cmd/loader/main.go": {Data: []byte("package main\n\nfunc main() { println(\"dummy stub\") }\n")},
		}}
		for _, goos := range []string{"linux", "windows"} {
			p, err := b.Get(context.Background(), goos, "amd64")
			if err != nil {
				panic(err)
			}
			dummyStubs[goos] = p
		}
		return m.Run()
	}())
}

func requirePython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("these tests need CPython 3.11 at %s: %v", python, err)
	}
}

// writeApp creates files (app path -> content) under a new directory.
func writeApp(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

var helloApp = map[string]string{
	"hello.py":         "import pkg\nprint('hello')\n",
	"pkg/__init__.py":  "",
	"pkg/data/cfg.txt": "x = 1\n",
}

func baseOptions(root, out string) Options {
	return Options{Root: root, Main: "hello.py", Python: python, Output: out, Stub: dummyStubs["linux"], Target: "linux/amd64"}
}

func TestSealCopiesTheAppNextToTheLoader(t *testing.T) {
	requirePython(t)
	root := writeApp(t, helloApp)
	out := filepath.Join(t.TempDir(), "dist", "hello")
	res, err := Seal(context.Background(), baseOptions(root, out))
	if err != nil {
		t.Fatal(err)
	}
	if res.Loader != out || res.Copied != len(helloApp) {
		t.Errorf("Result = %+v, want loader %s and %d copied", res, out, len(helloApp))
	}
	m := res.Manifest
	if m.Entry != "hello.py" || m.Level != manifest.LevelEnforce || m.PythonPath != python || m.PythonVersion != "3.11" || m.PythonSHA256 != nil || m.SealRuntime {
		t.Errorf("manifest header = %+v", m)
	}
	for _, want := range []string{"/usr/lib/python3.11", "/usr/lib/python3.11/lib-dynload", "/usr/lib/python311.zip"} {
		if !slices.Contains(m.PythonTrust, want) {
			t.Errorf("python-trust %v lacks %s", m.PythonTrust, want)
		}
	}
	wantRoles := map[string]manifest.Role{"hello.py": manifest.RoleEntry, "pkg/__init__.py": manifest.RoleModule, "pkg/data/cfg.txt": manifest.RoleData}
	sources, pycs := splitBytecode(m)
	if len(sources) != len(wantRoles) {
		t.Fatalf("files = %+v", m.Files)
	}
	parts := launch.BootstrapParts("3.11")
	wantPycs := []string{parts[0].Path, parts[1].Path, "__signet_pyc__/3.11/hello.py.pyc", "__signet_pyc__/3.11/pkg/__init__.py.pyc"}
	slices.Sort(wantPycs)
	var gotPycs []string
	for _, f := range pycs {
		gotPycs = append(gotPycs, f.Path)
		written, err := os.ReadFile(filepath.Join(filepath.Dir(out), filepath.FromSlash(f.Path)))
		if err != nil || int64(len(written)) != f.Size || sha256.Sum256(written) != f.SHA256 {
			t.Errorf("sealed bytecode %s in the delivery: %d bytes, %v", f.Path, len(written), err)
		}
	}
	if !slices.Equal(gotPycs, wantPycs) || res.Bytecode != len(wantPycs) || res.BytecodeNote != "" {
		t.Errorf("sealed bytecode %q (count %d, note %q), want %q", gotPycs, res.Bytecode, res.BytecodeNote, wantPycs)
	}
	for _, f := range sources {
		content := helloApp[f.Path]
		if f.Role != wantRoles[f.Path] || f.Size != int64(len(content)) || f.SHA256 != sha256.Sum256([]byte(content)) {
			t.Errorf("file %+v does not match %q (role %s)", f, content, wantRoles[f.Path])
		}
		copied, err := os.ReadFile(filepath.Join(filepath.Dir(out), filepath.FromSlash(f.Path)))
		if err != nil || string(copied) != content {
			t.Errorf("copy of %s = %q, %v", f.Path, copied, err)
		}
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("loader mode %v, want 0755", fi.Mode().Perm())
	}
	got, err := payload.FindInFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("payload is not the manifest:\n%s\nwant\n%s", got, want)
	}
	assertNoTempFiles(t, filepath.Dir(out))
}

func TestSealIsDeterministic(t *testing.T) {
	requirePython(t)
	root := writeApp(t, helloApp)
	tests := []struct {
		name string
		out  func() string
	}{
		{"copied delivery", func() string { return filepath.Join(t.TempDir(), "hello") }},
		{"in place", func() string { return filepath.Join(root, "hello") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := tt.out()
			var loaders [][]byte
			for i := 0; i < 2; i++ {
				if _, err := Seal(context.Background(), baseOptions(root, out)); err != nil {
					t.Fatalf("seal %d: %v", i+1, err)
				}
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				loaders = append(loaders, b)
			}
			if !bytes.Equal(loaders[0], loaders[1]) {
				t.Errorf("sealing twice gave different loaders")
			}
		})
	}
}

func TestSealInPlaceLeavesTheLoaderOutOfTheSeal(t *testing.T) {
	requirePython(t)
	root := writeApp(t, helloApp)
	out := filepath.Join(root, "hello")
	if err := os.WriteFile(out, []byte("an old loader"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Seal(context.Background(), baseOptions(root, out))
	if err != nil {
		t.Fatal(err)
	}
	if res.Copied != 0 {
		t.Errorf("copied %d files in place", res.Copied)
	}
	if _, ok := res.Manifest.Lookup("hello"); ok {
		t.Errorf("the loader itself was sealed")
	}
	if sources, pycs := splitBytecode(res.Manifest); len(sources) != len(helloApp) || len(pycs) != 4 {
		t.Errorf("sealed %d files and %d bytecode files, want %d and 4", len(sources), len(pycs), len(helloApp))
	}
	if _, err := os.Stat(filepath.Join(root, "__signet_pyc__", "3.11", "hello.py.pyc")); err != nil {
		t.Errorf("sealed bytecode not written into the root: %v", err)
	}
}

func TestSealPycache(t *testing.T) {
	requirePython(t)
	files := map[string]string{"hello.py": "print(1)\n", "__pycache__/hello.cpython-311.pyc": "bytecode"}
	t.Run("skipped when copying", func(t *testing.T) {
		root := writeApp(t, files)
		out := filepath.Join(t.TempDir(), "hello")
		res, err := Seal(context.Background(), baseOptions(root, out))
		if err != nil {
			t.Fatal(err)
		}
		if sources, _ := splitBytecode(res.Manifest); !slices.Equal(res.Skipped, []string{"__pycache__"}) || len(sources) != 1 {
			t.Errorf("skipped %v, sealed %+v", res.Skipped, res.Manifest.Files)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(out), "__pycache__")); !os.IsNotExist(err) {
			t.Errorf("__pycache__ was copied: %v", err)
		}
	})
	t.Run("refused in place", func(t *testing.T) {
		root := writeApp(t, files)
		out := filepath.Join(root, "hello")
		_, err := Seal(context.Background(), baseOptions(root, out))
		if err == nil || !strings.Contains(err.Error(), "remove __pycache__") {
			t.Fatalf("err = %v, want a refusal naming __pycache__", err)
		}
		assertNothingAt(t, out)
	})
}

func TestSealRefuses(t *testing.T) {
	requirePython(t)
	shim := filepath.Join(t.TempDir(), "python3")
	if err := os.WriteFile(shim, []byte("#!/usr/bin/env bash\nexec pyenv exec python3 \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	textFile := filepath.Join(t.TempDir(), "python")
	if err := os.WriteFile(textFile, []byte("not a program"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		app     map[string]string
		prepare func(t *testing.T, root, outDir string) // may add files
		edit    func(o *Options)
		outIn   string // "root": the loader goes into root; "sub": into root/dist; else a new directory
		want    string
	}{
		{name: "pyenv shim", edit: func(o *Options) { o.Python = shim }, want: "is a shell script (a pyenv shim?); pass the real interpreter, e.g. $(" + shim + " -c 'import sys;print(sys.executable)')"},
		{name: "not an executable", edit: func(o *Options) { o.Python = textFile }, want: "is not an ELF executable"},
		{name: "relative python", edit: func(o *Options) { o.Python = "python3.11" }, want: "want an absolute path"},
		{name: "no python", edit: func(o *Options) { o.Python = "" }, want: "--python is required"},
		{name: "missing main", edit: func(o *Options) { o.Main = "" }, want: "--main is required"},
		{name: "main not in the app", edit: func(o *Options) { o.Main = "nope.py" }, want: "--main nope.py is not a file of the app"},
		{name: "main outside the root", edit: func(o *Options) { o.Main = "../hello.py" }, want: "outside the app root"},
		{name: "unknown target", edit: func(o *Options) { o.Target = "plan9/386" }, want: `--target: unknown target "plan9/386"`},
		{name: "bad level", edit: func(o *Options) { o.Level = "loud" }, want: `--level "loud"`},
		{name: "version mismatch", edit: func(o *Options) { o.PythonVersion = "3.12" }, want: "--python-version 3.12: " + python + " is Python 3.11"},
		{name: "bad version", edit: func(o *Options) { o.PythonVersion = "3" }, want: `--python-version "3": want X.Y`},
		{name: "digest mismatch", edit: func(o *Options) { o.PythonSHA256 = strings.Repeat("ab", 32) }, want: "not the pinned " + strings.Repeat("ab", 32)},
		{name: "bad digest", edit: func(o *Options) { o.PythonSHA256 = "xyz" }, want: "want 64 hex digits"},
		{name: "foreign target without version", edit: func(o *Options) { o.Target = "linux/arm64" }, want: "--python-version is required for a linux/arm64 target"},
		{name: "foreign target with seal-runtime", edit: func(o *Options) { o.Target = "linux/arm64"; o.PythonVersion = "3.11"; o.SealRuntime = true }, want: "--seal-runtime needs the interpreter's files on this machine"},
		{name: "windows target with a unix python", edit: func(o *Options) { o.Target = "windows/amd64"; o.PythonVersion = "3.11"; o.Stub = dummyStubs["windows"] }, want: "is not a Windows path"},
		{name: "symlink", prepare: func(t *testing.T, root, _ string) { mustSymlink(t, "hello.py", filepath.Join(root, "link.py")) }, want: "app file link.py is a symlink"},
		{name: "fifo", prepare: func(t *testing.T, root, _ string) { mustFifo(t, filepath.Join(root, "pipe")) }, want: "app file pipe is not a regular file (a named pipe)"},
		{name: "windows-unsafe name", app: map[string]string{"hello.py": "", "aux.py": ""}, edit: func(o *Options) {
			o.Target, o.Python, o.PythonVersion, o.Stub = "windows/amd64", `C:\Python311\python.exe`, "3.11", dummyStubs["windows"]
		}, want: "cannot be delivered to windows"},
		{name: "output in a subdirectory of the root", outIn: "sub", want: "is inside --root but not directly in it"},
		{name: "stray file in the delivery", prepare: func(t *testing.T, _, outDir string) {
			if err := os.WriteFile(filepath.Join(outDir, "stray.py"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: "UNEXPECTED stray.py"},
		{name: "loader named like an app directory", edit: func(o *Options) { o.Output = filepath.Join(filepath.Dir(o.Output), "pkg") }, want: "the loader's name pkg is also the app path pkg/__init__.py"},
		{name: "stub already sealed", prepare: nil, edit: func(o *Options) { o.Stub = sealedStub(t) }, want: "already sealed"},
		{name: "stub not an executable", edit: func(o *Options) { o.Stub = textFile }, want: "attaching the manifest to the stub"},
		{name: "no output", edit: func(o *Options) { o.Output = "" }, want: "-o is required"},
		{name: "resources for a linux target", edit: func(o *Options) { o.Resources = &winresource.Info{CompanyName: "Example"} }, want: "Windows resources (version information, icon) are only for a windows target"},
		{name: "require-signer for a linux target", edit: func(o *Options) { o.RequireSigner = &[32]byte{1} }, want: "--require-signer is only for a windows target"},
		{name: "invalid resources", edit: func(o *Options) {
			o.Target, o.Python, o.PythonVersion, o.Stub = "windows/amd64", "C:/Python311/python.exe", "3.11", dummyStubs["windows"]
			o.Resources = &winresource.Info{FileVersion: "1.2"}
		}, want: "the stub: windows resources: FileVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := tt.app
			if app == nil {
				app = helloApp
			}
			root := writeApp(t, app)
			outDir := t.TempDir()
			switch tt.outIn {
			case "root":
				outDir = root
			case "sub":
				outDir = filepath.Join(root, "dist")
			}
			if tt.prepare != nil {
				tt.prepare(t, root, outDir)
			}
			o := baseOptions(root, filepath.Join(outDir, "hello"))
			if tt.edit != nil {
				tt.edit(&o)
			}
			res, err := Seal(context.Background(), o)
			if err == nil {
				t.Fatalf("Seal succeeded (%+v), want an error containing %q", res, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
			if o.Output != "" {
				assertNothingAt(t, stubs.ExeName(o.Output, strings.Split(o.Target+"/", "/")[0]))
				if _, err := os.Stat(filepath.Dir(o.Output)); err == nil {
					assertNoTempFiles(t, filepath.Dir(o.Output))
				}
			}
		})
	}
}

func TestSealWindowsTargetOnThisMachine(t *testing.T) {
	root := writeApp(t, helloApp)
	out := filepath.Join(t.TempDir(), "hello")
	pin := strings.Repeat("0f", 32)
	o := Options{Root: root, Main: "hello.py", Python: `C:\Python311\python.exe`, PythonVersion: "3.11", PythonSHA256: pin,
		Target: "windows/amd64", Output: out, Stub: dummyStubs["windows"]}
	res, err := Seal(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Loader != out+".exe" {
		t.Errorf("loader %s, want %s.exe", res.Loader, out)
	}
	m := res.Manifest
	if m.PythonPath != "C:/Python311/python.exe" || m.PythonVersion != "3.11" || m.PythonSHA256 == nil || hex.EncodeToString(m.PythonSHA256[:]) != pin {
		t.Errorf("interpreter = %s %s %x", m.PythonPath, m.PythonVersion, m.PythonSHA256)
	}
	wantTrust := []string{"C:/Python311", "C:/Python311/DLLs", "C:/Python311/Lib", "C:/Python311/python311.zip"}
	if !slices.Equal(m.PythonTrust, wantTrust) {
		t.Errorf("trust %v, want %v", m.PythonTrust, wantTrust)
	}
	b, err := os.ReadFile(out + ".exe")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("MZ")) {
		t.Errorf("loader is not a PE")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("something was written at %s without .exe: %v", out, err)
	}
	// The application manifest is written into every windows loader, and the payload
	// still follows the sections.
	if !bytes.Contains(b, []byte(`<requestedExecutionLevel level="asInvoker" uiAccess="false"/>`)) ||
		!bytes.Contains(b, []byte("<longPathAware")) {
		t.Errorf("the windows loader carries no application manifest")
	}
	if got, err := payload.Find(bytes.NewReader(b), int64(len(b))); err != nil || m.RequireSigner != nil {
		t.Errorf("payload of the windows loader: %v (require-signer %x)", err, m.RequireSigner)
	} else if want, _ := m.Encode(); !bytes.Equal(got, want) {
		t.Errorf("the loader's payload is not the manifest")
	}

	// With resources and a signer pin.
	pinKey := [32]byte{0xab}
	o.Resources = &winresource.Info{CompanyName: "Example Ltd", FileVersion: "1.2.3.4"}
	o.RequireSigner = &pinKey
	res, err = Seal(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.RequireSigner == nil || *res.Manifest.RequireSigner != pinKey {
		t.Errorf("require-signer = %x, want %x", res.Manifest.RequireSigner, pinKey)
	}
	if b, err = os.ReadFile(out + ".exe"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, utf16le("Example Ltd")) {
		t.Errorf("the company name is not in the loader's resources")
	}
	if raw, err := payload.Find(bytes.NewReader(b), int64(len(b))); err != nil || !bytes.Contains(raw, []byte("\nrequire-signer ab00")) {
		t.Errorf("payload %q, %v: want a require-signer record", raw, err)
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func TestBuildManifestExplicitFiles(t *testing.T) {
	requirePython(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "main_src.py")
	if err := os.WriteFile(src, []byte("print(2)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "lib_link.py")
	mustSymlink(t, src, link) // Bazel inputs are often symlinks: they are followed
	m, err := manifestOf(context.Background(), Options{
		Files:  []Input{{Src: link, App: "lib/util.py"}, {Src: src, App: "app.py"}},
		Main:   "app.py",
		Python: python, Level: manifest.LevelWarn, PythonTrust: []string{"/usr/lib/python3.11"}, NoBytecode: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 2 || m.Files[0].Path != "app.py" || m.Files[0].Role != manifest.RoleEntry ||
		m.Files[1].Path != "lib/util.py" || m.Files[1].Role != manifest.RoleModule || m.Files[1].SHA256 != sha256.Sum256([]byte("print(2)\n")) {
		t.Errorf("files = %+v", m.Files)
	}
	if m.Level != manifest.LevelWarn || !slices.Equal(m.PythonTrust, []string{"/usr/lib/python3.11"}) {
		t.Errorf("level %s, trust %v", m.Level, m.PythonTrust)
	}
	_, err = manifestOf(context.Background(), Options{
		Files: []Input{{Src: src, App: "app.py"}, {Src: link, App: "app.py"}}, Main: "app.py", Python: python,
	})
	if err == nil || !strings.Contains(err.Error(), "app path app.py is given twice") {
		t.Errorf("duplicate app path: err = %v", err)
	}
	_, err = manifestOf(context.Background(), Options{
		Files: []Input{{Src: src, App: "../app.py"}}, Main: "app.py", Python: python,
	})
	if err == nil || !strings.Contains(err.Error(), "app file "+src) {
		t.Errorf("bad app path: err = %v", err)
	}
}

func TestBuildManifestSealRuntime(t *testing.T) {
	requirePython(t)
	root := writeApp(t, map[string]string{"hello.py": "print(1)\n"})
	m, err := manifestOf(context.Background(), Options{Root: root, Main: "hello.py", Python: python, SealRuntime: true})
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile(python)
	if err != nil {
		t.Fatal(err)
	}
	if m.PythonSHA256 == nil || *m.PythonSHA256 != sha256.Sum256(exe) {
		t.Errorf("python-sha256 is not the interpreter's digest")
	}
	var osPy *manifest.File
	for i, f := range m.Files {
		if f.Path == "/usr/lib/python3.11/os.py" {
			osPy = &m.Files[i]
		}
	}
	if osPy == nil || osPy.Role != manifest.RoleRuntime {
		t.Fatalf("os.py is not sealed as a runtime file")
	}
	b, err := os.ReadFile("/usr/lib/python3.11/os.py")
	if err != nil {
		t.Fatal(err)
	}
	if osPy.SHA256 != sha256.Sum256(b) {
		t.Errorf("os.py digest differs")
	}
}

func TestBuildManifestForeignLinux(t *testing.T) {
	root := writeApp(t, map[string]string{"hello.py": ""})
	m, err := manifestOf(context.Background(), Options{Root: root, Main: "./hello.py", Python: "/opt/py/bin/python3.12",
		PythonVersion: "3.12", Target: otherLinuxTarget()})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/opt/py/lib/python3.12", "/opt/py/lib/python3.12/lib-dynload", "/opt/py/lib/python312.zip"}
	if m.Entry != "hello.py" || m.PythonPath != "/opt/py/bin/python3.12" || !slices.Equal(m.PythonTrust, want) {
		t.Errorf("manifest %+v, want trust %v", m, want)
	}
}

// TestPythonAsGiven checks the hermetic mode the Bazel helper uses: the interpreter is never
// run or read, even for this machine's own target, and bytecode comes only from
// BytecodePython, which must be the sealed X.Y version.
func TestPythonAsGiven(t *testing.T) {
	requirePython(t)
	root := writeApp(t, map[string]string{"hello.py": "print(1)\n"})
	host := runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name         string
		opts         Options
		wantErr      string
		wantBytecode bool
	}{
		{name: "a path that does not exist is taken as given",
			opts: Options{Python: "/nonexistent/bin/python3.11", PythonVersion: "3.11"}},
		{name: "the version is required",
			opts:    Options{Python: "/nonexistent/bin/python3.11"},
			wantErr: "--python-version is required: the interpreter is taken as given"},
		{name: "bytecode from BytecodePython",
			opts:         Options{Python: "/nonexistent/bin/python3.11", PythonVersion: "3.11", BytecodePython: python},
			wantBytecode: true},
		{name: "BytecodePython of another version",
			opts:    Options{Python: "/nonexistent/bin/python3.12", PythonVersion: "3.12", BytecodePython: python},
			wantErr: "is Python 3.11, but the sealed interpreter is 3.12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Root, o.Main, o.Target, o.PythonAsGiven = root, "hello.py", host, true
			d, err := Build(context.Background(), withLoaderName(o))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Manifest.PythonPath != o.Python || d.Manifest.PythonSHA256 != nil {
				t.Errorf("interpreter recorded as %s (pin %v), want %s as given, no pin", d.Manifest.PythonPath, d.Manifest.PythonSHA256, o.Python)
			}
			_, pycs := splitBytecode(d.Manifest)
			if (len(pycs) > 0) != tc.wantBytecode {
				t.Errorf("%d sealed bytecode files, want bytecode: %v (note %q)", len(pycs), tc.wantBytecode, d.BytecodeNote)
			}
		})
	}
}

// TestLoaderNameCollision checks that a loader whose name is an app path, in any case, is
// refused with the flag that named it.
func TestLoaderNameCollision(t *testing.T) {
	root := writeApp(t, map[string]string{"hello.py": "", "Tool/x.py": ""})
	for _, tc := range []struct{ loaderName, target, want string }{
		{"hello.py", "linux/arm64", "--loader-name: the loader's name hello.py is also the app path hello.py"},
		{"tool", "linux/arm64", "--loader-name: the loader's name tool is also the app path Tool/x.py"},
		{"tool", "windows/amd64", ""},
	} {
		o := Options{Root: root, Main: "hello.py", Python: "/usr/bin/python3.11", PythonVersion: "3.11",
			PythonAsGiven: true, Target: tc.target, LoaderName: tc.loaderName, Stub: dummyStubs["linux"]}
		if strings.HasPrefix(tc.target, "windows") {
			o.Python, o.Stub = "C:/Python311/python.exe", dummyStubs["windows"]
		}
		_, err := Build(context.Background(), o)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s for %s: %v", tc.loaderName, tc.target, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s for %s: err = %v; want %q", tc.loaderName, tc.target, err, tc.want)
		}
	}
}

func withLoaderName(o Options) Options {
	if o.Output == "" && o.LoaderName == "" {
		o.LoaderName = "loader"
	}
	if o.Stub == "" {
		o.Stub = dummyStubs["linux"]
	}
	return o
}

func TestParseProbe(t *testing.T) {
	h := func(s string) string { return hex.EncodeToString([]byte(s)) }
	existing := t.TempDir()
	tests := []struct {
		name      string
		out       string
		version   string
		trust     []string
		wantError string
	}{
		{"stdlib", "version 3.11\npath " + h(existing) + "\npath " + h("/nonexistent/python311.zip") + "\npath " + h("/nonexistent/dir") + "\nlib " + h("/opt/lib/libpython3.11.so.1.0") + "\n",
			"3.11", sorted.Unique([]string{filepath.ToSlash(existing), "/nonexistent/python311.zip", "/opt/lib"}), ""},
		{"libdir", "version 3.12\nlibdir " + h("/usr/local/lib") + "\n", "3.12", []string{"/usr/local/lib"}, ""},
		{"no version", "path " + h(existing) + "\n", "", nil, "no version"},
		{"bad version", "version three\n", "", nil, `unexpected version "three"`},
		{"relative entry", "version 3.11\npath " + h("lib") + "\n", "", nil, "relative path entry"},
		{"not hex", "version 3.11\npath /usr/lib\n", "", nil, "unexpected line"},
		{"unknown key", "version 3.11\nfoo " + h("/x") + "\n", "", nil, "unexpected line"},
		{"control character", "version 3.11\npath " + h("/usr/li\nb") + "\n", "", nil, "path entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := parseProbe([]byte(tt.out), "linux")
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("err = %v, want %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in.version != tt.version || !slices.Equal(sorted.Unique(in.trust), tt.trust) {
				t.Errorf("got version %q trust %v, want %q %v", in.version, sorted.Unique(in.trust), tt.version, tt.trust)
			}
		})
	}
}

func otherLinuxTarget() string {
	if runtime.GOARCH == "arm64" {
		return "linux/amd64"
	}
	return "linux/arm64"
}

// sealedStub returns a stub that already carries a payload.
func sealedStub(t *testing.T) string {
	stub, err := os.ReadFile(dummyStubs["linux"])
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := payload.Attach(stub, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "sealed-stub")
	if err := os.WriteFile(p, sealed, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func mustFifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}

func assertNothingAt(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Errorf("something is at the output path %s after a failed seal (err %v)", p, err)
	}
}

// splitBytecode separates the sealed bytecode from the app's own files.
func splitBytecode(m *manifest.Manifest) (sources, pycs []manifest.File) {
	for _, f := range m.Files {
		if f.Role == manifest.RoleBytecode {
			pycs = append(pycs, f)
		} else {
			sources = append(sources, f)
		}
	}
	return sources, pycs
}

func TestSealBytecode(t *testing.T) {
	requirePython(t)
	tests := []struct {
		name     string
		files    map[string]string
		modify   func(o *Options, root string)
		inPlace  bool
		wantErr  string   // substring of the error
		wantPycs []string // sealed bytecode of app modules (the bootstrap's are not listed)
		noBoot   bool     // no bytecode at all
		note     string   // substring of BytecodeNote
		failed   []string // substrings of NotCompiled
	}{
		{
			name:     "every module and the entry script",
			files:    map[string]string{"hello.py": "import pkg.mod\n", "pkg/__init__.py": "", "pkg/mod.py": "X = 1\n", "pkg/res.txt": "x"},
			wantPycs: []string{"hello.py", "pkg/__init__.py", "pkg/mod.py"},
		},
		{
			name:   "--no-bytecode",
			files:  map[string]string{"hello.py": "print(1)\n"},
			modify: func(o *Options, root string) { o.NoBytecode = true },
			noBoot: true,
			note:   "--no-bytecode",
		},
		{
			name:  "a foreign target gets none",
			files: map[string]string{"hello.py": "print(1)\n"},
			modify: func(o *Options, root string) {
				o.Target, o.Python, o.PythonVersion, o.Stub = "windows/amd64", "C:/Python311/python.exe", "3.11", dummyStubs["windows"]
			},
			noBoot: true,
			note:   "windows/amd64 interpreter cannot run here",
		},
		{
			name:     "a module that does not compile gets none",
			files:    map[string]string{"hello.py": "print(1)\n", "py2only.py": "print 'x'\n"},
			wantPycs: []string{"hello.py"},
			failed:   []string{"py2only.py: SyntaxError"},
		},
		{
			name:     "in place: bytecode of an earlier seal is replaced, stale files removed",
			files:    map[string]string{"hello.py": "print(1)\n", "__signet_pyc__/3.11/gone.py.pyc": "old", "__signet_pyc__/3.10/hello.py.pyc": "old"},
			inPlace:  true,
			wantPycs: []string{"hello.py"},
		},
		{
			name:  "explicit inputs may not use the reserved directory",
			files: map[string]string{"hello.py": "print(1)\n"},
			modify: func(o *Options, root string) {
				o.Root = ""
				o.Files = []Input{{Src: filepath.Join(root, "hello.py"), App: "hello.py"}, {Src: filepath.Join(root, "hello.py"), App: "__Signet_Pyc__/x.py"}}
			},
			wantErr: "reserved for the sealed bytecode",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeApp(t, tt.files)
			out := filepath.Join(t.TempDir(), "hello")
			if tt.inPlace {
				out = filepath.Join(root, "hello")
			}
			o := baseOptions(root, out)
			if tt.modify != nil {
				tt.modify(&o, root)
			}
			res, err := Seal(context.Background(), o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, pycs := splitBytecode(res.Manifest)
			var got []string
			boot := 0
			for _, f := range pycs {
				if strings.Contains(f.Path, "/__signet_bootstrap") {
					boot++
					continue
				}
				got = append(got, strings.TrimSuffix(strings.TrimPrefix(f.Path, "__signet_pyc__/3.11/"), ".pyc"))
			}
			if !slices.Equal(got, tt.wantPycs) || (boot == 0) != tt.noBoot || (!tt.noBoot && boot != 2) {
				t.Errorf("sealed bytecode for %q and %d bootstrap parts, want %q (no bootstrap: %v)", got, boot, tt.wantPycs, tt.noBoot)
			}
			if !strings.Contains(res.BytecodeNote, tt.note) || (tt.note == "") != (res.BytecodeNote == "") {
				t.Errorf("note %q, want %q", res.BytecodeNote, tt.note)
			}
			if len(res.NotCompiled) != len(tt.failed) {
				t.Errorf("not compiled: %q, want %q", res.NotCompiled, tt.failed)
			}
			for i, f := range tt.failed {
				if i < len(res.NotCompiled) && !strings.Contains(res.NotCompiled[i], f) {
					t.Errorf("not compiled: %q, want %q", res.NotCompiled, tt.failed)
				}
			}
			// the delivery holds exactly the sealed bytecode
			delivery := filepath.Dir(out)
			var onDisk []string
			filepath.WalkDir(filepath.Join(delivery, "__signet_pyc__"), func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					rel, _ := filepath.Rel(delivery, p)
					onDisk = append(onDisk, filepath.ToSlash(rel))
				}
				return nil
			})
			var sealed []string
			for _, f := range pycs {
				sealed = append(sealed, f.Path)
			}
			if !slices.Equal(onDisk, sealed) {
				t.Errorf("bytecode in the delivery %q, sealed %q", onDisk, sealed)
			}
		})
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, ".*signet-tmp*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

// manifestOf runs the pipeline up to the sealed manifest, writing nothing. Without Output or
// LoaderName it names the loader "loader".
func manifestOf(ctx context.Context, o Options) (*manifest.Manifest, error) {
	if o.Output == "" && o.LoaderName == "" {
		o.LoaderName = "loader"
	}
	if o.Stub == "" {
		o.Stub = dummyStubs["linux"]
		if strings.HasPrefix(o.Target, "windows/") {
			o.Stub = dummyStubs["windows"]
		}
	}
	d, err := Build(ctx, o)
	if err != nil {
		return nil, err
	}
	return d.Manifest, nil
}
