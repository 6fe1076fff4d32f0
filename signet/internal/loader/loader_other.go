//go:build !linux && !windows

package loader

import "os"

// envNamesFoldCase is false: environment names are case-sensitive here.
const envNamesFoldCase = false

// selfPayloadPath is the loader's own executable as the OS reports it.
func selfPayloadPath() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return exe
}

// appName is the application's name: the loader's file name.
func appName(loaderName string) string { return loaderName }

// openSelf opens the loader's own executable for reading.
func openSelf(path string) (*os.File, error) { return os.Open(path) }
