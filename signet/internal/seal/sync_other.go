//go:build !linux

package seal

import (
	"os"
	"path"
	"path/filepath"

	"github.com/signet-dev/signet/signet/internal/atomicfile"
	"github.com/signet-dev/signet/signet/internal/manifest"
)

// syncWritten makes the sealed files under dir durable: each file, then each directory
// once (best effort for directories, which Windows cannot sync).
func syncWritten(dir string, m *manifest.Manifest) error {
	dirs := map[string]bool{}
	for _, f := range m.Files {
		if f.Role == manifest.RoleRuntime {
			continue
		}
		fh, err := os.OpenFile(filepath.Join(dir, filepath.FromSlash(f.Path)), os.O_RDWR, 0)
		if err != nil {
			return err
		}
		err = fh.Sync()
		fh.Close()
		if err != nil {
			return err
		}
		dirs[path.Dir(f.Path)] = true
	}
	for d := range dirs {
		atomicfile.SyncDir(filepath.Join(dir, filepath.FromSlash(d)))
	}
	return nil
}
