package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/signet-dev/signet/signet/internal/apppath"
	"github.com/signet-dev/signet/signet/internal/bytecode"
	"github.com/signet-dev/signet/signet/internal/launch"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/portability"
	"github.com/signet-dev/signet/signet/internal/seal"
)

// targets are the os/arch pairs signet has loader stubs for.
var targets = map[string]bool{"linux/amd64": true, "linux/arm64": true, "windows/amd64": true, "windows/arm64": true}

var versionPattern = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}$`)

// input is one declared app file.
type input struct {
	src string // file to read
	app string // its path in the app tree
}

// request is one seal action.
type request struct {
	target, stub                        string
	python, pythonVersion, pythonSHA256 string
	trust                               []string
	level                               string
	main, loaderName                    string
	bytecodePython                      string
	inputs                              []input
	outLoader, outManifest, outDelivery string
	resources                           resourceRequest // windows only
}

// sealed is what the action hashed: the manifest and, per app path, where its bytes are
// (an input file, or bytecode made here).
type sealed struct {
	m         *manifest.Manifest
	srcOf     map[string]string // app path -> input file
	generated map[string][]byte // app path -> bytecode made in the action
}

// sealAction checks the request, builds the manifest, and writes the three outputs.
func sealAction(ctx context.Context, r *request) error {
	goos, _, ok := strings.Cut(r.target, "/")
	if !ok || !targets[r.target] {
		return fmt.Errorf("--target %q: want one of linux/amd64, linux/arm64, windows/amd64, windows/arm64", r.target)
	}
	loaderName := r.loaderName
	if goos == "windows" && !strings.EqualFold(path.Ext(loaderName), ".exe") {
		loaderName += ".exe"
	}
	if err := apppath.Validate(loaderName); err != nil || strings.Contains(loaderName, "/") {
		return fmt.Errorf("--loader-name %q is not a plain file name", r.loaderName)
	}
	if goos != "windows" && r.resources.given() {
		return fmt.Errorf("%w, not %s", errResourcesNotWindows, r.target)
	}
	s, err := buildManifest(ctx, r, goos, loaderName)
	if err != nil {
		return err
	}
	encoded, err := s.m.Encode()
	if err != nil {
		return fmt.Errorf("encoding the manifest: %w", err)
	}
	stub, err := os.ReadFile(r.stub)
	if err != nil {
		return fmt.Errorf("reading the stub: %w", err)
	}
	// Resources first: they rewrite the PE, and the seal (and a later signature) covers them.
	if goos == "windows" {
		if stub, err = applyResources(stub, &r.resources); err != nil {
			return err
		}
	}
	loader, err := payload.Attach(stub, encoded)
	if err != nil {
		return fmt.Errorf("attaching the manifest to the stub %s: %w", r.stub, err)
	}
	if err := writeFile(r.outLoader, 0o755, func(w io.Writer) error { _, err := w.Write(loader); return err }); err != nil {
		return err
	}
	if err := writeFile(r.outManifest, 0o644, func(w io.Writer) error { _, err := w.Write(encoded); return err }); err != nil {
		return err
	}
	return writeFile(r.outDelivery, 0o644, func(w io.Writer) error { return writeDelivery(w, loaderName, loader, s) })
}

// buildManifest checks the inputs and the interpreter settings and hashes every file.
func buildManifest(ctx context.Context, r *request, goos, loaderName string) (*sealed, error) {
	level := manifest.Level(r.level)
	if level != manifest.LevelEnforce && level != manifest.LevelWarn {
		return nil, fmt.Errorf("--level %q: want enforce or warn", r.level)
	}
	python, err := seal.AbsoluteFor(r.python, goos)
	if err != nil {
		return nil, fmt.Errorf("--python: %w", err)
	}
	if !versionPattern.MatchString(r.pythonVersion) {
		return nil, fmt.Errorf("--python-version %q: want X.Y, e.g. 3.11", r.pythonVersion)
	}
	var pin *[32]byte
	if r.pythonSHA256 != "" {
		b, err := hex.DecodeString(r.pythonSHA256)
		if err != nil || len(b) != sha256.Size || strings.ToLower(r.pythonSHA256) != r.pythonSHA256 {
			return nil, fmt.Errorf("--python-sha256 %q: want 64 lower-case hex digits", r.pythonSHA256)
		}
		pin = (*[32]byte)(b)
	}
	trust := seal.DefaultTrust(python, r.pythonVersion, goos)
	if len(r.trust) > 0 {
		trust = nil
		for _, t := range r.trust {
			a, err := seal.AbsoluteFor(t, goos)
			if err != nil {
				return nil, fmt.Errorf("--python-trust: %w", err)
			}
			trust = append(trust, a)
		}
	}
	inputs := append([]input(nil), r.inputs...)
	sort.Slice(inputs, func(i, j int) bool { return inputs[i].app < inputs[j].app })
	if len(inputs) == 0 {
		return nil, errors.New("the app has no files")
	}
	paths := make([]string, len(inputs))
	for i, in := range inputs {
		if err := apppath.Validate(in.app); err != nil {
			return nil, fmt.Errorf("app file %s: %w", in.src, err)
		}
		first, _, _ := strings.Cut(in.app, "/")
		if strings.EqualFold(first, launch.BytecodeDir) {
			return nil, fmt.Errorf("app file %s: the app path %s is reserved for sealed bytecode; rename it", in.src, in.app)
		}
		if strings.EqualFold(first, loaderName) {
			return nil, fmt.Errorf("app file %s: the app path %s collides with the loader's name %s; name the loader differently", in.src, in.app, loaderName)
		}
		if i > 0 && inputs[i-1].app == in.app {
			return nil, fmt.Errorf("app path %s is given twice (%s and %s)", in.app, inputs[i-1].src, in.src)
		}
		paths[i] = in.app
	}
	if errs := portability.Check(paths, goos); len(errs) > 0 {
		return nil, fmt.Errorf("the app cannot be delivered to %s: %w", goos, errors.Join(errs...))
	}
	s := &sealed{srcOf: map[string]string{}, generated: map[string][]byte{}}
	m := &manifest.Manifest{Entry: r.main, Level: level, PythonPath: python, PythonVersion: r.pythonVersion,
		PythonSHA256: pin, PythonTrust: sortedUnique(trust)}
	var sources []bytecode.Source
	foundMain := false
	for _, in := range inputs {
		data, err := os.ReadFile(in.src)
		if err != nil {
			return nil, fmt.Errorf("reading app file: %w", err)
		}
		role := manifest.RoleForPath(in.app)
		if in.app == r.main {
			role, foundMain = manifest.RoleEntry, true
		}
		m.Files = append(m.Files, manifest.File{Path: in.app, Size: int64(len(data)), SHA256: sha256.Sum256(data), Role: role})
		s.srcOf[in.app] = in.src
		if r.bytecodePython != "" && (role == manifest.RoleEntry || role == manifest.RoleModule) {
			sources = append(sources, bytecode.Source{Filename: in.app, Data: data})
		}
	}
	if !foundMain {
		return nil, fmt.Errorf("--main %s is not among the sealed files", r.main)
	}
	if r.bytecodePython != "" {
		files, err := compile(ctx, r.bytecodePython, r.pythonVersion, sources, s.generated)
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, files...)
	}
	m.Sort()
	s.m = m
	return s, nil
}

// compile compiles the bootstrap and the sources with python (run here, in the action) and
// returns the sealed bytecode files; their bytes go into generated.
func compile(ctx context.Context, python, version string, sources []bytecode.Source, generated map[string][]byte) ([]manifest.File, error) {
	abs, err := filepath.Abs(python)
	if err != nil {
		return nil, fmt.Errorf("--bytecode-python: %w", err)
	}
	parts := launch.BootstrapParts(version)
	list := make([]bytecode.Source, 0, len(parts)+len(sources))
	for _, p := range parts {
		list = append(list, bytecode.Source{Filename: p.Filename, Data: p.Source})
	}
	list = append(list, sources...)
	compiled, err := bytecode.Compile(ctx, abs, list)
	if err != nil {
		return nil, fmt.Errorf("sealed bytecode: %w", err)
	}
	var files []manifest.File
	for i, c := range compiled {
		var app string
		if i < len(parts) {
			if c.Err != "" {
				return nil, fmt.Errorf("sealed bytecode: the bootstrap does not compile with %s: %s", python, c.Err)
			}
			app = parts[i].Path
		} else {
			if c.Err != "" {
				continue // importing it fails as with plain Python, compiled from the verified source
			}
			app = launch.BytecodePath(version, sources[i-len(parts)].Filename)
		}
		files = append(files, manifest.File{Path: app, Size: int64(len(c.Pyc)), SHA256: sha256.Sum256(c.Pyc), Role: manifest.RoleBytecode})
		generated[app] = c.Pyc
	}
	return files, nil
}

// sortedUnique returns s sorted, without repeats.
func sortedUnique(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// writeFile writes name through a temporary file in its directory, renamed into place.
func writeFile(name string, mode os.FileMode, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), ".bazelseal-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
