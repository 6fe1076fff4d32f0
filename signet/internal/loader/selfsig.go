package loader

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/signet-dev/signet/signet/internal/payload"
)

// readSelf opens the loader's own executable and reads its payload, and returns the
// manifest's SHA-256 that the payload check computed. The file stays open, so that a
// signature check (step 2b) reads the very file the payload came from; the caller closes it.
func readSelf(path string) (*os.File, []byte, [32]byte, error) {
	f, err := openSelf(path)
	if err != nil {
		return nil, nil, [32]byte{}, fmt.Errorf("reading payload: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, [32]byte{}, fmt.Errorf("reading payload: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, [32]byte{}, fmt.Errorf("reading payload: %s is not a regular file", path)
	}
	raw, digest, err := payload.FindWithDigest(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, [32]byte{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, raw, digest, nil
}

// errNotSigned is a loader sealed with require-signer that carries no signature.
var errNotSigned = errors.New("this loader must carry its vendor's signature, but it is not signed")

// errNoSignatureCheck is a require-signer manifest on an OS without a signature check for
// its executables (signet seal refuses to make one).
var errNoSignatureCheck = errors.New("this loader was sealed to check its own Windows signature, which this operating system cannot do")

// checkSignerPin reads the certificate table of the PE file f and checks that the key of the
// certificate that signed it is the pinned one (the SHA-256 of its DER SubjectPublicKeyInfo).
// It does not check the signature itself: that is the OS's part (verifySelf).
func checkSignerPin(f io.ReaderAt, size int64, pin [32]byte) error {
	off, n, signed, err := payload.SecurityDirectory(f, size)
	if err != nil {
		return fmt.Errorf("cannot read this loader's signature: %w", err)
	}
	if !signed {
		return errNotSigned
	}
	if n > maxCertTable {
		return fmt.Errorf("this loader's signature is not valid: certificate table of %d bytes is over %d", n, maxCertTable)
	}
	table := make([]byte, n)
	if _, err := f.ReadAt(table, int64(off)); err != nil {
		return fmt.Errorf("cannot read this loader's signature: %w", err)
	}
	got, err := signerKeyDigest(table)
	if err != nil {
		return fmt.Errorf("this loader's signature is not valid: %w", err)
	}
	if got != pin {
		return fmt.Errorf("this loader is signed with the key %s, not with the vendor's key %s it was sealed for",
			shortHex(got), shortHex(pin))
	}
	return nil
}

// shortHex is the first 16 hex digits of a digest, enough to tell keys apart in a message.
func shortHex(sum [32]byte) string {
	return hex.EncodeToString(sum[:8])
}
