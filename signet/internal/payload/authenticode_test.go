package payload

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/testtool"
)

func run(t *testing.T, dir, tool string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestAuthenticodeCoversPayload seals a real Go-built PE, signs it with osslsigncode and a
// throw-away certificate, and checks that the payload is still found, that the signature
// verifies, and that changing one payload byte breaks the signature.
func TestAuthenticodeCoversPayload(t *testing.T) {
	openssl := testtool.Need(t, "openssl")
	osslsigncode := testtool.Need(t, "osslsigncode")
	_, stub := realExecutables(t)
	dir := t.TempDir()

	if out, err := run(t, dir, openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
		"-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj", "/CN=signet payload test",
		"-addext", "keyUsage=critical,digitalSignature,keyCertSign",
		"-addext", "extendedKeyUsage=codeSigning",
		"-addext", "basicConstraints=critical,CA:TRUE"); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	paddings := map[int64]bool{}
	for _, extra := range []string{"", "x", "xyz", "1234567"} { // vary the padding before the certificate table
		manifest := append(append([]byte(nil), testManifest...), extra...)
		sealed, err := Attach(stub, manifest)
		if err != nil {
			t.Fatalf("Attach: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "sealed.exe"), sealed, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dir, "signed.exe"))
		if out, err := run(t, dir, osslsigncode, "sign", "-certs", "cert.pem", "-key", "key.pem",
			"-h", "sha256", "-n", "signet test", "-in", "sealed.exe", "-out", "signed.exe"); err != nil {
			t.Fatalf("osslsigncode sign: %v\n%s", err, out)
		}
		signedPath := filepath.Join(dir, "signed.exe")
		got, err := FindInFile(signedPath)
		if err != nil || !bytes.Equal(got, manifest) {
			t.Fatalf("manifest %d bytes: FindInFile(signed) = %q, %v", len(manifest), got, err)
		}
		if out, err := run(t, dir, osslsigncode, "verify", "-CAfile", "cert.pem", "-in", "signed.exe"); err != nil {
			t.Fatalf("osslsigncode verify of the signed, sealed PE: %v\n%s", err, out)
		}
		signed, err := os.ReadFile(signedPath)
		if err != nil {
			t.Fatal(err)
		}
		certOff, _, ok, err := SecurityDirectory(bytes.NewReader(signed), int64(len(signed)))
		if err != nil || !ok {
			t.Fatalf("SecurityDirectory(signed) = %v, %v", ok, err)
		}
		paddings[int64(certOff)-int64(len(sealed))] = true
		if _, err := Attach(signed, manifest); err == nil || !strings.Contains(err.Error(), "seal before signing") {
			t.Errorf("Attach on a signed PE = %v, want refusal", err)
		}
		if _, err := Strip(signed); err == nil {
			t.Error("Strip on a signed PE succeeded")
		}

		// One changed manifest byte must break both the payload digest and the signature.
		tampered := append([]byte(nil), signed...)
		tampered[len(stub)] ^= 0x01
		if err := os.WriteFile(filepath.Join(dir, "tampered.exe"), tampered, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := FindInFile(filepath.Join(dir, "tampered.exe")); err == nil {
			t.Error("Find accepted a tampered payload")
		}
		if out, err := run(t, dir, osslsigncode, "verify", "-CAfile", "cert.pem", "-in", "tampered.exe"); err == nil {
			t.Errorf("osslsigncode verify accepted a signed PE whose payload was changed:\n%s", out)
		}
	}
	if len(paddings) < 2 {
		t.Errorf("the signer padded every case alike (%v); the padding search was not exercised", paddings)
	}
}
