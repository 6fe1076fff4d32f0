package treecheck

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestKnownAndRemember checks the hooks a verification cache uses: a file whose identity the
// caller knows is not hashed (so a change that keeps the identity would go unseen, which is
// why the cache accepts only identities the kernel sets), any other file is hashed, and only
// files that matched are remembered, with the identity fstat gave.
func TestKnownAndRemember(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) Sealed {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return Sealed{Path: name, Size: int64(len(content)), SHA256: sha256.Sum256([]byte(content))}
	}
	files := []Sealed{write("a.py", "a = 1\n"), write("b.py", "b = 2\n"), write("c.py", "c = 3\n")}
	// b.py differs from its seal with the same size; c.py too.
	files[1].SHA256 = sha256.Sum256([]byte("b = 9\n"))
	files[2].SHA256 = sha256.Sum256([]byte("c = 9\n"))

	var mu sync.Mutex
	remembered := map[int]FileID{}
	ids := map[int]FileID{}
	opts := Options{
		Known: func(i int, id FileID) bool {
			mu.Lock()
			defer mu.Unlock()
			ids[i] = id
			return i == 2 // the caller vouches for c.py's current state
		},
		Remember: func(i int, id FileID) {
			mu.Lock()
			defer mu.Unlock()
			remembered[i] = id
		},
	}
	problems, err := Check(root, files, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].Path != "b.py" || problems[0].Kind != Modified {
		t.Errorf("problems %v; want only b.py MODIFIED (c.py is known, so not hashed)", problems)
	}
	if _, ok := remembered[0]; !ok || len(remembered) != 1 {
		t.Errorf("remembered %v; want only a.py (b.py failed, c.py was known)", remembered)
	}
	fi, err := os.Stat(filepath.Join(root, "a.py"))
	if err != nil {
		t.Fatal(err)
	}
	if id := remembered[0]; id.Size != fi.Size() || id.MtimeSec != fi.ModTime().Unix() || id.Ino == 0 || ids[0] != id {
		t.Errorf("identity %+v does not describe a.py (%v, %v)", id, fi.Size(), fi.ModTime())
	}
	// A captured file is always read and hashed: its bytes are handed on.
	opts.Capture = func(p string) []byte {
		if p == "c.py" {
			return make([]byte, files[2].Size)
		}
		return nil
	}
	remembered = map[int]FileID{}
	problems, err = Check(root, files, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 2 {
		t.Errorf("with c.py captured, problems %v; want b.py and c.py", problems)
	}
}
