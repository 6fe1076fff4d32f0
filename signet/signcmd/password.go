package signcmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// maxPasswordFile bounds a password file; a password is a line of text.
const maxPasswordFile = 4096

// readPassword returns the .pfx password from the source the options name.
// The password never appears in an error.
func readPassword(o *options) ([]byte, error) {
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
		return nil, errors.New("--saved-password: not available yet")
	}
	return nil, errors.New("no password source given")
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
	data, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return nil, fmt.Errorf("password file %s: %w", path, err)
	}
	if len(data) > maxPasswordFile {
		return nil, fmt.Errorf("password file %s: larger than %d bytes", path, maxPasswordFile)
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	data = bytes.TrimSuffix(data, []byte("\r"))
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("password file %s: not UTF-8 text", path)
	}
	return data, nil
}
