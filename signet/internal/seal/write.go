package seal

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/signet-dev/signet/signet/internal/manifest"
)

// writeAtomic writes data to name through a temporary file in the same directory that is
// synced and then renamed over name, so that name is either untouched or complete. The
// temporary file is removed on any failure.
func writeAtomic(name string, mode os.FileMode, write func(w io.Writer) error) error {
	return writeFile(name, mode, true, write)
}

// writeAtomicLater is writeAtomic without the syncs: the caller makes a batch of such files
// durable at once with syncWritten before anything depends on them. Syncing each of the
// thousands of files of a large app one after another cost seconds (a journal commit each).
func writeAtomicLater(name string, mode os.FileMode, write func(w io.Writer) error) error {
	return writeFile(name, mode, false, write)
}

func writeFile(name string, mode os.FileMode, sync bool, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
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
	if sync {
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
	if sync {
		syncDir(dir)
	}
	return nil
}

// syncDir makes a rename in dir durable where the OS supports syncing a directory; it is
// best effort (Windows cannot open directories for syncing).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// writeLoader writes the sealed loader atomically, executable.
func writeLoader(name string, loader []byte) error {
	if fi, err := os.Lstat(name); err == nil && fi.IsDir() {
		return fmt.Errorf("writing the loader: %s is a directory; -o takes the loader's file path, e.g. dist/hello", name)
	}
	err := writeAtomic(name, 0o755, func(w io.Writer) error {
		_, err := w.Write(loader)
		return err
	})
	if err != nil {
		return fmt.Errorf("writing the loader: %w", err)
	}
	return nil
}

// copyApp copies every sealed file from its input into dir, each atomically. What is
// written is checked against the sealed size and digest as it is copied, so a file that
// changed since it was hashed is never delivered under the old seal.
func copyApp(dir string, inputs []Input, m *manifest.Manifest) (int, error) {
	for i, in := range inputs {
		sealed, ok := m.Lookup(in.App)
		if !ok {
			return i, fmt.Errorf("copying app file %s: not in the manifest", in.App)
		}
		dest := filepath.Join(dir, filepath.FromSlash(in.App))
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return i, fmt.Errorf("copying app file %s: %w", in.App, err)
		}
		if fi, err := os.Lstat(dest); err == nil && fi.IsDir() {
			return i, fmt.Errorf("copying app file %s: %s is a directory", in.App, dest)
		}
		if err := copyOne(in, dest, sealed); err != nil {
			return i, fmt.Errorf("copying app file %s: %w", in.App, err)
		}
	}
	return len(inputs), nil
}

func copyOne(in Input, dest string, sealed manifest.File) error {
	src, err := os.Open(in.Src)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if fi.Mode()&0o111 != 0 {
		mode = 0o755
	}
	return writeAtomicLater(dest, mode, func(w io.Writer) error {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), src)
		if err != nil {
			return err
		}
		if n != sealed.Size || !bytes.Equal(h.Sum(nil), sealed.SHA256[:]) {
			return fmt.Errorf("%s changed while it was being sealed; seal again", in.Src)
		}
		return nil
	})
}
