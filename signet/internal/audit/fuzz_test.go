package audit

import (
	"bytes"
	"testing"
)

// FuzzTargetOf feeds hostile bytes to the ELF/PE header reader: it must not panic, and
// whatever it accepts must name a known OS.
func FuzzTargetOf(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00\x01\x00\x00\x00"))
	f.Add([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"))
	f.Add([]byte("#!/bin/sh\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		goos, _, err := targetOf(bytes.NewReader(b), int64(len(b)))
		if err == nil && goos != "linux" && goos != "windows" {
			t.Errorf("targetOf accepted %q as %s", b, goos)
		}
	})
}
