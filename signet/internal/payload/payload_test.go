package payload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testManifest = []byte("signet-manifest 1\nentry hello.py\n")

func TestDetect(t *testing.T) {
	pe32 := makePE(peSpec{magic: pe32Magic, sections: 2, numDirs: 16})
	badMagic := defaultPE()
	binary.LittleEndian.PutUint16(badMagic[0x80+4+coffHeaderSize:], 0x107)
	noSig := defaultPE()
	copy(noSig[0x80:], "NE\x00\x00")
	farLfanew := defaultPE()
	binary.LittleEndian.PutUint32(farLfanew[lfanewOffset:], 0xfffffff0)
	tests := []struct {
		name    string
		in      []byte
		want    Format
		wantErr string
	}{
		{"elf", makeELF(), FormatELF, ""},
		{"pe32+", defaultPE(), FormatPE, ""},
		{"pe32", pe32, FormatPE, ""},
		{"empty", nil, FormatUnknown, `starts with ""`},
		{"script", []byte("#!/bin/sh\necho hi\n"), FormatUnknown, `starts with "#!/bin/s"`},
		{"elf bad class", []byte("\x7fELF\x03\x01\x01\x00"), FormatUnknown, "not an ELF or PE"},
		{"dos only", append([]byte("MZ"), make([]byte, 100)...), FormatUnknown, "PE header offset 0 is outside the file"},
		{"short mz", []byte("MZ\x90\x00"), FormatUnknown, "shorter than a DOS header"},
		{"unknown optional magic", badMagic, FormatUnknown, "optional header magic 0x107"},
		{"no PE signature", noSig, FormatUnknown, "no PE signature"},
		{"lfanew past end", farLfanew, FormatUnknown, "outside the file"},
		{"truncated sections", defaultPE()[:0x500], FormatUnknown, "past the end of the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.in)
			if got != tt.want {
				t.Errorf("Detect = %v, want %v", got, tt.want)
			}
			if tt.wantErr == "" && err != nil {
				t.Errorf("Detect error = %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Detect error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	realELF, realPE := realExecutables(t)
	stubs := map[string][]byte{
		"hand-made ELF":                 makeELF(),
		"hand-made PE32+":               defaultPE(),
		"hand-made PE32":                makePE(peSpec{magic: pe32Magic, sections: 1, numDirs: 16}),
		"PE without security directory": makePE(peSpec{magic: pe32PlusMagic, sections: 1, numDirs: 4}),
		"real ELF":                      realELF,
		"real PE":                       realPE,
	}
	for name, stub := range stubs {
		t.Run(name, func(t *testing.T) {
			sealed, err := Attach(stub, testManifest)
			if err != nil {
				t.Fatalf("Attach: %v", err)
			}
			if !bytes.Equal(sealed[:len(stub)], stub) || len(sealed) != len(stub)+len(testManifest)+TrailerSize {
				t.Fatalf("Attach did not append exactly manifest and trailer")
			}
			got, err := Find(bytes.NewReader(sealed), int64(len(sealed)))
			if err != nil || !bytes.Equal(got, testManifest) {
				t.Fatalf("Find = %q, %v; want the manifest", got, err)
			}
			stripped, err := Strip(sealed)
			if err != nil || !bytes.Equal(stripped, stub) {
				t.Fatalf("Strip: %v (equal to stub: %v)", err, bytes.Equal(stripped, stub))
			}
			if _, err := Find(bytes.NewReader(stub), int64(len(stub))); !errors.Is(err, ErrNoPayload) {
				t.Errorf("Find on the bare stub = %v, want ErrNoPayload", err)
			}
			if _, err := Attach(sealed, testManifest); err == nil || !strings.Contains(err.Error(), "already sealed") {
				t.Errorf("Attach on a sealed stub = %v, want 'already sealed'", err)
			}
			path := filepath.Join(t.TempDir(), "sealed")
			if err := os.WriteFile(path, sealed, 0o755); err != nil {
				t.Fatal(err)
			}
			if got, err := FindInFile(path); err != nil || !bytes.Equal(got, testManifest) {
				t.Errorf("FindInFile = %q, %v", got, err)
			}
		})
	}
}

func TestAttachRefuses(t *testing.T) {
	sealed, err := Attach(makeELF(), testManifest)
	if err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), sealed...)
	damaged[len(makeELF())] ^= 1
	signed := fakeSign(t, defaultPE(), []byte("signature"))
	tests := []struct {
		name     string
		stub     []byte
		manifest []byte
		want     string
	}{
		{"not an executable", []byte("PK\x03\x04zipfile"), testManifest, `starts with "PK\x03\x04`},
		{"empty manifest", makeELF(), nil, "empty manifest"},
		{"manifest too large", makeELF(), make([]byte, MaxSize+1), "over the limit"},
		{"already sealed", sealed, testManifest, "already sealed"},
		{"damaged payload", damaged, testManifest, "already carries a payload"},
		{"signed PE", signed, testManifest, "seal before signing"},
		{"broken PE", defaultPE()[:0x300], testManifest, "past the end of the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Attach(tt.stub, tt.manifest)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Attach = %d bytes, %v; want error containing %q", len(out), err, tt.want)
			}
		})
	}
}

func TestFindDamage(t *testing.T) {
	stub := makeELF()
	sealed, err := Attach(stub, testManifest)
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), sealed...)) }
	lenOff := len(sealed) - 16
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		want    string
	}{
		{"manifest byte flipped", mutate(func(b []byte) []byte { b[len(stub)+3] ^= 0x20; return b }), ErrDamaged, "digest mismatch"},
		{"digest byte flipped", mutate(func(b []byte) []byte { b[len(b)-TrailerSize] ^= 1; return b }), ErrDamaged, "digest mismatch"},
		{"length over MaxSize", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[lenOff:], MaxSize+1)
			return b
		}), ErrDamaged, "over the limit"},
		{"length huge", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[lenOff:], 1<<63+5)
			return b
		}), ErrDamaged, "over the limit"},
		{"length past start", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[lenOff:], uint64(len(b)))
			return b
		}), ErrDamaged, "does not fit"},
		{"length one short", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[lenOff:], uint64(len(testManifest)-1))
			return b
		}), ErrDamaged, "digest mismatch"},
		{"truncated trailer", sealed[:len(sealed)-1], ErrNoPayload, ""},
		{"trailing byte", append(append([]byte(nil), sealed...), 0), ErrNoPayload, ""},
		{"magic only", Magic[:], ErrNoPayload, ""},
		{"empty", nil, ErrNoPayload, ""},
		{"trailer without manifest space", append(make([]byte, 24), sealed[len(sealed)-24:]...), ErrDamaged, "does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Find(bytes.NewReader(tt.in), int64(len(tt.in)))
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Find = %q, %v; want %v containing %q", got, err, tt.wantErr, tt.want)
			}
			if _, err := Strip(tt.in); err == nil {
				t.Errorf("Strip accepted a damaged executable")
			}
		})
	}
}

// TestFindShortReader checks that a reader returning fewer bytes than its claimed size is
// an error, not a panic or a wrong answer.
func TestFindShortReader(t *testing.T) {
	sealed, err := Attach(makeELF(), testManifest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Find(bytes.NewReader(sealed[:100]), int64(len(sealed))); err == nil {
		t.Error("Find succeeded with a reader shorter than the size")
	}
	if _, err := Find(bytes.NewReader(sealed), -1); err == nil {
		t.Error("Find succeeded with a negative size")
	}
}

func TestFindSignedPE(t *testing.T) {
	for _, extra := range []int{0, 1, 3, 7} {
		// extra bytes in the manifest shift the payload end off the 8-byte grid, so the
		// signer pads with (8 - end%8) % 8 zero bytes before the certificate table.
		manifest := append(append([]byte(nil), testManifest...), bytes.Repeat([]byte{'x'}, extra)...)
		sealed, err := Attach(defaultPE(), manifest)
		if err != nil {
			t.Fatal(err)
		}
		signed := fakeSign(t, sealed, []byte("not really PKCS#7"))
		got, err := Find(bytes.NewReader(signed), int64(len(signed)))
		if err != nil || !bytes.Equal(got, manifest) {
			t.Errorf("extra %d: Find on signed PE = %q, %v", extra, got, err)
		}
		if _, err := Strip(signed); err == nil || !strings.Contains(err.Error(), "signed") {
			t.Errorf("extra %d: Strip on signed PE = %v, want refusal", extra, err)
		}
		off, n, ok, err := SecurityDirectory(bytes.NewReader(signed), int64(len(signed)))
		if err != nil || !ok || int(off)+int(n) != len(signed) || off%8 != 0 {
			t.Errorf("extra %d: SecurityDirectory = %d, %d, %v, %v", extra, off, n, ok, err)
		}
	}

	sealed, err := Attach(defaultPE(), testManifest)
	if err != nil {
		t.Fatal(err)
	}
	signed := fakeSign(t, sealed, []byte("sig"))
	d := secDirOffset(t, signed)
	certOff := int(binary.LittleEndian.Uint32(signed[d:]))
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		want    string
	}{
		{"appended after signing", append(append([]byte(nil), signed...), sealed[len(defaultPE()):]...), ErrDamaged, "follow the certificate table"},
		{"signed without payload", fakeSign(t, defaultPE(), []byte("sig")), ErrNoPayload, ""},
		{"non-zero padding", func() []byte {
			b := append([]byte(nil), signed...)
			if certOff == len(sealed) {
				t.Fatal("test setup: expected padding before the certificate table")
			}
			b[certOff-1] = 0xff
			return b
		}(), ErrNoPayload, ""},
		{"payload changed under signature", func() []byte {
			b := append([]byte(nil), signed...)
			b[len(defaultPE())] ^= 1
			return b
		}(), ErrDamaged, "digest mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Find(bytes.NewReader(tt.in), int64(len(tt.in)))
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Find = %q, %v; want %v containing %q", got, err, tt.wantErr, tt.want)
			}
		})
	}
}

// TestFindSignedPEShortGap covers a certificate table a few (zero) bytes after the sections:
// the padding search must stop at the sections, not read before them.
func TestFindSignedPEShortGap(t *testing.T) {
	for gap := 0; gap < 8; gap++ {
		b := append(defaultPE(), make([]byte, gap)...)
		certOff := len(b)
		b = binary.LittleEndian.AppendUint32(b, 8)
		b = binary.LittleEndian.AppendUint32(b, 0x00020200)
		d := secDirOffset(t, b)
		binary.LittleEndian.PutUint32(b[d:], uint32(certOff))
		binary.LittleEndian.PutUint32(b[d+4:], 8)
		if _, err := Find(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrNoPayload) {
			t.Errorf("gap %d: Find = %v, want ErrNoPayload", gap, err)
		}
	}
}

func TestSecurityDirectory(t *testing.T) {
	withDir := func(off, n uint32) []byte {
		b := append(defaultPE(), make([]byte, 64)...)
		d := secDirOffset(t, b)
		binary.LittleEndian.PutUint32(b[d:], off)
		binary.LittleEndian.PutUint32(b[d+4:], n)
		return b
	}
	peLen := uint32(len(defaultPE()))
	tests := []struct {
		name    string
		in      []byte
		off, n  uint32
		ok      bool
		wantErr string
	}{
		{"unsigned", defaultPE(), 0, 0, false, ""},
		{"four directories only", makePE(peSpec{magic: pe32PlusMagic, sections: 1, numDirs: 4}), 0, 0, false, ""},
		{"pe32 unsigned", makePE(peSpec{magic: pe32Magic, sections: 1, numDirs: 16}), 0, 0, false, ""},
		{"signed", withDir(peLen, 64), peLen, 64, true, ""},
		{"overlaps sections", withDir(peLen-8, 64), 0, 0, false, "overlaps the sections"},
		{"past end", withDir(peLen, 65), 0, 0, false, "past the end"},
		{"offset overflow", withDir(0xfffffff8, 0x10), 0, 0, false, "past the end"},
		{"size too small", withDir(peLen, 4), 0, 0, false, "certificate table at"},
		{"size without offset", withDir(0, 64), 0, 0, false, "certificate table at"},
		{"too many directories", makePE(peSpec{magic: pe32PlusMagic, sections: 1, numDirs: 17}), 0, 0, false, "data directories"},
		{"not PE", makeELF(), 0, 0, false, "not a PE file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off, n, ok, err := SecurityDirectory(bytes.NewReader(tt.in), int64(len(tt.in)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("SecurityDirectory error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || off != tt.off || n != tt.n || ok != tt.ok {
				t.Errorf("SecurityDirectory = %d, %d, %v, %v; want %d, %d, %v", off, n, ok, err, tt.off, tt.n, tt.ok)
			}
		})
	}
}

func TestFindInFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := FindInFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FindInFile(missing) = %v, want ErrNotExist", err)
	}
	if _, err := FindInFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FindInFile(dir) = %v", err)
	}
	path := filepath.Join(dir, "bare")
	if err := os.WriteFile(path, makeELF(), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := FindInFile(path); !errors.Is(err, ErrNoPayload) || !strings.Contains(err.Error(), path) {
		t.Errorf("FindInFile(bare stub) = %v, want ErrNoPayload naming the file", err)
	}
}

func FuzzFind(f *testing.F) {
	sealedELF, _ := Attach(makeELF(), testManifest)
	sealedPE, _ := Attach(defaultPE(), testManifest)
	f.Add(sealedELF)
	f.Add(sealedPE)
	f.Add(fakeSign(f, sealedPE, []byte("sig")))
	f.Add(defaultPE())
	f.Add(Magic[:])
	shortGap := append(defaultPE(), 0, 0, 0)
	certOff := len(shortGap)
	shortGap = binary.LittleEndian.AppendUint64(shortGap, 0x0002020000000008)
	d := secDirOffset(f, shortGap)
	binary.LittleEndian.PutUint32(shortGap[d:], uint32(certOff))
	binary.LittleEndian.PutUint32(shortGap[d+4:], 8)
	f.Add(shortGap)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Find(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrNoPayload) && !errors.Is(err, ErrDamaged) {
				t.Fatalf("Find error %v is neither ErrNoPayload nor ErrDamaged", err)
			}
			return
		}
		stub, err := Strip(b)
		if err != nil {
			// Only a signed PE may be found but not stripped.
			if _, _, ok, serr := SecurityDirectory(bytes.NewReader(b), int64(len(b))); serr != nil || !ok {
				t.Fatalf("Find succeeded but Strip failed on an unsigned file: %v", err)
			}
			return
		}
		if _, err := Detect(stub); err != nil {
			return // Attach only accepts executables; arbitrary bytes may carry a trailer
		}
		again, err := Attach(stub, m)
		if err != nil {
			return // e.g. the stub itself ends in another payload
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("Attach(Strip(b), Find(b)) != b")
		}
	})
}

func FuzzSecurityDirectory(f *testing.F) {
	f.Add(defaultPE())
	f.Add(makePE(peSpec{magic: pe32Magic, sections: 1, numDirs: 16}))
	f.Add(fakeSign(f, defaultPE(), []byte("sig")))
	f.Add(makeELF())
	f.Fuzz(func(t *testing.T, b []byte) {
		off, n, ok, err := SecurityDirectory(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if ok && (int64(off)+int64(n) > int64(len(b)) || n < 8) {
			t.Fatalf("SecurityDirectory returned %d+%d for a %d-byte file", off, n, len(b))
		}
		if !ok && (off != 0 || n != 0) {
			t.Fatalf("SecurityDirectory returned ok=false with %d, %d", off, n)
		}
		if _, err := Detect(b); err != nil && len(b) >= 2 && b[0] == 'M' && b[1] == 'Z' {
			t.Fatalf("SecurityDirectory parsed a PE that Detect refuses: %v", err)
		}
	})
}
