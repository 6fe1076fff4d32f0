package authenticode

import (
	"errors"
	"fmt"

	"github.com/signet-dev/signet/signet/internal/pefile"
)

// The optional header sizes relic decodes: with all 16 data directories.
const (
	optHeader32Size = 224
	optHeader64Size = 240
)

// errNotPE is wrapped by every header problem.
var errNotPE = errors.New("not a valid PE file")

// checkPE parses the PE headers of image (package pefile) and adds what the digest code
// (relic) needs to walk them safely: an optional header with all 16 data directories, a
// SizeOfHeaders that covers the section table and lies inside the file, sections whose raw
// data lies after the headers, and a certificate table, if any, that ends the file. It reads
// nothing outside image and never panics.
func checkPE(image []byte) (*pefile.File, error) {
	pe, err := pefile.ParseBytes(image)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotPE, err)
	}
	bad := func(format string, args ...any) (*pefile.File, error) {
		return nil, fmt.Errorf("%w: %s", errNotPE, fmt.Sprintf(format, args...))
	}
	need := int64(optHeader32Size)
	if pe.PE32Plus() {
		need = optHeader64Size
	}
	if pe.OptionalSize < need {
		return bad("optional header is %d bytes, want at least %d", pe.OptionalSize, need)
	}
	if len(pe.DataDirectories) <= pefile.DirSecurity {
		return bad("no room for a security data directory")
	}
	n := int64(len(image))
	tableEnd := pe.SectionTableEnd()
	if sizeOfHeaders := int64(pe.SizeOfHeaders); sizeOfHeaders < tableEnd || sizeOfHeaders > n {
		return bad("SizeOfHeaders 0x%x inconsistent with the file", sizeOfHeaders)
	}
	if off, size, ok := pe.CertificateTable(); ok && (off < int64(pe.SizeOfHeaders) || off+size != n) {
		return bad("certificate table at 0x%x+0x%x is not at the end of the file (size 0x%x)", off, size, n)
	}
	for i, s := range pe.Sections {
		if s.SizeOfRawData != 0 && int64(s.PointerToRawData) < tableEnd {
			return bad("section %d raw data 0x%x+0x%x is inside the headers", i, s.PointerToRawData, s.SizeOfRawData)
		}
	}
	return pe, nil
}
