package verifycache

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Local file systems whose kernel drivers set the change time on every change (statfs
// f_type values, from linux/magic.h).
var trustedFS = map[int64]bool{
	0xEF53:     true, // ext2/3/4
	0x58465342: true, // XFS
	0x9123683E: true, // Btrfs
	0x01021994: true, // tmpfs
	0x794C7630: true, // overlayfs
	0xF2F52010: true, // F2FS
	0x2FC12FC1: true, // ZFS
}

// dirName is the cache directory's name under the user's cache directory.
const dirName = "signet-verified"

// Open returns the cache of the app tree at root for the manifest whose SHA-256 is
// manifestDigest (the loader's payload check computes it), for files checked files, or nil
// when no cache can be used safely (see the package comment). It never fails.
func Open(manifestDigest [32]byte, root string, files int) *Cache {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(root, &fs); err != nil || !trustedFS[int64(fs.Type)] {
		return nil
	}
	dir := cacheDir()
	if dir == "" {
		return nil
	}
	h := sha256.New()
	h.Write(manifestDigest[:])
	h.Write([]byte(root))
	c := &Cache{since: time.Now().Add(-Margin).UnixNano(), records: make([]record, files), changed: make([]bool, files)}
	h.Sum(c.key[:0])
	c.file = filepath.Join(dir, hex.EncodeToString(c.key[:16]))
	if b, ok := readOwn(c.file, maxSize(files)); ok {
		if records, err := decode(b, c.key, files); err == nil {
			c.records = records
		}
	}
	return c
}

// Save writes the cache if this run remembered anything new: to a new file in the cache
// directory, renamed over the old one. Failures are ignored: they only cost time next start.
func (c *Cache) Save() {
	if c == nil {
		return
	}
	changed := false
	for _, ch := range c.changed {
		changed = changed || ch
	}
	if !changed {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.file), ".tmp-*") // O_EXCL, mode 0600
	if err != nil {
		return
	}
	_, err = tmp.Write(c.encode())
	if cerr := tmp.Close(); err == nil && cerr == nil {
		err = os.Rename(tmp.Name(), c.file)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}

// cacheDir returns the cache directory, created if missing, when it and every directory
// above it are safe (owned by the user or root, writable by no one else; a sticky directory
// above is accepted); else "".
func cacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil || !filepath.IsAbs(base) {
		return ""
	}
	dir := filepath.Join(base, dirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return ""
	}
	uid := uint32(os.Geteuid())
	for p, above := real, false; ; p, above = filepath.Dir(p), true {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return ""
		}
		owner := st.Uid == uid || st.Uid == 0
		sticky := st.Mode&syscall.S_ISVTX != 0 && above
		if !owner || (st.Mode&0o022 != 0 && !sticky) || (!above && (st.Uid != uid || st.Mode&0o077 != 0)) {
			return ""
		}
		if p == filepath.Dir(p) {
			return real
		}
	}
}

// readOwn reads the file name if it is a regular file owned by the user, readable by no one
// else, and at most limit bytes.
func readOwn(name string, limit int64) ([]byte, bool) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, false
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG ||
		st.Uid != uint32(os.Geteuid()) || st.Mode&0o077 != 0 || st.Size > limit {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil || int64(len(b)) > limit {
		return nil, false
	}
	return b, true
}
