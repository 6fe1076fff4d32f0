package signcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stdinWith returns an open file holding content, to stand for stdin (a
// regular file is not a terminal).
func stdinWith(t *testing.T, content string) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func runPW(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runPassword(args, stdinWith(t, stdin), &stdout, &stderr)
	return code, stdout.String() + stderr.String()
}

// TestSaveRefusesBeforeTheKeystore: a bad password or bad input is refused
// before any keystore is asked (here none is reachable).
func TestSaveRefusesBeforeTheKeystore(t *testing.T) {
	f := newFixture(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	notPFX := filepath.Join(t.TempDir(), "not.pfx")
	if err := os.WriteFile(notPFX, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"wrong password", "not the password\n", []string{"save", "--password-stdin", f.pki.Path("modern.pfx")}, "wrong password for " + f.pki.Path("modern.pfx") + "; nothing saved"},
		{"wrong password, legacy", "not the password\r\n", []string{"save", "--password-stdin", f.pki.Path("legacy.pfx")}, "wrong password for " + f.pki.Path("legacy.pfx") + "; nothing saved"},
		{"empty stdin", "", []string{"save", "--password-stdin", f.pki.Path("modern.pfx")}, "stdin is empty"},
		{"not UTF-8", "\xff\xfe\n", []string{"save", "--password-stdin", f.pki.Path("modern.pfx")}, "not UTF-8 text"},
		{"too long", strings.Repeat("x", 5000), []string{"save", "--password-stdin", f.pki.Path("modern.pfx")}, "larger than 4096 bytes"},
		{"not a pfx", "x\n", []string{"save", "--password-stdin", notPFX}, notPFX + ": not a usable PKCS#12 file"},
		{"missing pfx", "x\n", []string{"save", "--password-stdin", notPFX + ".absent"}, notPFX + ".absent"},
		{"directory", "x\n", []string{"save", "--password-stdin", f.dir}, f.dir + ": not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := runPW(t, tc.stdin, tc.args...)
			if code != 1 || !strings.Contains(msg, tc.want) {
				t.Fatalf("exit %d, %q; want 1 and %q", code, msg, tc.want)
			}
			if strings.Contains(msg, "keystore") {
				t.Errorf("the keystore was asked: %q", msg)
			}
			if strings.Contains(msg, "not the password") {
				t.Errorf("message leaks the password: %q", msg)
			}
		})
	}
}

func TestPasswordUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "want save or forget"},
		{"unknown subcommand", []string{"show", "a.pfx"}, `unknown subcommand "show"`},
		{"save without file", []string{"save", "--password-stdin"}, "want exactly one .pfx file, got 0"},
		{"save with two files", []string{"save", "--password-stdin", "a.pfx", "b.pfx"}, "want exactly one .pfx file, got 2"},
		{"save, stdin not a terminal", []string{"save", "a.pfx"}, "stdin is not a terminal; pass --password-stdin"},
		{"password on the command line", []string{"save", "--password", "hunter2", "a.pfx"}, "flag provided but not defined: -password"},
		{"forget without anything", []string{"forget"}, "give one .pfx file or --sha256 HEX"},
		{"forget with both", []string{"forget", "--sha256", strings.Repeat("ab", 32), "a.pfx"}, "give one .pfx file or --sha256 HEX"},
		{"forget, short digest", []string{"forget", "--sha256", "abcd"}, "want 64 hex digits"},
		{"forget, not hex", []string{"forget", "--sha256", strings.Repeat("zz", 32)}, "want 64 hex digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := runPW(t, "", tc.args...)
			if code != 2 || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "usage:") {
				t.Fatalf("exit %d, %q; want 2, %q and the usage", code, msg, tc.want)
			}
		})
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"save", "-h"}, {"forget", "--help"}} {
		code, msg := runPW(t, "", args...)
		if code != 0 || !strings.Contains(msg, "signet password save [--password-stdin] PFX") {
			t.Errorf("%v: exit %d, %q", args, code, msg)
		}
	}
}
