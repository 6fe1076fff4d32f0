package signcmd

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/testtool"
	"github.com/signet-dev/signet/signet/internal/authenticode"
	"github.com/signet-dev/signet/signet/internal/authenticode/authenticodetest"
)

func TestMain(m *testing.M) {
	tsaTimeout = 5 * time.Second
	tsaBackoff = 50 * time.Millisecond
	authenticodetest.Main(m)
}

type fixture struct {
	pki *authenticodetest.PKI
	dir string
	in  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pki := authenticodetest.SharedPKI(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "hello.exe")
	if err := os.WriteFile(in, authenticodetest.PE(t), 0o755); err != nil {
		t.Fatal(err)
	}
	return &fixture{pki: pki, dir: dir, in: in}
}

func runSign(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), args, &stdout, &stderr)
	return code, stdout.String() + stderr.String()
}

// osslVerify runs the independent oracle and returns its output and whether
// it succeeded.
func osslVerify(t *testing.T, f *fixture, path string, withTSA bool) (string, bool) {
	t.Helper()
	tool := testtool.Need(t, "osslsigncode")
	args := []string{"verify", "-CAfile", f.pki.Path("ca.pem"), "-in", path}
	if withTSA {
		args = append(args, "-TSA-CAfile", f.pki.Path("tsa-ca.pem"))
	}
	out, err := exec.Command(tool, args...).CombinedOutput()
	return string(out), err == nil && strings.Contains(string(out), "Signature verification: ok")
}

func roots(t *testing.T, f *fixture, names ...string) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for _, n := range names {
		b, err := os.ReadFile(f.pki.Path(n))
		if err != nil {
			t.Fatal(err)
		}
		if !pool.AppendCertsFromPEM(b) {
			t.Fatalf("no certificate in %s", n)
		}
	}
	return pool
}

func flipOverlayByte(t *testing.T, signed string) string {
	t.Helper()
	b, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("SIGNET-TEST-OVERLAY"))
	if i < 0 {
		t.Fatal("overlay marker not found in the signed file")
	}
	b[i+len("SIGNET-TEST-OVERLAY")+3] ^= 0x01
	tampered := signed + ".tampered.exe"
	if err := os.WriteFile(tampered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return tampered
}

func TestSignWithPFXVerifiesWithOsslsigncode(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name      string
		pfx       string
		timestamp bool
	}{
		{"modern pfx", "modern.pfx", false},
		{"legacy pfx", "legacy.pfx", false},
		{"ECDSA pfx", "ec.pfx", false},
		{"modern pfx, time-stamped", "modern.pfx", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "signed.exe")
			args := []string{"--pfx", f.pki.Path(tc.pfx), "--password-file", f.pki.Path("password.txt")}
			var tsaSrv *authenticodetest.TSA
			if tc.timestamp {
				tsaSrv = authenticodetest.StartTSA(t, f.pki, authenticodetest.TSAGood)
				args = append(args, "--timestamp", tsaSrv.URL)
			}
			args = append(args, f.in, "-o", out)
			if code, msg := runSign(t, args...); code != 0 {
				t.Fatalf("exit %d: %s", code, msg)
			}
			vout, ok := osslVerify(t, f, out, tc.timestamp)
			if !ok {
				t.Fatalf("osslsigncode verify failed:\n%s", vout)
			}
			if strings.Contains(vout, "invalid PE checksum") {
				t.Errorf("osslsigncode reports a wrong PE checksum:\n%s", vout)
			}
			certs := embeddedCerts(t, out)
			for _, cn := range []string{"CN = signet test intermediate", "CN = signet test root"} {
				if !strings.Contains(certs, "subject="+cn) {
					t.Errorf("embedded certificates lack %q:\n%s", cn, certs)
				}
			}
			if tc.timestamp && !strings.Contains(vout, "signet test TSA") {
				t.Errorf("osslsigncode shows no time stamp by the test TSA:\n%s", vout)
			}
			s, err := authenticode.Verify(out, roots(t, f, "ca.pem", "tsa-ca.pem"))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !strings.Contains(s.Subject, "code signing") || len(s.Chain) != 3 {
				t.Errorf("Verify names %q with a chain of %d", s.Subject, len(s.Chain))
			}
			if s.Timestamped != tc.timestamp {
				t.Errorf("Timestamped = %v, want %v", s.Timestamped, tc.timestamp)
			}
			tampered := flipOverlayByte(t, out)
			if vout, ok := osslVerify(t, f, tampered, tc.timestamp); ok || !strings.Contains(vout, "MISMATCH") {
				t.Fatalf("osslsigncode did not report a digest mismatch for a changed overlay:\n%s", vout)
			}
			if _, err := authenticode.Verify(tampered, roots(t, f, "ca.pem", "tsa-ca.pem")); err == nil {
				t.Fatal("Verify accepted a file whose overlay was changed")
			}
		})
	}
}

func TestDigestOutSignatureInWithOpenssl(t *testing.T) {
	f := newFixture(t)
	for _, timestamp := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "time-stamped"}[timestamp], func(t *testing.T) {
			dir := t.TempDir()
			digest := filepath.Join(dir, "digest.bin")
			sig := filepath.Join(dir, "sig.bin")
			out := filepath.Join(dir, "signed.exe")
			if code, msg := runSign(t, "--digest-out", digest, f.in); code != 0 {
				t.Fatalf("--digest-out: exit %d: %s", code, msg)
			}
			if b, err := os.ReadFile(digest); err != nil || len(b) != 32 {
				t.Fatalf("digest file: %d bytes, %v", len(b), err)
			}
			// The documented outside step.
			authenticodetest.Run(t, dir, testtool.Need(t, "openssl"), "pkeyutl", "-sign",
				"-inkey", f.pki.Path("leaf.key"), "-pkeyopt", "digest:sha256", "-in", digest, "-out", sig)
			args := []string{"--signature-in", sig, "--cert-chain", f.pki.Path("chain.pem")}
			if timestamp {
				args = append(args, "--timestamp", authenticodetest.StartTSA(t, f.pki, authenticodetest.TSAGood).URL)
			}
			args = append(args, f.in, "-o", out)
			if code, msg := runSign(t, args...); code != 0 {
				t.Fatalf("--signature-in: exit %d: %s", code, msg)
			}
			if vout, ok := osslVerify(t, f, out, timestamp); !ok {
				t.Fatalf("osslsigncode verify failed:\n%s", vout)
			}
			if vout, ok := osslVerify(t, f, flipOverlayByte(t, out), timestamp); ok {
				t.Fatalf("osslsigncode accepted a changed overlay:\n%s", vout)
			}
			if !timestamp {
				// Same bytes as signing with the .pfx holding the same key.
				viaPFX := filepath.Join(dir, "pfx.exe")
				if code, msg := runSign(t, "--pfx", f.pki.Path("modern.pfx"), "--password-file", f.pki.Path("password.txt"), f.in, "-o", viaPFX); code != 0 {
					t.Fatalf("exit %d: %s", code, msg)
				}
				a, _ := os.ReadFile(out)
				b, _ := os.ReadFile(viaPFX)
				if !bytes.Equal(a, b) {
					t.Error("the HSM path and the .pfx path gave different bytes for the same key")
				}
			}
		})
	}
}

func TestSignatureInRejectsWrongSignature(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	digest := filepath.Join(dir, "digest.bin")
	sig := filepath.Join(dir, "sig.bin")
	if code, msg := runSign(t, "--digest-out", digest, f.in); code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	openssl := testtool.Need(t, "openssl")
	// Signed with the intermediate's key: does not match the leaf.
	authenticodetest.Run(t, dir, openssl, "pkeyutl", "-sign", "-inkey", f.pki.Path("int.key"),
		"-pkeyopt", "digest:sha256", "-in", digest, "-out", sig)
	out := filepath.Join(dir, "signed.exe")
	code, msg := runSign(t, "--signature-in", sig, "--cert-chain", f.pki.Path("chain.pem"), f.in, "-o", out)
	if code != 1 || !strings.Contains(msg, "does not verify") {
		t.Fatalf("exit %d, %q; want 1 and a signature error", code, msg)
	}
	assertAbsent(t, out)

	// Right key, but the input changed after --digest-out.
	authenticodetest.Run(t, dir, openssl, "pkeyutl", "-sign", "-inkey", f.pki.Path("leaf.key"),
		"-pkeyopt", "digest:sha256", "-in", digest, "-out", sig)
	changed := filepath.Join(dir, "changed.exe")
	b, _ := os.ReadFile(f.in)
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(changed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, msg = runSign(t, "--signature-in", sig, "--cert-chain", f.pki.Path("chain.pem"), changed, "-o", out)
	if code != 1 || !strings.Contains(msg, "does not verify") {
		t.Fatalf("exit %d, %q; want 1 and a signature error", code, msg)
	}
	assertAbsent(t, out)
}

func TestDeterministicWithoutTimestamp(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	var outs [][]byte
	for i, pfxName := range []string{"modern.pfx", "modern.pfx", "legacy.pfx"} {
		out := filepath.Join(dir, "signed"+string(rune('a'+i))+".exe")
		if code, msg := runSign(t, "--pfx", f.pki.Path(pfxName), "--password-file", f.pki.Path("password.txt"), f.in, "-o", out); code != 0 {
			t.Fatalf("exit %d: %s", code, msg)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	for i := 1; i < len(outs); i++ {
		if !bytes.Equal(outs[0], outs[i]) {
			t.Fatalf("signing run %d gave different bytes", i)
		}
	}
}

func TestECDSADeterministic(t *testing.T) {
	// ECDSA signatures use RFC 6979 nonces, so they repeat too.
	f := newFixture(t)
	dir := t.TempDir()
	var outs [][]byte
	for i := 0; i < 2; i++ {
		out := filepath.Join(dir, "ec"+string(rune('a'+i))+".exe")
		if code, msg := runSign(t, "--pfx", f.pki.Path("ec.pfx"), "--password-file", f.pki.Path("password.txt"), f.in, "-o", out); code != 0 {
			t.Fatalf("exit %d: %s", code, msg)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("two ECDSA signing runs gave different bytes")
	}
}

func TestResignReplacesSignature(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	once := filepath.Join(dir, "once.exe")
	twice := filepath.Join(dir, "twice.exe")
	pw := f.pki.Path("password.txt")
	if code, msg := runSign(t, "--pfx", f.pki.Path("modern.pfx"), "--password-file", pw, f.in, "-o", once); code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	code, msg := runSign(t, "--pfx", f.pki.Path("modern.pfx"), "--password-file", pw, once, "-o", twice)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	if !strings.Contains(msg, "already signed; replacing its signature") {
		t.Errorf("re-signing did not say so: %q", msg)
	}
	a, _ := os.ReadFile(once)
	b, _ := os.ReadFile(twice)
	if !bytes.Equal(a, b) {
		t.Error("re-signing a signed file did not give the same bytes as signing it once")
	}
	if vout, ok := osslVerify(t, f, twice, false); !ok {
		t.Fatalf("osslsigncode verify of the re-signed file failed:\n%s", vout)
	}
}

func TestPasswordFromEnv(t *testing.T) {
	f := newFixture(t)
	t.Setenv("SIGNET_TEST_PFX_PASSWORD", f.pki.Password)
	out := filepath.Join(t.TempDir(), "signed.exe")
	code, msg := runSign(t, "--pfx", f.pki.Path("legacy.pfx"), "--password-env", "SIGNET_TEST_PFX_PASSWORD", f.in, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	if strings.Contains(msg, f.pki.Password) {
		t.Error("the password was printed")
	}
}

func TestTimestampFallsBackToNextURL(t *testing.T) {
	f := newFixture(t)
	good := authenticodetest.StartTSA(t, f.pki, authenticodetest.TSAGood)
	out := filepath.Join(t.TempDir(), "signed.exe")
	code, msg := runSign(t, "--pfx", f.pki.Path("modern.pfx"), "--password-file", f.pki.Path("password.txt"),
		"--timestamp", authenticodetest.DeadURL(t), "--timestamp", good.URL, f.in, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	if good.Requests() != 1 {
		t.Errorf("good TSA got %d requests, want 1", good.Requests())
	}
	s, err := authenticode.Verify(out, roots(t, f, "ca.pem", "tsa-ca.pem"))
	if err != nil || !s.Timestamped || !strings.Contains(s.TimestampAuthority, "signet test TSA") {
		t.Fatalf("Verify: %+v, %v", s, err)
	}
}

// TestTimestampCancelled signs with a time-stamping authority that never answers: when the
// context ends (Ctrl-C reaches signet sign through it), signing stops at once, says why and
// leaves no output, instead of waiting for the authority's timeout and retries.
func TestTimestampCancelled(t *testing.T) {
	f := newFixture(t)
	block := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer stuck.Close()
	defer close(block)
	out := filepath.Join(t.TempDir(), "signed.exe")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	var stdout, stderr bytes.Buffer
	code := Run(ctx, []string{"--pfx", f.pki.Path("modern.pfx"), "--password-file", f.pki.Path("password.txt"),
		"--timestamp", stuck.URL, f.in, "-o", out}, &stdout, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), context.Canceled.Error()) {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if d := time.Since(start); d > tsaTimeout {
		t.Errorf("signing stopped %v after it started, not when the context was cancelled", d)
	}
	assertAbsent(t, out)
}

func TestReplayedTimestampRefused(t *testing.T) {
	f := newFixture(t)
	replay := authenticodetest.StartTSA(t, f.pki, authenticodetest.TSAReplay)
	out := filepath.Join(t.TempDir(), "signed.exe")
	code, msg := runSign(t, "--pfx", f.pki.Path("modern.pfx"), "--password-file", f.pki.Path("password.txt"),
		"--timestamp", replay.URL, f.in, "-o", out)
	if code != 1 || !strings.Contains(msg, "nonce mismatch") {
		t.Fatalf("exit %d, %q; want 1 and a nonce error", code, msg)
	}
	if replay.Requests() != 1 {
		t.Errorf("a refused token was asked for again: %d requests", replay.Requests())
	}
	assertAbsent(t, out)
}

// embeddedCerts lists the certificates of the signature as the independent
// tools see them: osslsigncode extracts it, openssl prints its certificates.
func embeddedCerts(t *testing.T, signed string) string {
	t.Helper()
	pemSig := filepath.Join(t.TempDir(), "sig.pem")
	authenticodetest.Run(t, "", testtool.Need(t, "osslsigncode"), "extract-signature", "-pem", "-in", signed, "-out", pemSig)
	return authenticodetest.Run(t, "", testtool.Need(t, "openssl"), "pkcs7", "-in", pemSig, "-print_certs", "-noout")
}

func assertAbsent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("%s exists after a failure (err=%v)", path, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".signet-tmp-") { // atomicfile's temporary files
			t.Fatalf("temporary file %s left behind", e.Name())
		}
	}
}

func pemCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
