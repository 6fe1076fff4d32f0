package launch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

// TestPreloadIsSentOnlyWhenEveryFileWasChecked: bytes the start-up check captured are sent
// as they are (the files are not read again), but only when every preloaded file passed its
// check (Verified); a slot that was filled but not verified (its file failed) makes
// BuildPayload fall back to reading and verifying the files itself.
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

	raw := []byte(m) // the loader lays out and launches with the same manifest slice
	p := NewPreload(raw)
	if p == nil {
		t.Fatal("NewPreload = nil for a manifest with module bytecode")
	}
	if p.Slot("main.py") != nil {
		t.Error("Slot gave a buffer for a file that is not preloaded")
	}
	copy(p.Slot(files[0].path), files[0].content)
	p.Verified(files[0].path)
	copy(p.Slot(files[1].path), files[1].content) // filled, but its check failed: not Verified

	half := BuildPayload(Config{AppRoot: root, Manifest: raw, Preload: p})
	if half.PycLen != 0 {
		t.Errorf("with one preloaded file not verified, PycLen = %d, want 0 (read from disk instead)", half.PycLen)
	}

	p.Verified(files[1].path)
	p.Verified(files[1].path) // counted once
	p.Verified("main.py")     // not a slot: ignored
	full := BuildPayload(Config{AppRoot: root, Manifest: raw, Preload: p})
	want := []byte("AAAABB")
	got := full.Data[full.BootLen+full.LazyLen : full.BootLen+full.LazyLen+full.PycLen]
	if !bytes.Equal(got, want) {
		t.Errorf("preloaded bytes = %q, want %q", got, want)
	}

	if NewPreload([]byte("signet-manifest 1\n")) != nil {
		t.Error("NewPreload of a manifest without a python-version is not nil")
	}
	var none *Preload
	if none.Slot(files[0].path) != nil {
		t.Error("a nil Preload gave a slot")
	}
}

// TestPreloadLaysOutTheWholePayload: with sealed bytecode of this revision's bootstrap, the
// preload's slots cover both bootstrap parts and the module bytecode, in payload order, so
// a complete preload is the payload itself (bootstrap, lazy bootstrap, modules, manifest)
// and nothing is read from disk; a payload for another manifest is never taken from it.
func TestPreloadLaysOutTheWholePayload(t *testing.T) {
	parts := BootstrapParts("3.11")
	files := []struct{ path, content string }{
		{parts[0].Path, "BOOT"},
		{"__signet_pyc__/3.11/a.py.pyc", "AAAA"},
		{parts[1].Path, "LAZY!"},
		{"__signet_pyc__/3.11/pkg/b.py.pyc", "BB"},
	}
	m := "signet-manifest 1\nentry main.py\nlevel enforce\npython-path /p\npython-version 3.11\npython-sha256 -\nseal-runtime off\n"
	for _, f := range files {
		sum := sha256.Sum256([]byte(f.content))
		m += "file " + hex.EncodeToString(sum[:]) + " " + string(rune('0'+len(f.content))) + " bytecode " + f.path + "\n"
	}
	root := t.TempDir() // empty: anything read from disk would be missing

	raw := []byte(m) // the loader lays out and launches with the same manifest slice
	p := NewPreload(raw)
	for _, f := range files {
		slot := p.Slot(f.path)
		if len(slot) != len(f.content) {
			t.Fatalf("Slot(%s) has %d bytes, want %d", f.path, len(slot), len(f.content))
		}
		copy(slot, f.content)
		p.Verified(f.path)
	}
	got := BuildPayload(Config{AppRoot: root, Manifest: raw, Preload: p})
	want := Payload{Data: []byte("BOOTLAZY!AAAABB" + m), Form: "pyc", BootLen: 4, LazyLen: 5, PycLen: 6}
	if got.Form != want.Form || got.BootLen != want.BootLen || got.LazyLen != want.LazyLen ||
		got.PycLen != want.PycLen || !bytes.Equal(got.Data, want.Data) {
		t.Errorf("BuildPayload: form %s, lengths %d/%d/%d, data %q...\nwant form %s, lengths %d/%d/%d, data %q...",
			got.Form, got.BootLen, got.LazyLen, got.PycLen, head(got.Data), want.Form, want.BootLen, want.LazyLen, want.PycLen, head(want.Data))
	}

	other := []byte(m + "file " + strings.Repeat("0", 64) + " 1 app x.py\n")
	fromDisk := BuildPayload(Config{AppRoot: root, Manifest: other, Preload: p})
	if fromDisk.Form != "py" || !bytes.HasSuffix(fromDisk.Data, other) {
		t.Errorf("a preload laid out for another manifest was used: form %q", fromDisk.Form)
	}
}

// TestPreloadIsBounded: module bytecode beyond maxPreload in total is not preloaded at all
// (each module is then read and verified at import); the bootstrap's bytecode still is.
func TestPreloadIsBounded(t *testing.T) {
	parts := BootstrapParts("3.11")
	m := "signet-manifest 1\nentry main.py\nlevel enforce\npython-path /p\npython-version 3.11\npython-sha256 -\nseal-runtime off\n"
	zero := strings.Repeat("0", 64)
	m += "file " + zero + " 4 bytecode " + parts[0].Path + "\n"
	m += "file " + zero + " 5 bytecode " + parts[1].Path + "\n"
	half := strconv.Itoa(maxPreload/2 + 1)
	m += "file " + zero + " " + half + " bytecode __signet_pyc__/3.11/a.py.pyc\n"
	m += "file " + zero + " " + half + " bytecode __signet_pyc__/3.11/b.py.pyc\n"

	p := NewPreload([]byte(m))
	if p.payload.PycLen != 0 || p.Slot("__signet_pyc__/3.11/a.py.pyc") != nil {
		t.Errorf("%d bytes of module bytecode were preloaded, over the bound of %d", p.payload.PycLen, maxPreload)
	}
	if p.payload.Form != "pyc" || len(p.Slot(parts[0].Path)) != 4 || len(p.Slot(parts[1].Path)) != 5 {
		t.Errorf("the bootstrap's bytecode is not preloaded with too much module bytecode: form %q", p.payload.Form)
	}
	if p.Len() != 4+5+len(m) {
		t.Errorf("payload of %d bytes, want %d", p.Len(), 4+5+len(m))
	}
}

// head is the start of a payload, for messages.
func head(b []byte) []byte { return b[:min(len(b), 40)] }
