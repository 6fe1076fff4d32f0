package audit

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/signet-dev/signet/signet/internal/bytecode"
	"github.com/signet-dev/signet/signet/internal/launch"
	"github.com/signet-dev/signet/signet/internal/limitread"
	"github.com/signet-dev/signet/signet/internal/manifest"
)

// KindBytecode is a sealed bytecode file that is not what its sealed source compiles to (or
// that cannot be checked), found by Options.Recompile.
const KindBytecode = "BYTECODE"

// maxRecompileFile bounds one file read for the recompile check.
const maxRecompileFile = 256 << 20

// recompile checks every sealed bytecode file against its sealed source, compiled again with
// python (Options.Python, else the sealed interpreter when it runs here). Files that do not
// match their own seal are skipped here: the tree check has reported them.
func (r *Report) recompile(ctx context.Context, root string, m *manifest.Manifest, opts Options, sameOS bool) error {
	python := opts.Python
	if python == "" {
		if !sameOS {
			return fmt.Errorf("--recompile: the sealed interpreter %s is for another OS; pass --python with a Python %s for this machine", m.PythonPath, m.PythonVersion)
		}
		python = filepath.FromSlash(m.PythonPath)
		if m.Bundled() {
			python = filepath.Join(root, python)
		}
	}
	if !filepath.IsAbs(python) {
		return fmt.Errorf("--recompile: --python %q: want an absolute path", python)
	}
	prefix := launch.BytecodeDir + "/" + m.PythonVersion + "/"
	boot := map[string]launch.BootstrapPart{}
	for _, p := range launch.BootstrapParts(m.PythonVersion) {
		boot[p.Path] = p
	}
	var pairs []bytecode.Pair
	var paths []string
	for _, f := range m.Files {
		if f.Role != manifest.RoleBytecode {
			continue
		}
		if !strings.HasPrefix(f.Path, prefix) || !strings.HasSuffix(f.Path, ".pyc") {
			if strings.HasPrefix(f.Path, launch.BytecodeDir+"/") {
				r.add(KindBytecode, f.Path, "not sealed bytecode of the sealed Python "+m.PythonVersion+"; the loader never loads it")
			}
			continue // a .pyc the app ships as data: the loader never loads it as a module
		}
		pyc, ok := readSealed(root, f)
		if !ok {
			continue
		}
		var src bytecode.Source
		if part, isBoot := boot[f.Path]; isBoot {
			src = bytecode.Source{Filename: part.Filename, Data: part.Source}
		} else if strings.HasPrefix(f.Path, prefix+"__signet_bootstrap") {
			r.add(KindBytecode, f.Path, "compiled from the bootstrap of another signet revision: check it with the signet that sealed it")
			continue
		} else {
			rel := strings.TrimSuffix(strings.TrimPrefix(f.Path, prefix), ".pyc")
			sf, ok := m.Lookup(rel)
			if !ok || (sf.Role != manifest.RoleModule && sf.Role != manifest.RoleEntry) {
				r.add(KindBytecode, f.Path, "no sealed module "+rel+" to compile it from; the loader never loads it")
				continue
			}
			data, ok := readSealed(root, sf)
			if !ok {
				continue
			}
			src = bytecode.Source{Filename: rel, Data: data}
		}
		pairs = append(pairs, bytecode.Pair{Source: src, Pyc: pyc})
		paths = append(paths, f.Path)
	}
	if len(pairs) == 0 {
		return nil
	}
	version, err := interpreterVersion(ctx, python)
	if err != nil {
		return fmt.Errorf("--recompile: running %s: %w", python, err)
	}
	if version != m.PythonVersion {
		return fmt.Errorf("--recompile: %s is Python %s, but the app was sealed for %s: pass --python with a Python %s", python, version, m.PythonVersion, m.PythonVersion)
	}
	mismatches, err := bytecode.Check(ctx, python, pairs)
	if err != nil {
		return fmt.Errorf("--recompile: %w", err)
	}
	byName := map[string]string{}
	for i, p := range pairs {
		byName[p.Filename] = paths[i]
	}
	for _, mm := range mismatches {
		r.add(KindBytecode, byName[mm.Filename], "not what its sealed source compiles to with "+python+": "+mm.Reason)
	}
	r.Recompiled = len(pairs)
	return nil
}

// readSealed reads a sealed app file and returns its bytes if they match the seal.
func readSealed(root string, f manifest.File) ([]byte, bool) {
	if f.Size > maxRecompileFile {
		return nil, false
	}
	fh, err := os.Open(filepath.Join(root, filepath.FromSlash(f.Path)))
	if err != nil {
		return nil, false
	}
	defer fh.Close()
	b, err := limitread.All(fh, f.Size, f.Path) // a larger file does not match its seal
	if err != nil || int64(len(b)) != f.Size || sha256.Sum256(b) != f.SHA256 {
		return nil, false
	}
	return b, true
}
