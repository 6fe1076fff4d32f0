// Package limitread reads files and streams whose size is not to be trusted, up to a limit:
// anything larger is refused with an error that names the file and the limit, instead of
// being read into memory whole.
package limitread

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge is wrapped by the error of a read that went past its limit.
var ErrTooLarge = errors.New("larger than the limit")

// All reads r to its end, at most limit bytes. what names the source in errors ("the
// password file x.txt").
func All(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is %w of %d bytes", what, ErrTooLarge, limit)
	}
	return b, nil
}

// File reads the named file, at most limit bytes. Errors name the file.
func File(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return All(f, limit, name)
}
