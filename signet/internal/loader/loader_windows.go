package loader

import (
	"os"
	"strings"
)

// envNamesFoldCase is true: Windows (and the Go runtime on Windows) match environment names
// ignoring case, so "godebug" steers the runtime as "GODEBUG" does.
const envNamesFoldCase = true

// selfPayloadPath is the loader's own executable (GetModuleFileNameW); a running executable
// cannot be overwritten on Windows.
func selfPayloadPath() string {
	exe, err := os.Executable()
	if err != nil {
		// FindInFile then fails on the empty path and the loader refuses with ExitPayload.
		return ""
	}
	return exe
}

// appName is the loader's file name without its ".exe" extension.
func appName(loaderName string) string {
	if len(loaderName) > 4 && strings.EqualFold(loaderName[len(loaderName)-4:], ".exe") {
		return loaderName[:len(loaderName)-4]
	}
	return loaderName
}

// openSelf opens the loader's own executable for reading.
func openSelf(path string) (*os.File, error) { return os.Open(path) }
