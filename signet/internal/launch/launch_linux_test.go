package launch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/signet/internal/manifest"
)

// The integration tests run real sealed apps. Start replaces the process (execve), so the
// test binary doubles as the loader: each test app gets a hard link (or copy) of the test
// binary as its loader, next to a side file that only this test binary reads. When the
// binary finds that file beside its own executable, TestMain acts as a loader (it calls
// Start) instead of running tests. multiprocessing re-runs sys.executable, which is that
// loader, so the real argv flow of spawn and forkserver children is exercised.

const loaderSideFile = ".launchtest.json"

type testLoaderConfig struct {
	Interpreter string
	AppName     string
	Manifest    string
}

func TestMain(m *testing.M) {
	if exe, err := os.Executable(); err == nil {
		if data, err := os.ReadFile(exe + loaderSideFile); err == nil {
			os.Exit(actAsLoader(exe, data))
		}
	}
	os.Exit(m.Run())
}

// actAsLoader does what the loader stub does after its checks: Start.
func actAsLoader(exe string, data []byte) int {
	var lc testLoaderConfig
	if err := json.Unmarshal(data, &lc); err != nil {
		fmt.Fprintln(os.Stderr, "test loader:", err)
		return 105
	}
	code, err := Start(Config{
		Interpreter: lc.Interpreter,
		AppRoot:     filepath.Dir(exe),
		Loader:      exe,
		AppName:     lc.AppName,
		Manifest:    []byte(lc.Manifest),
		Args:        os.Args[1:],
		Environ:     os.Environ(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "test loader:", err)
		return 105
	}
	return code
}

// pythonInfo is what a test needs to know about one interpreter.
type pythonInfo struct {
	path    string
	version string   // "3.11"
	sysPath []string // sys.path under -I -S
	bz2     string   // path of the _bz2 extension module, "" if built in
}

// testPythons returns the interpreters to test: SIGNET_TEST_PYTHONS (a list separated by
// os.PathListSeparator), by default /usr/bin/python3.11. A missing interpreter fails the test.
func testPythons(t *testing.T) []pythonInfo {
	t.Helper()
	list := os.Getenv("SIGNET_TEST_PYTHONS")
	if list == "" {
		list = "/usr/bin/python3.11"
	}
	var infos []pythonInfo
	for _, py := range filepath.SplitList(list) {
		if _, err := os.Stat(py); err != nil {
			t.Fatalf("interpreter for the launch tests is missing (install it, or list others in SIGNET_TEST_PYTHONS): %v", err)
		}
		out, err := exec.Command(py, "-I", "-S", "-c",
			"import sys,_bz2;print('%d.%d'%sys.version_info[:2]);print(getattr(_bz2,'__file__',''));print(*sys.path,sep='\\n')").Output()
		if err != nil {
			t.Fatalf("ask %s for its version and sys.path: %v", py, err)
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(lines) < 3 {
			t.Fatalf("unexpected answer from %s: %q", py, out)
		}
		infos = append(infos, pythonInfo{path: py, version: lines[0], bz2: lines[1], sysPath: lines[2:]})
	}
	return infos
}

// testApp is a sealed app tree with a test loader.
type testApp struct {
	root     string
	loader   string
	manifest *manifest.Manifest
}

// newApp writes files under a fresh app root, seals them (entry is the entry script), and
// installs the test loader "hello".
func newApp(t *testing.T, py pythonInfo, entry string, files map[string][]byte, tweak func(*manifest.Manifest)) *testApp {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{
		Entry:         entry,
		Level:         manifest.LevelEnforce,
		PythonPath:    py.path,
		PythonVersion: py.version,
		PythonTrust:   append([]string(nil), py.sysPath...),
	}
	for rel, data := range files {
		full := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
		role := manifest.RoleForPath(rel)
		if rel == entry {
			role = manifest.RoleEntry
		}
		m.Files = append(m.Files, manifest.File{Path: rel, Size: int64(len(data)), SHA256: sha256.Sum256(data), Role: role})
	}
	if tweak != nil {
		tweak(m)
	}
	m.Sort()
	encoded, err := m.Encode()
	if err != nil {
		t.Fatalf("encode the test manifest: %v", err)
	}
	app := &testApp{root: root, loader: filepath.Join(root, "hello"), manifest: m}
	installTestLoader(t, app.loader)
	side, err := json.Marshal(testLoaderConfig{Interpreter: py.path, AppName: "hello", Manifest: string(encoded)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(app.loader+loaderSideFile, side, 0o644); err != nil {
		t.Fatal(err)
	}
	return app
}

// installTestLoader hard-links (or copies) the running test binary to dst.
func installTestLoader(t *testing.T, dst string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if os.Link(self, dst) == nil {
		return
	}
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

type runResult struct {
	code           int
	stdout, stderr string
}

func (app *testApp) run(t *testing.T, args []string, stdin string, env []string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, app.loader, args...)
	cmd.Dir = app.root
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run %s: %v", app.loader, err)
	}
	return runResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

func (app *testApp) path(rel string) string { return filepath.Join(app.root, filepath.FromSlash(rel)) }

func (app *testApp) write(t *testing.T, rel string, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(app.path(rel)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(app.path(rel), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (app *testApp) exists(rel string) bool {
	_, err := os.Lstat(app.path(rel))
	return err == nil
}

// canaryCode is Python that creates the file CANARY in the app root if it ever runs.
const canaryCode = "import os as _o, signet_runtime as _s\nopen(_o.path.join(_s.app_root, 'CANARY'), 'w').close()\n"

type launchCase struct {
	name   string
	files  map[string]string // app path -> content; main.py is the entry
	tweak  func(*manifest.Manifest)
	setup  func(t *testing.T, py pythonInfo, app *testApp) // after sealing
	args   []string
	stdin  string
	env    []string
	code   int
	stdout string   // exact, unless "" (then not checked)
	inOut  []string // substrings of stdout
	inErr  []string // substrings of stderr
	outErr []string // must not be in stderr
	check  func(t *testing.T, app *testApp, r runResult)
}

func launchCases() []launchCase {
	return []launchCase{
		{
			name:   "hello",
			files:  map[string]string{"main.py": "print('hello from a sealed app')\n"},
			stdout: "hello from a sealed app\n",
		},
		{
			name:  "sys.exit code passes through",
			files: map[string]string{"main.py": "import sys\nprint('bye')\nsys.exit(7)\n"},
			code:  7, stdout: "bye\n",
		},
		{
			name:   "uncaught exception: traceback and exit code 1",
			files:  map[string]string{"main.py": "def f():\n    raise ValueError('boom')\nf()\n"},
			code:   1,
			inErr:  []string{"Traceback (most recent call last):", "main.py\", line 3, in <module>", "ValueError: boom"},
			outErr: []string{"signet-bootstrap", "signet:"},
		},
		{
			name:   "argv and stdin pass through",
			files:  map[string]string{"main.py": "import sys\nprint(sys.argv[1:])\nprint(sys.stdin.read().upper())\n"},
			args:   []string{"--flag", "two words", "-c", "--"},
			stdin:  "some input",
			stdout: "['--flag', 'two words', '-c', '--']\nSOME INPUT\n",
		},
		{
			name:  "argv[0] and sys.executable are the loader",
			files: map[string]string{"main.py": "import sys, signet_runtime\nprint(sys.argv[0])\nprint(sys.executable)\nprint(signet_runtime.loader)\n"},
			check: func(t *testing.T, app *testApp, r runResult) {
				want := strings.Repeat(app.loader+"\n", 3)
				if r.stdout != want {
					t.Errorf("stdout = %q, want %q", r.stdout, want)
				}
			},
		},
		{
			name: "hardened interpreter state, hostile environment ignored",
			files: map[string]string{"main.py": `import json, os, sys, signet_runtime
print(json.dumps({"flags": [sys.flags.isolated, sys.flags.no_site, sys.flags.dont_write_bytecode,
    sys.flags.ignore_environment, sys.flags.no_user_site, sys.flags.inspect],
    "path": sys.path, "env": sorted(os.environ), "sealed": signet_runtime.sealed,
    "site": "site" in sys.modules, "evil": "evil" in sys.modules}))
`},
			setup: func(t *testing.T, py pythonInfo, app *testApp) {
				dir := t.TempDir()
				os.WriteFile(filepath.Join(dir, "evil.py"), []byte(canaryCode), 0o644)
				os.WriteFile(filepath.Join(dir, "startup.py"), []byte(canaryCode), 0o644)
			},
			env: []string{"PYTHONPATH=EVILDIR", "PYTHONSTARTUP=EVILDIR/startup.py", "PYTHONINSPECT=1",
				"PYTHONHOME=/nonexistent", "PYTHONEXECUTABLE=/nonexistent/python", "LD_PRELOAD=libsignet-nonexistent.so",
				"PYTHONSAFEPATH=0", "OPENSSL_CONF=/nonexistent", "__PYVENV_LAUNCHER__=/nonexistent", "HOME=/signet-home"},
			check: func(t *testing.T, app *testApp, r runResult) {
				var got struct {
					Flags      []int
					Path, Env  []string
					Sealed     bool
					Site, Evil bool
				}
				if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
					t.Fatalf("probe output %q: %v", r.stdout, err)
				}
				if fmt.Sprint(got.Flags) != "[1 1 1 1 1 0]" {
					t.Errorf("sys.flags isolated,no_site,dont_write_bytecode,ignore_environment,no_user_site,inspect = %v", got.Flags)
				}
				if !got.Sealed || got.Site || got.Evil {
					t.Errorf("sealed=%v site imported=%v evil imported=%v", got.Sealed, got.Site, got.Evil)
				}
				for _, p := range got.Path {
					if strings.HasPrefix(p, app.root) {
						t.Errorf("sys.path holds the app root: %q", got.Path)
					}
				}
				for _, name := range got.Env {
					if forbiddenEnv.MatchString(name) {
						t.Errorf("the app sees %s", name)
					}
				}
				if !strings.Contains(strings.Join(got.Env, " "), "HOME") {
					t.Errorf("allowed HOME did not pass: %q", got.Env)
				}
				if app.exists("CANARY") {
					t.Errorf("code from PYTHONPATH/PYTHONSTARTUP ran")
				}
			},
		},
		{
			name:  "module swapped on disk after start-up is refused at import",
			files: map[string]string{"main.py": "import signet_runtime, os\nprint('before', flush=True)\nopen(os.path.join(signet_runtime.app_root, 'pkg', 'mod.py'), 'w').write(" + fmt.Sprintf("%q", canaryCode) + ")\nimport pkg.mod\nprint('after')\n", "pkg/__init__.py": "", "pkg/mod.py": "VALUE = 1\n"},
			code:  106, stdout: "before\n",
			inErr: []string{"signet: MODIFIED pkg/mod.py: changed since the start-up check"},
			check: noCanary,
		},
		{
			name:  "unsealed module planted in the app root is refused",
			files: map[string]string{"main.py": "import extra\n"},
			setup: func(t *testing.T, py pythonInfo, app *testApp) { app.write(t, "extra.py", canaryCode) },
			code:  106,
			inErr: []string{"signet: UNEXPECTED extra.py: not sealed (import of 'extra' refused)"},
			check: noCanary,
		},
		{
			name:  "unsealed module planted in a sealed package is refused",
			files: map[string]string{"main.py": "import pkg.extra\n", "pkg/__init__.py": ""},
			setup: func(t *testing.T, py pythonInfo, app *testApp) { app.write(t, "pkg/extra.py", canaryCode) },
			code:  106,
			inErr: []string{"signet: UNEXPECTED pkg/extra.py: not sealed"},
			check: noCanary,
		},
		{
			name:   "missing optional submodule raises ImportError the app can catch",
			files:  map[string]string{"main.py": "try:\n    import pkg.optional\nexcept ImportError as e:\n    print(type(e).__name__, e.name)\n", "pkg/__init__.py": ""},
			stdout: "ModuleNotFoundError pkg.optional\n",
		},
		{
			name:  "json.py in the app root does not shadow the standard library",
			files: map[string]string{"main.py": "import json, sys\nprint(json.dumps([1]), json.__file__.startswith(sys.path[1]))\n"},
			setup: func(t *testing.T, py pythonInfo, app *testApp) {
				app.write(t, "json.py", canaryCode+"def dumps(x): return 'evil'\n")
			},
			stdout: "[1] True\n",
			check:  noCanary,
		},
		{
			name:  "planted pycache bytecode is never loaded",
			files: map[string]string{"main.py": "import pkg.mod\nprint(pkg.mod.VALUE)\n", "pkg/__init__.py": "", "pkg/mod.py": "VALUE = 'sealed source'\n"},
			setup: func(t *testing.T, py pythonInfo, app *testApp) {
				evil := filepath.Join(t.TempDir(), "mod.py")
				os.WriteFile(evil, []byte(canaryCode+"VALUE = 'planted bytecode'\n"), 0o644)
				out, err := exec.Command(py.path, "-I", "-S", "-c", `import importlib.util, py_compile, sys
py_compile.compile(sys.argv[1], cfile=importlib.util.cache_from_source(sys.argv[2]), doraise=True,
    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)`, evil, app.path("pkg/mod.py")).CombinedOutput()
				if err != nil {
					t.Fatalf("plant the pyc: %v: %s", err, out)
				}
			},
			stdout: "sealed source\n",
			check:  noCanary,
		},
		{
			name:  "bare pyc planted in a sealed package is refused",
			files: map[string]string{"main.py": "import pkg.mod2\n", "pkg/__init__.py": ""},
			setup: func(t *testing.T, py pythonInfo, app *testApp) { app.write(t, "pkg/mod2.pyc", "not really bytecode") },
			code:  106,
			inErr: []string{"signet: UNEXPECTED pkg/mod2.pyc: not sealed"},
		},
		{
			name: "namespace package from a sealed directory",
			files: map[string]string{"main.py": "import ns.sub.leaf\nprint(ns.sub.leaf.X, ns.__path__)\n",
				"ns/sub/leaf.py": "X = 42\n"},
			inOut: []string{"42 ["},
		},
		{
			name: "importlib.resources and get_data serve the sealed bytes",
			files: map[string]string{"main.py": `import importlib.resources as r, os, pkg
f = r.files(pkg)
print(f.joinpath('data/config.txt').read_text(), end='')
print(sorted(p.name for p in f.iterdir()))
print(pkg.__spec__.loader.get_data(os.path.join(os.path.dirname(pkg.__file__), 'data', '..', 'data', 'config.txt')))
with f.joinpath('data', 'config.txt').open('rb') as fh:
    print(fh.read())
try:
    pkg.__spec__.loader.get_data(os.path.join(os.path.dirname(pkg.__file__), 'unsealed.txt'))
except FileNotFoundError:
    print('unsealed: not found')
`, "pkg/__init__.py": "", "pkg/data/config.txt": "key=value\n"},
			setup:  func(t *testing.T, py pythonInfo, app *testApp) { app.write(t, "pkg/unsealed.txt", "planted") },
			stdout: "key=value\n['__init__.py', 'data']\nb'key=value\\n'\nb'key=value\\n'\nunsealed: not found\n",
		},
		{
			name: "modified data file is refused when read through importlib.resources",
			files: map[string]string{"main.py": "import importlib.resources as r, pkg\nprint(r.files(pkg).joinpath('config.txt').read_text())\n",
				"pkg/__init__.py": "", "pkg/config.txt": "key=value\n"},
			setup: func(t *testing.T, py pythonInfo, app *testApp) { app.write(t, "pkg/config.txt", "key=EVIL\n") },
			code:  106,
			inErr: []string{"signet: MODIFIED pkg/config.txt: changed since the start-up check"},
		},
		{
			name:  "look-alike multiprocessing arguments are plain app arguments",
			files: map[string]string{"main.py": "import sys\nprint(sys.argv[1:])\n"},
			args:  []string{"-c", "from multiprocessing.spawn import spawn_main; spawn_main(pipe_handle=__import__('os').system('touch CANARY'))", "--multiprocessing-fork"},
			inOut: []string{"'--multiprocessing-fork']"},
			check: noCanary,
		},
		{
			name:  "an unknown multiprocessing command line is refused, not run as the app",
			files: map[string]string{"main.py": "open('CANARY', 'w').close()\n"},
			args:  []string{"-I", "-c", "from multiprocessing.future import main; main(3)"},
			code:  106,
			inErr: []string{"unrecognised multiprocessing command line"},
			check: noCanary,
		},
		{
			name: "multiprocessing spawn and forkserver pools run sealed children",
			files: map[string]string{"main.py": `import concurrent.futures, multiprocessing, sys
def work(x):
    import pkg.mod, signet_runtime
    return x * pkg.mod.VALUE, signet_runtime.sealed, sys.executable == signet_runtime.loader
if __name__ == '__main__':
    for method in ('spawn', 'forkserver'):
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as pool:
            print(method, list(pool.map(work, range(3))))
`, "pkg/__init__.py": "", "pkg/mod.py": "VALUE = 10\n"},
			stdout: "spawn [(0, True, True), (10, True, True), (20, True, True)]\n" +
				"forkserver [(0, True, True), (10, True, True), (20, True, True)]\n",
		},
		{
			name: "a multiprocessing child refuses a main module swapped on disk",
			files: map[string]string{"main.py": `import concurrent.futures, multiprocessing, os, sys, signet_runtime
def work(x):
    return x
if __name__ == '__main__':
    with open(os.path.join(signet_runtime.app_root, 'main.py'), 'a') as f:
        f.write(` + fmt.Sprintf("%q", canaryCode) + `)
    try:
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn')) as pool:
            print(list(pool.map(work, range(2))))
    except concurrent.futures.process.BrokenProcessPool:
        print('broken pool')
        sys.exit(3)
`},
			code:  3,
			inOut: []string{"broken pool"},
			inErr: []string{"signet: MODIFIED main.py: changed since the start-up check"},
			check: noCanary,
		},
		{
			name:   "process name is the app name",
			files:  map[string]string{"main.py": "print(open('/proc/self/comm').read().strip())\n"},
			stdout: "hello\n",
		},
		{
			name:  "interpreter version differs from the sealed one",
			files: map[string]string{"main.py": "print('ran')\n"},
			tweak: func(m *manifest.Manifest) { m.PythonVersion = "3.1" },
			code:  106,
			inErr: []string{"signet: refused: the app was sealed for python3.1, but python3.1 was replaced by 3."},
		},
		{
			name:  "sys.path entry outside the trusted paths",
			files: map[string]string{"main.py": "print('ran')\n"},
			tweak: func(m *manifest.Manifest) { m.PythonTrust = m.PythonTrust[:len(m.PythonTrust)-1] },
			code:  106,
			inErr: []string{"signet: refused: sys.path entry"},
		},
	}
}

func noCanary(t *testing.T, app *testApp, r runResult) {
	t.Helper()
	if app.exists("CANARY") {
		t.Errorf("tampered code ran (CANARY exists); stderr: %s", r.stderr)
	}
}

func TestStartSealedApp(t *testing.T) {
	for _, py := range testPythons(t) {
		t.Run("python"+py.version, func(t *testing.T) {
			for _, tc := range launchCases() {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					runLaunchCase(t, py, tc)
				})
			}
		})
	}
}

func runLaunchCase(t *testing.T, py pythonInfo, tc launchCase) {
	files := map[string][]byte{}
	for rel, content := range tc.files {
		files[rel] = []byte(content)
	}
	app := newApp(t, py, "main.py", files, tc.tweak)
	if tc.setup != nil {
		tc.setup(t, py, app)
	}
	env := tc.env
	if len(env) > 0 {
		evilDir := t.TempDir()
		os.WriteFile(filepath.Join(evilDir, "evil.py"), []byte(canaryCode), 0o644)
		os.WriteFile(filepath.Join(evilDir, "startup.py"), []byte(canaryCode), 0o644)
		env = nil
		for _, kv := range tc.env {
			env = append(env, strings.ReplaceAll(kv, "EVILDIR", evilDir))
		}
	}
	r := app.run(t, tc.args, tc.stdin, env)
	if r.code != tc.code {
		t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
	}
	if tc.stdout != "" && r.stdout != tc.stdout {
		t.Errorf("stdout = %q, want %q\nstderr: %s", r.stdout, tc.stdout, r.stderr)
	}
	for _, s := range tc.inOut {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout %q does not contain %q\nstderr: %s", r.stdout, s, r.stderr)
		}
	}
	for _, s := range tc.inErr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr %q does not contain %q", r.stderr, s)
		}
	}
	for _, s := range tc.outErr {
		if strings.Contains(r.stderr, s) {
			t.Errorf("stderr %q contains %q", r.stderr, s)
		}
	}
	if tc.code == 0 && tc.check == nil && r.stderr != "" {
		t.Errorf("unexpected stderr: %s", r.stderr)
	}
	if tc.check != nil {
		tc.check(t, app, r)
	}
}

func TestSealedExtensionModule(t *testing.T) {
	for _, py := range testPythons(t) {
		t.Run("python"+py.version, func(t *testing.T) {
			if py.bz2 == "" {
				t.Fatalf("%s has _bz2 built in; the test needs it as an extension module file", py.path)
			}
			ext, err := os.ReadFile(py.bz2)
			if err != nil {
				t.Fatal(err)
			}
			rel := "vendored/" + filepath.Base(py.bz2)
			files := map[string][]byte{
				"main.py": []byte("import sys, vendored._bz2 as b\nprint(b.__file__.endswith(sys.argv[1]), b.BZ2Decompressor is not None)\n"),
				rel:       ext,
			}
			t.Run("verified extension loads", func(t *testing.T) {
				app := newApp(t, py, "main.py", files, nil)
				r := app.run(t, []string{rel}, "", nil)
				if r.code != 0 || r.stdout != "True True\n" {
					t.Errorf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
				}
			})
			t.Run("modified extension is refused", func(t *testing.T) {
				app := newApp(t, py, "main.py", files, nil)
				f, err := os.OpenFile(app.path(rel), os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.Write([]byte{0})
				f.Close()
				r := app.run(t, []string{rel}, "", nil)
				if r.code != ExitRefused || !strings.Contains(r.stderr, "signet: MODIFIED "+rel) {
					t.Errorf("exit %d, stderr %q", r.code, r.stderr)
				}
			})
		})
	}
}

// TestReaderRefusesAShortRead: the Linux readers take the payload's size from fstat and read
// it in one go; a descriptor that yields fewer bytes than fstat promised (a sysfs attribute
// claims 4096 bytes and holds a few) is refused before any bootstrap byte runs.
func TestReaderRefusesAShortRead(t *testing.T) {
	const short = "/sys/devices/system/cpu/online"
	for _, py := range testPythons(t) {
		for _, form := range []string{"pyc", "py"} {
			t.Run(py.version+"/"+form, func(t *testing.T) {
				f, err := os.Open(short)
				if err != nil {
					t.Fatalf("this test needs sysfs: %v", err)
				}
				defer f.Close()
				if st, err := f.Stat(); err != nil || st.Size() <= 16 {
					t.Fatalf("%s does not claim more bytes than it holds (stat: %v, %v)", short, st, err)
				}
				cfg := Config{Interpreter: py.path, AppRoot: "/nonexistent", Loader: "/nonexistent/app", AppName: "app"}
				argv := Argv(cfg, 3, Payload{Form: form, BootLen: 16, LazyLen: 0, PycLen: 0})
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Env = []string{}
				cmd.ExtraFiles = []*os.File{f}
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				err = cmd.Run()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != ExitRefused {
					t.Fatalf("run = %v, want exit %d; stderr:\n%s", err, ExitRefused, stderr.String())
				}
				if got := stderr.String(); got != readerShortRead+"\n" {
					t.Errorf("stderr = %q, want %q", got, readerShortRead+"\n")
				}
			})
		}
	}
}
