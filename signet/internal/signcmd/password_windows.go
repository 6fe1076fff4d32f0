//go:build windows

package signcmd

import "os"

// checkPrivate is a no-op on Windows, where mode bits do not describe who may
// read a file (its ACL does); keep password files in the user's profile.
func checkPrivate(os.FileInfo) error { return nil }
