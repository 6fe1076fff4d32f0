// Package pfx loads a code-signing identity (one private key and its
// certificate chain) from a PKCS#12 file (.pfx / .p12), in both the modern
// (PBES2, AES-256, HMAC-SHA-256) and the legacy (RC2 / 3DES, SHA-1)
// encodings, using software.sslmate.com/src/go-pkcs12.
//
// The bytes of a .pfx are hostile input: every failure is an error, never a
// panic, and an error never contains the password.
package pfx

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/signet-dev/signet/signet/internal/limitread"
)

// MaxFileSize bounds how much of a .pfx file is read; real ones are a few KiB.
const MaxFileSize = 1 << 20

// ErrWrongPassword is returned (wrapped) when the password does not open the file.
var ErrWrongPassword = errors.New("wrong password")

// ErrNoPrivateKey is returned (wrapped) when the file holds certificates but no key.
var ErrNoPrivateKey = errors.New("no private key in the PKCS#12 file")

// Identity is a signing key with its certificate chain.
type Identity struct {
	// Key is the private key (RSA or ECDSA).
	Key crypto.Signer
	// Leaf is the certificate whose public key matches Key.
	Leaf *x509.Certificate
	// Chain is every certificate of the file, leaf first, then each issuer
	// in turn as far as the file goes, then any unrelated certificates in
	// file order.
	Chain []*x509.Certificate
}

// Load reads and decodes the PKCS#12 file at path. Errors name the file.
func Load(path string, password []byte) (*Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	data, err := limitread.All(f, MaxFileSize, path)
	if err != nil {
		return nil, fmt.Errorf("%w, not a PKCS#12 file", err)
	}
	id, err := Parse(data, password)
	if errors.Is(err, ErrWrongPassword) {
		return nil, fmt.Errorf("%w for %s", ErrWrongPassword, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}

// Parse decodes PKCS#12 bytes. The password must be valid UTF-8.
func Parse(data []byte, password []byte) (id *Identity, err error) {
	defer func() {
		// Defence in depth: the decoder must not take the process down on
		// hostile bytes.
		if r := recover(); r != nil {
			id, err = nil, fmt.Errorf("malformed PKCS#12 data (decoder panicked)")
		}
	}()
	key, leaf, cas, err := pkcs12.DecodeChain(data, string(password))
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		return nil, ErrWrongPassword
	case err != nil && err.Error() == "pkcs12: private key missing":
		return nil, ErrNoPrivateKey
	case err != nil:
		return nil, fmt.Errorf("not a usable PKCS#12 file: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	switch signer.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
	default:
		return nil, fmt.Errorf("unsupported private key type %T (Authenticode needs RSA or ECDSA)", key)
	}
	all := append([]*x509.Certificate{leaf}, cas...)
	leafIdx := -1
	for i, c := range all {
		if samePublicKey(c.PublicKey, signer.Public()) {
			leafIdx = i
			break
		}
	}
	if leafIdx < 0 {
		return nil, errors.New("no certificate in the file matches its private key")
	}
	return &Identity{Key: signer, Leaf: all[leafIdx], Chain: OrderChain(all[leafIdx], all)}, nil
}

// OrderChain returns leaf, then its issuer, that one's issuer and so on as far
// as certs allow, then the rest of certs in their given order. Duplicates
// (same DER) are dropped.
func OrderChain(leaf *x509.Certificate, certs []*x509.Certificate) []*x509.Certificate {
	used := make([]bool, len(certs))
	markSame := func(c *x509.Certificate) {
		for i, o := range certs {
			if bytes.Equal(o.Raw, c.Raw) {
				used[i] = true
			}
		}
	}
	chain := []*x509.Certificate{leaf}
	markSame(leaf)
	cur := leaf
	for {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break // self-issued: the root
		}
		next := -1
		for i, c := range certs {
			if !used[i] && bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		cur = certs[next]
		chain = append(chain, cur)
		markSame(cur)
	}
	for i, c := range certs {
		if !used[i] {
			chain = append(chain, c)
			markSame(c)
		}
	}
	return chain
}

func samePublicKey(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	ea, ok := a.(equaler)
	return ok && ea.Equal(b)
}
