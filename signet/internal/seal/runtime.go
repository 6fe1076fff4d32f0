package seal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/signet-dev/signet/signet/internal/apppath"
	"github.com/signet-dev/signet/signet/internal/launch"
)

// DefaultRuntimeDir is where a bundled runtime goes in the delivery unless
// Options.RuntimeDir says otherwise.
const DefaultRuntimeDir = "runtime"

// bundle is a runtime to be sealed into the delivery (Options.Runtime).
type bundle struct {
	src    string  // the runtime directory as given
	real   string  // its resolved absolute path
	dir    string  // its app path in the delivery, e.g. "runtime"
	inputs []Input // its files at their app paths
	// skipped lists its __pycache__ directories, left out: sealed bytecode replaces them.
	skipped []string
}

// posixInterpreter matches the versioned interpreter of a POSIX installation: bin/python3.11.
var posixInterpreter = regexp.MustCompile(`^python3\.[0-9]{1,3}$`)

// collectRuntime walks o.Runtime: every regular file is sealed at its path under the
// runtime's app directory; a symlink to a file inside the runtime is sealed as a copy of
// that file; __pycache__ directories are left out. Symlinks that leave the runtime, or lead
// to directories, and anything else that is not a regular file are refused.
func collectRuntime(o *Options) (*bundle, error) {
	if o.SealRuntime {
		return nil, errors.New("--seal-runtime is for an interpreter installed on the target machine; a --runtime is sealed whole anyway: drop --seal-runtime")
	}
	b := &bundle{src: o.Runtime, dir: o.RuntimeDir}
	if b.dir == "" {
		b.dir = DefaultRuntimeDir
	}
	if err := apppath.Validate(b.dir); err != nil {
		return nil, fmt.Errorf("--runtime-dir %q: %w", o.RuntimeDir, err)
	}
	if first, _, _ := strings.Cut(b.dir, "/"); strings.EqualFold(first, launch.BytecodeDir) {
		return nil, fmt.Errorf("--runtime-dir %s: %s is reserved for the sealed bytecode signet writes", b.dir, launch.BytecodeDir)
	}
	if o.RuntimeFiles != nil {
		if o.Runtime != "" {
			return nil, errors.New("a runtime is given both as a directory (--runtime) and as files: give one")
		}
		return b.fromFiles(o.RuntimeFiles)
	}
	abs, err := filepath.Abs(o.Runtime)
	if err != nil {
		return nil, fmt.Errorf("--runtime: %w", err)
	}
	if b.real, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, fmt.Errorf("--runtime: %w", err)
	}
	if fi, err := os.Stat(b.real); err != nil {
		return nil, fmt.Errorf("--runtime: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("--runtime %s is not a directory: give the directory of a relocatable CPython installation", o.Runtime)
	}
	err = filepath.WalkDir(b.real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading the runtime: %w", err)
		}
		if p == b.real {
			return nil
		}
		rel, err := filepath.Rel(b.real, p)
		if err != nil {
			return fmt.Errorf("reading the runtime: %w", err)
		}
		app := b.dir + "/" + filepath.ToSlash(rel)
		switch t := d.Type(); {
		case t.IsDir():
			if d.Name() == pycacheDir {
				b.skipped = append(b.skipped, app)
				return fs.SkipDir
			}
			return nil
		case t.IsRegular():
			b.inputs = append(b.inputs, Input{Src: p, App: app})
			return nil
		case t&fs.ModeSymlink != 0:
			return b.addLink(p, rel, app)
		default:
			return fmt.Errorf("runtime file %s is not a regular file (%s): remove it from the runtime", filepath.ToSlash(rel), describeType(t))
		}
	})
	if err != nil {
		return nil, err
	}
	if len(b.inputs) == 0 {
		return nil, fmt.Errorf("--runtime %s holds no files", o.Runtime)
	}
	return b, nil
}

// fromFiles takes the runtime's files as listed (paths relative to its top directory),
// leaving out __pycache__.
func (b *bundle) fromFiles(files []Input) (*bundle, error) {
	b.src = "(the runtime's files)"
	for _, in := range files {
		if err := apppath.Validate(in.App); err != nil {
			return nil, fmt.Errorf("runtime file %s: %w", in.Src, err)
		}
		if strings.Contains("/"+in.App+"/", "/"+pycacheDir+"/") {
			continue
		}
		b.inputs = append(b.inputs, Input{Src: in.Src, App: b.dir + "/" + in.App})
	}
	if len(b.inputs) == 0 {
		return nil, errors.New("the runtime has no files")
	}
	sort.Slice(b.inputs, func(i, j int) bool { return b.inputs[i].App < b.inputs[j].App })
	for i := 1; i < len(b.inputs); i++ {
		if b.inputs[i].App == b.inputs[i-1].App {
			return nil, fmt.Errorf("runtime file %s is given twice (%s and %s)", b.inputs[i].App, b.inputs[i-1].Src, b.inputs[i].Src)
		}
	}
	return b, nil
}

// srcOf returns the file to read for the runtime's app path app.
func (b *bundle) srcOf(app string) string {
	for _, in := range b.inputs {
		if in.App == app {
			return in.Src
		}
	}
	return ""
}

// addLink seals a symlink inside the runtime as a copy of the file it leads to, if that file
// is inside the runtime too.
func (b *bundle) addLink(p, rel, app string) error {
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("runtime file %s is a broken symlink: %w", filepath.ToSlash(rel), err)
	}
	if inside, err := filepath.Rel(b.real, target); err != nil || inside == ".." || strings.HasPrefix(inside, ".."+string(filepath.Separator)) {
		return fmt.Errorf("runtime file %s is a symlink to %s, outside --runtime %s: a delivery holds what it runs; copy that file into the runtime", filepath.ToSlash(rel), target, b.src)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("runtime file %s: %w", filepath.ToSlash(rel), err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("runtime file %s is a symlink to a directory or special file: signet seals regular files only; replace it with a copy", filepath.ToSlash(rel))
	}
	// Opening the link reads the target: the delivery gets a regular file with its bytes.
	b.inputs = append(b.inputs, Input{Src: p, App: app})
	return nil
}

// interpreterApp returns the interpreter's app path: --python (an app path in the runtime, or
// a path to a file inside --runtime), or the one interpreter the runtime has.
func (b *bundle) interpreterApp(python, goos string) (string, error) {
	if python == "" {
		return b.findInterpreter(goos)
	}
	given := filepath.ToSlash(python)
	if filepath.IsAbs(python) && b.real != "" {
		real, err := filepath.EvalSymlinks(python)
		if err != nil {
			real = python
		}
		rel, err := filepath.Rel(b.real, real)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("--python %s is outside --runtime %s: with --runtime, --python names the interpreter inside it, e.g. %s/bin/python3.11", python, b.src, b.dir)
		}
		given = b.dir + "/" + filepath.ToSlash(rel)
	}
	given = path.Clean(given)
	if !strings.HasPrefix(given, b.dir+"/") {
		return "", fmt.Errorf("--python %s is not inside the runtime directory %s of the delivery: give its path there, e.g. %s/bin/python3.11", python, b.dir, b.dir)
	}
	for _, in := range b.inputs {
		if in.App == given {
			return given, nil
		}
	}
	return "", fmt.Errorf("--python %s: the runtime %s has no file %s", python, b.src, strings.TrimPrefix(given, b.dir+"/"))
}

// findInterpreter finds the interpreter of a runtime without --python: python.exe at the top
// of a Windows runtime, else the one bin/python3.X.
func (b *bundle) findInterpreter(goos string) (string, error) {
	var found []string
	for _, in := range b.inputs {
		rel := strings.TrimPrefix(in.App, b.dir+"/")
		if goos == "windows" && strings.EqualFold(rel, "python.exe") {
			found = append(found, in.App)
		}
		if goos != "windows" && path.Dir(rel) == "bin" && posixInterpreter.MatchString(path.Base(rel)) {
			found = append(found, in.App)
		}
	}
	sort.Strings(found)
	want := "bin/python3.X"
	if goos == "windows" {
		want = "python.exe"
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("--runtime %s is not a CPython installation for %s: it has no %s; give --python with the interpreter's path in the delivery", b.src, goos, want)
	}
	return "", fmt.Errorf("--runtime %s has several interpreters (%s): choose one with --python", b.src, strings.Join(found, ", "))
}

// bundledInterpreter works out what the manifest records about a bundled interpreter: its app
// path, version and the trusted search path as app paths. For this machine's target it runs
// the interpreter from --runtime (isolated, writing nothing) to ask; for another target it
// checks the executable's format and takes the version as given.
func bundledInterpreter(ctx context.Context, o *Options, b *bundle, goos, goarch string) (*interpreter, error) {
	app, err := b.interpreterApp(o.Python, goos)
	if err != nil {
		return nil, err
	}
	exe := b.srcOf(app)
	if err := checkExecutableFor(exe, app, goos, goarch); err != nil {
		return nil, err
	}
	if !isHost(goos, goarch) || o.PythonAsGiven || b.real == "" {
		if o.PythonVersion == "" {
			return nil, fmt.Errorf("--python-version is required for a %s/%s runtime: its interpreter cannot be run here to ask it", goos, goarch)
		}
		if err := checkMinimumVersion(o.PythonVersion, "--python-version"); err != nil {
			return nil, err
		}
		return &interpreter{path: app, version: o.PythonVersion, trust: bundledTrust(b.dir, path.Dir(app), o.PythonVersion, goos)}, nil
	}
	in, err := runProbe(ctx, exe, goos)
	if err != nil {
		return nil, fmt.Errorf("--runtime %s: %s does not run as a CPython interpreter here: %w", b.src, app, err)
	}
	if err := checkMinimumVersion(in.version, "the runtime's interpreter "+app); err != nil {
		return nil, err
	}
	if o.PythonVersion != "" && o.PythonVersion != in.version {
		return nil, fmt.Errorf("--python-version %s: the runtime's %s is Python %s", o.PythonVersion, app, in.version)
	}
	// Its search path and libpython must lie inside the runtime: that is what makes it
	// relocatable, and what the delivery's seal covers.
	trust := make([]string, 0, len(in.trust))
	for _, t := range in.trust {
		rel, ok := b.appPath(filepath.FromSlash(t))
		if !ok {
			return nil, fmt.Errorf("--runtime %s is not self-contained: its interpreter uses %s, outside the runtime; bundle a relocatable CPython (such as python-build-standalone's install_only)", b.src, t)
		}
		trust = append(trust, rel)
	}
	in.path, in.exe, in.trust = app, exe, trust
	in.searchPath, in.libs = nil, nil
	return in, nil
}

// appPath turns an absolute path under the runtime into its app path in the delivery.
func (b *bundle) appPath(p string) (string, bool) {
	real := p
	if r, err := filepath.EvalSymlinks(p); err == nil {
		real = r
	} else if r, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		real = filepath.Join(r, filepath.Base(p)) // a sys.path zip that does not exist
	}
	rel, err := filepath.Rel(b.real, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	if rel == "." {
		return b.dir, true
	}
	return b.dir + "/" + filepath.ToSlash(rel), true
}

// bundledTrust is where a runtime of the standard layout keeps its standard library, as app
// paths, for a runtime that cannot be asked: the Windows embeddable distribution's directory,
// DLLs, Lib and pythonXY.zip; elsewhere lib/pythonX.Y, its lib-dynload and lib/pythonXY.zip.
func bundledTrust(dir, exeDir, version, goos string) []string {
	xy := strings.ReplaceAll(version, ".", "")
	if goos == "windows" {
		return []string{exeDir, exeDir + "/DLLs", exeDir + "/Lib", exeDir + "/python" + xy + ".zip"}
	}
	lib := path.Join(path.Dir(exeDir), "lib")
	if !strings.HasPrefix(lib, dir+"/") {
		lib = dir + "/lib"
	}
	return []string{lib + "/python" + version, lib + "/python" + version + "/lib-dynload", lib + "/python" + xy + ".zip"}
}

// checkExecutableFor refuses an interpreter that is not an executable for goos/goarch: an
// ELF or PE file for that machine (a runtime for another platform than --target).
func checkExecutableFor(exe, app, goos, goarch string) error {
	f, err := os.Open(exe)
	if err != nil {
		return fmt.Errorf("the runtime's interpreter %s: %w", app, err)
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	machine, format := "", ""
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")) && len(head) >= 20:
		format = "linux"
		order := binary.ByteOrder(binary.LittleEndian)
		if head[5] == 2 { // EI_DATA: ELFDATA2MSB
			order = binary.BigEndian
		}
		switch m := order.Uint16(head[18:]); m { // e_machine
		case 62: // EM_X86_64
			machine = "amd64"
		case 183: // EM_AARCH64
			machine = "arm64"
		default:
			machine = fmt.Sprintf("ELF machine %d", m)
		}
	case bytes.HasPrefix(head, []byte("MZ")) && len(head) >= 0x40:
		format = "windows"
		off := int(binary.LittleEndian.Uint32(head[0x3c:]))
		if off >= 0 && off+6 <= len(head) && bytes.Equal(head[off:off+4], []byte("PE\x00\x00")) {
			switch binary.LittleEndian.Uint16(head[off+4:]) {
			case 0x8664:
				machine = "amd64"
			case 0xaa64:
				machine = "arm64"
			case 0x14c:
				machine = "386"
			default:
				machine = fmt.Sprintf("machine %#x", binary.LittleEndian.Uint16(head[off+4:]))
			}
		}
	case bytes.HasPrefix(head, []byte("#!")):
		return fmt.Errorf("the runtime's interpreter %s is a script, not CPython's executable: give --python with the real interpreter", app)
	default:
		return fmt.Errorf("the runtime's interpreter %s is not an executable (neither ELF nor PE): is --runtime a CPython installation?", app)
	}
	if format != goos || machine != goarch {
		if machine == "" {
			machine = "an unknown machine"
		}
		return fmt.Errorf("the runtime's interpreter %s is for %s/%s, not the target %s/%s: bundle a runtime built for %s/%s", app, format, machine, goos, goarch, goos, goarch)
	}
	return nil
}

// planRuntime collects the runtime to bundle and checks that the seal writes nowhere it reads:
// not into --root (the runtime needs a delivery directory of its own) and not into the runtime.
func planRuntime(o *Options, l *layout) (*bundle, error) {
	if l.inPlace {
		return nil, errors.New("--runtime needs a delivery directory: write the loader outside --root (e.g. -o dist/hello), where the app and the runtime are copied")
	}
	b, err := collectRuntime(o)
	if err != nil {
		return nil, err
	}
	if l.outputAbs != "" {
		if out, err := resolveExisting(filepath.Dir(l.outputAbs)); err == nil {
			if rel, err := filepath.Rel(b.real, out); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return nil, fmt.Errorf("-o %s is inside --runtime %s: signet never writes into a tree it reads; write the delivery elsewhere", o.Output, o.Runtime)
			}
		}
	}
	return b, nil
}

// addRuntime adds the runtime's files to the app's, which may not use its directory.
func (c *collected) addRuntime(b *bundle) error {
	for _, in := range c.inputs {
		if first := in.App; strings.EqualFold(first, b.dir) || strings.HasPrefix(strings.ToLower(first), strings.ToLower(b.dir)+"/") {
			return fmt.Errorf("app file %s is in the directory %s, where the runtime goes in the delivery: move it, or choose another --runtime-dir", in.App, b.dir)
		}
	}
	c.inputs = append(c.inputs, b.inputs...)
	sort.Slice(c.inputs, func(i, j int) bool { return c.inputs[i].App < c.inputs[j].App })
	c.skipped = append(c.skipped, b.skipped...)
	c.runtimeDir = b.dir
	return nil
}
