package pefile

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// spec describes a hand-made PE file.
type spec struct {
	magic    uint16 // MagicPE32 or MagicPE32Plus
	sections int    // each with 0x200 bytes of raw data
	numDirs  uint32 // NumberOfRvaAndSizes
}

const (
	testPEOffset  = 0x80
	testDataStart = 0x400
)

// makePE returns a minimal, well-formed PE file: DOS header, PE header, optional header with
// numDirs data directories, and the sections' raw data from offset 0x400.
func makePE(s spec) []byte {
	dirsOff := 112
	if s.magic == MagicPE32 {
		dirsOff = 96
	}
	optSize := dirsOff + int(s.numDirs)*8
	le := binary.LittleEndian
	b := make([]byte, testDataStart+s.sections*0x200)
	copy(b, "MZ")
	le.PutUint32(b[lfanewOffset:], testPEOffset)
	copy(b[testPEOffset:], "PE\x00\x00")
	coff := b[testPEOffset+4:]
	le.PutUint16(coff[0:], MachineAMD64)
	le.PutUint16(coff[2:], uint16(s.sections))
	le.PutUint16(coff[16:], uint16(optSize))
	le.PutUint16(coff[18:], 0x22)
	opt := b[testPEOffset+4+COFFHeaderSize:]
	le.PutUint16(opt[0:], s.magic)
	le.PutUint32(opt[optSectionAlignment:], 0x1000)
	le.PutUint32(opt[optFileAlignment:], 0x200)
	le.PutUint32(opt[optSizeOfImage:], uint32(0x1000*(s.sections+1)))
	le.PutUint32(opt[optSizeOfHeaders:], testDataStart)
	le.PutUint32(opt[dirsOff-4:], s.numDirs)
	table := opt[optSize:]
	for i := range s.sections {
		sec := table[i*SectionHeaderSize:]
		copy(sec, fmt.Sprintf(".s%d", i))
		le.PutUint32(sec[8:], 0x200)
		le.PutUint32(sec[12:], uint32(0x1000*(i+1)))
		le.PutUint32(sec[16:], 0x200)
		le.PutUint32(sec[20:], uint32(testDataStart+i*0x200))
		le.PutUint32(sec[36:], 0x40000040)
	}
	return b
}

func defaultPE() []byte { return makePE(spec{magic: MagicPE32Plus, sections: 3, numDirs: 16}) }

// patch returns a copy of b with the little-endian 32-bit v written at off.
func patch(b []byte, off int64, v uint32) []byte {
	out := bytes.Clone(b)
	binary.LittleEndian.PutUint32(out[off:], v)
	return out
}

func patch16(b []byte, off int64, v uint16) []byte {
	out := bytes.Clone(b)
	binary.LittleEndian.PutUint16(out[off:], v)
	return out
}

// signed appends a certificate table of n bytes at the next 8-byte boundary and points the
// security directory at it.
func signed(b []byte, n int) []byte {
	out := bytes.Clone(b)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	off := len(out)
	out = append(out, make([]byte, n)...)
	d := dirOffset(out, DirSecurity)
	out = patch(out, d, uint32(off))
	return patch(out, d+4, uint32(n))
}

// dirOffset computes where data directory i of a hand-made file is, by hand.
func dirOffset(b []byte, i int) int64 {
	opt := int64(testPEOffset + 4 + COFFHeaderSize)
	dirs := int64(112)
	if binary.LittleEndian.Uint16(b[opt:]) == MagicPE32 {
		dirs = 96
	}
	return opt + dirs + int64(i)*8
}

func TestParse(t *testing.T) {
	good := defaultPE()
	opt := int64(testPEOffset + 4 + COFFHeaderSize)
	table := opt + 112 + 16*8
	for _, tc := range []struct {
		name    string
		b       []byte
		wantErr error  // nil: parses
		want    string // in the error
	}{
		{"PE32+", good, nil, ""},
		{"PE32", makePE(spec{magic: MagicPE32, sections: 2, numDirs: 16}), nil, ""},
		{"no data directories", makePE(spec{magic: MagicPE32Plus, sections: 1, numDirs: 0}), nil, ""},
		{"no sections", makePE(spec{magic: MagicPE32Plus, sections: 0, numDirs: 16}), nil, ""},
		{"signed", signed(good, 16), nil, ""},
		{"empty", nil, ErrNotPE, "0 bytes is shorter than a DOS header"},
		{"ELF", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...), ErrNotPE, "no MZ signature"},
		{"DOS only", append([]byte("MZ"), make([]byte, 100)...), ErrNotPE, "PE header offset 0 is outside the file (102 bytes)"},
		{"e_lfanew in the DOS header", patch(good, lfanewOffset, 8), ErrNotPE, "PE header offset 8 is outside"},
		{"e_lfanew past the end", patch(good, lfanewOffset, 0xfffffff0), ErrNotPE, "PE header offset 4294967280 is outside"},
		{"no PE signature", patch(good, testPEOffset, 0x12345678), ErrNotPE, "no PE signature at offset 128"},
		{"unknown magic", patch16(good, opt, 0x107), ErrNotPE, "unknown optional header magic 0x107"},
		{"optional header too short", patch16(good, testPEOffset+4+16, 100), ErrMalformed, "optional header of 100 bytes is shorter than the 112"},
		{"optional header past the end", patch16(good, testPEOffset+4+16, 0xffff), ErrMalformed, "optional header of 65535 bytes at 152 extends past the end of the file (2560 bytes)"},
		{"too many sections", patch16(good, testPEOffset+4+2, 97), ErrMalformed, "97 sections, over the limit of 96"},
		{"section table past the end", good[:table+SectionHeaderSize], ErrMalformed, "section table of 3 sections at 392 extends past the end of the file (432 bytes)"},
		{"17 data directories", patch(good, opt+108, 17), ErrMalformed, "17 data directories do not fit an optional header of 240 bytes"},
		{"directories past the optional header", patch(makePE(spec{magic: MagicPE32Plus, sections: 1, numDirs: 4}), opt+108, 5), ErrMalformed, "5 data directories do not fit an optional header of 144 bytes"},
		{"section past the end", good[:0x700], ErrMalformed, `section 1 (".s1") ends at 2048, past the end of the file (1792 bytes)`},
		{"section pointer past the end", patch(good, table+20, 0xfffffff0), ErrMalformed, `section 0 (".s0") ends at 4294967792`},
		{"certificate table of 4 bytes", patch(signed(good, 16), dirOffset(good, DirSecurity)+4, 4), ErrMalformed, "certificate table at 2560 with 4 bytes"},
		{"certificate table size without offset", patch(good, dirOffset(good, DirSecurity)+4, 64), ErrMalformed, "certificate table at 0 with 64 bytes"},
		{"certificate table over the sections", patch(signed(good, 16), dirOffset(good, DirSecurity), 0x500), ErrMalformed, "certificate table at 1280 overlaps the sections (which end at 2560)"},
		{"certificate table past the end", patch(signed(good, 16), dirOffset(good, DirSecurity)+4, 32), ErrMalformed, "certificate table 2560+32 extends past the end of the file (2576 bytes)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseBytes(tc.b)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				checkInvariants(t, f)
				return
			}
			if err == nil {
				t.Fatalf("parsed: %+v", f)
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %v containing %q", err, tc.wantErr, tc.want)
			}
		})
	}
}

// TestParseFields checks every field Parse fills in on hand-made files.
func TestParseFields(t *testing.T) {
	f, err := ParseBytes(signed(defaultPE(), 24))
	if err != nil {
		t.Fatal(err)
	}
	opt := int64(testPEOffset + 4 + COFFHeaderSize)
	if f.HeaderOffset != testPEOffset || f.OptionalOffset != opt || f.OptionalSize != 240 || !f.PE32Plus() ||
		f.Machine != MachineAMD64 || f.Characteristics != 0x22 || f.SectionAlignment != 0x1000 || f.FileAlignment != 0x200 ||
		f.SizeOfImage != 0x4000 || f.SizeOfHeaders != testDataStart {
		t.Errorf("headers: %+v", f)
	}
	if got := f.ChecksumOffset(); got != testPEOffset+88 {
		t.Errorf("ChecksumOffset = %d, want %d", got, testPEOffset+88)
	}
	if f.DataDirectoriesOffset != opt+112 || len(f.DataDirectories) != 16 {
		t.Errorf("data directories at %d, %d of them", f.DataDirectoriesOffset, len(f.DataDirectories))
	}
	if off, ok := f.DirectoryOffset(DirSecurity); !ok || off != opt+112+32 {
		t.Errorf("DirectoryOffset(DirSecurity) = %d, %v", off, ok)
	}
	if _, ok := f.DirectoryOffset(16); ok {
		t.Error("DirectoryOffset(16) exists")
	}
	if off, n, ok := f.CertificateTable(); !ok || off != 0xa00 || n != 24 {
		t.Errorf("CertificateTable = %d, %d, %v", off, n, ok)
	}
	if f.SectionTableOffset != opt+240 || f.SectionTableEnd() != opt+240+3*40 || f.SectionsEnd != 0xa00 {
		t.Errorf("section table %d..%d, sections end at %d", f.SectionTableOffset, f.SectionTableEnd(), f.SectionsEnd)
	}
	want := Section{Name: ".s1", VirtualSize: 0x200, VirtualAddress: 0x2000, SizeOfRawData: 0x200, PointerToRawData: 0x600, Characteristics: 0x40000040}
	if len(f.Sections) != 3 || f.Sections[1] != want || f.Sections[1].Uninitialized() {
		t.Errorf("sections %+v, want [1] = %+v", f.Sections, want)
	}

	pe32, err := ParseBytes(makePE(spec{magic: MagicPE32, sections: 1, numDirs: 4}))
	if err != nil {
		t.Fatal(err)
	}
	if pe32.PE32Plus() || pe32.DataDirectoriesOffset != opt+96 || pe32.ChecksumOffset() != opt+64 {
		t.Errorf("PE32: %+v", pe32)
	}
	if _, _, ok := pe32.CertificateTable(); ok {
		t.Error("a file with 4 data directories has a certificate table")
	}
	if _, ok := pe32.Directory(DirSecurity); ok {
		t.Error("a file with 4 data directories has a security directory")
	}
}

// TestReadErrors checks that a reader failing or reading short is an error, not a panic.
func TestReadErrors(t *testing.T) {
	b := defaultPE()
	boom := errors.New("boom")
	for _, limit := range []int64{0, 10, testPEOffset + 2, testPEOffset + 30, 0x1f0} {
		_, err := Parse(&failingReader{b: b, after: limit, err: boom}, int64(len(b)))
		if !errors.Is(err, boom) {
			t.Errorf("reader failing after %d bytes: %v", limit, err)
		}
		_, err = Parse(&failingReader{b: b, after: limit}, int64(len(b)))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("reader short after %d bytes: %v", limit, err)
		}
	}
	if ok, err := IsMZ(bytes.NewReader([]byte("M")), 1); ok || err != nil {
		t.Errorf("IsMZ(M) = %v, %v", ok, err)
	}
	if ok, err := IsMZ(bytes.NewReader(b), int64(len(b))); !ok || err != nil {
		t.Errorf("IsMZ(PE) = %v, %v", ok, err)
	}
	if err := ReadAt(bytes.NewReader(b), int64(len(b)), -1, make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "outside the file") {
		t.Errorf("ReadAt(-1) = %v", err)
	}
}

// failingReader reads b up to the offset after, then fails with err (or reads short).
type failingReader struct {
	b     []byte
	after int64
	err   error
}

func (r *failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) <= r.after {
		return copy(p, r.b[off:]), nil
	}
	n := 0
	if off < r.after {
		n = copy(p, r.b[off:r.after])
	}
	return n, r.err
}

// checkInvariants checks what Parse promises about a file it accepts.
func checkInvariants(t testing.TB, f *File) {
	t.Helper()
	if f.SectionsEnd > f.Size || f.SectionTableEnd() > f.SectionsEnd || f.SectionTableOffset != f.OptionalOffset+f.OptionalSize {
		t.Fatalf("sections end at %d, table %d..%d, file %d bytes", f.SectionsEnd, f.SectionTableOffset, f.SectionTableEnd(), f.Size)
	}
	if len(f.Sections) > MaxSections || len(f.DataDirectories) > MaxDataDirectories {
		t.Fatalf("%d sections, %d data directories", len(f.Sections), len(f.DataDirectories))
	}
	for i, s := range f.Sections {
		if s.SizeOfRawData != 0 && int64(s.PointerToRawData)+int64(s.SizeOfRawData) > f.SectionsEnd {
			t.Fatalf("section %d ends after SectionsEnd", i)
		}
	}
	if off, n, ok := f.CertificateTable(); ok && (off < f.SectionsEnd || off+n > f.Size || n < 8) {
		t.Fatalf("certificate table %d+%d, sections end at %d, file %d bytes", off, n, f.SectionsEnd, f.Size)
	}
	if f.ChecksumOffset()+4 > f.SectionTableOffset {
		t.Fatalf("checksum at %d is not in the optional header", f.ChecksumOffset())
	}
}

// TestRealPE parses Go-built windows executables (PE32+ for amd64 and arm64, PE32 for 386)
// and compares the result with debug/pe's, which serves as the oracle here.
func TestRealPE(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64", "386"} {
		t.Run(arch, func(t *testing.T) {
			b := realPE(t, arch)
			f, err := ParseBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, f)
			oracle, err := pe.NewFile(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if f.Machine != oracle.Machine || f.Characteristics != oracle.Characteristics || len(f.Sections) != len(oracle.Sections) {
				t.Fatalf("machine %#x, %d sections; debug/pe: %#x, %d", f.Machine, len(f.Sections), oracle.Machine, len(oracle.Sections))
			}
			for i, s := range oracle.Sections {
				got := f.Sections[i]
				if got.Name != s.Name || got.VirtualSize != s.VirtualSize || got.VirtualAddress != s.VirtualAddress ||
					got.SizeOfRawData != s.Size || got.PointerToRawData != s.Offset || got.Characteristics != s.Characteristics {
					t.Errorf("section %d = %+v, debug/pe %+v", i, got, s.SectionHeader)
				}
			}
			var dirs []pe.DataDirectory
			var checksumWant uint32
			switch h := oracle.OptionalHeader.(type) {
			case *pe.OptionalHeader64:
				dirs, checksumWant = h.DataDirectory[:h.NumberOfRvaAndSizes], h.CheckSum
				if !f.PE32Plus() || f.SizeOfHeaders != h.SizeOfHeaders || f.FileAlignment != h.FileAlignment || f.SectionAlignment != h.SectionAlignment || f.SizeOfImage != h.SizeOfImage {
					t.Errorf("optional header %+v, debug/pe %+v", f, h)
				}
			case *pe.OptionalHeader32:
				dirs, checksumWant = h.DataDirectory[:h.NumberOfRvaAndSizes], h.CheckSum
				if f.PE32Plus() || f.SizeOfHeaders != h.SizeOfHeaders || f.FileAlignment != h.FileAlignment || f.SectionAlignment != h.SectionAlignment || f.SizeOfImage != h.SizeOfImage {
					t.Errorf("optional header %+v, debug/pe %+v", f, h)
				}
			}
			if len(dirs) != len(f.DataDirectories) {
				t.Fatalf("%d data directories, debug/pe %d", len(f.DataDirectories), len(dirs))
			}
			for i, d := range dirs {
				if f.DataDirectories[i] != (DataDirectory{d.VirtualAddress, d.Size}) {
					t.Errorf("data directory %d = %+v, debug/pe %+v", i, f.DataDirectories[i], d)
				}
			}
			if got := binary.LittleEndian.Uint32(b[f.ChecksumOffset():]); got != checksumWant {
				t.Errorf("checksum at %d = %#x, debug/pe %#x", f.ChecksumOffset(), got, checksumWant)
			}
			if f.SectionsEnd != int64(len(b)) {
				t.Errorf("sections end at %d, the file (with no overlay) at %d", f.SectionsEnd, len(b))
			}
			if _, _, ok := f.CertificateTable(); ok {
				t.Error("an unsigned file has a certificate table")
			}
			// The same file with an overlay and a certificate table after it.
			s, err := ParseBytes(signed(append(bytes.Clone(b), "overlay"...), 32))
			if err != nil {
				t.Fatal(err)
			}
			if off, n, ok := s.CertificateTable(); !ok || off < int64(len(b))+7 || n != 32 || s.SectionsEnd != int64(len(b)) {
				t.Errorf("signed: certificate table %d+%d, %v; sections end at %d", off, n, ok, s.SectionsEnd)
			}
		})
	}
}

var (
	realMu  sync.Mutex
	realPEs = map[string][]byte{}
)

// realPE builds a tiny Go program for windows/arch with the go command on PATH (the test is
// skipped without one) and returns its bytes. Each architecture is built once per test binary.
func realPE(t testing.TB, arch string) []byte {
	t.Helper()
	realMu.Lock()
	defer realMu.Unlock()
	if b, ok := realPEs[arch]; ok {
		return b
	}
	goTool, why := goCommand()
	if goTool == "" {
		t.Skipf("cannot build a windows/%s executable: %s", arch, why)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { println(\"pefile\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", "x.exe", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=windows", "GOARCH="+arch, "GOFLAGS=", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for windows/%s: %v\n%s", arch, err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "x.exe"))
	if err != nil {
		t.Fatal(err)
	}
	realPEs[arch] = b
	return b
}

// goCommand returns the go command that builds the real executables, or "" and why not.
// Bazel's test sandbox has no Go build cache: `go test ./...` (tools/test) runs these on the
// host.
func goCommand() (string, string) {
	if os.Getenv("TEST_SRCDIR") != "" {
		return "", "running under Bazel, without a Go build cache"
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", err.Error()
	}
	return goTool, ""
}

// FuzzParse feeds hostile bytes to Parse: it must not panic, and whatever it accepts must
// keep its promises (checkInvariants). The seeds are hand-made PE32 and PE32+ files, signed
// or not, and real Go-built executables when the go command is there.
func FuzzParse(f *testing.F) {
	f.Add(defaultPE())
	f.Add(makePE(spec{magic: MagicPE32, sections: 1, numDirs: 16}))
	f.Add(makePE(spec{magic: MagicPE32Plus, sections: 1, numDirs: 4}))
	f.Add(signed(defaultPE(), 16))
	f.Add(defaultPE()[:0x500])
	f.Add([]byte("MZ"))
	if goTool, _ := goCommand(); goTool != "" {
		for _, arch := range []string{"amd64", "386"} {
			b := realPE(f, arch)
			f.Add(b)
			f.Add(signed(b, 64))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseBytes(b)
		if err != nil {
			if !errors.Is(err, ErrNotPE) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is neither ErrNotPE nor ErrMalformed", err)
			}
			return
		}
		checkInvariants(t, p)
		// Parse through a ReaderAt gives the same.
		q, err := Parse(bytes.NewReader(b), int64(len(b)))
		if err != nil || q.SectionsEnd != p.SectionsEnd || len(q.Sections) != len(p.Sections) {
			t.Fatalf("Parse and ParseBytes differ: %v", err)
		}
	})
}
