package seal

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/signet-dev/signet/signet/internal/atomicfile"
	"github.com/signet-dev/signet/signet/internal/bytecode"
	"github.com/signet-dev/signet/signet/internal/launch"
	"github.com/signet-dev/signet/signet/internal/manifest"
)

// generated is a file signet makes at seal time (sealed bytecode) and writes into the
// delivery.
type generated struct {
	app  string
	data []byte
}

// bytecodeCompiler returns the interpreter that compiles the sealed bytecode, or "" and
// why none is sealed: BytecodePython when given (checked to be the sealed X.Y version), else
// the sealed interpreter when it was probed here.
func bytecodeCompiler(ctx context.Context, o *Options, l *layout, in *interpreter) (string, string, error) {
	switch {
	case o.NoBytecode:
		return "", "sealed bytecode: off (--no-bytecode): modules are compiled from their verified source at every import", nil
	case o.BytecodePython != "":
		abs, err := filepath.Abs(o.BytecodePython)
		if err != nil {
			return "", "", fmt.Errorf("--bytecode-python: %w", err)
		}
		probed, err := runProbe(ctx, abs, runtime.GOOS)
		if err != nil {
			return "", "", fmt.Errorf("--bytecode-python: %w", err)
		}
		if probed.version != in.version {
			return "", "", fmt.Errorf("--bytecode-python %s is Python %s, but the sealed interpreter is %s: bytecode is version-specific; give a Python %s", o.BytecodePython, probed.version, in.version, in.version)
		}
		return abs, "", nil
	case in.exe != "":
		return in.exe, "", nil
	case o.PythonAsGiven:
		return "", "sealed bytecode: off: the interpreter is taken as given and not run here, and no --bytecode-python compiles it", nil
	}
	return "", fmt.Sprintf("sealed bytecode: off: the %s/%s interpreter cannot run here to compile it (seal on a %s/%s machine for faster starts)", l.goos, l.goarch, l.goos, l.goarch), nil
}

// compileBytecode compiles the bootstrap and every module and entry script (the bytes in
// sources, which are the bytes that were hashed) with the sealed interpreter, and returns
// the bytecode files to seal and write. A module whose source does not compile gets no
// bytecode (it fails at import, as with plain Python); it is listed in notCompiled.
func compileBytecode(ctx context.Context, python, version string, sources map[string][]byte) (files []manifest.File, out []generated, notCompiled []string, err error) {
	parts := launch.BootstrapParts(version)
	apps := make([]string, 0, len(sources))
	for app := range sources {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	list := make([]bytecode.Source, 0, len(parts)+len(apps))
	for _, p := range parts {
		list = append(list, bytecode.Source{Filename: p.Filename, Data: p.Source})
	}
	for _, app := range apps {
		list = append(list, bytecode.Source{Filename: app, Data: sources[app]})
	}
	compiled, err := bytecode.Compile(ctx, python, list)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sealed bytecode: %w", err)
	}
	for i, c := range compiled {
		var app string
		if i < len(parts) {
			if c.Err != "" {
				return nil, nil, nil, fmt.Errorf("sealed bytecode: the bootstrap does not compile with %s: %s", python, c.Err)
			}
			app = parts[i].Path
		} else {
			src := apps[i-len(parts)]
			if c.Err != "" {
				notCompiled = append(notCompiled, src+": "+c.Err)
				continue
			}
			app = launch.BytecodePath(version, src)
		}
		files = append(files, manifest.File{Path: app, Size: int64(len(c.Pyc)), SHA256: sha256.Sum256(c.Pyc), Role: manifest.RoleBytecode})
		out = append(out, generated{app: app, data: c.Pyc})
	}
	return files, out, notCompiled, nil
}

// writeGenerated writes the generated files into the delivery directory, each atomically,
// and removes the .pyc files under its __signet_pyc__ that this seal did not make (left by
// an earlier seal): that directory belongs to signet.
func writeGenerated(dir string, gen []generated) error {
	keep := map[string]bool{}
	for _, g := range gen {
		keep[g.app] = true
		dest := filepath.Join(dir, filepath.FromSlash(g.app))
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return fmt.Errorf("writing sealed bytecode %s: %w", g.app, err)
		}
		if fi, err := os.Lstat(dest); err == nil && !fi.Mode().IsRegular() {
			return fmt.Errorf("writing sealed bytecode %s: %s is not a regular file", g.app, dest)
		}
		data := g.data
		if err := atomicfile.WriteWith(dest, 0o644, atomicfile.Options{NoSync: true}, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return fmt.Errorf("writing sealed bytecode %s: %w", g.app, err)
		}
	}
	return pruneBytecode(dir, keep)
}

// pruneBytecode removes the regular .pyc files under dir/__signet_pyc__ not in keep.
// Anything else there is left for the delivery check to report.
func pruneBytecode(dir string, keep map[string]bool) error {
	top := filepath.Join(dir, launch.BytecodeDir)
	if _, err := os.Lstat(top); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("removing old sealed bytecode: %w", err)
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(strings.ToLower(d.Name()), ".pyc") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("removing old sealed bytecode: %w", err)
		}
		if keep[filepath.ToSlash(rel)] {
			return nil
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("removing old sealed bytecode: %w", err)
		}
		return nil
	})
}
