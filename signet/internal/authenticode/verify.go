package authenticode

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	relic "github.com/sassoftware/relic/v7/lib/authenticode"
	"github.com/sassoftware/relic/v7/signers/sigerrors"

	"github.com/signet-dev/signet/signet/internal/limitread"
)

// ErrNotSigned is returned (wrapped) for a PE file without a signature.
var ErrNotSigned = errors.New("not signed")

// Signer describes a verified Authenticode signature.
type Signer struct {
	// Subject and Issuer of the leaf (signing) certificate, RFC 2253 style.
	Subject, Issuer string
	// Chain is the verified chain, leaf first, ending at one of the roots.
	Chain []*x509.Certificate
	// ImageDigest is the Authenticode digest the signature covers.
	ImageDigest []byte
	// DigestHash is the algorithm of ImageDigest (always SHA-256 or stronger).
	DigestHash crypto.Hash
	// Timestamped reports an RFC 3161 / counter-signature time stamp; then
	// TimestampTime is its time and TimestampAuthority the TSA's subject.
	Timestamped        bool
	TimestampTime      time.Time
	TimestampAuthority string
}

// Verify checks the Authenticode signature of the PE file at path: the
// digest recomputed from the file as the specification defines it, the
// signature over it, the time stamp if present (its signature, imprint and
// chain to roots with the timeStamping usage), and the signer's chain to
// roots with the codeSigning usage, evaluated at the time-stamp time if
// there is one, else now. roots must hold the TSA's root too if it differs.
// Errors name the file.
func Verify(path string, roots *x509.CertPool) (*Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	image, err := limitread.All(f, MaxImageSize, path)
	if err != nil {
		return nil, err
	}
	s, err := VerifyImage(image, roots, time.Now())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// VerifyImage is Verify on bytes in memory, with now as the current time.
func VerifyImage(image []byte, roots *x509.CertPool, now time.Time) (s *Signer, err error) {
	defer recoverAsError(&err)
	if int64(len(image)) > MaxImageSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", errNotPE, int64(MaxImageSize))
	}
	pe, err := checkPE(image)
	if err != nil {
		return nil, err
	}
	if _, _, signed := pe.CertificateTable(); !signed {
		return nil, ErrNotSigned
	}
	sigs, err := relic.VerifyPE(bytes.NewReader(image), false)
	if err != nil {
		var ns sigerrors.NotSignedError
		if errors.As(err, &ns) {
			return nil, ErrNotSigned
		}
		return nil, fmt.Errorf("signature invalid: %w", err)
	}
	if len(sigs) != 1 {
		return nil, fmt.Errorf("expected exactly one signature, found %d", len(sigs))
	}
	sig := sigs[0]
	switch sig.ImageHashFunc {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return nil, fmt.Errorf("image digest algorithm %v is not accepted (SHA-256 or stronger required)", sig.ImageHashFunc)
	}
	out := &Signer{
		ImageDigest: append([]byte(nil), sig.Indirect.MessageDigest.Digest...),
		DigestHash:  sig.ImageHashFunc,
	}
	at := now
	if cs := sig.CounterSignature; cs != nil {
		if err := cs.VerifyChain(roots, nil); err != nil {
			return nil, fmt.Errorf("time stamp: %w", err)
		}
		out.Timestamped = true
		out.TimestampTime = cs.SigningTime
		out.TimestampAuthority = cs.Certificate.Subject.String()
		at = cs.SigningTime
	}
	leaf := sig.Certificate
	inter := x509.NewCertPool()
	for _, c := range sig.Intermediates {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	if err != nil {
		return nil, fmt.Errorf("signer %q: %w", leaf.Subject.String(), err)
	}
	out.Chain = chains[0]
	out.Subject = leaf.Subject.String()
	out.Issuer = leaf.Issuer.String()
	return out, nil
}
