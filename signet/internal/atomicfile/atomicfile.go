// Package atomicfile writes files so that a reader sees either the old file or the complete
// new one, never a part: the bytes go to a temporary file in the same directory, which is
// renamed over the target last. On any failure the temporary file is removed and the target
// is untouched.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Options say how a file is written.
type Options struct {
	// NoSync leaves out the fsync of the file and its directory: the caller makes a batch of
	// files durable at once before anything depends on them (one sync per file costs a
	// journal commit each).
	NoSync bool
}

// Write writes name with mode through write, atomically. Errors name the file.
func Write(name string, mode os.FileMode, write func(io.Writer) error) error {
	return WriteWith(name, mode, Options{}, write)
}

// WriteBytes writes data to name with mode, atomically.
func WriteBytes(name string, mode os.FileMode, data []byte) error {
	return Write(name, mode, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// WriteWith is Write with options.
func WriteWith(name string, mode os.FileMode, o Options, write func(io.Writer) error) error {
	if err := writeFile(name, mode, o, write); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

func writeFile(name string, mode os.FileMode, o Options, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	// CreateTemp makes the file with O_EXCL and mode 0600: nobody can have it open before us.
	tmp, err := os.CreateTemp(dir, "."+base+".signet-tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if !o.NoSync {
		if err := tmp.Sync(); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	if !o.NoSync {
		SyncDir(dir)
	}
	return nil
}

// SyncDir makes renames in dir durable where the OS supports syncing a directory; it is best
// effort (Windows cannot open directories for syncing).
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
