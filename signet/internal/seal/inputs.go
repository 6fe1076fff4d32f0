package seal

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/signet-dev/signet/signet/internal/apppath"
	"github.com/signet-dev/signet/signet/internal/launch"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/portability"
)

// pycacheDir is the directory CPython writes bytecode caches into.
const pycacheDir = "__pycache__"

// collected is the app as found on disk.
type collected struct {
	inputs  []Input  // sorted by App
	skipped []string // app paths of __pycache__ (and old __signet_pyc__) directories left out
	// Sealed bytecode, made at seal time:
	generated    []generated // bytecode files to write into the delivery
	bytecodeNote string      // why there is none, or ""
	notCompiled  []string    // "app path: error" of modules that do not compile
	runtimeDir   string      // app path of a bundled runtime, "" for none
}

// collectInputs returns the explicit inputs, checked, or walks o.Root. exclude is the
// absolute output path (never sealed); skipPycache says whether __pycache__ directories
// are left out (the app is copied to a delivery directory) or refused (the loader will
// check Root itself, where they would be UNEXPECTED); skipDir, if not "", is a directory
// left out of the walk (a bundled runtime inside the app tree, sealed as the runtime).
func collectInputs(o *Options, exclude string, skipPycache bool, skipDir string) (*collected, error) {
	var c collected
	if o.Files != nil {
		c.inputs = append([]Input(nil), o.Files...)
	} else {
		if err := c.walk(o.Root, exclude, skipPycache, skipDir); err != nil {
			return nil, err
		}
	}
	sort.Slice(c.inputs, func(i, j int) bool { return c.inputs[i].App < c.inputs[j].App })
	for i, in := range c.inputs {
		if err := apppath.Validate(in.App); err != nil {
			return nil, fmt.Errorf("app file %s: %w", in.Src, err)
		}
		if first, _, _ := strings.Cut(in.App, "/"); strings.EqualFold(first, launch.BytecodeDir) {
			return nil, fmt.Errorf("app file %s: the app path %s is reserved for the sealed bytecode signet writes; rename it", in.Src, in.App)
		}
		if i > 0 && c.inputs[i-1].App == in.App {
			return nil, fmt.Errorf("app path %s is given twice (%s and %s)", in.App, c.inputs[i-1].Src, in.Src)
		}
	}
	if len(c.inputs) == 0 {
		return nil, errors.New("the app has no files")
	}
	return &c, nil
}

// walk lists every regular file under root. Anything else (a symlink, device, FIFO,
// socket) is refused: the loader verifies regular files only.
func (c *collected) walk(root, exclude string, skipPycache bool, skipDir string) error {
	if root == "" {
		return errors.New("--root is required when no explicit files are given")
	}
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("--root: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("--root %s is not a directory", root)
	}
	var excludeInfo, skipInfo fs.FileInfo
	if exclude != "" {
		excludeInfo, _ = os.Lstat(exclude)
	}
	if skipDir != "" {
		skipInfo, _ = os.Stat(skipDir)
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading the app tree: %w", err)
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("reading the app tree: %w", err)
		}
		app := filepath.ToSlash(rel)
		switch t := d.Type(); {
		case t.IsDir():
			if skipInfo != nil {
				if fi, err := d.Info(); err == nil && os.SameFile(fi, skipInfo) {
					return fs.SkipDir // the bundled runtime, sealed as such
				}
			}
			if app == launch.BytecodeDir {
				// sealed bytecode of an earlier seal: compiled anew, never an input
				c.skipped = append(c.skipped, app)
				return fs.SkipDir
			}
			if d.Name() == pycacheDir {
				if !skipPycache {
					return fmt.Errorf("app directory %s: remove __pycache__ directories (run Python with -B) before sealing in place: the loader refuses them as UNEXPECTED", app)
				}
				c.skipped = append(c.skipped, app)
				return fs.SkipDir
			}
			return nil
		case t.IsRegular():
			if excludeInfo != nil {
				if fi, err := d.Info(); err == nil && os.SameFile(fi, excludeInfo) {
					return nil // the loader being (re)written
				}
			}
			c.inputs = append(c.inputs, Input{Src: p, App: app})
			return nil
		case t&fs.ModeSymlink != 0:
			return fmt.Errorf("app file %s is a symlink: signet seals regular files only; replace it with a copy of what it points to", app)
		default:
			return fmt.Errorf("app file %s is not a regular file (%s): remove it from the app tree", app, describeType(t))
		}
	})
}

func describeType(t fs.FileMode) string {
	switch {
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a device"
	}
	return t.String()
}

// checkPortable refuses app paths that cannot be delivered to goos.
func checkPortable(inputs []Input, goos string) error {
	paths := make([]string, len(inputs))
	for i, in := range inputs {
		paths[i] = in.App
	}
	errs := portability.Check(paths, goos)
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("the app cannot be delivered to %s; rename these files:\n%w", goos, errors.Join(errs...))
}

// hashInputs returns the sealed record of every input, in order, hashing on all cores. With
// keepSources, it also returns the bytes it hashed of every module and the entry script, by
// app path, to be compiled to sealed bytecode.
func hashInputs(inputs []Input, entry string, keepSources bool) ([]manifest.File, map[string][]byte, error) {
	files := make([]manifest.File, len(inputs))
	errs := make([]error, len(inputs))
	kept := make([][]byte, len(inputs))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.NumCPU(), len(inputs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				in := inputs[i]
				role := manifest.RoleForPath(in.App)
				if in.App == entry {
					role = manifest.RoleEntry
				}
				keep := keepSources && (role == manifest.RoleModule || role == manifest.RoleEntry)
				size, sum, data, err := hashFile(in.Src, keep)
				if err != nil {
					errs[i] = fmt.Errorf("app file %s: %w", in.App, err)
					continue
				}
				kept[i] = data
				files[i] = manifest.File{Path: in.App, Size: size, SHA256: sum, Role: role}
			}
		}()
	}
	for i := range inputs {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	var sources map[string][]byte
	if keepSources {
		sources = map[string][]byte{}
		for i, data := range kept {
			if data != nil {
				sources[inputs[i].App] = data
			}
		}
	}
	return files, sources, nil
}

// hashFile hashes a regular file (following symlinks: explicit inputs may be links into a
// build tree), returning its size and digest, and with keep the bytes it hashed (never nil
// then).
func hashFile(name string, keep bool) (int64, [32]byte, []byte, error) {
	var sum [32]byte
	f, err := os.Open(name)
	if err != nil {
		return 0, sum, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, sum, nil, err
	}
	if !fi.Mode().IsRegular() {
		return 0, sum, nil, fmt.Errorf("%s is not a regular file", name)
	}
	if keep {
		data, err := io.ReadAll(f)
		if err != nil {
			return 0, sum, nil, err
		}
		if data == nil {
			data = []byte{}
		}
		return int64(len(data)), sha256.Sum256(data), data, nil
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, sum, nil, err
	}
	h.Sum(sum[:0])
	return n, sum, nil, nil
}

// runtimeFiles lists the interpreter's own files for --seal-runtime: every file under its
// existing sys.path directories, the sys.path zip files, and the libpython files it maps.
// Symlinks to files are sealed under the link's path with the target's content (that is
// what an open through the link reads); symlinks to directories are not followed.
func runtimeFiles(in *interpreter, goos string) ([]manifest.File, error) {
	seen := map[string]bool{}
	var files []manifest.File
	add := func(p string) error {
		rec, err := AbsoluteFor(filepath.ToSlash(p), goos)
		if err != nil {
			return fmt.Errorf("runtime file: %w", err)
		}
		if seen[rec] {
			return nil
		}
		seen[rec] = true
		size, sum, _, err := hashFile(p, false)
		if err != nil {
			return fmt.Errorf("runtime file %s: %w", p, err)
		}
		files = append(files, manifest.File{Path: rec, Size: size, SHA256: sum, Role: manifest.RoleRuntime})
		return nil
	}
	for _, entry := range append(append([]string(nil), in.searchPath...), in.libs...) {
		fi, err := os.Stat(entry)
		if err != nil {
			return nil, fmt.Errorf("runtime path %s: %w", entry, err)
		}
		if !fi.IsDir() {
			if err := add(entry); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(entry, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("runtime path %s: %w", p, err)
			}
			switch {
			case d.Type().IsRegular():
				return add(p)
			case d.Type()&fs.ModeSymlink != 0:
				if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
					return add(p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// cleanMain turns --main into an app path ("./hello.py" is "hello.py").
func cleanMain(main string) (string, error) {
	if main == "" {
		return "", errors.New("--main is required: the entry script, relative to --root")
	}
	p := path.Clean(filepath.ToSlash(main))
	if strings.HasPrefix(p, "../") || p == ".." {
		return "", fmt.Errorf("--main %s is outside the app root", main)
	}
	if err := apppath.Validate(p); err != nil {
		return "", fmt.Errorf("--main: %w", err)
	}
	return p, nil
}
