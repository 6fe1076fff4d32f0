package winresource

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/signet-dev/signet/internal/testtool"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/tc-hib/winres"
)

// fullInfo sets every field, with non-ASCII text to check the UTF-16 encoding.
func fullInfo(icon []byte) Info {
	return Info{
		CompanyName:      "Ölfabrik Müller GmbH",
		ProductName:      "Hello Sealed",
		FileDescription:  "Hello, a sealed Python app",
		FileVersion:      "1.2.3.4",
		ProductVersion:   "5.6.7",
		LegalCopyright:   "© 2026 Ölfabrik Müller",
		OriginalFilename: "hello.exe",
		InternalName:     "hello-loader",
		Comments:         "Sealed with signet — ✓",
		Icon:             icon,
	}
}

// exifFields maps exiftool's tag names to the Info fields they show.
func exifFields(i Info) map[string]string {
	return map[string]string{
		"CompanyName":      i.CompanyName,
		"ProductName":      i.ProductName,
		"FileDescription":  i.FileDescription,
		"FileVersion":      i.FileVersion,
		"ProductVersion":   i.ProductVersion,
		"LegalCopyright":   i.LegalCopyright,
		"OriginalFileName": i.OriginalFilename,
		"InternalName":     i.InternalName,
		"Comments":         i.Comments,
	}
}

// exiftool returns the tags exiftool reads from the file at path.
func exiftool(t *testing.T, path string) map[string]any {
	t.Helper()
	tool := testtool.Need(t, "exiftool")
	var tags []map[string]any
	if err := json.Unmarshal(run(t, tool, "-j", "-charset", "UTF8", path), &tags); err != nil || len(tags) != 1 {
		t.Fatalf("exiftool -j %s: %v (%d objects)", path, err, len(tags))
	}
	return tags[0]
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestApplyReadBackWithExiftool writes every field and reads them back with exiftool, for
// each architecture Go builds Windows executables for (PE32 and PE32+).
func TestApplyReadBackWithExiftool(t *testing.T) {
	for _, tc := range []struct {
		goarch, peType string
	}{
		{"amd64", "PE32+"},
		{"arm64", "PE32+"},
		{"386", "PE32"},
	} {
		t.Run(tc.goarch, func(t *testing.T) {
			info := fullInfo(bitmapICO())
			out, err := Apply(realPE(t, tc.goarch), info)
			if err != nil {
				t.Fatal(err)
			}
			tags := exiftool(t, writeTemp(t, "hello.exe", out))
			if tags["PEType"] != tc.peType {
				t.Errorf("PEType = %v, want %s", tags["PEType"], tc.peType)
			}
			for tag, want := range exifFields(info) {
				if got, _ := tags[tag].(string); got != want {
					t.Errorf("%s = %v, want %q", tag, tags[tag], want)
				}
			}
			for tag, want := range map[string]string{
				"FileVersionNumber":    "1.2.3.4",
				"ProductVersionNumber": "5.6.7.0",
				"LanguageCode":         "English (U.S.)",
				"CharacterSet":         "Unicode",
				"ObjectFileType":       "Executable application",
			} {
				if got, _ := tags[tag].(string); got != want {
					t.Errorf("%s = %v, want %q", tag, tags[tag], want)
				}
			}
		})
	}
}

// TestApplyReadBackWithWrestool lists and extracts the resources with wrestool (icoutils).
func TestApplyReadBackWithWrestool(t *testing.T) {
	tool := testtool.Need(t, "wrestool")
	ico := bitmapICO()
	info := fullInfo(ico)
	out, err := Apply(realPE(t, "amd64"), info)
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, "hello.exe", out)

	list := string(run(t, tool, "-l", path))
	for _, want := range []string{
		"--type=3 --name=1 --language=0 ",     // the icon image
		"--type=14 --name=1 --language=0 ",    // the icon group
		"--type=16 --name=1 --language=1033 ", // version information, en-US
		"--type=24 --name=1 --language=1033 ", // the manifest
	} {
		if !strings.Contains(list, want) {
			t.Errorf("wrestool -l does not list %q:\n%s", want, list)
		}
	}
	if n := strings.Count(list, "\n"); n != 4 {
		t.Errorf("wrestool -l lists %d resources, want 4:\n%s", n, list)
	}

	if got := run(t, tool, "-x", "--raw", "-t24", path); string(got) != Manifest {
		t.Errorf("extracted manifest differs:\n%s", got)
	}
	if got := run(t, tool, "-x", "--raw", "-t3", "--name=1", path); !bytes.Equal(got, ico[22:]) {
		t.Errorf("extracted icon image (%d bytes) differs from the ICO's image (%d bytes)", len(got), len(ico)-22)
	}

	ver := run(t, tool, "-x", "--raw", "-t16", path)
	for _, f := range info.stringFields() {
		for _, s := range []string{f.key, f.value} {
			if !bytes.Contains(ver, utf16LE(s)) {
				t.Errorf("version resource lacks %q in UTF-16LE", s)
			}
		}
	}
	fixed := fixedFileInfo(t, ver)
	for name, want := range map[string]uint32{
		"FileVersionMS":    1<<16 | 2,
		"FileVersionLS":    3<<16 | 4,
		"ProductVersionMS": 5<<16 | 6,
		"ProductVersionLS": 7 << 16,
		"FileFlags":        0,
		"FileType":         1, // VFT_APP
		"FileDateMS":       0,
		"FileDateLS":       0,
	} {
		if fixed[name] != want {
			t.Errorf("VS_FIXEDFILEINFO.%s = %#x, want %#x", name, fixed[name], want)
		}
	}
}

// TestApplyPNGIcon gives a PNG as the icon: it becomes one 32-bit PNG icon image.
func TestApplyPNGIcon(t *testing.T) {
	tool := testtool.Need(t, "wrestool")
	out, err := Apply(realPE(t, "amd64"), Info{Icon: testPNG(t, 48)})
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, "hello.exe", out)
	list := string(run(t, tool, "-l", path))
	for _, want := range []string{"--type=3 --name=1 ", "--type=14 --name=1 ", "--type=24 --name=1 "} {
		if !strings.Contains(list, want) {
			t.Errorf("wrestool -l does not list %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "--type=16") {
		t.Errorf("a version resource was written although no field is set:\n%s", list)
	}
	img := run(t, tool, "-x", "--raw", "-t3", "--name=1", path)
	if !bytes.HasPrefix(img, pngSignature) {
		t.Fatalf("the icon image is not a PNG: starts %q", img[:min(len(img), 8)])
	}
	if err := checkPNGSize(img); err != nil {
		t.Fatal(err)
	}
	group := run(t, tool, "-x", "--raw", "-t14", path)
	// GRPICONDIR: reserved, type 1, count 1; GRPICONDIRENTRY: 48x48, 32 bits per pixel.
	if len(group) != 6+14 || binary.LittleEndian.Uint16(group[4:]) != 1 || group[6] != 48 || group[7] != 48 ||
		binary.LittleEndian.Uint16(group[12:]) != 32 {
		t.Errorf("icon group = % x", group)
	}
}

// TestApplyKeepsThePE checks the rewritten file with debug/pe: every original section keeps
// its bytes, .rsrc is added last and the resource directory points at it.
func TestApplyKeepsThePE(t *testing.T) {
	exe := realPE(t, "amd64")
	out, err := Apply(exe, fullInfo(pngICO(t, 32, 16)))
	if err != nil {
		t.Fatal(err)
	}
	before, err := pe.NewFile(bytes.NewReader(exe))
	if err != nil {
		t.Fatal(err)
	}
	after, err := pe.NewFile(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Sections) != len(before.Sections)+1 {
		t.Fatalf("%d sections after, %d before", len(after.Sections), len(before.Sections))
	}
	for i, s := range before.Sections {
		a := after.Sections[i]
		if a.Name != s.Name || a.VirtualAddress != s.VirtualAddress || a.Offset != s.Offset {
			t.Errorf("section %d moved: %+v -> %+v", i, s.SectionHeader, a.SectionHeader)
		}
		if !bytes.Equal(exe[s.Offset:s.Offset+s.Size], out[a.Offset:a.Offset+a.Size]) {
			t.Errorf("section %s changed", s.Name)
		}
	}
	rsrc := after.Sections[len(after.Sections)-1]
	opt := after.OptionalHeader.(*pe.OptionalHeader64)
	dir := opt.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE]
	if rsrc.Name != ".rsrc" || dir.VirtualAddress != rsrc.VirtualAddress || dir.Size != rsrc.VirtualSize {
		t.Errorf(".rsrc %+v, resource directory %+v", rsrc.SectionHeader, dir)
	}
	if want := rsrc.VirtualAddress + (rsrc.VirtualSize+opt.SectionAlignment-1)&^(opt.SectionAlignment-1); opt.SizeOfImage != want {
		t.Errorf("SizeOfImage = %#x, want %#x", opt.SizeOfImage, want)
	}
	if int(rsrc.Offset+rsrc.Size) != len(out) {
		t.Errorf(".rsrc ends at %d, the file at %d", rsrc.Offset+rsrc.Size, len(out))
	}
	if after.TimeDateStamp != before.TimeDateStamp || opt.CheckSum != 0 {
		t.Errorf("TimeDateStamp %d (was %d), CheckSum %#x", after.TimeDateStamp, before.TimeDateStamp, opt.CheckSum)
	}
}

// TestApplyIsDeterministic: the same input gives the same bytes, and applying again to the
// output replaces the resources as applying to the original does. The one difference is
// the optional header's SizeOfInitializedData (which Windows does not use): when winres
// adds a .rsrc section it adds both its unrounded and its rounded size; when it replaces
// one it swaps the rounded sizes.
func TestApplyIsDeterministic(t *testing.T) {
	exe := realPE(t, "amd64")
	a := fullInfo(pngICO(t, 64, 32, 16))
	b := Info{ProductName: "Other", FileVersion: "9.9.9", Icon: testPNG(t, 32)}
	first, err := Apply(exe, a)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Apply(bytes.Clone(exe), a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatal("two Apply calls on the same input gave different bytes")
	}
	onlyB, err := Apply(exe, b)
	if err != nil {
		t.Fatal(err)
	}
	aThenB, err := Apply(first, b)
	if err != nil {
		t.Fatal(err)
	}
	optOff, _ := peOffsets(exe)
	const sizeOfInitializedData = 8
	field := optOff + sizeOfInitializedData
	if len(aThenB) != len(onlyB) {
		t.Fatalf("re-applied: %d bytes, applied once: %d", len(aThenB), len(onlyB))
	}
	if !bytes.Equal(aThenB[:field], onlyB[:field]) || !bytes.Equal(aThenB[field+4:], onlyB[field+4:]) {
		t.Error("re-applying resources does not give the bytes of applying them to the original")
	}
	a1, err := pe.NewFile(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	rsrcA := a1.Sections[len(a1.Sections)-1]
	rawB := uint32(len(onlyB) - len(exe))
	want := binary.LittleEndian.Uint32(exe[field:]) + rsrcA.VirtualSize + rawB
	if got := binary.LittleEndian.Uint32(aThenB[field:]); got != want {
		t.Errorf("re-applied SizeOfInitializedData = %#x, want %#x", got, want)
	}
	b1, err := pe.NewFile(bytes.NewReader(onlyB))
	if err != nil {
		t.Fatal(err)
	}
	want = binary.LittleEndian.Uint32(exe[field:]) + b1.Sections[len(b1.Sections)-1].VirtualSize + rawB
	if got := binary.LittleEndian.Uint32(onlyB[field:]); got != want {
		t.Errorf("SizeOfInitializedData = %#x, want %#x", got, want)
	}
}

// TestWinresDropsOverlay shows why Apply refuses bytes after the last section: winres puts
// the new .rsrc section where they were and does not copy them.
func TestWinresDropsOverlay(t *testing.T) {
	exe := realPE(t, "amd64")
	overlay := []byte("overlay bytes that must survive")
	var rs winres.ResourceSet
	if err := rs.Set(winres.RT_MANIFEST, winres.ID(1), langEnUS, []byte(Manifest)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rs.WriteToEXE(&out, bytes.NewReader(append(bytes.Clone(exe), overlay...))); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Bytes(), overlay) {
		t.Error("winres kept the overlay; Apply's refusal of overlays may be relaxed")
	}
}

// TestApplyThenSeal follows the pipeline order: resources, then the payload. The payload is
// found and the resources are still read.
func TestApplyThenSeal(t *testing.T) {
	info := fullInfo(bitmapICO())
	withResources, err := Apply(realPE(t, "amd64"), info)
	if err != nil {
		t.Fatal(err)
	}
	manifest := []byte("signet-manifest 1\nentry hello.py\n")
	sealed, err := payload.Attach(withResources, manifest)
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, "hello.exe", sealed)
	got, err := payload.FindInFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, manifest) {
		t.Errorf("payload = %q, want %q", got, manifest)
	}
	tags := exiftool(t, path)
	for tag, want := range exifFields(info) {
		if got, _ := tags[tag].(string); got != want {
			t.Errorf("%s = %v, want %q", tag, tags[tag], want)
		}
	}

	// The other order is refused.
	if _, err := Apply(sealed, info); err == nil || !strings.Contains(err.Error(), "apply resources before sealing") {
		t.Errorf("Apply on a sealed executable: %v", err)
	}
}

// TestApplyRefuses covers every input Apply must not rewrite.
func TestApplyRefuses(t *testing.T) {
	exe := realPE(t, "amd64")
	sealed, err := payload.Attach(exe, []byte("m\n"))
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(sealed)
	damaged[len(exe)] ^= 1
	optOff, tableOff := peOffsets(exe)
	small := makePE()
	smallOpt, smallTable := peOffsets(small)

	for _, tc := range []struct {
		name string
		exe  []byte
		info Info
		want string
	}{
		{"empty", nil, Info{}, "not a Windows executable"},
		{"text", []byte("#!/bin/sh\necho hi\n"), Info{}, "not a Windows executable"},
		{"ELF", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 200)...), Info{}, "it is ELF"},
		{"truncated PE", exe[:4096], Info{}, "past the end of the file"},
		{"sealed", sealed, Info{}, "already sealed (it carries a signet payload): apply resources before sealing"},
		{"damaged payload", damaged, Info{}, "carries a signet payload (signet payload damaged: manifest digest mismatch): apply resources before sealing"},
		{"signed", fakeSigned(t, exe), Info{}, "is signed (it has a certificate table)"},
		{"overlay", append(bytes.Clone(exe), "appended data"...), Info{}, "13 bytes follow the last section"},
		{"bad info", exe, Info{FileVersion: "1.2"}, "FileVersion: version \"1.2\" must have the form"},
		{"file alignment 0", pePatch(exe, optOff+optFileAlignOff, 0, 4), Info{}, "file alignment 0"},
		{"section alignment below file alignment", pePatch(exe, optOff+optSectionAlignOff, 0x100, 4), Info{}, "section alignment 0x100"},
		{"5 data directories", pePatch(exe, optOff+108, 5, 4), Info{}, "data directories"},
		{"section inside the headers", pePatch(small, smallTable+20, 0x100, 4), Info{}, "inside the headers"},
		{"sections out of order", pePatch(small, smallTable+sectionHeaderSize+12, 0x800, 4), Info{}, "out of virtual address order"},
		{"overlapping sections", pePatch(small, smallTable+8, 0x1001, 4), Info{}, "overlaps the one before"},
		{"virtual address 0", pePatch(exe, tableOff+12, 0, 4), Info{}, "virtual address 0x0"},
		{"resource directory off a section", pePatch(small, smallOpt+112+resourceDirIndex*8, 0x1800, 4), Info{}, "not at the start of a section"},
		{"resource section not last, no relocations", withoutRelocDir(small, smallOpt), Info{}, "no relocation section"},
		{"no room for a section header", pePatch(small, smallTable+20, 0x1d8, 4), Info{}, "no room for one more section header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Apply(tc.exe, tc.info)
			if err == nil {
				t.Fatalf("Apply succeeded (%d bytes)", len(out))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// withoutRelocDir gives small a resource directory at its first section (which is not the
// last one) and no base relocation directory.
func withoutRelocDir(small []byte, optOff int) []byte {
	b := pePatch(small, optOff+112+resourceDirIndex*8, 0x1000, 4)
	return pePatch(b, optOff+112+baseRelocDirIndex*8, 0, 4)
}

// TestApplySmallPE rewrites the hand-made PE that seeds the fuzz target, so the seeds reach
// winres.
func TestApplySmallPE(t *testing.T) {
	out, err := Apply(makePE(), Info{ProductName: "x", Icon: bitmapICO()})
	if err != nil {
		t.Fatal(err)
	}
	f, err := pe.NewFile(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Sections); n != 3 || f.Sections[2].Name != ".rsrc" {
		t.Errorf("%d sections, last %q", n, f.Sections[n-1].Name)
	}
}

// fakeSigned appends an (unverifiable) certificate table and points the security directory
// at it: the shape of a signed PE.
func fakeSigned(t *testing.T, exe []byte) []byte {
	t.Helper()
	out := bytes.Clone(exe)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	off := len(out)
	cert := make([]byte, 16)
	binary.LittleEndian.PutUint32(cert, 16)
	binary.LittleEndian.PutUint16(cert[4:], 0x200)
	binary.LittleEndian.PutUint16(cert[6:], 2)
	out = append(out, cert...)
	optOff, _ := peOffsets(out)
	out = pePatch(out, optOff+112+4*8, uint32(off), 4)
	out = pePatch(out, optOff+112+4*8+4, 16, 4)
	if _, _, ok, err := payload.SecurityDirectory(bytes.NewReader(out), int64(len(out))); !ok || err != nil {
		t.Fatalf("fake signature not recognised: %v", err)
	}
	return out
}

func utf16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// fixedFileInfo finds VS_FIXEDFILEINFO (signature 0xFEEF04BD) in a raw version resource.
func fixedFileInfo(t *testing.T, ver []byte) map[string]uint32 {
	t.Helper()
	i := bytes.Index(ver, []byte{0xbd, 0x04, 0xef, 0xfe})
	if i < 0 || i+52 > len(ver) {
		t.Fatalf("no VS_FIXEDFILEINFO in the version resource (%d bytes)", len(ver))
	}
	names := []string{"Signature", "StrucVersion", "FileVersionMS", "FileVersionLS", "ProductVersionMS",
		"ProductVersionLS", "FileFlagsMask", "FileFlags", "FileOS", "FileType", "FileSubtype", "FileDateMS", "FileDateLS"}
	m := map[string]uint32{}
	for k, n := range names {
		m[n] = binary.LittleEndian.Uint32(ver[i+4*k:])
	}
	return m
}

// TestWriteToEXEContainsPanics calls winres on a layout readLayout refuses (a resource
// section before another section and no relocation section), where winres v0.2.1
// dereferences a nil pointer: the panic comes back as an error.
func TestWriteToEXEContainsPanics(t *testing.T) {
	small := makePE()
	optOff, _ := peOffsets(small)
	rs, err := Info{}.resourceSet()
	if err != nil {
		t.Fatal(err)
	}
	out, err := writeToEXE(rs, withoutRelocDir(small, optOff))
	if !errors.Is(err, errWinresPanic) || out != nil {
		t.Fatalf("writeToEXE = %d bytes, %v; want a contained panic", len(out), err)
	}
}
