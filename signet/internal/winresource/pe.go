package winresource

import (
	"errors"
	"fmt"

	"github.com/signet-dev/signet/signet/internal/pefile"
)

// What winres can rewrite. pefile checks that the headers and the sections lie inside the
// file; winres trusts the rest of what it reads, so these checks keep it to layouts it
// rewrites correctly.
const (
	minDataDirs      = 6 // winres reads the resource (2), security (4) and base relocation (5) entries
	maxFileAlignment = 64 << 10
	maxSectionAlign  = 1 << 24
	maxImageSize     = 1 << 30
)

// peLayout is what readLayout learns about a PE file.
type peLayout struct {
	headersEnd int64 // end of the section table
	dataStart  int64 // first raw data of an initialized section
	dataEnd    int64 // end of the last initialized section's raw data
	resources  bool  // the file has a resource directory
}

// readLayout parses b and checks the parts of its headers that rewriting .rsrc depends on.
func readLayout(b []byte) (peLayout, error) {
	pe, err := pefile.ParseBytes(b)
	if err != nil {
		return peLayout{}, err
	}
	return checkLayout(pe)
}

// checkLayout checks the parts of a parsed PE's headers that rewriting .rsrc depends on.
func checkLayout(pe *pefile.File) (peLayout, error) {
	var l peLayout
	dirsOff := pe.DataDirectoriesOffset - pe.OptionalOffset
	numDirs := int64(len(pe.DataDirectories))
	if numDirs < minDataDirs || pe.OptionalSize != dirsOff+numDirs*8 {
		return l, fmt.Errorf("unsupported PE: %d data directories in an optional header of %d bytes", numDirs, pe.OptionalSize)
	}
	sectionAlign, fileAlign := int64(pe.SectionAlignment), int64(pe.FileAlignment)
	if !powerOfTwo(fileAlign) || fileAlign > maxFileAlignment || !powerOfTwo(sectionAlign) ||
		sectionAlign < fileAlign || sectionAlign > maxSectionAlign {
		return l, fmt.Errorf("unsupported PE: section alignment %#x, file alignment %#x", sectionAlign, fileAlign)
	}
	if len(pe.Sections) < 1 {
		return l, errors.New("malformed PE: 0 sections (1 to 96 expected)")
	}
	l.headersEnd = pe.SectionTableEnd()
	l.dataStart = pe.Size
	for i := range pe.Sections {
		sec := &pe.Sections[i]
		va, vsize, rawPtr, rawSize := int64(sec.VirtualAddress), int64(sec.VirtualSize), int64(sec.PointerToRawData), int64(sec.SizeOfRawData)
		switch {
		case va == 0 || va+max(vsize, rawSize) > maxImageSize:
			return l, fmt.Errorf("malformed PE: section %d (%q) has virtual address %#x and size %#x", i, sec.Name, va, vsize)
		case i > 0 && va < virtualEnd(&pe.Sections[i-1], sectionAlign):
			return l, fmt.Errorf("malformed PE: section %d (%q) at %#x is out of virtual address order or overlaps the one before",
				i, sec.Name, va)
		case rawPtr+rawSize > pe.Size:
			// pefile checks this only for sections with raw data; winres reads at the pointer of every one.
			return l, fmt.Errorf("malformed PE: section %d (%q) ends at %d, past the end of the file (%d bytes)",
				i, sec.Name, rawPtr+rawSize, pe.Size)
		}
		if sec.Uninitialized() {
			continue
		}
		if rawPtr < l.headersEnd {
			return l, fmt.Errorf("malformed PE: section %d (%q) has its data at %d, inside the headers (which end at %d)",
				i, sec.Name, rawPtr, l.headersEnd)
		}
		l.dataStart = min(l.dataStart, rawPtr)
		l.dataEnd = max(l.dataEnd, rawPtr+rawSize)
	}
	if l.dataEnd == 0 {
		return l, errors.New("malformed PE: no section holds data")
	}

	// An existing resource section that is not the last one is moved or grown by winres,
	// which then needs the base relocation section.
	dir := func(k int) uint32 { d, _ := pe.Directory(k); return d.VirtualAddress }
	if rsrcVA := dir(pefile.DirResource); rsrcVA != 0 {
		l.resources = true
		rsrc := findSection(pe.Sections, rsrcVA)
		if rsrc == nil {
			return l, fmt.Errorf("malformed PE: the resource directory (%#x) is not at the start of a section", rsrcVA)
		}
		// winres's test: does the resource section end (by VirtualSize) before the image does?
		roundVirt := func(v int64) int64 { return (v + sectionAlign - 1) &^ (sectionAlign - 1) }
		imageEnd := int64(0)
		for _, s := range pe.Sections {
			imageEnd = max(imageEnd, int64(s.VirtualAddress)+int64(s.VirtualSize))
		}
		if roundVirt(int64(rsrc.VirtualAddress)+int64(rsrc.VirtualSize)) < roundVirt(imageEnd) &&
			findSection(pe.Sections, dir(pefile.DirBaseReloc)) == nil {
			return l, errors.New("unsupported PE: its resource section is followed by other sections and it has no relocation section")
		}
	}
	return l, nil
}

// virtualEnd is where the section ends in memory, rounded up to the section alignment.
// A VirtualSize of 0 means the section's size in memory is its raw size.
func virtualEnd(s *pefile.Section, align int64) int64 {
	size := int64(s.VirtualSize)
	if size == 0 {
		size = int64(s.SizeOfRawData)
	}
	return (int64(s.VirtualAddress) + size + align - 1) &^ (align - 1)
}

// findSection returns the section starting at virtual address va, or nil.
func findSection(sections []pefile.Section, va uint32) *pefile.Section {
	for i := range sections {
		if sections[i].VirtualAddress == va {
			return &sections[i]
		}
	}
	return nil
}

func powerOfTwo(n int64) bool { return n > 0 && n&(n-1) == 0 }
