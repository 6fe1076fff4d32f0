// Package keystore keeps small secrets (a .pfx password) in the keystore the
// operating system holds for the current user, through
// github.com/zalando/go-keyring:
//
//   - Linux: the Secret Service over the D-Bus session bus (gnome-keyring,
//     KWallet's Secret Service, KeePassXC, ...), which encrypts its
//     collections on disk with a key derived from the user's keyring
//     password.
//   - Windows: a generic credential in the Credential Manager of the current
//     user (persistence "local machine": it survives log-off, does not roam
//     to other machines), which Windows encrypts with DPAPI under the user's
//     master key.
//   - macOS: a generic password item in the user's default (login) keychain,
//     written and read through /usr/bin/security.
//
// There is no fallback: where no keystore is reachable every call fails with
// ErrUnavailable, and nothing is written anywhere else. Errors never contain
// the secret.
package keystore

import (
	"errors"
	"fmt"
	"time"

	keyring "github.com/zalando/go-keyring"
)

// Service names signet's entries in the keystore (the Secret Service
// attribute "service", the first part of the Windows credential's target
// name, the macOS item's service).
const Service = "signet pfx password"

// DefaultTimeout bounds one keystore call. It is long because the keystore may
// show an unlock prompt and wait for the user.
const DefaultTimeout = 2 * time.Minute

// MaxSecret is the longest secret accepted (Windows' Credential Manager
// takes at most 2560 bytes).
const MaxSecret = 2560

var (
	// ErrUnavailable is returned (wrapped, with the reason) when no OS
	// keystore can be reached.
	ErrUnavailable = errors.New("no OS keystore available")
	// ErrNotFound is returned (wrapped) when the keystore holds no entry for
	// the account.
	ErrNotFound = errors.New("no entry in the OS keystore")
)

// Hooks for tests.
var (
	timeout                 = DefaultTimeout
	backend keyring.Keyring = goKeyring{}
	probe                   = probeOS
)

// goKeyring calls the package-level go-keyring functions (the provider of
// this OS).
type goKeyring struct{}

func (goKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }
func (goKeyring) DeleteAll(service string) error           { return keyring.DeleteAll(service) }

// Save stores secret for account, replacing any earlier entry.
func Save(account string, secret []byte) error {
	if account == "" {
		return errors.New("keystore: empty account name")
	}
	if len(secret) > MaxSecret {
		return fmt.Errorf("keystore: the secret is longer than %d bytes", MaxSecret)
	}
	s := string(secret)
	return call("saving to", func(kr keyring.Keyring) error { return kr.Set(Service, account, s) })
}

// Load returns the secret saved for account. It wraps ErrNotFound when there
// is none.
func Load(account string) ([]byte, error) {
	var s string
	err := call("reading from", func(kr keyring.Keyring) error {
		var err error
		s, err = kr.Get(Service, account)
		return err
	})
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// Delete removes the secret saved for account. It wraps ErrNotFound when
// there is none.
func Delete(account string) error {
	return call("deleting from", func(kr keyring.Keyring) error { return kr.Delete(Service, account) })
}

// call checks that the keystore is reachable, runs op, both within the
// timeout, and maps go-keyring's errors to this package's.
func call(what string, op func(keyring.Keyring) error) error {
	check, kr, limit := probe, backend, timeout
	done := make(chan error, 1)
	go func() {
		if err := check(); err != nil {
			done <- err
			return
		}
		done <- op(kr)
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(limit):
		// The goroutine may stay blocked in the keystore; the CLI exits soon.
		return fmt.Errorf("%s the OS keystore (%s): no answer within %v (is it waiting for an unlock prompt?)", what, Name(), limit)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnavailable):
		return err
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%s the OS keystore (%s): the secret is too long", what, Name())
	}
	if u := unavailable(err); u != nil {
		return u
	}
	return fmt.Errorf("%s the OS keystore (%s): %w", what, Name(), err)
}
