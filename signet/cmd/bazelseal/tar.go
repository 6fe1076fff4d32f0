package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// deliveryMtime is the modification time of every archive entry: 2000-01-01 00:00:00 UTC,
// the "portable" mtime of rules_pkg (some tools mistrust a zero mtime).
var deliveryMtime = time.Unix(946684800, 0).UTC()

// writeDelivery writes the delivery as a tar: the loader and every sealed file at its app
// path, with their parent directories, sorted by name; owner 0:0 without names, the fixed
// mtime, mode 0755 for directories and the loader and 0644 for files. Each input is checked
// against the digest just sealed while it is copied, so the archive holds what was sealed.
func writeDelivery(w io.Writer, loaderName string, loader []byte, s *sealed) error {
	type entry struct {
		name string
		dir  bool
	}
	seen := map[string]bool{}
	var entries []entry
	add := func(name string) {
		for i := strings.IndexByte(name, '/'); i >= 0; i = nextSlash(name, i) {
			if d := name[:i+1]; !seen[d] {
				seen[d] = true
				entries = append(entries, entry{name: d, dir: true})
			}
		}
		entries = append(entries, entry{name: name})
	}
	add(loaderName)
	for _, f := range s.m.Files {
		add(f.Path)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	sealedFile := map[string]int{}
	for i, f := range s.m.Files {
		sealedFile[f.Path] = i
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, ModTime: deliveryMtime, Format: tar.FormatPAX}
		switch {
		case e.dir:
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
		case e.name == loaderName:
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o755, int64(len(loader))
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := tw.Write(loader); err != nil {
				return err
			}
		default:
			f := s.m.Files[sealedFile[e.name]]
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, f.Size
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if err := copySealed(tw, e.name, f.SHA256, f.Size, s); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// copySealed copies the bytes of app path name into w and checks them against the seal.
func copySealed(w io.Writer, name string, digest [32]byte, size int64, s *sealed) error {
	var r io.Reader
	if data, ok := s.generated[name]; ok {
		r = bytes.NewReader(data)
	} else {
		f, err := os.Open(s.srcOf[name])
		if err != nil {
			return fmt.Errorf("copying app file %s: %w", name, err)
		}
		defer f.Close()
		r = f
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, size+1))
	if err != nil {
		return fmt.Errorf("copying app file %s: %w", name, err)
	}
	if n != size || [32]byte(h.Sum(nil)) != digest {
		return fmt.Errorf("app file %s (%s) changed while it was sealed", name, s.srcOf[name])
	}
	return nil
}

// nextSlash returns the index of the next '/' in name after i, or -1.
func nextSlash(name string, i int) int {
	j := strings.IndexByte(name[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}
