package signcmd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/testtool"
	"github.com/signet-dev/signet/signet/internal/authenticode/authenticodetest"
	"github.com/signet-dev/signet/signet/internal/keystore"
	"github.com/signet-dev/signet/signet/internal/keystore/keystoretest"
)

// Fixtures made by the parent test process for the child that runs inside
// the D-Bus session (so it need not build them again).
const (
	envPKIDir   = "SIGNET_TEST_PKI_DIR"
	envPKIPass  = "SIGNET_TEST_PKI_PASSWORD"
	envPEPath   = "SIGNET_TEST_PE_PATH"
	keyringName = "login.keyring"
)

func accountOf(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// secretToolLookup asks libsecret's secret-tool, an independent client, for
// the saved password of the .pfx with this account.
func secretToolLookup(t *testing.T, account string) (string, bool) {
	t.Helper()
	out, err := keystoretest.SecretTool(t, "lookup", "service", keystore.Service, "username", account)
	return out, err == nil
}

// TestSavedPasswordWithSecretService runs save, sign --saved-password and
// forget against a real Secret Service (gnome-keyring in a private D-Bus
// session), checked with secret-tool and osslsigncode.
func TestSavedPasswordWithSecretService(t *testing.T) {
	if !keystoretest.Inside() {
		f := newFixture(t)
		testtool.Need(t, "osslsigncode")
		keystoretest.Run(t, keystoretest.Options{Env: map[string]string{
			envPKIDir: f.pki.Dir, envPKIPass: f.pki.Password, envPEPath: f.in,
		}})
		return
	}
	keystoretest.WaitReady(t)
	f := &fixture{pki: &authenticodetest.PKI{Dir: os.Getenv(envPKIDir), Password: os.Getenv(envPKIPass)}, dir: t.TempDir(), in: os.Getenv(envPEPath)}
	modern := f.pki.Path("modern.pfx")
	account := accountOf(t, modern)
	out := filepath.Join(f.dir, "signed.exe")

	// A wrong password is refused and nothing is stored.
	code, msg := runPW(t, "not the password\n", "save", "--password-stdin", modern)
	if code != 1 || !strings.Contains(msg, "wrong password for "+modern+"; nothing saved") || strings.Contains(msg, "not the password") {
		t.Fatalf("save with a wrong password: exit %d, %q", code, msg)
	}
	if s, found := secretToolLookup(t, account); found {
		t.Fatalf("secret-tool finds an entry after a refused save: %q", s)
	}

	// Save; the password is the keystore's secret, encrypted on disk.
	code, msg = runPW(t, f.pki.Password+"\n", "save", "--password-stdin", modern)
	if code != 0 || !strings.Contains(msg, account) || !strings.Contains(msg, "signet test code signing") {
		t.Fatalf("save: exit %d, %q", code, msg)
	}
	if strings.Contains(msg, f.pki.Password) {
		t.Errorf("save printed the password: %q", msg)
	}
	if s, found := secretToolLookup(t, account); !found || s != f.pki.Password {
		t.Fatalf("secret-tool lookup after save: %q, found=%v", s, found)
	}
	files := keystoretest.KeyringFiles(t)
	if len(files[keyringName]) == 0 {
		t.Fatalf("no %s on disk: %v", keyringName, files)
	}
	for name, b := range files {
		if bytes.Contains(b, []byte(f.pki.Password)) {
			t.Errorf("keyring file %s holds the password in plain text", name)
		}
	}

	// Sign with it; the independent oracle accepts the result.
	code, msg = runSign(t, "--pfx", modern, "--saved-password", f.in, "-o", out)
	if code != 0 {
		t.Fatalf("sign --saved-password: exit %d, %s", code, msg)
	}
	if vout, ok := osslVerify(t, f, out, false); !ok {
		t.Fatalf("osslsigncode verify failed:\n%s", vout)
	}

	// The entry belongs to these bytes: another .pfx with the same key and
	// password (the legacy export) has none.
	legacy := f.pki.Path("legacy.pfx")
	out2 := filepath.Join(f.dir, "legacy.exe")
	code, msg = runSign(t, "--pfx", legacy, "--saved-password", f.in, "-o", out2)
	if code != 1 || !strings.Contains(msg, "no password is saved for "+legacy) || !strings.Contains(msg, "signet password save "+legacy) {
		t.Fatalf("sign --saved-password with an unsaved .pfx: exit %d, %q", code, msg)
	}
	assertAbsent(t, out2)

	// A saved password that no longer opens the file is reported as such.
	if err := keystore.Save(account, []byte("stale password")); err != nil {
		t.Fatal(err)
	}
	code, msg = runSign(t, "--pfx", modern, "--saved-password", f.in, "-o", out2)
	if code != 1 || !strings.Contains(msg, "wrong password for "+modern+" (the saved password)") || strings.Contains(msg, "stale password") {
		t.Fatalf("sign with a stale saved password: exit %d, %q", code, msg)
	}
	assertAbsent(t, out2)

	// Forget; then signing with it fails clearly.
	code, msg = runPW(t, "", "forget", modern)
	if code != 0 || !strings.Contains(msg, account) {
		t.Fatalf("forget: exit %d, %q", code, msg)
	}
	if s, found := secretToolLookup(t, account); found {
		t.Fatalf("secret-tool still finds the entry after forget: %q", s)
	}
	code, msg = runSign(t, "--pfx", modern, "--saved-password", f.in, "-o", out2)
	if code != 1 || !strings.Contains(msg, "no password is saved for "+modern) {
		t.Fatalf("sign --saved-password after forget: exit %d, %q", code, msg)
	}
	assertAbsent(t, out2)
	code, msg = runPW(t, "", "forget", modern)
	if code != 1 || !strings.Contains(msg, "no password is saved for "+modern) {
		t.Fatalf("second forget: exit %d, %q", code, msg)
	}

	// forget --sha256 removes an entry whose .pfx is gone.
	if code, msg := runPW(t, f.pki.Password, "save", modern, "--password-stdin"); code != 0 {
		t.Fatalf("save (flag after the file, no final newline): exit %d, %q", code, msg)
	}
	code, msg = runPW(t, "", "forget", "--sha256", strings.ToUpper(strings.TrimPrefix(account, "sha256:")))
	if code != 0 {
		t.Fatalf("forget --sha256: exit %d, %q", code, msg)
	}
	if s, found := secretToolLookup(t, account); found {
		t.Fatalf("secret-tool still finds the entry after forget --sha256: %q", s)
	}
}

// TestSavedPasswordWithoutKeystore: with no reachable session bus every
// command fails clearly, exits 1 and writes nothing (no plaintext fallback).
func TestSavedPasswordWithoutKeystore(t *testing.T) {
	f := newFixture(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	modern := f.pki.Path("modern.pfx")
	for _, addr := range []string{
		"unix:path=" + filepath.Join(t.TempDir(), "no-bus"),
		"not-a-dbus-address",
	} {
		t.Run(addr, func(t *testing.T) {
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
			wd := t.TempDir()
			t.Chdir(wd)
			out := filepath.Join(wd, "signed.exe")
			for _, tc := range []struct {
				name string
				run  func() (int, string)
				want []string
			}{
				{"save", func() (int, string) { return runPW(t, f.pki.Password+"\n", "save", "--password-stdin", modern) },
					[]string{"no OS keystore available", "start a Secret Service", "nothing saved", "--password-file"}},
				{"sign", func() (int, string) {
					return runSign(t, "--pfx", modern, "--saved-password", f.in, "-o", out)
				}, []string{"--saved-password: no OS keystore available", "start a Secret Service", "or use --password-file"}},
				{"forget", func() (int, string) { return runPW(t, "", "forget", modern) },
					[]string{"no OS keystore available", "start a Secret Service"}},
			} {
				code, msg := tc.run()
				if code != 1 {
					t.Errorf("%s: exit %d, want 1: %q", tc.name, code, msg)
				}
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("%s: message %q does not contain %q", tc.name, msg, w)
					}
				}
				if strings.Contains(msg, f.pki.Password) {
					t.Errorf("%s: message contains the password", tc.name)
				}
			}
			assertAbsent(t, out)
			if entries, _ := os.ReadDir(wd); len(entries) != 0 {
				t.Errorf("files written to the working directory: %v", entries)
			}
		})
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("files written to HOME: %v", entries)
	}
}
