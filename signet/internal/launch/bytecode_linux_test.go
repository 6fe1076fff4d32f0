package launch

import (
	"context"
	"crypto/sha256"
	"os"
	"strings"
	"testing"

	"github.com/signet-dev/signet/signet/internal/bytecode"
	"github.com/signet-dev/signet/signet/internal/manifest"
)

// bytecodeCase is a sealed app with sealed bytecode. The bytecode of a module is compiled
// from compiled[path] when given (a vendor-side build can seal anything: these prove which
// bytes ran), else from the module's own source.
type bytecodeCase struct {
	name     string
	files    map[string]string // main.py is the entry
	compiled map[string]string // app path (or "bootstrap") -> the source its sealed bytecode is compiled from
	pyc      map[string]func(pyc []byte) []byte
	after    func(t *testing.T, app *testApp) // after sealing, before the run
	code     int
	stdout   string
	inOut    []string
	inErr    []string
}

func bytecodeCases() []bytecodeCase {
	mark := "import sys\nsys.signet_test_marker = 'bootstrap from sealed bytecode'\n"
	badMagic := func(pyc []byte) []byte { return append([]byte{0x01, 0x02, '\r', '\n'}, pyc[4:]...) }
	return []bytecodeCase{
		{
			name: "modules and the entry script run from their sealed bytecode",
			files: map[string]string{
				"main.py":         "print('main from source')\n",
				"pkg/__init__.py": "",
				"pkg/mod.py":      "VALUE = 'source'\n",
			},
			compiled: map[string]string{
				"main.py":    "import pkg.mod, signet_runtime, os\nprint('main from bytecode', pkg.mod.VALUE, os.path.relpath(pkg.mod.__cached__, signet_runtime.app_root), pkg.mod.__file__ == os.path.join(signet_runtime.app_root, 'pkg', 'mod.py'))\n",
				"pkg/mod.py": "VALUE = 'bytecode'\n",
			},
			stdout: "main from bytecode bytecode __signet_pyc__/3.11/pkg/mod.py.pyc True\n",
		},
		{
			name:     "the bootstrap runs from its sealed bytecode",
			files:    map[string]string{"main.py": "import sys\nprint(getattr(sys, 'signet_test_marker', 'bootstrap from source'))\n"},
			compiled: map[string]string{"bootstrap": mark + bootstrapSource},
			stdout:   "bootstrap from sealed bytecode\n",
		},
		{
			name:     "a changed bootstrap bytecode file is not used: the source is",
			files:    map[string]string{"main.py": "import sys\nprint(getattr(sys, 'signet_test_marker', 'bootstrap from source'))\n"},
			compiled: map[string]string{"bootstrap": mark + bootstrapSource},
			after: func(t *testing.T, app *testApp) {
				path := BootstrapParts("3.11")[0].Path
				f, err := os.OpenFile(app.path(path), os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.Write([]byte{0})
				f.Close()
			},
			stdout: "bootstrap from source\n",
		},
		{
			name: "tracebacks show the delivered source path",
			files: map[string]string{
				"main.py": "import mod\nmod.fail()\n",
				"mod.py":  "def fail():\n    raise ValueError('boom')\n",
			},
			code:  1,
			inErr: []string{"/main.py\", line 2, in <module>", "/mod.py\", line 2, in fail", "ValueError: boom"},
		},
		{
			name:   "sealed bytecode swapped on disk after start-up is not used: the loader's verified copy is",
			files:  map[string]string{"main.py": "import signet_runtime, os\nprint('before', flush=True)\nopen(os.path.join(signet_runtime.app_root, '__signet_pyc__', '3.11', 'mod.py.pyc'), 'ab').write(b'x')\nimport mod\nprint(mod.X)\n", "mod.py": "X = 1\n"},
			stdout: "before\n1\n",
		},
		{
			name:  "bytecode changed before the launch: nothing is preloaded, and importing it is refused",
			files: map[string]string{"main.py": "import ok\nprint(ok.X, flush=True)\nimport bad\n", "ok.py": "X = 1\n", "bad.py": "X = 2\n"},
			after: func(t *testing.T, app *testApp) {
				f, err := os.OpenFile(app.path("__signet_pyc__/3.11/bad.py.pyc"), os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.Write([]byte{0})
				f.Close()
			},
			code: 106, stdout: "1\n",
			inErr: []string{"signet: MODIFIED __signet_pyc__/3.11/bad.py.pyc: changed since the start-up check"},
		},
		{
			name:  "module bytecode for another interpreter is refused",
			files: map[string]string{"main.py": "import mod\nprint('ran')\n", "mod.py": "X = 1\n"},
			pyc:   map[string]func([]byte) []byte{"mod.py": badMagic},
			code:  106,
			inErr: []string{"signet: refused: the sealed bytecode __signet_pyc__/3.11/mod.py.pyc was compiled for another Python (magic number 0102", "re-seal the app"},
		},
		{
			name:  "bootstrap bytecode for another interpreter is refused",
			files: map[string]string{"main.py": "print('ran')\n"},
			pyc:   map[string]func([]byte) []byte{"bootstrap": badMagic},
			code:  106,
			inErr: []string{"signet: refused: the sealed bytecode of the bootstrap was compiled for another Python", "re-seal the app"},
		},
		{
			name:   "the lazy bootstrap runs from its sealed bytecode",
			files:  map[string]string{"main.py": "import importlib.resources as r, pkg\nprint(r.files(pkg).joinpath('data.txt').read_text())\n", "pkg/__init__.py": "", "pkg/data.txt": "sealed data"},
			stdout: "sealed data\n",
		},
	}
}

func TestStartWithSealedBytecode(t *testing.T) {
	for _, py := range testPythons(t) {
		if py.version != "3.11" {
			continue // the cases name the 3.11 bytecode directory
		}
		t.Run("python"+py.version, func(t *testing.T) {
			for _, tc := range bytecodeCases() {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					runBytecodeCase(t, py, tc)
				})
			}
		})
	}
}

func runBytecodeCase(t *testing.T, py pythonInfo, tc bytecodeCase) {
	files := map[string][]byte{}
	for rel, content := range tc.files {
		files[rel] = []byte(content)
	}
	// compile the bootstrap parts and every module
	parts := BootstrapParts(py.version)
	type job struct{ path, name, source string }
	var jobs []job
	for i, p := range parts {
		src := string(p.Source)
		if i == 0 && tc.compiled["bootstrap"] != "" {
			src = tc.compiled["bootstrap"]
		}
		jobs = append(jobs, job{p.Path, p.Filename, src})
	}
	for rel, content := range tc.files {
		if !strings.HasSuffix(rel, ".py") {
			continue
		}
		src := content
		if c, ok := tc.compiled[rel]; ok {
			src = c
		}
		jobs = append(jobs, job{BytecodePath(py.version, rel), rel, src})
	}
	sources := make([]bytecode.Source, len(jobs))
	for i, j := range jobs {
		sources[i] = bytecode.Source{Filename: j.name, Data: []byte(j.source)}
	}
	compiled, err := bytecode.Compile(context.Background(), py.path, sources)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range jobs {
		if compiled[i].Err != "" {
			t.Fatalf("compile %s: %s", j.name, compiled[i].Err)
		}
		pyc := compiled[i].Pyc
		key := j.name
		if i == 0 {
			key = "bootstrap"
		}
		if f := tc.pyc[key]; f != nil {
			pyc = f(pyc)
		}
		files[j.path] = pyc
	}
	app := newApp(t, py, "main.py", files, nil)
	if tc.after != nil {
		tc.after(t, app)
	}
	r := app.run(t, nil, "", nil)
	if r.code != tc.code {
		t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
	}
	if tc.stdout != "" && r.stdout != tc.stdout {
		t.Errorf("stdout = %q, want %q\nstderr: %s", r.stdout, tc.stdout, r.stderr)
	}
	for _, s := range tc.inErr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr %q does not contain %q", r.stderr, s)
		}
	}
	if tc.code == 0 && r.stderr != "" {
		t.Errorf("unexpected stderr: %s", r.stderr)
	}
}

func TestBuildPayloadUsesVerifiedBootstrapBytecode(t *testing.T) {
	root := t.TempDir()
	parts := BootstrapParts("3.11")
	boot, lazy := []byte("BOOT-PYC"), []byte("LAZY-PYC")
	for _, f := range []struct {
		rel  string
		data []byte
	}{{parts[0].Path, boot}, {parts[1].Path, lazy}} {
		full := root + "/" + f.rel
		os.MkdirAll(full[:strings.LastIndexByte(full, '/')], 0o755)
		if err := os.WriteFile(full, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	record := func(rel string, data []byte) manifest.File {
		return manifest.File{Path: rel, Size: int64(len(data)), SHA256: sha256.Sum256(data), Role: manifest.RoleBytecode}
	}
	encode := func(files ...manifest.File) []byte {
		m := &manifest.Manifest{Entry: "main.py", Level: manifest.LevelEnforce, PythonPath: "/usr/bin/python3.11",
			PythonVersion: "3.11", Files: append(files, manifest.File{Path: "main.py", Role: manifest.RoleEntry})}
		m.Sort()
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name     string
		manifest []byte
		want     string // form
	}{
		{"both parts sealed and intact", encode(record(parts[0].Path, boot), record(parts[1].Path, lazy)), "pyc"},
		{"lazy part not sealed", encode(record(parts[0].Path, boot)), "py"},
		{"digest differs from the file", encode(record(parts[0].Path, []byte("OTHER!!!")), record(parts[1].Path, lazy)), "py"},
		{"bytecode of another bootstrap revision", encode(record(parts[0].Path[:len(parts[0].Path)-68]+strings.Repeat("0", 64)+".pyc", boot), record(parts[1].Path, lazy)), "py"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := BuildPayload(Config{AppRoot: root, Manifest: tt.manifest})
			if p.Form != tt.want {
				t.Fatalf("form %s, want %s", p.Form, tt.want)
			}
			wantBoot, wantLazy := string(boot), string(lazy)
			if tt.want == "py" {
				wantBoot, wantLazy = bootstrapSource, bootstrapLazySource
			}
			if got := string(p.Data[:p.BootLen]); got != wantBoot {
				t.Errorf("bootstrap part %.20q, want %.20q", got, wantBoot)
			}
			if got := string(p.Data[p.BootLen : p.BootLen+p.LazyLen]); got != wantLazy {
				t.Errorf("lazy part %.20q, want %.20q", got, wantLazy)
			}
			if got := string(p.Data[p.BootLen+p.LazyLen:]); got != string(tt.manifest) {
				t.Errorf("manifest part differs")
			}
		})
	}
}
