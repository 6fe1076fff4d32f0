package seal

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

// WriteTar writes the delivery as a reproducible tar: the loader and every sealed file at its
// app path, with their parent directories, sorted by name; owner 0:0 without names, a fixed
// mtime, mode 0755 for directories and the loader and 0644 for files. Each input is checked
// against the digest just sealed while it is copied, so the archive holds what was sealed.
func (d *Delivery) WriteTar(w io.Writer) error {
	type entry struct {
		name string
		dir  bool
	}
	seen := map[string]bool{}
	var entries []entry
	add := func(name string) {
		for i := strings.IndexByte(name, '/'); i >= 0; i = nextSlash(name, i) {
			if dir := name[:i+1]; !seen[dir] {
				seen[dir] = true
				entries = append(entries, entry{name: dir, dir: true})
			}
		}
		entries = append(entries, entry{name: name})
	}
	add(d.LoaderName)
	for _, f := range d.Manifest.Files {
		add(f.Path)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	generated := make(map[string][]byte, len(d.generated))
	for _, g := range d.generated {
		generated[g.app] = g.data
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
		case e.name == d.LoaderName:
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o755, int64(len(d.Loader))
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := tw.Write(d.Loader); err != nil {
				return err
			}
		default:
			if err := d.writeTarFile(tw, hdr, e.name, generated); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// writeTarFile writes the sealed file at app path name, checking its bytes against the seal.
func (d *Delivery) writeTarFile(tw *tar.Writer, hdr *tar.Header, name string, generated map[string][]byte) error {
	f, ok := d.Manifest.Lookup(name)
	if !ok {
		return fmt.Errorf("archiving app file %s: not in the manifest", name)
	}
	hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, f.Size
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	var r io.Reader
	src := "sealed bytecode"
	if data, ok := generated[name]; ok {
		r = bytes.NewReader(data)
	} else {
		in, ok := d.input(name)
		if !ok {
			return fmt.Errorf("archiving app file %s: no input for it", name)
		}
		fh, err := os.Open(in.Src)
		if err != nil {
			return fmt.Errorf("archiving app file %s: %w", name, err)
		}
		defer fh.Close()
		r, src = fh, in.Src
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(r, f.Size+1))
	if err != nil {
		return fmt.Errorf("archiving app file %s: %w", name, err)
	}
	if n != f.Size || [32]byte(h.Sum(nil)) != f.SHA256 {
		return fmt.Errorf("app file %s (%s) changed while it was being sealed; seal again", name, src)
	}
	return nil
}

// input returns the input of app path name (inputs are sorted by app path).
func (d *Delivery) input(name string) (Input, bool) {
	i := sort.Search(len(d.inputs), func(i int) bool { return d.inputs[i].App >= name })
	if i < len(d.inputs) && d.inputs[i].App == name {
		return d.inputs[i], true
	}
	return Input{}, false
}

// nextSlash returns the index of the next '/' in name after i, or -1.
func nextSlash(name string, i int) int {
	j := strings.IndexByte(name[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}
