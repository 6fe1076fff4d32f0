package winresource

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tc-hib/winres"

	"github.com/signet-dev/signet/signet/internal/pefile"
)

// The PE layout facts the hand-made files and patches below are written with.
const (
	lfanewOffset       = 0x3c
	coffHeaderSize     = pefile.COFFHeaderSize
	sectionHeaderSize  = pefile.SectionHeaderSize
	pe32PlusMagic      = pefile.MagicPE32Plus
	resourceDirIndex   = pefile.DirResource
	baseRelocDirIndex  = pefile.DirBaseReloc
	optSectionAlignOff = 32
	optFileAlignOff    = 36
)

// stubSource is the program built into a real Windows PE for the tests.
const stubSource = `package main

import "fmt"

func main() { fmt.Println("stub") }
`

var (
	stubsMu sync.Mutex
	stubs   = map[string][]byte{}
)

// realPE builds stubSource for windows/goarch the way signet builds its loader stub
// (static, trimmed paths, no symbols, no build id) and returns the executable's bytes.
// Builds are cached for the test binary's lifetime.
func realPE(t testing.TB, goarch string) []byte {
	t.Helper()
	stubsMu.Lock()
	defer stubsMu.Unlock()
	if b, ok := stubs[goarch]; ok {
		return b
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the Go toolchain is needed to build a Windows PE for this test: %v", err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module stub\n\ngo 1.26\n",
		"main.go": stubSource,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "stub.exe")
	cmd := exec.Command(goTool, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=windows", "GOARCH="+goarch, "GOFLAGS=", "GOWORK=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a windows/%s PE: %v\n%s", goarch, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	stubs[goarch] = b
	return b
}

// run runs a program and returns its standard output, failing the test on error.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// testPNG returns a size x size PNG with a diagonal gradient.
func testPNG(t testing.TB, size int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x * 255 / size), G: uint8(y * 255 / size), B: 0x80, A: 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngICO returns an ICO file with PNG images of the given sizes, made by winres.
func pngICO(t testing.TB, sizes ...int) []byte {
	t.Helper()
	var imgs []image.Image
	for _, s := range sizes {
		img, err := png.Decode(bytes.NewReader(testPNG(t, s)))
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	icon, err := winres.NewIconFromImages(imgs)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := icon.SaveICO(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bitmapICO returns a hand-written ICO file holding one 16x16 32-bit bitmap image:
// ICONDIR, one ICONDIRENTRY, BITMAPINFOHEADER (height doubled for the AND mask), the
// pixels bottom-up, and the AND mask (rows padded to 4 bytes).
func bitmapICO() []byte {
	const side = 16
	pixels := side * side * 4
	mask := side * 4
	imageSize := 40 + pixels + mask
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint16(b, 0) // reserved
	b = le.AppendUint16(b, 1) // type: icon
	b = le.AppendUint16(b, 1) // count
	b = append(b, side, side, 0, 0)
	b = le.AppendUint16(b, 1)  // planes
	b = le.AppendUint16(b, 32) // bits per pixel
	b = le.AppendUint32(b, uint32(imageSize))
	b = le.AppendUint32(b, 6+16) // image offset
	b = le.AppendUint32(b, 40)   // BITMAPINFOHEADER size
	b = le.AppendUint32(b, side)
	b = le.AppendUint32(b, 2*side)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 32)
	b = le.AppendUint32(b, 0) // BI_RGB
	b = le.AppendUint32(b, uint32(pixels+mask))
	b = append(b, make([]byte, 16)...) // resolution, colours used/important
	for i := range side * side {
		b = append(b, byte(i), 0x40, 0xc0, 0xff) // BGRA
	}
	return append(b, make([]byte, mask)...)
}

// pePatch returns a copy of pe with the little-endian value v written at off.
func pePatch(pe []byte, off int, v uint32, width int) []byte {
	out := bytes.Clone(pe)
	switch width {
	case 2:
		binary.LittleEndian.PutUint16(out[off:], uint16(v))
	default:
		binary.LittleEndian.PutUint32(out[off:], v)
	}
	return out
}

// peOffsets returns where the optional header and the section table of pe start.
func peOffsets(pe []byte) (optOff, tableOff int) {
	f, err := pefile.ParseBytes(pe)
	if err != nil {
		panic("test setup: " + err.Error())
	}
	return int(f.OptionalOffset), int(f.SectionTableOffset)
}

// makePE returns a small well-formed PE32+ (what the fuzz seeds start from): 16 data
// directories, file alignment 0x200, section alignment 0x1000, and two sections of 0x200
// bytes with .reloc last.
func makePE() []byte {
	const peOff, dataStart = 0x80, 0x400
	b := make([]byte, dataStart+2*0x200)
	le := binary.LittleEndian
	copy(b, "MZ")
	le.PutUint32(b[lfanewOffset:], peOff)
	copy(b[peOff:], "PE\x00\x00")
	coff := b[peOff+4:]
	le.PutUint16(coff[0:], 0x8664)
	le.PutUint16(coff[2:], 2)
	le.PutUint16(coff[16:], 112+16*8)
	le.PutUint16(coff[18:], 0x22)
	opt := b[peOff+4+coffHeaderSize:]
	le.PutUint16(opt[0:], pe32PlusMagic)
	le.PutUint32(opt[optSectionAlignOff:], 0x1000)
	le.PutUint32(opt[optFileAlignOff:], 0x200)
	le.PutUint32(opt[56:], 0x3000) // SizeOfImage
	le.PutUint32(opt[60:], dataStart)
	le.PutUint16(opt[68:], 3) // console subsystem
	le.PutUint32(opt[108:], 16)
	le.PutUint32(opt[112+baseRelocDirIndex*8:], 0x2000)
	le.PutUint32(opt[112+baseRelocDirIndex*8+4:], 8)
	table := opt[112+16*8:]
	for i, name := range []string{".text", ".reloc"} {
		s := table[i*sectionHeaderSize:]
		copy(s, name)
		le.PutUint32(s[8:], 0x200)
		le.PutUint32(s[12:], uint32(0x1000*(i+1)))
		le.PutUint32(s[16:], 0x200)
		le.PutUint32(s[20:], uint32(dataStart+i*0x200))
		le.PutUint32(s[36:], 0x40000040)
	}
	for i := dataStart; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}
