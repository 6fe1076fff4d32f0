package authenticode

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/signet/internal/authenticode/authenticodetest"
	"github.com/signet-dev/signet/signet/internal/pefile"
)

func TestMain(m *testing.M) { authenticodetest.Main(m) }

// tinyPE builds a minimal PE32+ image: headers in 0x200 bytes, one 0x200-byte
// section, then overlay.
func tinyPE(overlay []byte) []byte {
	img := make([]byte, 0x400)
	copy(img, "MZ")
	binary.LittleEndian.PutUint32(img[0x3c:], 0x40)
	copy(img[0x40:], "PE\x00\x00")
	coff := img[0x44:]
	binary.LittleEndian.PutUint16(coff[0:], 0x8664) // amd64
	binary.LittleEndian.PutUint16(coff[2:], 1)      // sections
	binary.LittleEndian.PutUint16(coff[16:], optHeader64Size)
	opt := img[0x58:]
	binary.LittleEndian.PutUint16(opt[0:], pefile.MagicPE32Plus)
	binary.LittleEndian.PutUint32(opt[32:], 0x1000) // SectionAlignment
	binary.LittleEndian.PutUint32(opt[36:], 0x200)  // FileAlignment
	binary.LittleEndian.PutUint32(opt[56:], 0x2000) // SizeOfImage
	binary.LittleEndian.PutUint32(opt[60:], 0x200)  // SizeOfHeaders
	binary.LittleEndian.PutUint32(opt[108:], 16)    // NumberOfRvaAndSizes
	sec := img[0x58+optHeader64Size:]
	copy(sec, ".text")
	binary.LittleEndian.PutUint32(sec[8:], 0x200)   // VirtualSize
	binary.LittleEndian.PutUint32(sec[12:], 0x1000) // VirtualAddress
	binary.LittleEndian.PutUint32(sec[16:], 0x200)  // SizeOfRawData
	binary.LittleEndian.PutUint32(sec[20:], 0x200)  // PointerToRawData
	for i := 0x200; i < 0x400; i++ {
		img[i] = 0xcc
	}
	return append(img, overlay...)
}

type testID struct {
	key   *ecdsa.PrivateKey
	chain []*x509.Certificate
	roots *x509.CertPool
}

func newTestID(t testing.TB) testID {
	t.Helper()
	mk := func(tmpl, parent *x509.Certificate, pub, signer any) *x509.Certificate {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "go root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	ca := mk(caTmpl, caTmpl, &caKey.PublicKey, caKey)
	leaf := mk(&x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "go signer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}, ca, &key.PublicKey, caKey)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return testID{key: key, chain: []*x509.Certificate{leaf, ca}, roots: roots}
}

func signImage(t testing.TB, id testID, image []byte) []byte {
	t.Helper()
	p, err := Prepare(image)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Sign(context.Background(), id.key, id.chain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSignVerifyTinyPE(t *testing.T) {
	id := newTestID(t)
	signed := signImage(t, id, tinyPE([]byte("SIGNET-OVERLAY-123")))
	s, err := VerifyImage(signed, id.roots, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if s.Subject != "CN=go signer" || len(s.Chain) != 2 || s.Timestamped {
		t.Errorf("signer = %+v", s)
	}
	// Signing again is deterministic and re-signing replaces.
	if again := signImage(t, id, tinyPE([]byte("SIGNET-OVERLAY-123"))); !bytes.Equal(again, signed) {
		t.Error("ECDSA signing is not deterministic")
	}
	resigned := signImage(t, id, signed)
	if !bytes.Equal(resigned, signed) {
		t.Error("re-signing changed the bytes")
	}
}

func TestVerifyRefusals(t *testing.T) {
	id := newTestID(t)
	other := newTestID(t)
	signed := signImage(t, id, tinyPE([]byte("SIGNET-OVERLAY-123")))
	tampered := append([]byte(nil), signed...)
	tampered[bytes.Index(tampered, []byte("OVERLAY"))] ^= 1
	header := append([]byte(nil), signed...)
	header[0x40+4+8] ^= 1 // TimeDateStamp in the COFF header
	trailing := append(append([]byte(nil), signed...), 0)
	for _, tc := range []struct {
		name  string
		image []byte
		roots *x509.CertPool
		now   time.Time
		want  string
	}{
		{"unsigned", tinyPE(nil), id.roots, time.Now(), "not signed"},
		{"overlay changed", tampered, id.roots, time.Now(), "digest mismatch"},
		{"header changed", header, id.roots, time.Now(), "digest mismatch"},
		{"bytes after the certificate table", trailing, id.roots, time.Now(), "not at the end"},
		{"untrusted root", signed, other.roots, time.Now(), "unknown authority"},
		{"certificate expired, no time stamp", signed, id.roots, time.Now().Add(2 * time.Hour), "expired"},
		{"not a PE", []byte("hello"), id.roots, time.Now(), "not a valid PE file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyImage(tc.image, tc.roots, tc.now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := VerifyImage(tinyPE(nil), id.roots, time.Now()); !errors.Is(err, ErrNotSigned) {
		t.Errorf("unsigned: %v is not ErrNotSigned", err)
	}
}

func TestAttachChecksSignature(t *testing.T) {
	id := newTestID(t)
	p, err := Prepare(tinyPE(nil))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := id.key.Sign(nil, p.SignedDigest(), digestHash)
	if err != nil {
		t.Fatal(err)
	}
	viaAttach, err := p.Attach(context.Background(), sig, id.chain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(viaAttach, signImage(t, id, tinyPE(nil))) {
		t.Error("Attach and Sign give different bytes for the same key")
	}
	other := newTestID(t)
	if _, err := p.Attach(context.Background(), sig, other.chain, nil); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("a signature by another key was attached: %v", err)
	}
}

func TestCheckPE(t *testing.T) {
	good := tinyPE(nil)
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name  string
		image []byte
		want  string
	}{
		{"good", good, ""},
		{"signed", signImage(t, newTestID(t), good), ""},
		{"empty", nil, "shorter than a DOS header"},
		{"MZ only", []byte("MZ"), "shorter than a DOS header"},
		{"no MZ", mut(func(b []byte) []byte { b[0] = 'Z'; return b }), "no MZ signature"},
		{"e_lfanew past the end", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[0x3c:], 0xfffffff0); return b }), "outside the file"},
		{"e_lfanew inside the DOS header", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[0x3c:], 4); return b }), "outside the file"},
		{"no PE signature", mut(func(b []byte) []byte { b[0x41] = 'X'; return b }), "no PE signature"},
		{"tiny optional header", mut(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[0x44+16:], 1); return b }), "optional header of 1 bytes is shorter"},
		{"optional header without all 16 directories", mut(func(b []byte) []byte {
			binary.LittleEndian.PutUint16(b[0x44+16:], 112+5*8)
			binary.LittleEndian.PutUint32(b[0x58+108:], 5)
			return b
		}), "optional header is 152 bytes, want at least 240"},
		{"bad magic", mut(func(b []byte) []byte { b[0x58] = 0; return b }), "magic"},
		{"too few data directories", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[0x58+108:], 4); return b }), "security data directory"},
		{"too many data directories", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[0x58+108:], 17); return b }), "17 data directories do not fit"},
		{"SizeOfHeaders inside the section table", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[0x58+60:], 0x100); return b }), "SizeOfHeaders 0x100"},
		{"SizeOfHeaders past the end", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[0x58+60:], 0x1000); return b }), "SizeOfHeaders 0x1000"},
		{"section inside the headers", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[0x58+optHeader64Size+20:], 0x100); return b }), "inside the headers"},
		{"section past the end", mut(func(b []byte) []byte { return b[:0x300] }), "past the end of the file"},
		{"certificate table not at the end", func() []byte {
			b := tinyPE(make([]byte, 64))
			binary.LittleEndian.PutUint32(b[0x58+112+32:], 0x400)
			binary.LittleEndian.PutUint32(b[0x58+112+36:], 0x10)
			return b
		}(), "not at the end"},
		{"certificate table over the sections", mut(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[0x58+112+32:], 0x300)
			binary.LittleEndian.PutUint32(b[0x58+112+36:], 0x100)
			return b
		}), "overlaps the sections"},
		{"truncated in the optional header", good[:0x100], "optional header of 240 bytes at 88 extends past the end of the file"},
		{"truncated in the section table", good[:0x160], "section table of 1 sections at 328 extends past the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkPE(tc.image)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errNotPE) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCheckSigningCert(t *testing.T) {
	now := time.Now()
	base := func() *x509.Certificate {
		return &x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	}
	for _, tc := range []struct {
		name string
		edit func(c *x509.Certificate)
		want string
	}{
		{"good", func(*x509.Certificate) {}, ""},
		{"expired", func(c *x509.Certificate) { c.NotAfter = now.Add(-time.Minute) }, "expired"},
		{"not yet valid", func(c *x509.Certificate) { c.NotBefore = now.Add(time.Minute) }, "not valid before"},
		{"server EKU", func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }, "code signing"},
		{"no EKU", func(c *x509.Certificate) { c.ExtKeyUsage = nil }, "code signing"},
		{"key usage without digitalSignature", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment }, "digitalSignature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(c)
			err := CheckSigningCert(c, now)
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	id := newTestID(f)
	f.Add(tinyPE(nil))
	f.Add(tinyPE([]byte("overlay")))
	f.Add(signImage(f, id, tinyPE([]byte("SIGNET"))))
	f.Add([]byte("MZ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := VerifyImage(data, id.roots, time.Now())
		if err == nil && s == nil {
			t.Fatal("nil signer without an error")
		}
		if p, err := Prepare(data); err == nil && len(p.SignedDigest()) != 32 {
			t.Fatal("prepared without a 32-byte digest")
		}
	})
}
