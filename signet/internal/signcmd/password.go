package signcmd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/signet-dev/signet/signet/internal/keystore"
	"github.com/signet-dev/signet/signet/internal/limitread"
	"github.com/signet-dev/signet/signet/internal/pfx"
)

// maxPasswordFile bounds a password file; a password is a line of text.
const maxPasswordFile = 4096

// readPassword returns the .pfx password from the source the options name.
// pfxData is the content of the .pfx file, by which a saved password is
// found. The password never appears in an error.
func readPassword(o *options, pfxData []byte) ([]byte, error) {
	switch {
	case o.passwordFile != "":
		return readPasswordFile(o.passwordFile)
	case o.passwordEnv != "":
		v, ok := os.LookupEnv(o.passwordEnv)
		if !ok {
			return nil, fmt.Errorf("--password-env: environment variable %s is not set", o.passwordEnv)
		}
		return []byte(v), nil
	case o.savedPassword:
		return loadSavedPassword(o.pfxPath, pfxData)
	}
	return nil, errors.New("no password source given")
}

// pfxAccount names the keystore entry of a .pfx file: the SHA-256 of its
// bytes. The certificates inside a .pfx are usually encrypted with the
// password itself, so the file's bytes are the only identity known before
// the password is.
func pfxAccount(pfxData []byte) string {
	sum := sha256.Sum256(pfxData)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// loadSavedPassword looks up the password saved by `signet password save`.
func loadSavedPassword(pfxPath string, pfxData []byte) ([]byte, error) {
	account := pfxAccount(pfxData)
	pw, err := keystore.Load(account)
	switch {
	case errors.Is(err, keystore.ErrNotFound):
		return nil, fmt.Errorf("--saved-password: no password is saved for %s (%s); save it with: signet password save %s",
			pfxPath, account, pfxPath)
	case errors.Is(err, keystore.ErrUnavailable):
		return nil, fmt.Errorf("--saved-password: %w; or use --password-file or --password-env", err)
	case err != nil:
		return nil, fmt.Errorf("--saved-password: %w", err)
	}
	return pw, nil
}

// readPFX reads a .pfx file once; its bytes are both parsed and hashed, so
// the saved password found is the one for exactly the bytes used.
func readPFX(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := limitread.All(f, pfx.MaxFileSize, path)
	if err != nil {
		return nil, fmt.Errorf("%w, not a PKCS#12 file", err)
	}
	return data, nil
}

// openPFX decodes the .pfx bytes read from path. Errors name the file.
func openPFX(path string, data, password []byte) (*pfx.Identity, error) {
	id, err := pfx.Parse(data, password)
	if errors.Is(err, pfx.ErrWrongPassword) {
		return nil, fmt.Errorf("%w for %s", pfx.ErrWrongPassword, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}

// readPasswordFile reads a password file that only its owner can read (like
// ssh with private keys), up to the first line end.
func readPasswordFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat() // the opened file, not the path: no TOCTOU
	if err != nil {
		return nil, fmt.Errorf("password file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("password file %s: not a regular file", path)
	}
	if err := checkPrivate(fi); err != nil {
		return nil, fmt.Errorf("password file %s: %w", path, err)
	}
	pw, err := readPasswordLine(f)
	if err != nil {
		return nil, fmt.Errorf("password file %s: %w", path, err)
	}
	return pw, nil
}

// readPasswordLine reads the first line of r (without its "\n" or "\r\n"),
// which must be UTF-8 text within maxPasswordFile bytes. It does not use limitread: every byte
// it read is cleared before it returns, also when the input is too long.
func readPasswordLine(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPasswordFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPasswordFile {
		clear(data)
		return nil, fmt.Errorf("larger than %d bytes", maxPasswordFile)
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		clear(data[i:])
		data = data[:i]
	}
	data = bytes.TrimSuffix(data, []byte("\r"))
	if !utf8.Valid(data) {
		clear(data)
		return nil, errors.New("not UTF-8 text")
	}
	return data, nil
}
