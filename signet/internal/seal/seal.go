// Package seal is signet's one seal pipeline: it builds the manifest of a Python app,
// attaches it to a loader stub, and produces the delivery. `signet seal` (Seal: the app is
// written into a delivery directory) and the Bazel helper (Build, then Delivery.WriteTar) both
// run it, so they check the same things and say the same words.
//
// The loader verifies the app tree in the directory it sits in. So either the loader is
// written directly into the app root (the root is the delivery), or the sealed files are
// copied next to it (Options.CopyApp): then the output directory is the delivery. Before the
// loader is written, the delivery is checked exactly as the loader will check it at start-up
// (signet/internal/treecheck), so a seal that succeeds gives a loader that starts.
//
// Nothing partial is ever left at the output path: the loader is written to a temporary
// file in the same directory, synced, and renamed into place as the very last step. A
// loader already at the output path is replaced only by a successful seal. Sealing the same
// app with the same options gives the same bytes.
package seal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/signet-dev/signet/signet/internal/apppath"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/platform"
	"github.com/signet-dev/signet/signet/internal/stubs"
	"github.com/signet-dev/signet/signet/internal/treecheck"
	"github.com/signet-dev/signet/signet/internal/winresource"
)

// Input is one app file: a file on disk and its path in the app tree. Bazel passes these
// explicitly.
type Input struct {
	Src string // file to read (symlinks are followed)
	App string // relative, '/'-separated app path
}

// Options say what to seal and how.
type Options struct {
	Root          string         // app root directory (walked when Files is nil)
	Files         []Input        // explicit inputs (Bazel); when set, Root is not walked
	Main          string         // entry script, app path relative to Root: "hello.py"
	Python        string         // interpreter executable, absolute path
	PythonVersion string         // "3.11": required for a foreign target; else probed and must match if given
	PythonSHA256  string         // optional pin of the interpreter executable (64 hex digits)
	PythonTrust   []string       // optional override of the probed trusted paths
	Target        string         // "linux/amd64" (default: this machine), linux/arm64, windows/amd64, windows/arm64
	Output        string         // loader path; ".exe" is appended for a windows target if missing
	Level         manifest.Level // "" means manifest.LevelEnforce
	SealRuntime   bool           // also seal the interpreter's own files (and pin its digest)
	Stub          string         // prebuilt stub; "" means stubs.Get for the target
	NoBytecode    bool           // seal no bytecode: modules are compiled from source at every import
	// Runtime is the directory of a relocatable CPython installation (python-build-standalone's
	// install_only tree, the Windows embeddable distribution) to bundle into the delivery at
	// RuntimeDir: every file of it is sealed, its __pycache__ is left out (sealed bytecode
	// replaces it), and Python then names the interpreter inside it ("runtime/bin/python3.11";
	// "" finds it). "" means the interpreter installed on the target machine.
	Runtime string
	// RuntimeFiles, instead of Runtime, lists the runtime's files explicitly (Bazel: a
	// py_runtime's interpreter and files), each with its path relative to the runtime's top
	// directory as App ("bin/python3.11", "lib/python3.11/os.py").
	RuntimeFiles []Input
	// RuntimeDir is the runtime's app path in the delivery; "" means DefaultRuntimeDir.
	RuntimeDir string
	// VerifyAtImport has the loader verify modules, their sealed bytecode and extensions
	// where they are used instead of at start-up (manifest.Manifest.VerifyAtImport).
	VerifyAtImport bool
	// LoaderName is the loader's file name in the delivery when there is no Output (Build
	// for an archive); ".exe" is appended for a windows target if missing.
	LoaderName string
	// PythonAsGiven takes the interpreter as given (path, version, trust paths, digest pin)
	// and never runs or reads it, even when the target is this machine: a hermetic seal
	// (Bazel) must not depend on what is installed where it runs.
	PythonAsGiven bool
	// BytecodePython is the interpreter that compiles the sealed bytecode when the sealed
	// interpreter is not run here (PythonAsGiven, or a foreign target); it must be the same
	// X.Y version. "" means: compile with the probed interpreter, or seal no bytecode.
	BytecodePython string
	// Resources are the Windows resources (version information, icon) written into the stub
	// before it is sealed; windows targets only. A windows loader always gets the
	// application manifest (asInvoker, long paths, UTF-8), with or without Resources.
	Resources *winresource.Info
	// RequireSigner pins the vendor's signing key (the SHA-256 of the certificate's DER
	// SubjectPublicKeyInfo): the loader refuses to start unless its own Authenticode
	// signature is valid and made with that key. Windows targets only.
	RequireSigner *[32]byte
}

// Result is what Seal did.
type Result struct {
	Loader   string             // path of the sealed loader (Output, with ".exe" for Windows)
	Manifest *manifest.Manifest // what was sealed
	Copied   int                // number of app files copied next to the loader (0 when sealed in place)
	Skipped  []string           // __pycache__ (and old __signet_pyc__) directories left out of the seal and the copy
	// Bytecode is the number of sealed bytecode files written (the bootstrap's included).
	Bytecode int
	// BytecodeNote says why no bytecode was sealed ("" when it was).
	BytecodeNote string
	// NotCompiled lists "app path: error" for modules whose source does not compile: they
	// get no sealed bytecode (importing them fails, as with plain Python).
	NotCompiled []string
	// RuntimeNotCompiled counts such modules of a bundled runtime; RuntimeFiles its files
	// (they are among Copied).
	RuntimeNotCompiled, RuntimeFiles int
}

// layout is where things go.
type layout struct {
	goos, goarch string
	loaderName   string // the loader's file name in the delivery, with .exe for Windows
	loaderFlag   string // the flag that named it: "-o" or "--loader-name"
	output       string // loader path as given, with .exe for Windows; "" if none
	outputAbs    string // absolute loader path; "" if none
	inPlace      bool   // the loader is written directly into Root, which is the delivery
}

// Delivery is a sealed app, not yet written anywhere: the loader and every file that goes
// next to it.
type Delivery struct {
	LoaderName string             // the loader's file name ("hello", "hello.exe")
	Loader     []byte             // the sealed loader: stub, resources, payload
	Manifest   *manifest.Manifest // what was sealed
	Encoded    []byte             // the canonical manifest, exactly as in the payload
	// Skipped lists the __pycache__ (and old __signet_pyc__) directories left out.
	Skipped []string
	// BytecodeNote says why no bytecode was sealed ("" when it was).
	BytecodeNote string
	// NotCompiled lists "app path: error" for the app's modules whose source does not
	// compile; RuntimeNotCompiled counts those of a bundled runtime (its test data).
	NotCompiled        []string
	RuntimeNotCompiled int
	// RuntimeFiles counts the files of a bundled runtime (Options.Runtime).
	RuntimeFiles int

	inputs    []Input     // the app files, by app path
	generated []generated // the sealed bytecode made here
}

// Build checks the options and the app, hashes every file, compiles the sealed bytecode,
// and seals the manifest into the stub. It writes nothing.
func Build(ctx context.Context, o Options) (*Delivery, error) {
	l, err := planLayout(&o)
	if err != nil {
		return nil, err
	}
	return build(ctx, &o, l)
}

func build(ctx context.Context, o *Options, l *layout) (*Delivery, error) {
	m, c, err := buildManifest(ctx, o, l)
	if err != nil {
		return nil, err
	}
	if err := checkLoaderName(l, m); err != nil {
		return nil, err
	}
	stub, err := readStub(ctx, o.Stub, l)
	if err != nil {
		return nil, err
	}
	// Resources first: they rewrite the PE, and the seal (and a later signature) covers them.
	if l.goos == "windows" {
		if stub, err = applyResources(stub, o.Resources); err != nil {
			return nil, err
		}
	}
	encoded, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest: %w", err)
	}
	loader, err := payload.Attach(stub, encoded)
	if err != nil {
		return nil, fmt.Errorf("attaching the manifest to the stub: %w", err)
	}
	d := &Delivery{LoaderName: l.loaderName, Loader: loader, Manifest: m, Encoded: encoded,
		Skipped: c.skipped, BytecodeNote: c.bytecodeNote, inputs: c.inputs, generated: c.generated}
	inRuntime := func(app string) bool { return c.runtimeDir != "" && strings.HasPrefix(app, c.runtimeDir+"/") }
	for _, n := range c.notCompiled {
		if inRuntime(n) {
			d.RuntimeNotCompiled++
		} else {
			d.NotCompiled = append(d.NotCompiled, n)
		}
	}
	for _, in := range c.inputs {
		if inRuntime(in.App) {
			d.RuntimeFiles++
		}
	}
	return d, nil
}

// Seal seals the app and writes its delivery: the app files are copied next to the loader
// (unless it is written into Root), the sealed bytecode is written, the delivery is checked
// as the loader will check it, and the loader is written last.
func Seal(ctx context.Context, o Options) (*Result, error) {
	if o.Output == "" {
		return nil, errors.New("-o is required: the path of the loader to write, e.g. dist/hello")
	}
	l, err := planLayout(&o)
	if err != nil {
		return nil, err
	}
	d, err := build(ctx, &o, l)
	if err != nil {
		return nil, err
	}
	outDir := filepath.Dir(l.outputAbs)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the output directory: %w", err)
	}
	res := &Result{Loader: l.output, Manifest: d.Manifest, Skipped: d.Skipped, Bytecode: len(d.generated),
		BytecodeNote: d.BytecodeNote, NotCompiled: d.NotCompiled, RuntimeNotCompiled: d.RuntimeNotCompiled,
		RuntimeFiles: d.RuntimeFiles}
	if !l.inPlace {
		if res.Copied, err = copyApp(outDir, d.inputs, d.Manifest); err != nil {
			return nil, err
		}
	}
	if err := writeGenerated(outDir, d.generated); err != nil {
		return nil, err
	}
	if err := checkDelivery(outDir, l.loaderName, d.Manifest); err != nil {
		return nil, err
	}
	// The app files must be on disk before the loader that vouches for them is.
	if err := syncWritten(outDir, d.Manifest); err != nil {
		return nil, fmt.Errorf("flushing the delivery to disk: %w", err)
	}
	if err := writeLoader(l.outputAbs, d.Loader); err != nil {
		return nil, err
	}
	return res, nil
}

// planLayout parses the target and works out where the loader goes relative to the root.
func planLayout(o *Options) (*layout, error) {
	l := &layout{goos: runtime.GOOS, goarch: runtime.GOARCH}
	if o.Target != "" {
		p, err := platform.Parse(o.Target)
		if err != nil {
			return nil, fmt.Errorf("--target: %w", err)
		}
		l.goos, l.goarch = p.GOOS, p.GOARCH
	} else if _, ok := platform.Lookup(l.goos, l.goarch); !ok {
		return nil, fmt.Errorf("--target is required on this machine (%s/%s): want one of %s", l.goos, l.goarch, platform.Names())
	}
	if o.Output == "" {
		if o.LoaderName == "" {
			return nil, errors.New("-o is required: the path of the loader to write, e.g. dist/hello")
		}
		l.loaderName, l.loaderFlag = stubs.ExeName(o.LoaderName, l.goos), "--loader-name"
		if err := apppath.Validate(l.loaderName); err != nil || strings.Contains(l.loaderName, "/") {
			return nil, fmt.Errorf("--loader-name %q is not a plain file name", o.LoaderName)
		}
		return l, nil
	}
	l.output = stubs.ExeName(o.Output, l.goos)
	abs, err := filepath.Abs(l.output)
	if err != nil {
		return nil, fmt.Errorf("-o: %w", err)
	}
	l.outputAbs = abs
	l.loaderName, l.loaderFlag = filepath.Base(abs), "-o"
	if o.Files != nil || o.Root == "" {
		return l, nil
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	outDir, err := resolveExisting(filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("-o: %w", err)
	}
	rel, err := filepath.Rel(root, outDir)
	if err != nil {
		return l, nil // on another volume: not inside the root
	}
	switch {
	case rel == ".":
		l.inPlace = true
	case rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)):
		return nil, fmt.Errorf("-o %s is inside --root but not directly in it: the loader verifies the directory it sits in, so write it into the root itself (-o %s) or outside the root (the app is then copied next to it)",
			o.Output, filepath.Join(o.Root, filepath.Base(l.output)))
	}
	return l, nil
}

// resolveExisting resolves symlinks in the longest existing prefix of the absolute path p
// and appends the rest unchanged.
func resolveExisting(p string) (string, error) {
	rest := ""
	for {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", err
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// buildManifest collects, checks and hashes the app and the interpreter.
func buildManifest(ctx context.Context, o *Options, l *layout) (*manifest.Manifest, *collected, error) {
	level := o.Level
	if level == "" {
		level = manifest.LevelEnforce
	}
	if level != manifest.LevelEnforce && level != manifest.LevelWarn {
		return nil, nil, fmt.Errorf("--level %q: want enforce or warn", level)
	}
	if l.goos != "windows" {
		if o.Resources != nil {
			return nil, nil, fmt.Errorf("Windows resources (version information, icon) are only for a windows target, not %s/%s", l.goos, l.goarch)
		}
		if o.RequireSigner != nil {
			return nil, nil, fmt.Errorf("--require-signer is only for a windows target: %s has no signature check for executables, so a %s/%s loader could never start", l.goos, l.goos, l.goarch)
		}
	}
	entry, err := cleanMain(o.Main)
	if err != nil {
		return nil, nil, err
	}
	var b *bundle
	var interp *interpreter
	if o.Runtime != "" || o.RuntimeFiles != nil {
		if b, err = planRuntime(o, l); err != nil {
			return nil, nil, err
		}
		interp, err = bundledInterpreter(ctx, o, b, l.goos, l.goarch)
	} else {
		interp, err = resolveInterpreter(ctx, o, l.goos, l.goarch)
	}
	if err != nil {
		return nil, nil, err
	}
	skipDir := ""
	if b != nil && b.real != "" {
		skipDir = b.real
	}
	c, err := collectInputs(o, l.outputAbs, !l.inPlace, skipDir)
	if err != nil {
		return nil, nil, err
	}
	if b != nil {
		if err := c.addRuntime(b); err != nil {
			return nil, nil, err
		}
	}
	if !hasApp(c.inputs, entry) {
		return nil, nil, fmt.Errorf("--main %s is not a file of the app: give the entry script's app path (relative to the app root)", entry)
	}
	if err := checkPortable(c.inputs, l.goos); err != nil {
		return nil, nil, err
	}
	compiler, note, err := bytecodeCompiler(ctx, o, l, interp)
	if err != nil {
		return nil, nil, err
	}
	files, sources, err := hashInputs(c.inputs, entry, compiler != "")
	if err != nil {
		return nil, nil, err
	}
	c.bytecodeNote = note
	if compiler != "" {
		pycs, gen, notCompiled, err := compileBytecode(ctx, compiler, interp.version, sources)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, pycs...)
		c.generated, c.notCompiled = gen, notCompiled
	}
	if o.SealRuntime {
		rt, err := runtimeFiles(interp, l.goos)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, rt...)
	}
	m := &manifest.Manifest{
		Entry:          entry,
		Level:          level,
		PythonPath:     interp.path,
		PythonVersion:  interp.version,
		PythonSHA256:   interp.sha256,
		PythonTrust:    interp.trust,
		SealRuntime:    o.SealRuntime,
		RequireSigner:  o.RequireSigner,
		VerifyAtImport: o.VerifyAtImport,
		Files:          files,
	}
	m.Sort()
	if _, err := m.Encode(); err != nil {
		return nil, nil, fmt.Errorf("building the manifest: %w", err)
	}
	return m, c, nil
}

func hasApp(inputs []Input, app string) bool {
	for _, in := range inputs {
		if in.App == app {
			return true
		}
	}
	return false
}

// readStub reads the given stub or obtains the one for the target.
func readStub(ctx context.Context, stub string, l *layout) ([]byte, error) {
	if stub == "" {
		var err error
		if stub, err = stubs.Get(ctx, l.goos, l.goarch); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(stub)
	if err != nil {
		return nil, fmt.Errorf("reading the stub: %w", err)
	}
	return b, nil
}

// applyResources writes the Windows resources into a windows stub: the application manifest
// always, the version information and icon of info when given. A stub that is already sealed
// or signed is refused with the seal's own words before winresource sees it.
func applyResources(stub []byte, info *winresource.Info) ([]byte, error) {
	switch _, err := payload.Find(bytes.NewReader(stub), int64(len(stub))); {
	case err == nil:
		return nil, errors.New("attaching the manifest to the stub: attach: the stub is already sealed (it carries a payload)")
	case !errors.Is(err, payload.ErrNoPayload):
		return nil, fmt.Errorf("attaching the manifest to the stub: attach: the stub already carries a payload: %w", err)
	}
	var i winresource.Info
	if info != nil {
		i = *info
	}
	out, err := winresource.Apply(stub, i)
	if err != nil {
		return nil, fmt.Errorf("the stub: %w", err)
	}
	return out, nil
}

// checkLoaderName refuses a loader whose name is also an app path (or the first component
// of one) in the delivery directory, ignoring case: Windows and macOS file systems do.
func checkLoaderName(l *layout, m *manifest.Manifest) error {
	for _, f := range m.Files {
		first, _, _ := strings.Cut(f.Path, "/")
		if strings.EqualFold(first, l.loaderName) && f.Role != manifest.RoleRuntime {
			return fmt.Errorf("%s: the loader's name %s is also the app path %s; name the loader differently", l.loaderFlag, l.loaderName, f.Path)
		}
	}
	return nil
}

// checkDelivery checks dir as the loader will at start-up, ignoring the loader itself.
func checkDelivery(dir, loaderName string, m *manifest.Manifest) error {
	var sealed []treecheck.Sealed
	for _, f := range m.Files {
		if f.Role != manifest.RoleRuntime {
			sealed = append(sealed, treecheck.Sealed{Path: f.Path, Size: f.Size, SHA256: f.SHA256})
		}
	}
	problems, err := treecheck.Check(dir, sealed, treecheck.Options{Ignore: []string{loaderName}})
	if err != nil {
		return fmt.Errorf("checking the delivery directory %s: %w", dir, err)
	}
	if len(problems) == 0 {
		return nil
	}
	lines := make([]string, len(problems))
	for i, p := range problems {
		lines[i] = "  " + p.String()
	}
	return fmt.Errorf("the loader would refuse to start in %s (remove what is not part of the app, or seal into an empty directory):\n%s",
		dir, strings.Join(lines, "\n"))
}
