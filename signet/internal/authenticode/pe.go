package authenticode

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// peInfo is what the header check learns about a PE image.
type peInfo struct {
	peStart  int64 // offset of "PE\0\0" (e_lfanew)
	certOff  int64 // certificate table offset (security directory), 0 if none
	certSize int64 // certificate table size, 0 if unsigned
}

const (
	dosHeaderSize     = 64
	coffHeaderSize    = 20
	optMagicPE32      = 0x10b
	optMagicPE32Plus  = 0x20b
	optHeader32Size   = 224 // with 16 data directories, as relic decodes it
	optHeader64Size   = 240
	sectionHeaderSize = 40
	securityDirIndex  = 4
)

// errNotPE is wrapped by every header problem.
var errNotPE = errors.New("not a valid PE file")

// checkPE validates the PE headers of image strictly enough that the digest
// code can walk them safely, and locates the certificate table. It reads
// nothing outside image and never panics.
func checkPE(image []byte) (peInfo, error) {
	n := int64(len(image))
	bad := func(format string, args ...any) (peInfo, error) {
		return peInfo{}, fmt.Errorf("%w: %s", errNotPE, fmt.Sprintf(format, args...))
	}
	if n < dosHeaderSize || image[0] != 'M' || image[1] != 'Z' {
		return bad("no MZ header")
	}
	peStart := int64(binary.LittleEndian.Uint32(image[0x3c:]))
	if peStart < dosHeaderSize || peStart > n-4-coffHeaderSize {
		return bad("PE header offset 0x%x outside the file", peStart)
	}
	if string(image[peStart:peStart+4]) != "PE\x00\x00" {
		return bad("no PE signature at 0x%x", peStart)
	}
	coff := image[peStart+4 : peStart+4+coffHeaderSize]
	numSections := int64(binary.LittleEndian.Uint16(coff[2:]))
	sizeOfOpt := int64(binary.LittleEndian.Uint16(coff[16:]))
	optStart := peStart + 4 + coffHeaderSize
	if sizeOfOpt < 2 || optStart+sizeOfOpt > n {
		return bad("optional header truncated")
	}
	opt := image[optStart : optStart+sizeOfOpt]
	var ddStart, need int64
	switch binary.LittleEndian.Uint16(opt) {
	case optMagicPE32:
		ddStart, need = 96, optHeader32Size
	case optMagicPE32Plus:
		ddStart, need = 112, optHeader64Size
	default:
		return bad("unknown optional header magic 0x%x", binary.LittleEndian.Uint16(opt))
	}
	if sizeOfOpt < need {
		return bad("optional header is %d bytes, want at least %d", sizeOfOpt, need)
	}
	if binary.LittleEndian.Uint32(opt[ddStart-4:]) <= securityDirIndex {
		return bad("no room for a security data directory")
	}
	sizeOfHeaders := int64(binary.LittleEndian.Uint32(opt[60:]))
	secTblEnd := optStart + sizeOfOpt + numSections*sectionHeaderSize
	if secTblEnd > n {
		return bad("section table truncated")
	}
	if sizeOfHeaders < secTblEnd || sizeOfHeaders > n {
		return bad("SizeOfHeaders 0x%x inconsistent with the file", sizeOfHeaders)
	}
	dd := opt[ddStart+8*securityDirIndex:]
	certOff := int64(binary.LittleEndian.Uint32(dd))
	certSize := int64(binary.LittleEndian.Uint32(dd[4:]))
	info := peInfo{peStart: peStart}
	if certSize != 0 {
		if certOff < sizeOfHeaders || certOff+certSize != n {
			return bad("certificate table at 0x%x+0x%x is not at the end of the file (size 0x%x)", certOff, certSize, n)
		}
		info.certOff, info.certSize = certOff, certSize
	}
	// Every section's raw data must lie inside the file (before any
	// certificate table).
	end := n
	if info.certSize != 0 {
		end = info.certOff
	}
	for i := int64(0); i < numSections; i++ {
		sh := image[optStart+sizeOfOpt+i*sectionHeaderSize:]
		size := int64(binary.LittleEndian.Uint32(sh[16:]))
		ptr := int64(binary.LittleEndian.Uint32(sh[20:]))
		if size == 0 {
			continue
		}
		if ptr < secTblEnd || ptr+size > end {
			return bad("section %d raw data 0x%x+0x%x outside the image", i, ptr, size)
		}
	}
	return info, nil
}
