//go:build !windows

package signcmd

import (
	"fmt"
	"os"
)

// checkPrivate refuses a password file that group or others may read.
func checkPrivate(fi os.FileInfo) error {
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("readable by group or others (mode %04o); run chmod 600 on it", perm)
	}
	return nil
}
