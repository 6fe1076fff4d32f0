//go:build !linux

package keystore

import "runtime"

// Name names the keystore of this OS for messages.
func Name() string {
	switch runtime.GOOS {
	case "windows":
		return "Windows Credential Manager"
	case "darwin":
		return "macOS Keychain"
	}
	return "OS keyring"
}

// probeOS has nothing to check before go-keyring is called: the Credential
// Manager and the Keychain are always there.
func probeOS() error { return nil }

// unavailable maps no other error to ErrUnavailable here; go-keyring reports
// an unsupported OS itself.
func unavailable(error) error { return nil }
