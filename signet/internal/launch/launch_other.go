//go:build !linux && !windows

package launch

import (
	"fmt"
	"runtime"
)

// Start is not implemented on this OS: the loader runs on Linux and Windows.
func Start(cfg Config) (int, error) {
	return 0, fmt.Errorf("launch: starting a sealed app is not supported on %s", runtime.GOOS)
}

// platformReader returns the general reader: it handles both forms itself.
func platformReader(string) string { return reader }
