package signcmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/testtool"
	"github.com/signet-dev/signet/signet/internal/authenticode/authenticodetest"
	"software.sslmate.com/src/go-pkcs12"
)

// goPFX writes a .pfx (go-pkcs12, modern encoding) holding a fresh key and a
// leaf issued by the fixture's intermediate, shaped by tmpl.
func goPFX(t *testing.T, f *fixture, name string, tmpl *x509.Certificate) string {
	t.Helper()
	intCert := pemCert(t, f.pki.Path("int.pem"))
	intKey := pemKey(t, f.pki.Path("int.key"))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.Subject = pkix.Name{CommonName: name}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, intCert, &key.PublicKey, intKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	data, err := pkcs12.Modern.Encode(key, leaf, []*x509.Certificate{intCert}, f.pki.Password)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".pfx")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pemKey(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rest := b
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			t.Fatalf("no private key in %s", path)
		}
		if strings.Contains(blk.Type, "PRIVATE KEY") {
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
}

func TestBadInputs(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	pw := f.pki.Path("password.txt")

	wrongPW := filepath.Join(dir, "wrong.txt")
	if err := os.WriteFile(wrongPW, []byte("not the password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	openPW := filepath.Join(dir, "open.txt")
	if err := os.WriteFile(openPW, []byte(f.pki.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(openPW, 0o644); err != nil {
		t.Fatal(err)
	}
	// A .pfx with certificates only, made by openssl.
	noKey := filepath.Join(dir, "nokey.pfx")
	authenticodetest.Run(t, dir, testtool.Need(t, "openssl"), "pkcs12", "-export", "-nokeys",
		"-in", f.pki.Path("chain.pem"), "-passout", "file:"+pw, "-out", noKey)
	now := time.Now()
	expired := goPFX(t, f, "expired", &x509.Certificate{
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	noEKU := goPFX(t, f, "server", &x509.Certificate{
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	notPE := filepath.Join(dir, "notpe.exe")
	if err := os.WriteFile(notPE, []byte("#!/bin/sh\necho this is not a PE file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.exe")
	if err := os.WriteFile(truncated, authenticodetest.PE(t)[:100000], 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name       string
		pfx, pwf   string
		in         string
		wantInMsg  []string
		wantAbsent string // must not appear in the output
	}{
		{"wrong password", "modern.pfx", wrongPW, f.in, []string{"wrong password for " + f.pki.Path("modern.pfx")}, "not the password"},
		{"wrong password, legacy", "legacy.pfx", wrongPW, f.in, []string{"wrong password for " + f.pki.Path("legacy.pfx")}, "not the password"},
		{"password file readable by others", "modern.pfx", openPW, f.in, []string{openPW, "readable by group or others"}, f.pki.Password},
		{"pfx without a private key", noKey, pw, f.in, []string{noKey, "no private key"}, ""},
		{"expired certificate", expired, pw, f.in, []string{expired, "expired on"}, ""},
		{"certificate without codeSigning", noEKU, pw, f.in, []string{noEKU, "does not allow code signing"}, ""},
		{"not a PE file", "modern.pfx", pw, notPE, []string{notPE, "not a valid PE file"}, ""},
		{"truncated PE file", "modern.pfx", pw, truncated, []string{truncated, "not a valid PE file"}, ""},
		{"missing input", "modern.pfx", pw, filepath.Join(dir, "absent.exe"), []string{"absent.exe"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pfxPath := tc.pfx
			if !filepath.IsAbs(pfxPath) {
				pfxPath = f.pki.Path(pfxPath)
			}
			out := filepath.Join(t.TempDir(), "signed.exe")
			code, msg := runSign(t, "--pfx", pfxPath, "--password-file", tc.pwf, tc.in, "-o", out)
			if code != 1 {
				t.Fatalf("exit %d, want 1: %s", code, msg)
			}
			for _, w := range tc.wantInMsg {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			if tc.wantAbsent != "" && strings.Contains(msg, tc.wantAbsent) {
				t.Errorf("message %q leaks %q", msg, tc.wantAbsent)
			}
			assertAbsent(t, out)
		})
	}
}

func TestMissingPasswordEnv(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(t.TempDir(), "signed.exe")
	code, msg := runSign(t, "--pfx", f.pki.Path("modern.pfx"), "--password-env", "SIGNET_TEST_SURELY_UNSET_VARIABLE", f.in, "-o", out)
	if code != 1 || !strings.Contains(msg, "SIGNET_TEST_SURELY_UNSET_VARIABLE is not set") {
		t.Fatalf("exit %d: %s", code, msg)
	}
	assertAbsent(t, out)
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "want exactly one input file"},
		{"no mode", []string{"in.exe", "-o", "out.exe"}, "give --pfx, --digest-out or --signature-in"},
		{"no password source", []string{"--pfx", "a.pfx", "in.exe", "-o", "out.exe"}, "exactly one of --password-file"},
		{"two password sources", []string{"--pfx", "a.pfx", "--password-file", "p", "--password-env", "P", "in.exe", "-o", "o"}, "exactly one of"},
		{"no output", []string{"--pfx", "a.pfx", "--password-env", "P", "in.exe"}, "-o OUT is required"},
		{"two inputs", []string{"--pfx", "a.pfx", "--password-env", "P", "a.exe", "b.exe", "-o", "o"}, "want exactly one input file, got 2"},
		{"password on the command line", []string{"--pfx", "a.pfx", "--password", "hunter2", "in.exe", "-o", "o"}, "flag provided but not defined: -password"},
		{"signature-in without chain", []string{"--signature-in", "s", "in.exe", "-o", "o"}, "needs --cert-chain"},
		{"digest-out with pfx", []string{"--digest-out", "d", "--pfx", "a.pfx", "in.exe"}, "--digest-out takes only IN"},
		{"bad timestamp URL", []string{"--pfx", "a.pfx", "--password-env", "P", "--timestamp", "ftp://x", "in.exe", "-o", "o"}, "not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := runSign(t, tc.args...)
			if code != 2 || !strings.Contains(msg, tc.want) {
				t.Fatalf("exit %d, %q; want 2 and %q", code, msg, tc.want)
			}
		})
	}
}
