// Package authenticode signs Windows PE files (the signet loader with its
// sealed payload in the overlay) with Authenticode, and verifies them.
//
// The image digest is SHA-256 over the whole file except the PE checksum,
// the security data-directory entry and the certificate table, as the
// Authenticode specification defines it, so the sealed payload in the overlay
// is covered. The signature is a PKCS#7 SignedData whose content is an
// SpcIndirectDataContent holding that digest, signed with RSA PKCS#1 v1.5 or
// ECDSA (RFC 6979 deterministic nonces) over SHA-256. The authenticated
// attributes are exactly: SpcStatementType (individual), an empty
// SpcSpOpusInfo, contentType and messageDigest, in DER order; there is no signing-time
// attribute, so without a time stamp the same input and key give the same
// bytes. The PE/PKCS#7 structures and the digest come from
// github.com/sassoftware/relic/v7/lib/authenticode; this package adds strict
// header checks, the signing policy, the external-signer (HSM) path, the
// checksum update and a self-check of every output.
package authenticode

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"sort"

	relic "github.com/sassoftware/relic/v7/lib/authenticode"
	"github.com/sassoftware/relic/v7/lib/binpatch"
	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/sassoftware/relic/v7/lib/x509tools"

	"github.com/signet-dev/signet/signet/internal/pefile"
)

// MaxImageSize bounds the PE files handled (Authenticode offsets are 32-bit).
const MaxImageSize = 1 << 31

// digestHash is the only digest signet signs with.
const digestHash = crypto.SHA256

// Prepared is a PE image whose Authenticode digest has been computed, ready
// to be signed with a local key or by an external signer.
type Prepared struct {
	image      []byte
	pe         *pefile.File
	pd         *relic.PEDigest
	content    pkcs7.ContentInfo
	attrs      pkcs7.AttributeList // in DER SET OF order
	attrDigest []byte
}

// Prepare checks image and computes its Authenticode digest. An existing
// signature is ignored (it is replaced when the image is signed).
func Prepare(image []byte) (p *Prepared, err error) {
	defer recoverAsError(&err)
	if int64(len(image)) > MaxImageSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", errNotPE, int64(MaxImageSize))
	}
	pe, err := checkPE(image)
	if err != nil {
		return nil, err
	}
	pd, err := relic.DigestPE(bytes.NewReader(image), digestHash, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNotPE, err)
	}
	indirect, err := pd.GetIndirect()
	if err != nil {
		return nil, fmt.Errorf("building SpcIndirectDataContent: %w", err)
	}
	content, err := pkcs7.NewContentInfo(relic.OidSpcIndirectDataContent, indirect)
	if err != nil {
		return nil, fmt.Errorf("encoding SpcIndirectDataContent: %w", err)
	}
	p = &Prepared{image: image, pe: pe, pd: pd, content: content}
	attrs, err := p.authenticatedAttributes()
	if err != nil {
		return nil, err
	}
	der, err := attrs.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encoding authenticated attributes: %w", err)
	}
	sum := sha256.Sum256(der)
	p.attrs = attrs
	p.attrDigest = sum[:]
	return p, nil
}

// WasSigned reports whether the input already carried a certificate table.
func (p *Prepared) WasSigned() bool {
	_, _, signed := p.pe.CertificateTable()
	return signed
}

// ImageDigest is the Authenticode SHA-256 digest of the image.
func (p *Prepared) ImageDigest() []byte { return append([]byte(nil), p.pd.Imprint...) }

// SignedDigest is what the signer's private key signs: the SHA-256 of the
// DER encoding (as a SET OF) of the authenticated attributes. An external
// signer (HSM) signs these 32 bytes as a SHA-256 digest: RSA PKCS#1 v1.5 with
// a SHA-256 DigestInfo, or ECDSA.
func (p *Prepared) SignedDigest() []byte { return append([]byte(nil), p.attrDigest...) }

// addOpusAttributes adds the two Authenticode attributes in the order relic
// uses; add is AttributeList.Add or SignatureBuilder.AddAuthenticatedAttribute.
func addOpusAttributes(add func(oid asn1.ObjectIdentifier, v any) error) error {
	if err := add(relic.OidSpcStatementType, relic.SpcSpStatementType{Type: relic.OidSpcIndividualPurpose}); err != nil {
		return fmt.Errorf("encoding SpcStatementType: %w", err)
	}
	if err := add(relic.OidSpcSpOpusInfo, relic.SpcSpOpusInfo{}); err != nil {
		return fmt.Errorf("encoding SpcSpOpusInfo: %w", err)
	}
	return nil
}

// authenticatedAttributes is the full attribute list that is signed: the
// Authenticode attributes, contentType and messageDigest, in DER SET OF order
// (sorted by their encodings). relic digests and stores the list in the order
// given; a verifier that re-encodes the SET as DER before hashing (Windows'
// crypt32; wine's rejected an unsorted one with TRUST_E_CERT_SIGNATURE) must
// get the same bytes, so the list is sorted before it is digested.
func (p *Prepared) authenticatedAttributes() (pkcs7.AttributeList, error) {
	var attrs pkcs7.AttributeList
	if err := addOpusAttributes(func(oid asn1.ObjectIdentifier, v any) error { return attrs.Add(oid, v) }); err != nil {
		return nil, err
	}
	blob, err := p.content.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encoding content: %w", err)
	}
	md := sha256.Sum256(blob)
	if err := attrs.Add(pkcs7.OidAttributeContentType, relic.OidSpcIndirectDataContent); err != nil {
		return nil, err
	}
	if err := attrs.Add(pkcs7.OidAttributeMessageDigest, md[:]); err != nil {
		return nil, err
	}
	return sortAttributes(attrs)
}

// sortAttributes orders attrs as DER orders the elements of a SET OF: by
// their encodings, compared as octet strings.
func sortAttributes(attrs pkcs7.AttributeList) (pkcs7.AttributeList, error) {
	encoded := make([][]byte, len(attrs))
	for i, a := range attrs {
		der, err := asn1.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("encoding authenticated attribute %v: %w", a.Type, err)
		}
		encoded[i] = der
	}
	idx := make([]int, len(attrs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return bytes.Compare(encoded[idx[a]], encoded[idx[b]]) < 0 })
	sorted := make(pkcs7.AttributeList, len(attrs))
	for i, j := range idx {
		sorted[i] = attrs[j]
	}
	return sorted, nil
}

// Sign signs the image with key; chain is leaf first and is embedded whole.
// ts may be nil (no time stamp); pass an untyped nil, not a nil pointer. It returns the complete signed image with
// its PE checksum updated.
func (p *Prepared) Sign(ctx context.Context, key crypto.Signer, chain []*x509.Certificate, ts pkcs9.Timestamper) ([]byte, error) {
	return p.assemble(ctx, &digestSigner{
		pub:    key.Public(),
		expect: p.attrDigest,
		sign: func(digest []byte) ([]byte, error) {
			// A nil random source makes ECDSA deterministic (RFC 6979);
			// RSA PKCS#1 v1.5 is deterministic anyway.
			return key.Sign(nil, digest, digestHash)
		},
	}, chain, ts)
}

// Attach builds the signed image around a signature made elsewhere over
// SignedDigest(). The signature is checked against the leaf (chain[0])
// before anything is assembled.
func (p *Prepared) Attach(ctx context.Context, signature []byte, chain []*x509.Certificate, ts pkcs9.Timestamper) ([]byte, error) {
	if len(chain) == 0 {
		return nil, errors.New("no certificates given")
	}
	if err := x509tools.Verify(chain[0].PublicKey, digestHash, p.attrDigest, signature); err != nil {
		return nil, fmt.Errorf("the signature does not verify with the leaf certificate %q over this file's digest (wrong key, wrong digest, or the file changed since --digest-out): %w", chain[0].Subject.String(), err)
	}
	return p.assemble(ctx, &digestSigner{
		pub:    chain[0].PublicKey,
		expect: p.attrDigest,
		sign:   func([]byte) ([]byte, error) { return signature, nil },
	}, chain, ts)
}

func (p *Prepared) assemble(ctx context.Context, signer crypto.Signer, chain []*x509.Certificate, ts pkcs9.Timestamper) (out []byte, err error) {
	defer recoverAsError(&err)
	if len(chain) == 0 {
		return nil, errors.New("no certificates given")
	}
	psd, err := p.signedData(signer, chain)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	// With ts == nil this only self-checks the signature and marshals it.
	tsig, err := pkcs9.TimestampAndMarshal(ctx, psd, ts, true)
	if err != nil {
		if ts != nil {
			return nil, fmt.Errorf("time stamp: %w", err)
		}
		return nil, fmt.Errorf("signature self-check: %w", err)
	}
	return p.finish(tsig.Raw)
}

// signedData builds the PKCS#7 SignedData as relic's SignatureBuilder does,
// but over p.attrs in DER order (the builder appends contentType and
// messageDigest after the caller's attributes, unsorted).
func (p *Prepared) signedData(signer crypto.Signer, chain []*x509.Certificate) (*pkcs7.ContentInfoSignedData, error) {
	if !x509tools.SameKey(signer.Public(), chain[0].PublicKey) {
		return nil, errors.New("the first certificate does not match the signing key")
	}
	digestAlg, pkeyAlg, err := x509tools.PkixAlgorithms(signer.Public(), digestHash)
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(nil, p.attrDigest, digestHash)
	if err != nil {
		return nil, err
	}
	certs := make(pkcs7.RawCertificates, len(chain))
	for i, c := range chain {
		certs[i] = asn1.RawValue{FullBytes: c.Raw}
	}
	return &pkcs7.ContentInfoSignedData{
		ContentType: pkcs7.OidSignedData,
		Content: pkcs7.SignedData{
			Version:                    1,
			DigestAlgorithmIdentifiers: []pkix.AlgorithmIdentifier{digestAlg},
			ContentInfo:                p.content,
			Certificates:               certs,
			SignerInfos: []pkcs7.SignerInfo{{
				Version: 1,
				IssuerAndSerialNumber: pkcs7.IssuerAndSerial{
					IssuerName:   asn1.RawValue{FullBytes: chain[0].RawIssuer},
					SerialNumber: chain[0].SerialNumber,
				},
				DigestAlgorithm:           digestAlg,
				DigestEncryptionAlgorithm: pkeyAlg,
				AuthenticatedAttributes:   p.attrs,
				EncryptedDigest:           sig,
			}},
		},
	}, nil
}

// finish writes the certificate table, updates the checksum and re-verifies
// the result from its bytes.
func (p *Prepared) finish(sig []byte) ([]byte, error) {
	patch, err := p.pd.MakePatch(sig)
	if err != nil {
		return nil, fmt.Errorf("building certificate table: %w", err)
	}
	out, err := applyPatch(p.image, patch)
	if err != nil {
		return nil, err
	}
	ck := relic.NewPEChecksum(int(p.pe.HeaderOffset))
	_, _ = ck.Write(out)
	copy(out[p.pe.ChecksumOffset():], ck.Sum(nil))
	// Self-check: the output parses, its digest is the one signed, and the
	// signature verifies.
	sigs, err := relic.VerifyPE(bytes.NewReader(out), false)
	if err != nil {
		return nil, fmt.Errorf("self-check of the signed image failed: %w", err)
	}
	if len(sigs) != 1 || !hmac.Equal(sigs[0].Indirect.MessageDigest.Digest, p.pd.Imprint) {
		return nil, errors.New("self-check of the signed image failed: digest mismatch")
	}
	return out, nil
}

// applyPatch returns in with the patch's replacements applied.
func applyPatch(in []byte, ps *binpatch.PatchSet) ([]byte, error) {
	idx := make([]int, len(ps.Patches))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return ps.Patches[idx[a]].Offset < ps.Patches[idx[b]].Offset })
	var out bytes.Buffer
	var pos int64
	for _, i := range idx {
		h := ps.Patches[i]
		if h.Offset < pos || h.Offset+int64(h.OldSize) > int64(len(in)) {
			return nil, errors.New("internal error: certificate table patch out of range")
		}
		out.Write(in[pos:h.Offset])
		out.Write(ps.Blobs[i])
		pos = h.Offset + int64(h.OldSize)
	}
	out.Write(in[pos:])
	return out.Bytes(), nil
}

// digestSigner is a crypto.Signer that signs only the expected digest, so a
// drift between SignedDigest and what relic's builder signs is an error,
// never a wrong signature.
type digestSigner struct {
	pub    crypto.PublicKey
	expect []byte
	sign   func(digest []byte) ([]byte, error)
}

func (s *digestSigner) Public() crypto.PublicKey { return s.pub }

func (s *digestSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != digestHash || !hmac.Equal(digest, s.expect) {
		return nil, errors.New("internal error: the builder asked to sign an unexpected digest")
	}
	return s.sign(digest)
}

func recoverAsError(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: malformed input (parser panicked: %v)", errNotPE, r)
	}
}
