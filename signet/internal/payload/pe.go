package payload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The few PE fields signet needs, read by hand with every offset bounded: debug/pe parses
// far more than needed and is not meant for hostile input.
const (
	dosHeaderSize     = 64
	lfanewOffset      = 0x3c
	coffHeaderSize    = 20
	sectionHeaderSize = 40
	maxSections       = 96 // the Windows loader's limit
	securityDirIndex  = 4  // IMAGE_DIRECTORY_ENTRY_SECURITY
	pe32Magic         = 0x10b
	pe32PlusMagic     = 0x20b
)

// peInfo is what parsePE learns about a PE file.
type peInfo struct {
	sectionsEnd  int64 // end of the last section's raw data; the overlay starts at or after it
	secDirOffset int64 // file offset of the security data directory entry
	certOffset   uint32
	certSize     uint32
}

func (p *peInfo) signed() bool { return p.certOffset != 0 || p.certSize != 0 }

var errNotPE = errors.New("not a PE file")

// readAt reads exactly len(b) bytes at off, refusing ranges outside [0, size).
func readAt(r io.ReaderAt, size, off int64, b []byte) error {
	if off < 0 || off > size || int64(len(b)) > size-off {
		return fmt.Errorf("range %d+%d is outside the file (%d bytes)", off, len(b), size)
	}
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("reading %d bytes at offset %d: %w", len(b), off, err)
}

// isMZ reports whether the file starts with the DOS "MZ" signature.
func isMZ(r io.ReaderAt, size int64) (bool, error) {
	if size < 2 {
		return false, nil
	}
	var mz [2]byte
	if err := readAt(r, size, 0, mz[:]); err != nil {
		return false, err
	}
	return mz == [2]byte{'M', 'Z'}, nil
}

// parsePE reads the DOS header, PE signature, COFF header, optional header magic, the
// security data directory and the section table. Any inconsistency is an error.
func parsePE(r io.ReaderAt, size int64) (*peInfo, error) {
	var dos [dosHeaderSize]byte
	if size < dosHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes is shorter than a DOS header", errNotPE, size)
	}
	if err := readAt(r, size, 0, dos[:]); err != nil {
		return nil, err
	}
	if dos[0] != 'M' || dos[1] != 'Z' {
		return nil, fmt.Errorf("%w: no MZ signature", errNotPE)
	}
	peOff := int64(binary.LittleEndian.Uint32(dos[lfanewOffset:]))
	var hdr [4 + coffHeaderSize + 2]byte // signature, COFF header, optional header magic
	if peOff < dosHeaderSize || peOff > size-int64(len(hdr)) {
		return nil, fmt.Errorf("%w: PE header offset %d is outside the file (%d bytes)", errNotPE, peOff, size)
	}
	if err := readAt(r, size, peOff, hdr[:]); err != nil {
		return nil, err
	}
	if string(hdr[:4]) != "PE\x00\x00" {
		return nil, fmt.Errorf("%w: no PE signature at offset %d (found %q)", errNotPE, peOff, hdr[:4])
	}
	coff := hdr[4:]
	nSections := int64(binary.LittleEndian.Uint16(coff[2:]))
	optSize := int64(binary.LittleEndian.Uint16(coff[16:]))
	optOff := peOff + 4 + coffHeaderSize
	var numDirsOff, dirsOff int64
	switch magic := binary.LittleEndian.Uint16(hdr[4+coffHeaderSize:]); magic {
	case pe32Magic:
		numDirsOff, dirsOff = 92, 96
	case pe32PlusMagic:
		numDirsOff, dirsOff = 108, 112
	default:
		return nil, fmt.Errorf("%w: unknown optional header magic %#x", errNotPE, magic)
	}
	info := &peInfo{secDirOffset: optOff + dirsOff + securityDirIndex*8}
	if optSize < dirsOff {
		return nil, fmt.Errorf("malformed PE: optional header of %d bytes has no data directories", optSize)
	}
	if optOff+optSize > size {
		return nil, fmt.Errorf("malformed PE: optional header extends past the end of the file")
	}
	var num [4]byte
	if err := readAt(r, size, optOff+numDirsOff, num[:]); err != nil {
		return nil, err
	}
	numDirs := int64(binary.LittleEndian.Uint32(num[:]))
	if numDirs > 16 || dirsOff+numDirs*8 > optSize {
		return nil, fmt.Errorf("malformed PE: %d data directories do not fit an optional header of %d bytes", numDirs, optSize)
	}
	if numDirs > securityDirIndex {
		var dir [8]byte
		if err := readAt(r, size, info.secDirOffset, dir[:]); err != nil {
			return nil, err
		}
		info.certOffset = binary.LittleEndian.Uint32(dir[:])
		info.certSize = binary.LittleEndian.Uint32(dir[4:])
	}

	if nSections > maxSections {
		return nil, fmt.Errorf("malformed PE: %d sections, over the limit of %d", nSections, maxSections)
	}
	tableOff := optOff + optSize
	table := make([]byte, nSections*sectionHeaderSize)
	if err := readAt(r, size, tableOff, table); err != nil {
		return nil, fmt.Errorf("malformed PE: section table: %w", err)
	}
	info.sectionsEnd = tableOff + int64(len(table))
	for i := int64(0); i < nSections; i++ {
		s := table[i*sectionHeaderSize:]
		rawSize := int64(binary.LittleEndian.Uint32(s[16:]))
		rawPtr := int64(binary.LittleEndian.Uint32(s[20:]))
		if rawSize == 0 {
			continue
		}
		end := rawPtr + rawSize
		if end > size {
			return nil, fmt.Errorf("malformed PE: section %d (%q) ends at %d, past the end of the file (%d bytes)",
				i, trimNul(s[:8]), end, size)
		}
		info.sectionsEnd = max(info.sectionsEnd, end)
	}

	if info.signed() {
		off, n := int64(info.certOffset), int64(info.certSize)
		switch {
		case off == 0 || n < 8:
			return nil, fmt.Errorf("malformed PE: certificate table at %d with %d bytes", off, n)
		case off < info.sectionsEnd:
			return nil, fmt.Errorf("malformed PE: certificate table at %d overlaps the sections (which end at %d)", off, info.sectionsEnd)
		case off+n > size:
			return nil, fmt.Errorf("malformed PE: certificate table %d+%d extends past the end of the file (%d bytes)", off, n, size)
		}
	}
	return info, nil
}

func trimNul(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// SecurityDirectory returns the file offset and size of a PE file's certificate table (the
// Authenticode signature), from data directory entry 4 (IMAGE_DIRECTORY_ENTRY_SECURITY).
// ok is false when the entry is empty (the file is not signed). A file that is not a
// well-formed PE, or whose certificate table lies outside the file or over its sections, is
// an error.
func SecurityDirectory(r io.ReaderAt, size int64) (offset, length uint32, ok bool, err error) {
	info, err := parsePE(r, size)
	if err != nil {
		return 0, 0, false, err
	}
	return info.certOffset, info.certSize, info.signed(), nil
}
