// Package pefile reads the headers of a PE file (a Windows executable) from untrusted bytes:
// the DOS header, the PE signature, the COFF file header, the optional header (PE32 or
// PE32+) with its data directories, and the section table. It finds where the headers, the
// sections' raw data, the checksum, the certificate table (the Authenticode signature) and
// the overlay are, which is what signet's payload, resource and signing code need.
//
// Every offset read from the file is checked against the file's size before it is used,
// nothing is allocated by a size the file claims beyond the fixed PE limits (96 sections, 16
// data directories, a 64 KiB optional header), and a malformed file is an error that says
// what is wrong, never a panic. It checks only what holds for every PE it is given; callers
// add the rules of their own job (winresource: alignments and the virtual layout;
// authenticode: SizeOfHeaders and the certificate table at the end).
//
// debug/pe is not used: it is not hardened against hostile input (its documentation puts it
// outside Go's security policy), it reads the COFF symbol and string tables, whose sizes
// come from the file, and it does not give the file offsets of the checksum and of the
// certificate table's directory entry, which signing patches.
//
// It imports only the standard library: it is part of the loader stub (through payload).
package pefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Sizes and limits of the PE format.
const (
	DOSHeaderSize     = 64
	COFFHeaderSize    = 20
	SectionHeaderSize = 40
	// MaxSections is the Windows loader's limit on the number of sections.
	MaxSections = 96
	// MaxDataDirectories is the number of data directories the format defines.
	MaxDataDirectories = 16

	lfanewOffset = 0x3c
	signatureLen = 4
)

// Optional header magics.
const (
	MagicPE32     = 0x10b
	MagicPE32Plus = 0x20b
)

// Indexes of the data directories signet reads.
const (
	DirResource  = 2 // IMAGE_DIRECTORY_ENTRY_RESOURCE
	DirSecurity  = 4 // IMAGE_DIRECTORY_ENTRY_SECURITY: the certificate table
	DirBaseReloc = 5 // IMAGE_DIRECTORY_ENTRY_BASERELOC
)

// Machine types (COFF header) of the targets signet builds for.
const (
	MachineI386  = 0x14c
	MachineAMD64 = 0x8664
	MachineARM64 = 0xaa64
)

// ScnUninitializedData marks a section that holds no data in the file
// (IMAGE_SCN_CNT_UNINITIALIZED_DATA).
const ScnUninitializedData = 0x00000080

// Offsets of optional header fields, the same in PE32 and PE32+.
const (
	optSectionAlignment = 32
	optFileAlignment    = 36
	optSizeOfImage      = 56
	optSizeOfHeaders    = 60
	optCheckSum         = 64
)

var (
	// ErrNotPE is wrapped by the errors of a file that has no PE headers at all: no MZ
	// signature, no PE signature where e_lfanew points, or an unknown optional header magic.
	ErrNotPE = errors.New("not a PE file")
	// ErrMalformed is wrapped by the errors of a file whose PE headers are there but
	// inconsistent with each other or with the file's size.
	ErrMalformed = errors.New("malformed PE")
)

// DataDirectory is an entry of the optional header's data directory table. For DirSecurity,
// VirtualAddress is a file offset, not an address.
type DataDirectory struct {
	VirtualAddress uint32
	Size           uint32
}

// Section is a section header.
type Section struct {
	Name             string // up to 8 bytes, without trailing NULs
	VirtualSize      uint32
	VirtualAddress   uint32
	SizeOfRawData    uint32
	PointerToRawData uint32
	Characteristics  uint32
}

// Uninitialized reports whether the section holds no data in the file (.bss).
func (s *Section) Uninitialized() bool { return s.Characteristics&ScnUninitializedData != 0 }

// File is what Parse learns about a PE file. Offsets are file offsets.
type File struct {
	Size int64 // the size of the file parsed

	HeaderOffset     int64  // e_lfanew: where "PE\0\0" is
	Machine          uint16 // COFF header
	Characteristics  uint16 // COFF header
	OptionalOffset   int64  // where the optional header starts
	OptionalSize     int64  // SizeOfOptionalHeader
	Magic            uint16 // MagicPE32 or MagicPE32Plus
	SectionAlignment uint32
	FileAlignment    uint32
	SizeOfImage      uint32
	SizeOfHeaders    uint32

	// DataDirectoriesOffset is where the data directory table starts; it has
	// len(DataDirectories) entries (NumberOfRvaAndSizes) of 8 bytes.
	DataDirectoriesOffset int64
	DataDirectories       []DataDirectory

	SectionTableOffset int64
	Sections           []Section
	// SectionsEnd is the end of the section table or of the last section's raw data,
	// whichever is further: the overlay (signet's payload, the certificate table) starts at
	// or after it.
	SectionsEnd int64
}

// PE32Plus reports whether the optional header is PE32+ (64-bit).
func (f *File) PE32Plus() bool { return f.Magic == MagicPE32Plus }

// ChecksumOffset is the file offset of the optional header's 4-byte CheckSum field.
func (f *File) ChecksumOffset() int64 { return f.OptionalOffset + optCheckSum }

// SectionTableEnd is where the section table ends.
func (f *File) SectionTableEnd() int64 {
	return f.SectionTableOffset + int64(len(f.Sections))*SectionHeaderSize
}

// Directory returns data directory entry i, and false if the table has no entry i.
func (f *File) Directory(i int) (DataDirectory, bool) {
	if i < 0 || i >= len(f.DataDirectories) {
		return DataDirectory{}, false
	}
	return f.DataDirectories[i], true
}

// DirectoryOffset returns the file offset of data directory entry i, and false if the table
// has no entry i.
func (f *File) DirectoryOffset(i int) (int64, bool) {
	if i < 0 || i >= len(f.DataDirectories) {
		return 0, false
	}
	return f.DataDirectoriesOffset + int64(i)*8, true
}

// CertificateTable returns the file offset and size of the certificate table (the
// Authenticode signature), and false if the file is not signed (the security directory
// entry is absent or empty). Parse has checked that a present table lies inside the file,
// after the sections.
func (f *File) CertificateTable() (offset, size int64, ok bool) {
	d, ok := f.Directory(DirSecurity)
	if !ok || (d.VirtualAddress == 0 && d.Size == 0) {
		return 0, 0, false
	}
	return int64(d.VirtualAddress), int64(d.Size), true
}

// IsMZ reports whether r starts with the DOS "MZ" signature: whether it is meant to be a PE
// file, so that Parse's errors are about a damaged one.
func IsMZ(r io.ReaderAt, size int64) (bool, error) {
	if size < 2 {
		return false, nil
	}
	var mz [2]byte
	if err := ReadAt(r, size, 0, mz[:]); err != nil {
		return false, err
	}
	return mz == [2]byte{'M', 'Z'}, nil
}

// ReadAt reads exactly len(b) bytes of r at off, refusing a range outside [0, size).
func ReadAt(r io.ReaderAt, size, off int64, b []byte) error {
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

// ParseBytes is Parse on a file in memory.
func ParseBytes(b []byte) (*File, error) {
	return Parse(bytes.NewReader(b), int64(len(b)))
}

func notPE(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotPE, fmt.Sprintf(format, args...))
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Parse reads the headers of the PE file r of the given size. It checks that the headers
// and the section table lie inside the file, that every section's raw data does, that there
// are at most MaxSections sections and MaxDataDirectories data directories, and that a
// certificate table, if any, lies inside the file after the sections and is at least a
// WIN_CERTIFICATE header long. Errors wrap ErrNotPE or ErrMalformed, or are read errors.
func Parse(r io.ReaderAt, size int64) (*File, error) {
	if size < DOSHeaderSize {
		return nil, notPE("%d bytes is shorter than a DOS header", size)
	}
	var dos [DOSHeaderSize]byte
	if err := ReadAt(r, size, 0, dos[:]); err != nil {
		return nil, err
	}
	if dos[0] != 'M' || dos[1] != 'Z' {
		return nil, notPE("no MZ signature")
	}
	f := &File{Size: size}
	f.HeaderOffset = int64(binary.LittleEndian.Uint32(dos[lfanewOffset:]))
	var hdr [signatureLen + COFFHeaderSize + 2]byte // signature, COFF header, optional header magic
	if f.HeaderOffset < DOSHeaderSize || f.HeaderOffset > size-int64(len(hdr)) {
		return nil, notPE("PE header offset %d is outside the file (%d bytes)", f.HeaderOffset, size)
	}
	if err := ReadAt(r, size, f.HeaderOffset, hdr[:]); err != nil {
		return nil, err
	}
	if string(hdr[:signatureLen]) != "PE\x00\x00" {
		return nil, notPE("no PE signature at offset %d (found %q)", f.HeaderOffset, hdr[:signatureLen])
	}
	coff := hdr[signatureLen:]
	f.Machine = binary.LittleEndian.Uint16(coff[0:])
	nSections := int64(binary.LittleEndian.Uint16(coff[2:]))
	f.OptionalSize = int64(binary.LittleEndian.Uint16(coff[16:]))
	f.Characteristics = binary.LittleEndian.Uint16(coff[18:])
	f.OptionalOffset = f.HeaderOffset + signatureLen + COFFHeaderSize
	f.Magic = binary.LittleEndian.Uint16(hdr[signatureLen+COFFHeaderSize:])

	var dirsOff int64 // where the data directories start in the optional header
	switch f.Magic {
	case MagicPE32:
		dirsOff = 96
	case MagicPE32Plus:
		dirsOff = 112
	default:
		return nil, notPE("unknown optional header magic %#x", f.Magic)
	}
	if f.OptionalSize < dirsOff {
		return nil, malformed("optional header of %d bytes is shorter than the %d bytes before its data directories", f.OptionalSize, dirsOff)
	}
	if nSections > MaxSections {
		return nil, malformed("%d sections, over the limit of %d", nSections, MaxSections)
	}
	f.SectionTableOffset = f.OptionalOffset + f.OptionalSize
	if f.SectionTableOffset > size {
		return nil, malformed("optional header of %d bytes at %d extends past the end of the file (%d bytes)", f.OptionalSize, f.OptionalOffset, size)
	}
	tableEnd := f.SectionTableOffset + nSections*SectionHeaderSize
	if tableEnd > size {
		return nil, malformed("section table of %d sections at %d extends past the end of the file (%d bytes)", nSections, f.SectionTableOffset, size)
	}
	// The optional header and the section table, in one read: at most 64 KiB + 96*40 bytes.
	buf := make([]byte, tableEnd-f.OptionalOffset)
	if err := ReadAt(r, size, f.OptionalOffset, buf); err != nil {
		return nil, err
	}
	opt, table := buf[:f.OptionalSize], buf[f.OptionalSize:]
	f.SectionAlignment = binary.LittleEndian.Uint32(opt[optSectionAlignment:])
	f.FileAlignment = binary.LittleEndian.Uint32(opt[optFileAlignment:])
	f.SizeOfImage = binary.LittleEndian.Uint32(opt[optSizeOfImage:])
	f.SizeOfHeaders = binary.LittleEndian.Uint32(opt[optSizeOfHeaders:])

	numDirs := int64(binary.LittleEndian.Uint32(opt[dirsOff-4:]))
	if numDirs > MaxDataDirectories || dirsOff+numDirs*8 > f.OptionalSize {
		return nil, malformed("%d data directories do not fit an optional header of %d bytes", numDirs, f.OptionalSize)
	}
	f.DataDirectoriesOffset = f.OptionalOffset + dirsOff
	f.DataDirectories = make([]DataDirectory, numDirs)
	for i := range f.DataDirectories {
		d := opt[dirsOff+int64(i)*8:]
		f.DataDirectories[i] = DataDirectory{
			VirtualAddress: binary.LittleEndian.Uint32(d),
			Size:           binary.LittleEndian.Uint32(d[4:]),
		}
	}

	f.Sections = make([]Section, nSections)
	f.SectionsEnd = tableEnd
	for i := range f.Sections {
		h := table[i*SectionHeaderSize:]
		s := Section{
			Name:             string(trimNUL(h[:8])),
			VirtualSize:      binary.LittleEndian.Uint32(h[8:]),
			VirtualAddress:   binary.LittleEndian.Uint32(h[12:]),
			SizeOfRawData:    binary.LittleEndian.Uint32(h[16:]),
			PointerToRawData: binary.LittleEndian.Uint32(h[20:]),
			Characteristics:  binary.LittleEndian.Uint32(h[36:]),
		}
		f.Sections[i] = s
		if s.SizeOfRawData == 0 {
			continue
		}
		end := int64(s.PointerToRawData) + int64(s.SizeOfRawData)
		if end > size {
			return nil, malformed("section %d (%q) ends at %d, past the end of the file (%d bytes)", i, s.Name, end, size)
		}
		f.SectionsEnd = max(f.SectionsEnd, end)
	}

	if off, n, ok := f.CertificateTable(); ok {
		switch {
		case off == 0 || n < 8:
			return nil, malformed("certificate table at %d with %d bytes", off, n)
		case off < f.SectionsEnd:
			return nil, malformed("certificate table at %d overlaps the sections (which end at %d)", off, f.SectionsEnd)
		case off+n > size:
			return nil, malformed("certificate table %d+%d extends past the end of the file (%d bytes)", off, n, size)
		}
	}
	return f, nil
}

func trimNUL(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}
