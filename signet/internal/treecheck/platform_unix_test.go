//go:build unix

package treecheck

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// platformCases need symlinks and FIFOs.
func platformCases() []treeCase {
	return []treeCase{
		{
			name: "symlink replacing a sealed file (same content)",
			mutate: func(t *testing.T, root string) {
				outside := filepath.Join(t.TempDir(), "mod.py")
				mustWrite(t, outside, baseTree["pkg/mod.py"])
				must(t, os.Remove(in(root, "pkg/mod.py")))
				must(t, os.Symlink(outside, in(root, "pkg/mod.py")))
			},
			want: []want{{Modified, "pkg/mod.py", "is a symlink"}},
		},
		{
			name: "symlinked parent directory",
			mutate: func(t *testing.T, root string) {
				outside := filepath.Join(t.TempDir(), "pkg")
				must(t, os.Rename(in(root, "pkg"), outside))
				must(t, os.Symlink(outside, in(root, "pkg")))
			},
			want: []want{
				{Modified, "pkg/__init__.py", "path component pkg is a symlink"},
				{Modified, "pkg/mod.py", "path component pkg is a symlink"},
				{Modified, "pkg/sub/deep.py", "path component pkg is a symlink"},
			},
		},
		{
			name: "symlinked nested directory",
			mutate: func(t *testing.T, root string) {
				must(t, os.Rename(in(root, "pkg/sub"), in(root, "moved")))
				must(t, os.Symlink("../moved", in(root, "pkg/sub")))
			},
			want: []want{
				// The moved directory holds an unsealed .py now.
				{Unexpected, "moved/deep.py", "importable file not in the seal"},
				{Modified, "pkg/sub/deep.py", "path component pkg/sub is a symlink"},
			},
		},
		{
			name: "unsealed symlinks anywhere",
			mutate: func(t *testing.T, root string) {
				must(t, os.Symlink("/etc/passwd", in(root, "data/link")))
				must(t, os.Symlink("config.txt", in(root, "data/config2.txt")))
				must(t, os.Symlink("/nonexistent", in(root, "dangling")))
			},
			want: []want{
				{Unexpected, "dangling", "symlink not in the seal"},
				{Unexpected, "data/config2.txt", "symlink not in the seal"},
				{Unexpected, "data/link", "symlink not in the seal"},
			},
		},
		{
			name: "FIFO in place of a sealed file does not block",
			mutate: func(t *testing.T, root string) {
				must(t, os.Remove(in(root, "pkg/mod.py")))
				must(t, syscall.Mkfifo(in(root, "pkg/mod.py"), 0o644))
			},
			want: []want{{Modified, "pkg/mod.py", "is not a regular file (fifo)"}},
		},
		{
			name: "unsealed FIFO with an importable name",
			mutate: func(t *testing.T, root string) {
				must(t, syscall.Mkfifo(in(root, "pkg/trap.py"), 0o644))
				must(t, syscall.Mkfifo(in(root, "data/pipe"), 0o644))
			},
			want: []want{{Unexpected, "pkg/trap.py", "importable file not in the seal"}},
		},
	}
}
