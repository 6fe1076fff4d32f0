//go:build !linux

package treecheck

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// portableTree is the fallback without openat: every directory component of
// a sealed path is checked with Lstat (once per directory), the file itself
// is Lstat'ed, opened, and the opened file must be the same file
// (os.SameFile) as the one Lstat saw, so a symlink or other file swapped in
// between is caught and what is hashed is what was opened. A directory
// component swapped for a link between its check and the file's open remains
// a (narrow) race on these systems; Linux has none.
type portableTree struct {
	root string
	mu   sync.Mutex
	dirs map[string]dirVerdict
}

type dirVerdict struct {
	kind   Kind
	detail string
}

func openTree(root string, files []Sealed) (tree, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &os.PathError{Op: "open", Path: root, Err: errors.New("not a directory")}
	}
	return &portableTree{root: root, dirs: make(map[string]dirVerdict)}, nil
}

func (t *portableTree) close() {}

func (t *portableTree) full(rel string) string {
	return filepath.Join(t.root, filepath.FromSlash(rel))
}

// checkDir verifies that every component of dir is a real directory.
func (t *portableTree) checkDir(dir string) dirVerdict {
	if dir == "." || dir == "" {
		return dirVerdict{}
	}
	t.mu.Lock()
	v, ok := t.dirs[dir]
	t.mu.Unlock()
	if ok {
		return v
	}
	if v = t.checkDir(path.Dir(dir)); v.kind == 0 {
		fi, err := os.Lstat(t.full(dir))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			v = dirVerdict{kind: Missing}
		case err != nil:
			v = dirVerdict{kind: Modified, detail: fmt.Sprintf(detailComponentFmt, printablePath(dir), fmt.Sprintf(detailCannotStatFmt, err))}
		case !fi.IsDir():
			v = dirVerdict{kind: Modified, detail: componentDetail(dir, fi.Mode(), true)}
		}
	}
	t.mu.Lock()
	t.dirs[dir] = v
	t.mu.Unlock()
	return v
}

func (t *portableTree) open(rel string, _ func(FileID) bool) (io.ReadCloser, int64, *FileID, Kind, string) {
	if v := t.checkDir(path.Dir(rel)); v.kind != 0 {
		return nil, 0, nil, v.kind, v.detail
	}
	name := t.full(rel)
	before, err := os.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, 0, nil, Missing, ""
	case err != nil:
		return nil, 0, nil, Modified, fmt.Sprintf(detailCannotStatFmt, err)
	case !before.Mode().IsRegular():
		return nil, 0, nil, Modified, typeDetail(before.Mode())
	}
	f, err := os.OpenFile(name, os.O_RDONLY|extraOpenFlags, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, nil, Missing, ""
		}
		return nil, 0, nil, Modified, fmt.Sprintf(detailCannotOpenFmt, err)
	}
	after, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, Modified, fmt.Sprintf(detailCannotStatFmt, err)
	}
	if !after.Mode().IsRegular() {
		f.Close()
		return nil, 0, nil, Modified, typeDetail(after.Mode())
	}
	if !os.SameFile(before, after) {
		f.Close()
		return nil, 0, nil, Modified, detailSwapped
	}
	return f, after.Size(), nil, 0, ""
}

func (t *portableTree) readDir(rel string) ([]fs.DirEntry, error) {
	name := t.root
	if rel != "" {
		name = t.full(rel)
		// The scanner only descends into entries listed as directories;
		// re-check that no component became a link since.
		for d := rel; d != "."; d = path.Dir(d) {
			fi, err := os.Lstat(t.full(d))
			if err != nil {
				return nil, err
			}
			if !fi.IsDir() {
				return nil, fmt.Errorf("%s: %s", strings.TrimSpace(name), "changed while being scanned")
			}
		}
	}
	return os.ReadDir(name)
}
