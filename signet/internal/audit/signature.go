package audit

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/signet-dev/signet/signet/internal/authenticode"
	"github.com/signet-dev/signet/signet/internal/limitread"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/pefile"
)

// KindSignature is a problem with the Authenticode signature of a Windows loader.
const KindSignature = "SIGNATURE"

// Signature is what Verify found out about a Windows loader's Authenticode signature.
type Signature struct {
	Present bool `json:"present"` // the PE carries a certificate table
	// Checked is true when the signature was verified against Options.Roots: the digest
	// over the file, the signature, the time stamp if any, and the chain (codeSigning).
	Checked bool `json:"checked"`
	Valid   bool `json:"valid"` // checked, and everything held
	// Signer and Issuer name the signing certificate (when checked and valid).
	Signer string `json:"signer,omitempty"`
	Issuer string `json:"issuer,omitempty"`
	// SignerKey is the SHA-256 of the signing certificate's DER SubjectPublicKeyInfo, the
	// value `signet seal --require-signer` pins.
	SignerKey string `json:"signer_key_sha256,omitempty"`
	NotAfter  string `json:"not_after,omitempty"` // the signing certificate's expiry, RFC 3339
	// Timestamp is the RFC 3161 time stamp's time (RFC 3339), "" without one.
	Timestamp          string `json:"timestamp,omitempty"`
	TimestampAuthority string `json:"timestamp_authority,omitempty"`
	// RequiredSigner is the pin sealed into the loader (hex), "" when it has none.
	RequiredSigner string `json:"required_signer,omitempty"`
}

// checkSignature checks the Authenticode signature of a Windows loader (and, for any loader,
// that a signer pin in its manifest can be honoured). m may be nil (no readable manifest).
func (r *Report) checkSignature(loader, goos string, m *manifest.Manifest, opts Options) error {
	var pin *[32]byte
	if m != nil {
		pin = m.RequireSigner
	}
	if goos != "windows" {
		if pin != nil {
			r.add(KindSignature, r.Loader, "sealed with require-signer, but a "+goos+" loader cannot check its own signature: it refuses to start (exit 107); re-seal without --require-signer")
		}
		return nil
	}
	s := &Signature{}
	r.Signature = s
	if pin != nil {
		s.RequiredSigner = hex.EncodeToString(pin[:])
	}
	image, err := readImage(loader)
	if err != nil {
		return err
	}
	pe, err := pefile.ParseBytes(image)
	if err != nil {
		r.add(KindSignature, r.Loader, "the signature cannot be read: "+err.Error())
		return nil
	}
	_, _, signed := pe.CertificateTable()
	s.Present = signed
	switch {
	case !signed && pin != nil:
		r.add(KindSignature, r.Loader, "not signed, but sealed with require-signer: the loader refuses to start until it is signed with the pinned key (signet sign)")
		return nil
	case !signed && opts.RequireSignature:
		r.add(KindSignature, r.Loader, "not signed (--require-signature): sign it with signet sign")
		return nil
	case !signed:
		r.Warnings = append(r.Warnings, "the loader is not signed: nothing proves who made it and Windows warns whoever starts it; sign it with signet sign (--require-signature makes this a failure)")
		return nil
	case opts.Roots == nil:
		r.add(KindSignature, r.Loader, "signature present, not checked: pass --ca FILE, the PEM certificates of the roots you trust (there is no code-signing trust store here)")
		return nil
	}
	signer, err := authenticode.VerifyImage(image, opts.Roots, now())
	if err != nil {
		r.add(KindSignature, r.Loader, "the signature does not verify: "+err.Error())
		return nil
	}
	s.Checked, s.Valid = true, true
	leaf := signer.Chain[0]
	key := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	s.Signer, s.Issuer = signer.Subject, signer.Issuer
	s.SignerKey = hex.EncodeToString(key[:])
	s.NotAfter = leaf.NotAfter.UTC().Format(time.RFC3339)
	if signer.Timestamped {
		s.Timestamp = signer.TimestampTime.UTC().Format(time.RFC3339)
		s.TimestampAuthority = signer.TimestampAuthority
	}
	if pin != nil {
		if key != *pin {
			s.Valid = false
			r.add(KindSignature, r.Loader, fmt.Sprintf("signed by %s (key %s), but sealed to accept only the key %s: the loader refuses to start (exit 107)",
				signer.Subject, s.SignerKey, s.RequiredSigner))
		} else if !signer.Timestamped {
			r.Warnings = append(r.Warnings, "the signature has no time stamp and the loader checks its own signature: it stops starting when the certificate expires on "+s.NotAfter+"; sign with --timestamp")
		}
	}
	return nil
}

// now is the time signatures are checked at (a hook for tests).
var now = time.Now

// readImage reads the whole loader for the signature check.
func readImage(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading the loader: %w", err)
	}
	defer f.Close()
	b, err := limitread.All(f, authenticode.MaxImageSize, name)
	if err != nil {
		return nil, fmt.Errorf("reading the loader: %w", err)
	}
	return b, nil
}

// LoadRoots reads a PEM bundle of trusted root certificates (signet verify --ca).
func LoadRoots(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// text is the signature's line in the text report.
func (s *Signature) text() string {
	var b strings.Builder
	switch {
	case !s.Present:
		b.WriteString("signature: none")
	case s.Checked:
		fmt.Fprintf(&b, "signature: signed by %s, issued by %s, key sha256 %s, certificate valid until %s", s.Signer, s.Issuer, s.SignerKey, s.NotAfter)
		if s.Timestamp != "" {
			fmt.Fprintf(&b, ", time-stamped %s by %s", s.Timestamp, s.TimestampAuthority)
		} else {
			b.WriteString(", no time stamp")
		}
		if s.Valid {
			b.WriteString(": ok")
		}
	default:
		b.WriteString("signature: present, not verified")
	}
	if s.RequiredSigner != "" {
		fmt.Fprintf(&b, "\nthe loader starts only when signed with the key sha256 %s", s.RequiredSigner)
	}
	b.WriteString("\n")
	return b.String()
}
