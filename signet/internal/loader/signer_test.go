package loader

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/signet-dev/signet/internal/testtool"
	"github.com/signet-dev/signet/signet/internal/authenticode"
	"github.com/signet-dev/signet/signet/internal/authenticode/authenticodetest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/pfx"
)

func TestMain(m *testing.M) { authenticodetest.Main(m) }

// signedPE signs the test PE with the key and chain of a .pfx of the shared test PKI and
// returns the signed bytes and the leaf's pin.
func signedPE(t testing.TB, pfxName string) ([]byte, [32]byte) {
	t.Helper()
	pki := authenticodetest.SharedPKI(t)
	id, err := pfx.Load(pki.Path(pfxName), []byte(pki.Password))
	if err != nil {
		t.Fatal(err)
	}
	prep, err := authenticode.Prepare(authenticodetest.PE(t))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := prep.Sign(context.Background(), id.Key, id.Chain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return signed, sha256.Sum256(id.Leaf.RawSubjectPublicKeyInfo)
}

var (
	osslOnce   sync.Once
	osslSigned []byte
	osslErr    error
)

// osslSignedPE is the test PE signed by osslsigncode, an independent signer.
func osslSignedPE(t testing.TB) []byte {
	t.Helper()
	pki := authenticodetest.SharedPKI(t)
	tool := testtool.Need(t, "osslsigncode")
	osslOnce.Do(func() {
		dir, err := os.MkdirTemp("", "signet-ossl-")
		if err != nil {
			osslErr = err
			return
		}
		defer os.RemoveAll(dir)
		in, out := filepath.Join(dir, "in.exe"), filepath.Join(dir, "out.exe")
		if osslErr = os.WriteFile(in, authenticodetest.PE(t), 0o644); osslErr != nil {
			return
		}
		cmd := exec.Command(tool, "sign", "-pkcs12", pki.Path("modern.pfx"), "-readpass", pki.Path("password.txt"),
			"-h", "sha256", "-in", in, "-out", out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			osslErr = errors.New(string(msg))
			return
		}
		osslSigned, osslErr = os.ReadFile(out)
	})
	if osslErr != nil {
		t.Fatalf("osslsigncode sign: %v", osslErr)
	}
	return osslSigned
}

// certTable returns the certificate table of a signed PE.
func certTable(t testing.TB, pe []byte) []byte {
	t.Helper()
	off, n, ok, err := payload.SecurityDirectory(bytes.NewReader(pe), int64(len(pe)))
	if err != nil || !ok {
		t.Fatalf("no certificate table: %v", err)
	}
	return pe[off : off+n]
}

func TestSignerKeyDigestOfRealSignatures(t *testing.T) {
	rsa, rsaPin := signedPE(t, "modern.pfx")
	ec, ecPin := signedPE(t, "ec.pfx")
	if rsaPin == ecPin {
		t.Fatal("the RSA and ECDSA leaves have the same pin")
	}
	tests := []struct {
		name string
		pe   []byte
		want [32]byte
	}{
		{"signet sign, RSA", rsa, rsaPin},
		{"signet sign, ECDSA", ec, ecPin},
		{"osslsigncode, RSA", osslSignedPE(t), rsaPin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := signerKeyDigest(certTable(t, tt.pe))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("signer key digest %x, want %x", got, tt.want)
			}
		})
	}
}

func TestCheckSignerPin(t *testing.T) {
	signed, pin := signedPE(t, "modern.pfx")
	_, otherPin := signedPE(t, "ec.pfx")
	tests := []struct {
		name string
		pe   []byte
		pin  [32]byte
		want string // "" for no error
	}{
		{"pinned key", signed, pin, ""},
		{"another key", signed, otherPin, "this loader is signed with the key " + shortHex(pin) + ", not with the vendor's key " + shortHex(otherPin)},
		{"unsigned", authenticodetest.PE(t), pin, errNotSigned.Error()},
		{"not a PE", []byte("\x7fELF not a PE at all, just some bytes of an ELF-looking file"), pin, "cannot read this loader's signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSignerPin(bytes.NewReader(tt.pe), int64(len(tt.pe)), tt.pin)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkSignerPin: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("checkSignerPin error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSignerKeyDigestRefuses(t *testing.T) {
	signed, _ := signedPE(t, "modern.pfx")
	table := certTable(t, signed)
	length := binary.LittleEndian.Uint32(table)
	pkcs7 := table[winCertHeaderSize:length]
	// winCert wraps a PKCS#7 blob in a WIN_CERTIFICATE with the given revision and type.
	winCert := func(blob []byte, rev, typ uint16) []byte {
		out := binary.LittleEndian.AppendUint32(nil, uint32(winCertHeaderSize+len(blob)))
		out = binary.LittleEndian.AppendUint16(out, rev)
		out = binary.LittleEndian.AppendUint16(out, typ)
		out = append(out, blob...)
		for len(out)%8 != 0 {
			out = append(out, 0)
		}
		return out
	}
	good := winCert(pkcs7, winCertRevision2, winCertTypePKCSSigned)
	if _, err := signerKeyDigest(good); err != nil {
		t.Fatalf("the rebuilt table does not parse: %v", err)
	}
	tests := []struct {
		name  string
		table []byte
		want  string
	}{
		{"empty", nil, "too short"},
		{"length past the end", append(binary.LittleEndian.AppendUint32(nil, 1<<20), good[4:]...), "does not fit"},
		{"length below the header", append(binary.LittleEndian.AppendUint32(nil, 4), good[4:]...), "does not fit"},
		{"revision 1", winCert(pkcs7, 0x0100, winCertTypePKCSSigned), "revision 0x0100"},
		{"X.509 type", winCert(pkcs7, winCertRevision2, 0x0001), "type 0x0001"},
		{"two signatures", append(append([]byte(nil), good...), good...), "more than one signature"},
		{"not DER", winCert([]byte("hello, world"), winCertRevision2, winCertTypePKCSSigned), "ContentInfo: tag 0x68"},
		{"truncated", winCert(pkcs7[:len(pkcs7)/2], winCertRevision2, winCertTypePKCSSigned), "exceeds the data"},
		{"garbage after", winCert(append(append([]byte(nil), pkcs7...), 1), winCertRevision2, winCertTypePKCSSigned), "bytes after the signature"},
		{"another content type", winCert(bytes.Replace(pkcs7, oidSignedData, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01}, 1), winCertRevision2, winCertTypePKCSSigned), "not PKCS#7 signed data"},
		{"indefinite length", winCert([]byte{0x30, 0x80, 0x00, 0x00}, winCertRevision2, winCertTypePKCSSigned), "unsupported length encoding"},
		{"oversized", make([]byte, maxCertTable+1), "over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := signerKeyDigest(tt.table)
			if err == nil || !errors.Is(err, errSignerParse) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("signerKeyDigest error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func FuzzSignerKeyDigest(f *testing.F) {
	signed, _ := signedPE(f, "modern.pfx")
	f.Add(certTable(f, signed))
	ec, _ := signedPE(f, "ec.pfx")
	f.Add(certTable(f, ec))
	f.Add(certTable(f, osslSignedPE(f)))
	f.Add([]byte{16, 0, 0, 0, 0, 2, 2, 0, 0x30, 0x03, 0x06, 0x01, 0x00, 0, 0, 0})
	f.Fuzz(func(t *testing.T, table []byte) {
		sum, err := signerKeyDigest(table)
		if err != nil {
			if !errors.Is(err, errSignerParse) {
				t.Fatalf("error %v does not wrap errSignerParse", err)
			}
			if sum != ([32]byte{}) {
				t.Fatalf("an error came with a digest")
			}
		}
	})
}

// tlv is one DER element (lengths up to 64 KiB).
func tlv(tag byte, content ...[]byte) []byte {
	body := bytes.Join(content, nil)
	out := []byte{tag}
	switch n := len(body); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, body...)
}

func TestSignerKeyDigestAmbiguousSignatures(t *testing.T) {
	pki := authenticodetest.SharedPKI(t)
	leaf, err := pfx.Load(pki.Path("modern.pfx"), []byte(pki.Password))
	if err != nil {
		t.Fatal(err)
	}
	ec, err := pfx.Load(pki.Path("ec.pfx"), []byte(pki.Password))
	if err != nil {
		t.Fatal(err)
	}
	_, certBody, _, err := element(leaf.Leaf.Raw, tagSequence, "leaf")
	if err != nil {
		t.Fatal(err)
	}
	issuer, serial, _, err := certificateFields(certBody)
	if err != nil {
		t.Fatal(err)
	}
	oidData := tlv(tagOID, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01})
	signerInfo := func(version byte) []byte {
		return tlv(tagSequence, tlv(tagInteger, []byte{version}), tlv(tagSequence, issuer, tlv(tagInteger, serial)),
			tlv(tagSequence), tlv(tagSequence), tlv(0x04, []byte{1, 2, 3}))
	}
	table := func(certs [][]byte, infos ...[]byte) []byte {
		sd := tlv(tagSequence, tlv(tagInteger, []byte{1}), tlv(tagSet), tlv(tagSequence, oidData),
			tlv(tagContext0, certs...), tlv(tagSet, infos...))
		blob := tlv(tagSequence, tlv(tagOID, oidSignedData), tlv(tagContext0, sd))
		out := binary.LittleEndian.AppendUint32(nil, uint32(winCertHeaderSize+len(blob)))
		out = binary.LittleEndian.AppendUint16(out, winCertRevision2)
		out = binary.LittleEndian.AppendUint16(out, winCertTypePKCSSigned)
		return append(out, blob...)
	}
	tests := []struct {
		name  string
		table []byte
		want  string // "" for success with the leaf's pin
	}{
		{"the signer among others", table([][]byte{ec.Leaf.Raw, leaf.Leaf.Raw}, signerInfo(1)), ""},
		{"the signer twice", table([][]byte{leaf.Leaf.Raw, leaf.Leaf.Raw}, signerInfo(1)), "two certificates match the signer"},
		{"the signer missing", table([][]byte{ec.Leaf.Raw}, signerInfo(1)), "not in the signature"},
		{"named by key identifier", table([][]byte{leaf.Leaf.Raw}, signerInfo(3)), "by issuer and serial number"},
		{"two signer infos", table([][]byte{leaf.Leaf.Raw}, signerInfo(1), signerInfo(1)), "more than one SignerInfo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := signerKeyDigest(tt.table)
			if tt.want == "" {
				if err != nil || got != sha256.Sum256(leaf.Leaf.RawSubjectPublicKeyInfo) {
					t.Errorf("signerKeyDigest = %x, %v; want the leaf's pin", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("signerKeyDigest error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
