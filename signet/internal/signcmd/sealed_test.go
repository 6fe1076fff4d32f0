package signcmd

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/signet/internal/authenticode/authenticodetest"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
)

// keyPin is the require-signer pin of a PEM certificate of the test PKI, and its expiry.
func keyPin(t *testing.T, f *fixture, name string) ([32]byte, string) {
	t.Helper()
	b, err := os.ReadFile(f.pki.Path(name))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(c.RawSubjectPublicKeyInfo), c.NotAfter.UTC().Format("2006-01-02")
}

// sealedInput writes the test PE sealed with a manifest of the given level and pin, and
// returns its path.
func sealedInput(t *testing.T, f *fixture, level manifest.Level, pin *[32]byte) string {
	t.Helper()
	m := &manifest.Manifest{
		Entry: "main.py", Level: level, PythonPath: "C:/Python311/python.exe", PythonVersion: "3.11",
		RequireSigner: pin,
		Files:         []manifest.File{{Path: "main.py", Size: 4, SHA256: sha256.Sum256([]byte("main")), Role: manifest.RoleEntry}},
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := payload.Attach(authenticodetest.PE(t), raw)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(f.dir, "sealed.exe")
	if err := os.WriteFile(in, sealed, 0o755); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestSignSealedLoaders(t *testing.T) {
	f := newFixture(t)
	pin, expiry := keyPin(t, f, "leaf.pem")
	otherPin, _ := keyPin(t, f, "leaf-ec.pem")
	expiryWarning := "will stop starting when the certificate expires on " + expiry
	tests := []struct {
		name    string
		level   manifest.Level
		pin     *[32]byte
		unseal  bool // sign the plain test PE instead
		damage  bool // flip a byte of the sealed manifest
		args    []string
		tsa     bool
		code    int
		want    string // in the output
		notWant string // not in the output
	}{
		{name: "enforce", level: manifest.LevelEnforce, code: 0, want: "signed ", notWant: "note:"},
		{name: "warn level", level: manifest.LevelWarn, code: 1, want: "refusing to sign a warn-level loader: re-seal with --level enforce"},
		{name: "warn level, digest for an HSM", level: manifest.LevelWarn, args: []string{"--digest-out", "DIGEST"}, code: 1, want: "refusing to sign a warn-level loader"},
		{name: "damaged payload", level: manifest.LevelEnforce, damage: true, code: 1, want: "refusing to sign a loader whose sealed payload is damaged"},
		{name: "unsealed PE", unseal: true, code: 0, want: "carries no signet payload (it is not a sealed loader); signing it as a plain PE file"},
		{name: "pinned key without a time stamp", level: manifest.LevelEnforce, pin: &pin, code: 0, want: expiryWarning},
		{name: "pinned key with a time stamp", level: manifest.LevelEnforce, pin: &pin, tsa: true, code: 0, want: "signed ", notWant: "will stop starting"},
		{name: "another key than the pinned one", level: manifest.LevelEnforce, pin: &otherPin, code: 1, want: "the loader would never start"},
		{name: "another key, HSM path", level: manifest.LevelEnforce, pin: &otherPin, args: []string{"--signature-in", "SIG", "--cert-chain", "chain.pem"}, code: 1, want: "the loader would never start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := f.in
			if !tt.unseal {
				in = sealedInput(t, f, tt.level, tt.pin)
			}
			if tt.damage {
				b, err := os.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)-payload.TrailerSize-2] ^= 1
				if err := os.WriteFile(in, b, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(t.TempDir(), "signed.exe")
			args := []string{"--pfx", f.pki.Path("modern.pfx"), "--password-file", f.pki.Path("password.txt"), in, "-o", out}
			if tt.args != nil {
				args = nil
				for _, a := range tt.args {
					switch a {
					case "DIGEST":
						a = filepath.Join(t.TempDir(), "digest.bin")
					case "SIG":
						a = filepath.Join(t.TempDir(), "sig.bin")
						if err := os.WriteFile(a, make([]byte, 256), 0o644); err != nil {
							t.Fatal(err)
						}
					case "chain.pem":
						a = f.pki.Path("chain.pem")
					}
					args = append(args, a)
				}
				args = append(args, in)
				if tt.args[0] != "--digest-out" {
					args = append(args, "-o", out)
				}
			}
			if tt.tsa {
				args = append([]string{"--timestamp", authenticodetest.StartTSA(t, f.pki, authenticodetest.TSAGood).URL}, args...)
			}
			code, msg := runSign(t, args...)
			if code != tt.code || !strings.Contains(msg, tt.want) || (tt.notWant != "" && strings.Contains(msg, tt.notWant)) {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d with %q and without %q", code, msg, tt.code, tt.want, tt.notWant)
			}
			_, err := os.Stat(out)
			switch {
			case tt.code != 0 && err == nil:
				t.Errorf("a refused signing wrote %s", out)
			case tt.code == 0 && tt.args == nil:
				if o, ok := osslVerify(t, f, out, tt.tsa); !ok {
					t.Errorf("osslsigncode verify of %s:\n%s", out, o)
				}
			}
		})
	}
}
