package winresource

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// PE header facts, read by hand with every offset bounded. winres trusts the headers it
// reads; these checks keep it to layouts it rewrites correctly.
const (
	lfanewOffset       = 0x3c
	coffHeaderSize     = 20
	sectionHeaderSize  = 40
	maxSections        = 96 // the Windows loader's limit
	pe32Magic          = 0x10b
	pe32PlusMagic      = 0x20b
	minDataDirs        = 6 // winres reads the resource (2), security (4) and base relocation (5) entries
	maxDataDirs        = 16
	resourceDirIndex   = 2
	baseRelocDirIndex  = 5
	maxFileAlignment   = 64 << 10
	maxSectionAlign    = 1 << 24
	maxImageSize       = 1 << 30
	scnUninitialized   = 0x00000080 // IMAGE_SCN_CNT_UNINITIALIZED_DATA
	optSectionAlignOff = 32
	optFileAlignOff    = 36
)

// peSection is one entry of the section table.
type peSection struct {
	name                  string
	virtualAddress, vsize int64
	rawPointer, rawSize   int64
	uninitialized         bool
}

// peLayout is what readLayout learns about a PE file.
type peLayout struct {
	headersEnd int64 // end of the section table
	dataStart  int64 // first raw data of an initialized section
	dataEnd    int64 // end of the last initialized section's raw data
	resources  bool  // the file has a resource directory
}

// readLayout checks the parts of a PE's headers that rewriting .rsrc depends on.
func readLayout(b []byte) (peLayout, error) {
	var l peLayout
	size := int64(len(b))
	u16 := func(off int64) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
	u32 := func(off int64) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

	if size < 64 || string(b[:2]) != "MZ" {
		return l, errors.New("not a PE file: no DOS header")
	}
	peOff := int64(u32(lfanewOffset))
	optOff := peOff + 4 + coffHeaderSize
	if peOff < 64 || optOff+2 > size || string(b[peOff:peOff+4]) != "PE\x00\x00" {
		return l, errors.New("not a PE file: no PE header")
	}
	nSections := int64(u16(peOff + 4 + 2))
	optSize := int64(u16(peOff + 4 + 16))
	var dirsOff int64
	switch magic := u16(optOff); magic {
	case pe32Magic:
		dirsOff = 96
	case pe32PlusMagic:
		dirsOff = 112
	default:
		return l, fmt.Errorf("unknown optional header magic %#x", magic)
	}
	if optSize < dirsOff || optOff+optSize > size {
		return l, fmt.Errorf("malformed PE: optional header of %d bytes", optSize)
	}
	numDirs := int64(u32(optOff + dirsOff - 4))
	if numDirs < minDataDirs || numDirs > maxDataDirs || optSize != dirsOff+numDirs*8 {
		return l, fmt.Errorf("unsupported PE: %d data directories in an optional header of %d bytes", numDirs, optSize)
	}
	sectionAlign := int64(u32(optOff + optSectionAlignOff))
	fileAlign := int64(u32(optOff + optFileAlignOff))
	if !powerOfTwo(fileAlign) || fileAlign > maxFileAlignment || !powerOfTwo(sectionAlign) ||
		sectionAlign < fileAlign || sectionAlign > maxSectionAlign {
		return l, fmt.Errorf("unsupported PE: section alignment %#x, file alignment %#x", sectionAlign, fileAlign)
	}
	if nSections < 1 || nSections > maxSections {
		return l, fmt.Errorf("malformed PE: %d sections (1 to %d expected)", nSections, maxSections)
	}
	tableOff := optOff + optSize
	l.headersEnd = tableOff + nSections*sectionHeaderSize
	if l.headersEnd > size {
		return l, errors.New("malformed PE: the section table extends past the end of the file")
	}

	sections := make([]peSection, nSections)
	l.dataStart = size
	for i := range sections {
		s := b[tableOff+int64(i)*sectionHeaderSize:]
		sec := peSection{
			name:           string(trimNul(s[:8])),
			vsize:          int64(binary.LittleEndian.Uint32(s[8:])),
			virtualAddress: int64(binary.LittleEndian.Uint32(s[12:])),
			rawSize:        int64(binary.LittleEndian.Uint32(s[16:])),
			rawPointer:     int64(binary.LittleEndian.Uint32(s[20:])),
			uninitialized:  binary.LittleEndian.Uint32(s[36:])&scnUninitialized != 0,
		}
		sections[i] = sec
		switch {
		case sec.virtualAddress == 0 || sec.virtualAddress+max(sec.vsize, sec.rawSize) > maxImageSize:
			return l, fmt.Errorf("malformed PE: section %d (%q) has virtual address %#x and size %#x", i, sec.name, sec.virtualAddress, sec.vsize)
		case i > 0 && sec.virtualAddress < sections[i-1].virtualEnd(sectionAlign):
			return l, fmt.Errorf("malformed PE: section %d (%q) at %#x is out of virtual address order or overlaps the one before",
				i, sec.name, sec.virtualAddress)
		case sec.rawPointer+sec.rawSize > size:
			return l, fmt.Errorf("malformed PE: section %d (%q) ends at %d, past the end of the file (%d bytes)",
				i, sec.name, sec.rawPointer+sec.rawSize, size)
		}
		if sec.uninitialized {
			continue
		}
		if sec.rawPointer < l.headersEnd {
			return l, fmt.Errorf("malformed PE: section %d (%q) has its data at %d, inside the headers (which end at %d)",
				i, sec.name, sec.rawPointer, l.headersEnd)
		}
		l.dataStart = min(l.dataStart, sec.rawPointer)
		l.dataEnd = max(l.dataEnd, sec.rawPointer+sec.rawSize)
	}
	if l.dataEnd == 0 {
		return l, errors.New("malformed PE: no section holds data")
	}

	// An existing resource section that is not the last one is moved or grown by winres,
	// which then needs the base relocation section.
	dir := func(k int64) int64 { return int64(u32(optOff + dirsOff + k*8)) }
	if rsrcVA := dir(resourceDirIndex); rsrcVA != 0 {
		l.resources = true
		rsrc := findSection(sections, rsrcVA)
		if rsrc == nil {
			return l, fmt.Errorf("malformed PE: the resource directory (%#x) is not at the start of a section", rsrcVA)
		}
		// winres's test: does the resource section end (by VirtualSize) before the image does?
		roundVirt := func(v int64) int64 { return (v + sectionAlign - 1) &^ (sectionAlign - 1) }
		imageEnd := int64(0)
		for _, s := range sections {
			imageEnd = max(imageEnd, s.virtualAddress+s.vsize)
		}
		if roundVirt(rsrc.virtualAddress+rsrc.vsize) < roundVirt(imageEnd) && findSection(sections, dir(baseRelocDirIndex)) == nil {
			return l, errors.New("unsupported PE: its resource section is followed by other sections and it has no relocation section")
		}
	}
	return l, nil
}

// virtualEnd is where the section ends in memory, rounded up to the section alignment.
// A VirtualSize of 0 means the section's size in memory is its raw size.
func (s *peSection) virtualEnd(align int64) int64 {
	size := s.vsize
	if size == 0 {
		size = s.rawSize
	}
	return (s.virtualAddress + size + align - 1) &^ (align - 1)
}

// findSection returns the section starting at virtual address va, or nil.
func findSection(sections []peSection, va int64) *peSection {
	for i := range sections {
		if sections[i].virtualAddress == va {
			return &sections[i]
		}
	}
	return nil
}

func powerOfTwo(n int64) bool { return n > 0 && n&(n-1) == 0 }

func trimNul(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
