package loader

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// The Authenticode certificate table of a PE file, as far as the loader reads it to learn
// who signed it (docs/signing.md, "A loader that checks its own signature"). Whether the
// signature is valid is the operating system's verdict (WinVerifyTrust); this walk only
// finds the signer's certificate, the one the SignerInfo names by issuer and serial number,
// exactly as the verifier picks it, and refuses anything ambiguous.

const (
	winCertHeaderSize     = 8      // dwLength uint32, wRevision uint16, wCertificateType uint16
	winCertRevision2      = 0x0200 // WIN_CERT_REVISION_2_0
	winCertTypePKCSSigned = 0x0002 // WIN_CERT_TYPE_PKCS_SIGNED_DATA
	maxCertTable          = 1 << 20
)

// DER tags used below.
const (
	tagInteger  = 0x02
	tagOID      = 0x06
	tagSequence = 0x30
	tagSet      = 0x31
	tagContext0 = 0xa0 // [0] constructed
	tagContext1 = 0xa1 // [1] constructed
)

// oidSignedData is the DER content of 1.2.840.113549.1.7.2 (PKCS#7 signedData).
var oidSignedData = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}

// errSignerParse is wrapped by every error of signerKeyDigest.
var errSignerParse = errors.New("unreadable signature")

// signerKeyDigest returns the SHA-256 of the DER SubjectPublicKeyInfo of the certificate
// that made the Authenticode signature in table, a PE certificate table. The table must hold
// exactly one WIN_CERTIFICATE (revision 2, PKCS#7 SignedData; at most 7 zero bytes of
// padding after it), the SignedData exactly one SignerInfo identified by issuer and serial
// number, and its certificates exactly one certificate with that issuer and serial number.
// It checks no signature: it only says whose key the signature claims to be made with.
func signerKeyDigest(table []byte) ([32]byte, error) {
	var none [32]byte
	bad := func(format string, args ...any) ([32]byte, error) {
		return none, fmt.Errorf("%w: %s", errSignerParse, fmt.Sprintf(format, args...))
	}
	if len(table) > maxCertTable {
		return bad("certificate table of %d bytes is over %d", len(table), maxCertTable)
	}
	if len(table) < winCertHeaderSize {
		return bad("certificate table of %d bytes is too short", len(table))
	}
	length := binary.LittleEndian.Uint32(table)
	if length < winCertHeaderSize || uint64(length) > uint64(len(table)) {
		return bad("WIN_CERTIFICATE length %d does not fit the table of %d bytes", length, len(table))
	}
	if rev := binary.LittleEndian.Uint16(table[4:]); rev != winCertRevision2 {
		return bad("WIN_CERTIFICATE revision 0x%04x, want 0x0200", rev)
	}
	if typ := binary.LittleEndian.Uint16(table[6:]); typ != winCertTypePKCSSigned {
		return bad("WIN_CERTIFICATE type 0x%04x, want PKCS#7 signed data", typ)
	}
	if pad := table[length:]; len(pad) > 7 || !allZero(pad) {
		return bad("the certificate table holds more than one signature")
	}
	spki, err := signerSPKI(table[winCertHeaderSize:length])
	if err != nil {
		return none, fmt.Errorf("%w: %w", errSignerParse, err)
	}
	return sha256.Sum256(spki), nil
}

// signerSPKI returns the DER SubjectPublicKeyInfo of the signer certificate of the PKCS#7
// ContentInfo in b (which may be followed by zero bytes only).
func signerSPKI(b []byte) ([]byte, error) {
	ci, rest, err := expect(b, tagSequence, "ContentInfo")
	if err != nil {
		return nil, err
	}
	if !allZero(rest) {
		return nil, errors.New("bytes after the signature")
	}
	oid, ci, err := expect(ci, tagOID, "ContentInfo content type")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(oid, oidSignedData) {
		return nil, errors.New("not PKCS#7 signed data")
	}
	explicit, ci, err := expect(ci, tagContext0, "ContentInfo content")
	if err != nil {
		return nil, err
	}
	if len(ci) != 0 {
		return nil, errors.New("bytes after the ContentInfo content")
	}
	sd, rest, err := expect(explicit, tagSequence, "SignedData")
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("bytes after SignedData")
	}
	// version, digestAlgorithms, contentInfo
	for _, f := range []struct {
		tag  byte
		name string
	}{{tagInteger, "SignedData version"}, {tagSet, "digestAlgorithms"}, {tagSequence, "SignedData contentInfo"}} {
		if _, sd, err = expect(sd, f.tag, f.name); err != nil {
			return nil, err
		}
	}
	var certs []byte
	if len(sd) > 0 && sd[0] == tagContext0 {
		if certs, sd, err = expect(sd, tagContext0, "certificates"); err != nil {
			return nil, err
		}
	}
	if len(sd) > 0 && sd[0] == tagContext1 {
		if _, sd, err = expect(sd, tagContext1, "crls"); err != nil {
			return nil, err
		}
	}
	signerInfos, sd, err := expect(sd, tagSet, "signerInfos")
	if err != nil {
		return nil, err
	}
	if len(sd) != 0 {
		return nil, errors.New("bytes after signerInfos")
	}
	si, rest, err := expect(signerInfos, tagSequence, "SignerInfo")
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("more than one SignerInfo")
	}
	version, si, err := expect(si, tagInteger, "SignerInfo version")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(version, []byte{1}) {
		return nil, errors.New("SignerInfo does not name its certificate by issuer and serial number (version 1)")
	}
	sid, _, err := expect(si, tagSequence, "IssuerAndSerialNumber")
	if err != nil {
		return nil, err
	}
	issuer, sid, err := rawElement(sid, tagSequence, "signer issuer")
	if err != nil {
		return nil, err
	}
	serial, sid, err := expect(sid, tagInteger, "signer serial number")
	if err != nil {
		return nil, err
	}
	if len(sid) != 0 {
		return nil, errors.New("bytes after IssuerAndSerialNumber")
	}
	var found []byte
	for len(certs) > 0 {
		var cert []byte
		if cert, certs, err = expect(certs, tagSequence, "certificate"); err != nil {
			return nil, err
		}
		certIssuer, certSerial, spki, err := certificateFields(cert)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(certIssuer, issuer) && bytes.Equal(certSerial, serial) {
			if found != nil {
				return nil, errors.New("two certificates match the signer")
			}
			found = spki
		}
	}
	if found == nil {
		return nil, errors.New("the signer's certificate is not in the signature")
	}
	return found, nil
}

// certificateFields returns the raw issuer Name, the serial number's content and the raw
// SubjectPublicKeyInfo of the X.509 certificate whose SEQUENCE content is cert.
func certificateFields(cert []byte) (issuer, serial, spki []byte, err error) {
	tbs, _, err := expect(cert, tagSequence, "tbsCertificate")
	if err != nil {
		return nil, nil, nil, err
	}
	if len(tbs) > 0 && tbs[0] == tagContext0 {
		if _, tbs, err = expect(tbs, tagContext0, "certificate version"); err != nil {
			return nil, nil, nil, err
		}
	}
	if serial, tbs, err = expect(tbs, tagInteger, "certificate serial number"); err != nil {
		return nil, nil, nil, err
	}
	if _, tbs, err = expect(tbs, tagSequence, "certificate signature algorithm"); err != nil {
		return nil, nil, nil, err
	}
	if issuer, tbs, err = rawElement(tbs, tagSequence, "certificate issuer"); err != nil {
		return nil, nil, nil, err
	}
	for _, name := range []string{"certificate validity", "certificate subject"} {
		if _, tbs, err = expect(tbs, tagSequence, name); err != nil {
			return nil, nil, nil, err
		}
	}
	if spki, _, err = rawElement(tbs, tagSequence, "certificate public key"); err != nil {
		return nil, nil, nil, err
	}
	return issuer, serial, spki, nil
}

// expect reads one DER element with the given tag from b and returns its content and the
// bytes after it.
func expect(b []byte, tag byte, what string) (content, rest []byte, err error) {
	_, content, rest, err = element(b, tag, what)
	return content, rest, err
}

// rawElement is expect, but returns the whole element (tag and length included).
func rawElement(b []byte, tag byte, what string) (raw, rest []byte, err error) {
	raw, _, rest, err = element(b, tag, what)
	return raw, rest, err
}

// element reads one DER element (a one-byte tag, a definite length of at most 4 bytes) with
// the given tag from b.
func element(b []byte, tag byte, what string) (raw, content, rest []byte, err error) {
	if len(b) < 2 {
		return nil, nil, nil, fmt.Errorf("%s: truncated", what)
	}
	if b[0] != tag {
		return nil, nil, nil, fmt.Errorf("%s: tag 0x%02x, want 0x%02x", what, b[0], tag)
	}
	n, hdr := int(b[1]), 2
	if n >= 0x80 {
		count := n & 0x7f
		if count == 0 || count > 4 || len(b) < 2+count {
			return nil, nil, nil, fmt.Errorf("%s: unsupported length encoding", what)
		}
		n = 0
		for _, c := range b[2 : 2+count] {
			n = n<<8 | int(c)
		}
		hdr += count
	}
	if n < 0 || n > len(b)-hdr {
		return nil, nil, nil, fmt.Errorf("%s: length %d exceeds the data", what, n)
	}
	return b[:hdr+n], b[hdr : hdr+n], b[hdr+n:], nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
