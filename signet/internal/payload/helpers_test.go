package payload

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/signet-dev/signet/signet/internal/pefile"
)

// The PE layout facts the hand-made files below are written with.
const (
	lfanewOffset      = 0x3c
	coffHeaderSize    = pefile.COFFHeaderSize
	sectionHeaderSize = pefile.SectionHeaderSize
	pe32Magic         = pefile.MagicPE32
	pe32PlusMagic     = pefile.MagicPE32Plus
)

// peSpec describes a hand-made PE file.
type peSpec struct {
	magic    uint16 // pe32Magic or pe32PlusMagic
	sections int    // each with 0x200 bytes of raw data
	numDirs  uint32 // NumberOfRvaAndSizes
}

// makePE returns a minimal, well-formed PE file: DOS header, PE header, optional header with
// numDirs data directories, and the sections' raw data from offset 0x400.
func makePE(s peSpec) []byte {
	dirsOff := 112
	if s.magic == pe32Magic {
		dirsOff = 96
	}
	optSize := dirsOff + int(s.numDirs)*8
	const peOff = 0x80
	const dataStart = 0x400
	b := make([]byte, dataStart+s.sections*0x200)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[lfanewOffset:], peOff)
	copy(b[peOff:], "PE\x00\x00")
	coff := b[peOff+4:]
	binary.LittleEndian.PutUint16(coff[0:], 0x8664)
	binary.LittleEndian.PutUint16(coff[2:], uint16(s.sections))
	binary.LittleEndian.PutUint16(coff[16:], uint16(optSize))
	opt := b[peOff+4+coffHeaderSize:]
	binary.LittleEndian.PutUint16(opt[0:], s.magic)
	binary.LittleEndian.PutUint32(opt[dirsOff-4:], s.numDirs)
	table := opt[optSize:]
	for i := 0; i < s.sections; i++ {
		sec := table[i*sectionHeaderSize:]
		copy(sec, fmt.Sprintf(".s%d", i))
		binary.LittleEndian.PutUint32(sec[16:], 0x200)
		binary.LittleEndian.PutUint32(sec[20:], uint32(dataStart+i*0x200))
		for j := 0; j < 0x200; j++ {
			b[dataStart+i*0x200+j] = byte(i + 1)
		}
	}
	return b
}

// defaultPE is a PE32+ with three sections and the usual 16 data directories.
func defaultPE() []byte { return makePE(peSpec{magic: pe32PlusMagic, sections: 3, numDirs: 16}) }

// makeELF returns the start of a 64-bit little-endian ELF file padded with data.
func makeELF() []byte {
	b := make([]byte, 256)
	copy(b, "\x7fELF\x02\x01\x01")
	for i := 64; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

// secDirOffset returns where the security directory entry of a PE sits.
func secDirOffset(t testing.TB, pe []byte) int {
	t.Helper()
	f, err := pefile.ParseBytes(pe)
	if err != nil {
		t.Fatal(err)
	}
	off, ok := f.DirectoryOffset(pefile.DirSecurity)
	if !ok {
		t.Fatal("test setup: the PE has no security directory entry")
	}
	return int(off)
}

// fakeSign appends padding to an 8-byte boundary and a WIN_CERTIFICATE with the given
// content, and points the security directory at it, the way an Authenticode signer does.
func fakeSign(t testing.TB, pe []byte, content []byte) []byte {
	t.Helper()
	out := append([]byte(nil), pe...)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	certOff := len(out)
	certLen := 8 + len(content)
	for certLen%8 != 0 {
		certLen++
	}
	out = binary.LittleEndian.AppendUint32(out, uint32(certLen))
	out = binary.LittleEndian.AppendUint16(out, 0x0200) // WIN_CERT_REVISION_2_0
	out = binary.LittleEndian.AppendUint16(out, 0x0002) // WIN_CERT_TYPE_PKCS_SIGNED_DATA
	out = append(out, content...)
	for len(out) < certOff+certLen {
		out = append(out, 0)
	}
	d := secDirOffset(t, out)
	binary.LittleEndian.PutUint32(out[d:], uint32(certOff))
	binary.LittleEndian.PutUint32(out[d+4:], uint32(certLen))
	return out
}

var (
	realOnce sync.Once
	realDir  string
	realErr  error
)

// realExecutables builds a tiny Go program for linux/amd64 (ELF) and windows/amd64 (PE) with
// the Go toolchain running the tests, and returns their bytes.
func realExecutables(t testing.TB) (elf, pe []byte) {
	t.Helper()
	realOnce.Do(func() {
		realDir, realErr = os.MkdirTemp("", "payload-test-")
		if realErr != nil {
			return
		}
		src := filepath.Join(realDir, "main.go")
		realErr = os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"stub\") }\n"), 0o644)
		if realErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		for _, target := range [][3]string{{"linux", "amd64", "stub.elf"}, {"windows", "amd64", "stub.exe"}} {
			cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", target[2], "main.go")
			cmd.Dir = realDir
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+target[0], "GOARCH="+target[1], "GOFLAGS=", "GO111MODULE=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				realErr = fmt.Errorf("go build for %s: %v\n%s", target[0], err, out)
				return
			}
		}
	})
	if realErr != nil {
		t.Fatalf("building real executables: %v", realErr)
	}
	var err error
	if elf, err = os.ReadFile(filepath.Join(realDir, "stub.elf")); err != nil {
		t.Fatal(err)
	}
	if pe, err = os.ReadFile(filepath.Join(realDir, "stub.exe")); err != nil {
		t.Fatal(err)
	}
	return elf, pe
}

func TestMain(m *testing.M) {
	code := m.Run()
	if realDir != "" {
		os.RemoveAll(realDir)
	}
	os.Exit(code)
}
