package keystore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/signet/internal/keystore/keystoretest"
)

func TestUnavailableWithoutSessionBus(t *testing.T) {
	if keystoretest.Inside() {
		t.Fatal("must not run inside a test session")
	}
	old := runtimeBus
	runtimeBus = func() string { return filepath.Join(t.TempDir(), "no-bus-here") }
	t.Cleanup(func() { runtimeBus = old })
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tc := range []struct {
		name, addr, want string
	}{
		{"unset", "", "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"},
		{"autolaunch", "autolaunch:", "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"},
		{"no such socket", "unix:path=" + filepath.Join(t.TempDir(), "absent"), "cannot connect to the D-Bus session bus"},
	} {
		for _, op := range ops {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				t.Setenv("DBUS_SESSION_BUS_ADDRESS", tc.addr)
				err := op.run()
				if !errors.Is(err, ErrUnavailable) {
					t.Fatalf("error %v, want ErrUnavailable", err)
				}
				for _, w := range []string{"no OS keystore available", tc.want, "start a Secret Service"} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q contains the secret", err)
				}
			})
		}
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("something was written to HOME: %v", entries)
	}
}

func TestUnavailableWithoutSecretService(t *testing.T) {
	if !keystoretest.Inside() {
		keystoretest.Run(t, keystoretest.Options{NoSecretService: true})
		return
	}
	for _, op := range ops {
		err := op.run()
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no Secret Service (org.freedesktop.secrets) on the D-Bus session bus") {
			t.Errorf("%s: error %v, want no Secret Service", op.name, err)
		}
	}
	if entries, _ := os.ReadDir(keystoretest.Home(t)); len(entries) != 0 {
		t.Errorf("something was written to HOME: %v", entries)
	}
}

func TestSecretServiceRoundTrip(t *testing.T) {
	if !keystoretest.Inside() {
		keystoretest.Run(t, keystoretest.Options{})
		return
	}
	keystoretest.WaitReady(t)
	const account = "sha256:roundtrip"
	long := bytes.Repeat([]byte("p"), MaxSecret)
	for _, secret := range [][]byte{
		[]byte("s3cret with spaces"),
		[]byte("ünïcødé ☃ and \"quotes\" 'n' $(dollars)"),
		[]byte(""),
		long,
	} {
		if err := Save(account, secret); err != nil {
			t.Fatalf("Save: %v", err)
		}
		got, err := Load(account)
		if err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("Load = %q, %v; want %q", got, err, secret)
		}
		// An independent client sees exactly one item with this secret.
		out, err := keystoretest.SecretTool(t, "lookup", "service", Service, "username", account)
		if err != nil || out != string(secret) {
			t.Fatalf("secret-tool lookup = %q, %v; want %q", out, err, secret)
		}
		all, err := keystoretest.SecretTool(t, "search", "--all", "service", Service, "username", account)
		if err != nil || strings.Count(all, "label = ") != 1 {
			t.Fatalf("secret-tool search: %v\n%s", err, all)
		}
		if len(secret) > 8 {
			files := keystoretest.KeyringFiles(t)
			for name, b := range files {
				if bytes.Contains(b, secret) {
					t.Errorf("keyring file %s holds the secret in plain text", name)
				}
			}
			// The item is on disk (encrypted), not only in memory.
			if n := len(files["login.keyring"]); n < len(secret) {
				t.Errorf("login.keyring has %d bytes, fewer than the %d-byte secret it stores", n, len(secret))
			}
		}
	}
	if err := Delete(account); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := Load(account); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after Delete: %v, want ErrNotFound", err)
	}
	if err := Delete(account); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
	if out, err := keystoretest.SecretTool(t, "lookup", "service", Service, "username", account); err == nil {
		t.Fatalf("secret-tool still finds the deleted item: %q", out)
	}
}

// TestLockedKeyringIsUnavailable: a Secret Service that D-Bus starts on
// demand, with no unlocked keyring and no desktop to ask for the password
// (a typical headless machine with gnome-keyring installed), is reported as
// no keystore, and the secret reaches no file.
func TestLockedKeyringIsUnavailable(t *testing.T) {
	if !keystoretest.Inside() {
		keystoretest.Run(t, keystoretest.Options{ActivationOnly: true})
		return
	}
	const secret = "never-stored-secret"
	err := Save("sha256:locked", []byte(secret))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("Save: %v, want ErrUnavailable naming the locked collection", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the secret", err)
	}
	if _, err := Load("sha256:locked"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Load: %v, want ErrUnavailable", err)
	}
	home := keystoretest.Home(t)
	filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the secret", p)
			}
		}
		return nil
	})
}
