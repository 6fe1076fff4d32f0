package pfx

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/signet-dev/signet/signet/internal/authenticode/authenticodetest"
)

func TestMain(m *testing.M) { authenticodetest.Main(m) }

func TestLoadOpensslFiles(t *testing.T) {
	pki := authenticodetest.SharedPKI(t)
	for _, tc := range []struct {
		file    string
		keyType string
	}{
		{"modern.pfx", "rsa"},
		{"legacy.pfx", "rsa"},
		{"ec.pfx", "ecdsa"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			id, err := Load(pki.Path(tc.file), []byte(pki.Password))
			if err != nil {
				t.Fatal(err)
			}
			switch id.Key.(type) {
			case *rsa.PrivateKey:
				if tc.keyType != "rsa" {
					t.Errorf("got an RSA key, want %s", tc.keyType)
				}
			case *ecdsa.PrivateKey:
				if tc.keyType != "ecdsa" {
					t.Errorf("got an ECDSA key, want %s", tc.keyType)
				}
			}
			var names []string
			for _, c := range id.Chain {
				names = append(names, c.Subject.CommonName)
			}
			got := strings.Join(names, " > ")
			if !strings.HasSuffix(got, "code signing > signet test intermediate > signet test root") || id.Chain[0] != id.Leaf {
				t.Errorf("chain = %s", got)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	pki := authenticodetest.SharedPKI(t)
	junk := t.TempDir() + "/junk.pfx"
	if err := os.WriteFile(junk, []byte("not a pfx"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, password string
		want                 error
		wantMsg              string
	}{
		{"wrong password, modern", pki.Path("modern.pfx"), "nope", ErrWrongPassword, "wrong password for " + pki.Path("modern.pfx")},
		{"wrong password, legacy", pki.Path("legacy.pfx"), "nope", ErrWrongPassword, "wrong password for " + pki.Path("legacy.pfx")},
		{"not a pfx", junk, "x", nil, junk + ": not a usable PKCS#12 file"},
		{"missing", pki.Path("absent.pfx"), "x", os.ErrNotExist, "absent.pfx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path, []byte(tc.password))
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), tc.password) && tc.password != "x" {
				t.Errorf("err %q contains the password", err)
			}
		})
	}
}

// testdata/*.pfx are throwaway self-signed seeds made by `openssl pkcs12
// -export` (modern and -legacy), password "correct horse battery staple".
func FuzzLoadPFX(f *testing.F) {
	for _, name := range []string{"modern.pfx", "legacy.pfx", "ec.pfx"} {
		if data, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte{0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, pw := range []string{"", "correct horse battery staple"} {
			id, err := Parse(data, []byte(pw))
			if err == nil && (id == nil || id.Key == nil || id.Leaf == nil || len(id.Chain) == 0) {
				t.Fatal("incomplete identity without an error")
			}
		}
	})
}
