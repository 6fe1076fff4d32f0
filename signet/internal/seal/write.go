package seal

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/signet-dev/signet/signet/internal/atomicfile"
	"github.com/signet-dev/signet/signet/internal/manifest"
)

// writeLoader writes the sealed loader atomically, executable.
func writeLoader(name string, loader []byte) error {
	if fi, err := os.Lstat(name); err == nil && fi.IsDir() {
		return fmt.Errorf("writing the loader: %s is a directory; -o takes the loader's file path, e.g. dist/hello", name)
	}
	if err := atomicfile.WriteBytes(name, 0o755, loader); err != nil {
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
	return atomicfile.WriteWith(dest, mode, atomicfile.Options{NoSync: true}, func(w io.Writer) error {
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
