// Package payload attaches the sealed manifest to a loader stub executable (ELF or PE) as
// an overlay, and finds it again:
//
//	[stub][manifest][sha256(manifest) 32 bytes][length uint64 LE][Magic 8 bytes]
//
// In a PE file signed after sealing, the trailer ends where the certificate table begins
// (with up to 7 zero bytes of alignment padding between them), so the payload is covered by
// the Authenticode signature. Every offset read from a file is checked against the file's
// size and MaxSize before use.
//
// It imports only the standard library: it is part of the loader stub.
package payload

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/signet-dev/signet/signet/internal/pefile"
)

// Magic ends every sealed executable (or, in a signed PE, the bytes before its padding and
// certificate table).
var Magic = [8]byte{'S', 'I', 'G', 'N', 'E', 'T', 0, 1}

// MaxSize is the largest manifest a payload may carry.
const MaxSize = 256 << 20

// TrailerSize is the length of what follows the manifest: digest, length and magic.
const TrailerSize = sha256.Size + 8 + len(Magic)

// maxCertPadding is how many zero bytes a signer may put between the payload and the
// 8-byte aligned certificate table.
const maxCertPadding = 7

var (
	// ErrNoPayload means the executable has no payload trailer.
	ErrNoPayload = errors.New("no signet payload")
	// ErrDamaged means a trailer is present but the payload is truncated, too large,
	// misplaced or fails its digest; errors wrapping it say which.
	ErrDamaged = errors.New("signet payload damaged")
)

// Format is an executable file format.
type Format int

// The executable formats a stub can have.
const (
	FormatUnknown Format = iota
	FormatELF
	FormatPE
)

func (f Format) String() string {
	switch f {
	case FormatELF:
		return "ELF"
	case FormatPE:
		return "PE"
	}
	return "unknown"
}

// Detect tells ELF from PE by their headers: "\x7fELF" with a valid class and byte order,
// or "MZ" whose e_lfanew points at "PE\0\0" followed by a PE32 (0x10b) or PE32+ (0x20b)
// optional header. Anything else is an error that shows the first bytes.
func Detect(b []byte) (Format, error) {
	if len(b) >= 6 && string(b[:4]) == "\x7fELF" && (b[4] == 1 || b[4] == 2) && (b[5] == 1 || b[5] == 2) {
		return FormatELF, nil
	}
	if len(b) >= 2 && b[0] == 'M' && b[1] == 'Z' {
		if _, err := pefile.ParseBytes(b); err != nil {
			return FormatUnknown, err
		}
		return FormatPE, nil
	}
	return FormatUnknown, fmt.Errorf("not an ELF or PE executable (starts with %q)", b[:min(len(b), 8)])
}

// location is where a payload sits in a file.
type location struct {
	start  int64 // first byte of the manifest
	end    int64 // one past the magic
	signed bool  // the file is a PE with a certificate table
}

// locate finds the payload trailer and checks its length field, without reading the
// manifest. It returns ErrNoPayload if there is no trailer, and an error wrapping ErrDamaged
// if the trailer is inconsistent with the file.
func locate(r io.ReaderAt, size int64) (location, error) {
	var loc location
	if size < 0 {
		return loc, fmt.Errorf("negative file size %d", size)
	}
	end := size
	sectionsEnd := int64(0)
	mz, err := pefile.IsMZ(r, size)
	if err != nil {
		return loc, err
	}
	if mz {
		pe, err := pefile.Parse(r, size)
		if err != nil {
			return loc, fmt.Errorf("%w: %w", ErrDamaged, err)
		}
		sectionsEnd = pe.SectionsEnd
		if certOff, certSize, signed := pe.CertificateTable(); signed {
			if certEnd := certOff + certSize; certEnd != size {
				return loc, fmt.Errorf("%w: %d bytes follow the certificate table", ErrDamaged, size-certEnd)
			}
			loc.signed = true
			end, err = skipPadding(r, size, certOff, sectionsEnd)
			if err != nil {
				return loc, err
			}
		}
	}
	if end-sectionsEnd < int64(TrailerSize) {
		return loc, ErrNoPayload
	}
	var tail [16]byte
	if err := pefile.ReadAt(r, size, end-16, tail[:]); err != nil {
		return loc, err
	}
	if !bytes.Equal(tail[8:], Magic[:]) {
		return loc, ErrNoPayload
	}
	n := binary.LittleEndian.Uint64(tail[:8])
	if n > MaxSize {
		return loc, fmt.Errorf("%w: manifest length %d is over the limit of %d", ErrDamaged, n, MaxSize)
	}
	if int64(n) > end-sectionsEnd-int64(TrailerSize) {
		return loc, fmt.Errorf("%w: manifest length %d does not fit in the %d bytes after the executable's sections",
			ErrDamaged, n, end-sectionsEnd-int64(TrailerSize))
	}
	loc.end = end
	loc.start = end - int64(TrailerSize) - int64(n)
	return loc, nil
}

// skipPadding returns where the trailer ends in a signed PE: at certOffset, or before up to
// maxCertPadding zero bytes that precede it.
func skipPadding(r io.ReaderAt, size, certOffset, floor int64) (int64, error) {
	from := max(certOffset-int64(len(Magic))-maxCertPadding, floor)
	if from >= certOffset {
		return certOffset, nil
	}
	buf := make([]byte, certOffset-from)
	if err := pefile.ReadAt(r, size, from, buf); err != nil {
		return 0, err
	}
	// buf ends at certOffset; the magic ends in 0x01, so at most one padding length fits.
	for pad := 0; pad <= maxCertPadding && pad < len(buf); pad++ {
		if pad > 0 && buf[len(buf)-pad] != 0 {
			break
		}
		if e := len(buf) - pad; e >= len(Magic) && bytes.Equal(buf[e-len(Magic):e], Magic[:]) {
			return certOffset - int64(pad), nil
		}
	}
	return certOffset, nil
}

// Find returns the manifest carried by the executable r of the given size, after checking
// its digest. It returns ErrNoPayload when there is no trailer, and an error wrapping
// ErrDamaged when the payload is truncated, oversized, misplaced or modified.
func Find(r io.ReaderAt, size int64) ([]byte, error) {
	manifest, _, _, err := find(r, size)
	return manifest, err
}

// FindWithDigest is Find that also returns the manifest's SHA-256, which Find has checked
// against the trailer: callers that key something on the manifest need not hash it again.
func FindWithDigest(r io.ReaderAt, size int64) ([]byte, [32]byte, error) {
	manifest, digest, _, err := find(r, size)
	return manifest, digest, err
}

func find(r io.ReaderAt, size int64) ([]byte, [32]byte, location, error) {
	var digest [32]byte
	loc, err := locate(r, size)
	if err != nil {
		return nil, digest, loc, err
	}
	n := loc.end - int64(TrailerSize) - loc.start
	buf := make([]byte, n+sha256.Size)
	if err := pefile.ReadAt(r, size, loc.start, buf); err != nil {
		return nil, digest, loc, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	manifest, want := buf[:n:n], buf[n:]
	if digest = sha256.Sum256(manifest); !bytes.Equal(digest[:], want) {
		return nil, [32]byte{}, loc, fmt.Errorf("%w: manifest digest mismatch", ErrDamaged)
	}
	return manifest, digest, loc, nil
}

// FindInFile opens the regular file at path and returns its payload, as Find does.
func FindInFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading payload: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading payload: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("reading payload: %s is not a regular file", path)
	}
	m, err := Find(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Attach returns stub followed by the payload carrying manifest. It refuses a stub that is
// neither ELF nor PE, a PE that is already signed (seal before signing), a stub that
// already carries a payload (damaged or not), an empty manifest, and one over MaxSize.
func Attach(stub, manifest []byte) ([]byte, error) {
	if len(manifest) == 0 {
		return nil, errors.New("attach: empty manifest")
	}
	if len(manifest) > MaxSize {
		return nil, fmt.Errorf("attach: manifest of %d bytes is over the limit of %d", len(manifest), MaxSize)
	}
	format, err := Detect(stub)
	if err != nil {
		return nil, fmt.Errorf("attach: stub: %w", err)
	}
	if format == FormatPE {
		pe, err := pefile.ParseBytes(stub)
		if err != nil {
			return nil, fmt.Errorf("attach: stub: %w", err)
		}
		if _, _, signed := pe.CertificateTable(); signed {
			return nil, errors.New("attach: the stub is already signed (a certificate table is present): seal before signing")
		}
	}
	switch _, err := Find(bytes.NewReader(stub), int64(len(stub))); {
	case err == nil:
		return nil, errors.New("attach: the stub is already sealed (it carries a payload)")
	case errors.Is(err, ErrDamaged):
		return nil, fmt.Errorf("attach: the stub already carries a payload: %w", err)
	case !errors.Is(err, ErrNoPayload):
		return nil, fmt.Errorf("attach: %w", err)
	}
	out := make([]byte, 0, len(stub)+len(manifest)+TrailerSize)
	out = append(out, stub...)
	out = append(out, manifest...)
	digest := sha256.Sum256(manifest)
	out = append(out, digest[:]...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(manifest)))
	out = append(out, Magic[:]...)
	return out, nil
}

// Strip returns exe without its payload: the stub that Attach was given. The payload must be
// intact (as for Find). The result shares exe's memory (with its capacity cut, so appending
// to it copies). A signed PE is refused: removing its payload would break the signature.
func Strip(exe []byte) ([]byte, error) {
	_, _, loc, err := find(bytes.NewReader(exe), int64(len(exe)))
	if err != nil {
		return nil, fmt.Errorf("strip: %w", err)
	}
	if loc.signed {
		return nil, errors.New("strip: the executable is signed; removing its payload would break the signature")
	}
	return exe[:loc.start:loc.start], nil
}

// SecurityDirectory returns the file offset and size of a PE file's certificate table (the
// Authenticode signature), from data directory entry 4 (IMAGE_DIRECTORY_ENTRY_SECURITY).
// ok is false when the entry is absent or empty (the file is not signed). A file that is not
// a well-formed PE, or whose certificate table lies outside the file or over its sections, is
// an error.
func SecurityDirectory(r io.ReaderAt, size int64) (offset, length uint32, ok bool, err error) {
	pe, err := pefile.Parse(r, size)
	if err != nil {
		return 0, 0, false, err
	}
	off, n, ok := pe.CertificateTable()
	return uint32(off), uint32(n), ok, nil
}
