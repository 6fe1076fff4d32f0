package verifycache

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/signet/internal/treecheck"
)

func id(ino uint64, ctime time.Time) treecheck.FileID {
	return treecheck.FileID{Dev: 1, Ino: ino, Size: 10, MtimeSec: ctime.Unix(), MtimeNsec: int64(ctime.Nanosecond()),
		CtimeSec: ctime.Unix(), CtimeNsec: int64(ctime.Nanosecond())}
}

func TestRememberAndKnown(t *testing.T) {
	now := time.Now()
	c := &Cache{since: now.Add(-Margin).UnixNano(), records: make([]record, 3), changed: make([]bool, 3)}
	old, recent := now.Add(-time.Hour), now.Add(-time.Second)
	c.Remember(0, id(10, old))
	c.Remember(1, id(11, recent)) // changed within the margin: not remembered
	c.Remember(7, id(12, old))    // out of range: ignored
	for _, tc := range []struct {
		i    int
		id   treecheck.FileID
		want bool
	}{
		{0, id(10, old), true},
		{0, id(99, old), false},                      // another inode
		{0, id(10, old.Add(time.Nanosecond)), false}, // changed since
		{1, id(11, recent), false},
		{2, id(12, old), false},
		{-1, id(10, old), false},
	} {
		if got := c.Known(tc.i, tc.id); got != tc.want {
			t.Errorf("Known(%d, %+v) = %v, want %v", tc.i, tc.id, got, tc.want)
		}
	}
	// Remembering what is already known changes nothing to save.
	c.changed[0] = false
	c.Remember(0, id(10, old))
	if c.changed[0] {
		t.Error("remembering the same identity again marked the cache changed")
	}
	var nilCache *Cache
	if nilCache.Known(0, id(10, old)) {
		t.Error("a nil cache knows something")
	}
	nilCache.Remember(0, id(10, old))
	nilCache.Save()
}

func TestEncodeDecode(t *testing.T) {
	key := [32]byte{1, 2, 3}
	c := &Cache{key: key, records: make([]record, 4), changed: make([]bool, 4), since: time.Now().UnixNano()}
	old := time.Now().Add(-time.Hour)
	c.Remember(1, id(5, old))
	c.Remember(3, id(6, old))
	b := c.encode()
	got, err := decode(b, key, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !got[1].set || got[1].id != id(5, old) || !got[3].set || got[0].set || got[2].set {
		t.Errorf("decoded %+v", got)
	}
	bad := []struct {
		name string
		b    []byte
		n    int
	}{
		{"empty", nil, 4},
		{"another key", append(append(append([]byte{}, b[:16]...), make([]byte, 32)...), b[48:]...), 4},
		{"fewer files now", b, 2},
		{"truncated", b[:len(b)-1], 4},
		{"extra byte", append(append([]byte{}, b...), 0), 4},
		{"bad magic", append([]byte("X"), b[1:]...), 4},
	}
	for _, tc := range bad {
		if _, err := decode(tc.b, key, tc.n); !errors.Is(err, errDamaged) {
			t.Errorf("%s: err = %v, want errDamaged", tc.name, err)
		}
	}
	// indexes must increase
	swapped := append([]byte{}, b...)
	r1 := append([]byte{}, swapped[headerSize:headerSize+recordSize]...)
	copy(swapped[headerSize:], swapped[headerSize+recordSize:headerSize+2*recordSize])
	copy(swapped[headerSize+recordSize:], r1)
	if _, err := decode(swapped, key, 4); err == nil {
		t.Error("records out of order were accepted")
	}
}

func FuzzDecode(f *testing.F) {
	key := [32]byte{9}
	c := &Cache{key: key, records: make([]record, 3), changed: make([]bool, 3), since: time.Now().UnixNano()}
	c.Remember(2, id(1, time.Now().Add(-time.Hour)))
	f.Add(c.encode(), 3)
	f.Add([]byte("signet-vcache 1\n"), 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		records, err := decode(b, key, n)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		again := (&Cache{key: key, records: records}).encode()
		if !bytes.Equal(again, b) {
			t.Fatalf("decode accepted %x, which encodes as %x", b, again)
		}
	})
}

// TestOpenAndSave runs the cache for real in a private cache directory: it is created owner
// only, saved and read back; an unsafe directory or file is not used.
func TestOpenAndSave(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	app := t.TempDir()
	manifest := sha256.Sum256([]byte("signet-manifest 1\n..."))
	c := Open(manifest, app, 2)
	if c == nil {
		var st syscall.Statfs_t
		syscall.Statfs(app, &st)
		msg := fmt.Sprintf("the test directory's file system (statfs type %#x) is not one the cache trusts", st.Type)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	old := time.Now().Add(-time.Hour)
	c.Remember(0, id(42, old))
	c.Save()
	fi, err := os.Stat(c.file)
	if err != nil {
		t.Fatalf("not saved: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v, want 0600", fi.Mode())
	}
	if dfi, err := os.Stat(filepath.Dir(c.file)); err != nil || dfi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory mode %v (%v), want 0700", dfi.Mode(), err)
	}
	if again := Open(manifest, app, 2); again == nil || !again.Known(0, id(42, old)) {
		t.Errorf("the saved record was not read back")
	}
	if other := Open(sha256.Sum256([]byte("another manifest")), app, 2); other == nil || other.Known(0, id(42, old)) {
		t.Errorf("another manifest's cache knows the file")
	}
	// A cache file others may read is not used.
	if err := os.Chmod(c.file, 0o640); err != nil {
		t.Fatal(err)
	}
	if again := Open(manifest, app, 2); again == nil || again.Known(0, id(42, old)) {
		t.Errorf("a group-readable cache file was used")
	}
	// A cache directory others may write is not used at all.
	if err := os.Chmod(filepath.Dir(c.file), 0o770); err != nil {
		t.Fatal(err)
	}
	if Open(manifest, app, 2) != nil {
		t.Errorf("a group-writable cache directory was used")
	}
	if err := os.Chmod(filepath.Dir(c.file), 0o700); err != nil {
		t.Fatal(err)
	}
	// A writable home above it is not trusted either.
	if err := os.Chmod(home, 0o777); err != nil {
		t.Fatal(err)
	}
	if Open(manifest, app, 2) != nil {
		t.Errorf("a cache under a world-writable (not sticky) directory was used")
	}
}
