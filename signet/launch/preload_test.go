package launch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestPreloadIsSentOnlyWhenEveryFileWasChecked: bytes the start-up check captured are sent
// as they are (the files are not read again), but only when every preloaded file was handed
// to the check; otherwise BuildPayload falls back to reading and verifying them itself.
func TestPreloadIsSentOnlyWhenEveryFileWasChecked(t *testing.T) {
	files := []struct{ path, content string }{
		{"__signet_pyc__/3.11/a.py.pyc", "AAAA"},
		{"__signet_pyc__/3.11/pkg/b.py.pyc", "BB"},
	}
	m := "signet-manifest 1\nentry main.py\nlevel enforce\npython-path /p\npython-version 3.11\npython-sha256 -\nseal-runtime off\n"
	for _, f := range files {
		sum := sha256.Sum256([]byte(f.content))
		m += "file " + hex.EncodeToString(sum[:]) + " " + string(rune('0'+len(f.content))) + " bytecode " + f.path + "\n"
	}
	root := t.TempDir() // empty: a payload built from disk finds nothing to preload

	p := NewPreload([]byte(m))
	if p == nil {
		t.Fatal("NewPreload = nil for a manifest with module bytecode")
	}
	if p.Slot("main.py") != nil {
		t.Error("Slot gave a buffer for a file that is not preloaded")
	}
	copy(p.Slot(files[0].path), files[0].content)

	half := BuildPayload(Config{AppRoot: root, Manifest: []byte(m), Preload: p})
	if half.PycLen != 0 {
		t.Errorf("with one preloaded file never checked, PycLen = %d, want 0 (read from disk instead)", half.PycLen)
	}

	copy(p.Slot(files[1].path), files[1].content)
	full := BuildPayload(Config{AppRoot: root, Manifest: []byte(m), Preload: p})
	want := []byte("AAAABB")
	got := full.Data[full.BootLen+full.LazyLen : full.BootLen+full.LazyLen+full.PycLen]
	if !bytes.Equal(got, want) {
		t.Errorf("preloaded bytes = %q, want %q", got, want)
	}

	if NewPreload([]byte("signet-manifest 1\n")) != nil {
		t.Error("NewPreload of a manifest without module bytecode is not nil")
	}
	var none *Preload
	if none.Slot(files[0].path) != nil {
		t.Error("a nil Preload gave a slot")
	}
}
