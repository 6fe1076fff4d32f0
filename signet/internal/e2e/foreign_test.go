//go:build linux && signet_emulators

package e2e_test

import (
	"encoding/binary"
	"os"
	"testing"
)

// Loaders for other platforms run here through an emulator named by the environment
// (tools/test-rootfs sets these and the signet_emulators build tag, see requireTool):
//
//   - SIGNET_TEST_WINE: the path of wine (10 or later: Go programs need bcryptprimitives.dll)
//     that runs Windows programs, and SIGNET_TEST_ROOTFS_RUN, when set, a program that runs
//     its arguments inside the root file system holding that wine (tools/rootfs-run; it
//     must share /tmp, where the tests' files are);
//   - SIGNET_TEST_QEMU_AARCH64: the path of qemu-aarch64 (user mode), invoked explicitly, so
//     that nothing depends on binfmt_misc registrations.

// requireTool returns the value of the environment variable naming an emulator. These tests
// are built only with the signet_emulators tag, which tools/test-rootfs passes together with
// the variables (and fails, under CI=true, when a tool is missing); plain `go test ./...` does
// not build them, so nothing is skipped there.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run these tests through tools/test-rootfs, which sets it", name)
	}
	return v
}

// sealedManifest returns the manifest bytes sealed into a loader file: the trailer is
// sha256 (32 bytes), the manifest's length (uint64 little-endian) and the 8-byte magic.
func sealedManifest(t *testing.T, loader string) []byte {
	t.Helper()
	b := []byte(readFile(t, loader))
	const trailer = 32 + 8 + 8
	if len(b) < trailer || string(b[len(b)-8:]) != "SIGNET\x00\x01" {
		t.Fatalf("%s has no signet trailer", loader)
	}
	n := binary.LittleEndian.Uint64(b[len(b)-16 : len(b)-8])
	if n > uint64(len(b)-trailer) {
		t.Fatalf("%s: trailer length %d exceeds the file", loader, n)
	}
	return b[len(b)-trailer-int(n) : len(b)-trailer]
}

// flipManifestByte changes one byte inside the manifest sealed into loader, leaving the
// trailer as it was, so the trailer's digest no longer matches.
func flipManifestByte(t *testing.T, loader string) {
	t.Helper()
	b := []byte(readFile(t, loader))
	b[len(b)-48-10] ^= 0x01
	if err := os.WriteFile(loader, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
