//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/signet-dev/signet/signet/internal/authenticode/authenticodetest"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/stubs"
)

var (
	windowsStubOnce sync.Once
	windowsStub     string
	windowsStubErr  error
)

// realWindowsStub is the windows/amd64 loader stub built from the embedded source, as
// `signet seal --target windows/amd64` builds it; built once per test binary.
func realWindowsStub(t *testing.T) string {
	t.Helper()
	windowsStubOnce.Do(func() {
		b := &stubs.Builder{CacheDir: filepath.Dir(filepath.Dir(realStub))}
		windowsStub, windowsStubErr = b.Get(context.Background(), "windows", "amd64")
	})
	if windowsStubErr != nil {
		t.Fatalf("building the windows/amd64 stub: %v", windowsStubErr)
	}
	return windowsStub
}

// testPNG writes a small PNG icon.
func testPNG(t *testing.T) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			img.Set(x, y, color.NRGBA{uint8(8 * x), uint8(8 * y), 0x80, 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "icon.png")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// exiftool returns the tags exiftool reads from the file at path.
func exiftool(t *testing.T, path string) map[string]any {
	t.Helper()
	tool, err := exec.LookPath("exiftool")
	if err != nil {
		t.Fatalf("exiftool is needed as the independent reader of the version information (apt-get install libimage-exiftool-perl): %v", err)
	}
	out, err := exec.Command(tool, "-j", "-charset", "UTF8", path).Output()
	if err != nil {
		t.Fatalf("exiftool %s: %v", path, err)
	}
	var tags []map[string]any
	if err := json.Unmarshal(out, &tags); err != nil || len(tags) != 1 {
		t.Fatalf("exiftool -j %s: %v (%d objects)", path, err, len(tags))
	}
	return tags[0]
}

// sealWindows seals the example app for windows/amd64 into a new directory.
func sealWindows(t *testing.T, extra ...string) (string, result) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dist", "hello")
	args := append([]string{"seal", "--main", "hello.py", "--root", helloRoot(t), "--target", "windows/amd64",
		"--python", "C:/Python311/python.exe", "--python-version", "3.11", "--stub", realWindowsStub(t), "-o", out}, extra...)
	return out + ".exe", signet(args...)
}

type verifyJSON struct {
	OK        bool     `json:"ok"`
	Warnings  []string `json:"warnings"`
	Signature *struct {
		Present        bool   `json:"present"`
		Checked        bool   `json:"checked"`
		Valid          bool   `json:"valid"`
		Signer         string `json:"signer"`
		SignerKey      string `json:"signer_key_sha256"`
		Timestamp      string `json:"timestamp"`
		RequiredSigner string `json:"required_signer"`
	} `json:"signature"`
	Problems []struct{ Kind, Path, Detail string }
}

func verifyReport(t *testing.T, args ...string) (verifyJSON, result) {
	t.Helper()
	r := signet(append([]string{"verify", "--json"}, args...)...)
	var v verifyJSON
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("verify --json: %v\n%s%s", err, r.stdout, r.stderr)
	}
	return v, r
}

func TestSealWindowsWithResources(t *testing.T) {
	fields := map[string][2]string{ // exiftool tag: flag, value
		"CompanyName":      {"--company", "Ölfabrik Müller GmbH"},
		"ProductName":      {"--product", "Hello Sealed"},
		"FileDescription":  {"--description", "Hello, a sealed Python app"},
		"FileVersion":      {"--file-version", "1.2.3.4"},
		"ProductVersion":   {"--product-version", "5.6.7"},
		"LegalCopyright":   {"--copyright", "© 2026 Ölfabrik Müller"},
		"OriginalFileName": {"--original-filename", "hello.exe"},
		"InternalName":     {"--internal-name", "hello-loader"},
		"Comments":         {"--comments", "Sealed with signet"},
	}
	args := []string{"--icon", testPNG(t)}
	for _, fv := range fields {
		args = append(args, fv[0], fv[1])
	}
	loader, r := sealWindows(t, args...)
	if r.code != 0 {
		t.Fatalf("seal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	tags := exiftool(t, loader)
	for tag, fv := range fields {
		if got, _ := tags[tag].(string); got != fv[1] {
			t.Errorf("exiftool %s = %v, want %q", tag, tags[tag], fv[1])
		}
	}
	b, err := os.ReadFile(loader)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := payload.Find(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("payload of the loader with resources: %v", err)
	}
	if m, err := manifest.Decode(raw); err != nil || m.Entry != "hello.py" {
		t.Fatalf("manifest: %v", err)
	}
	if !bytes.Contains(b, []byte(`<requestedExecutionLevel level="asInvoker" uiAccess="false"/>`)) {
		t.Errorf("no application manifest in the loader")
	}

	// Unsigned: a warning, not a failure, unless --require-signature.
	v, vr := verifyReport(t, loader)
	if vr.code != 0 || !v.OK || v.Signature == nil || v.Signature.Present || len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], "not signed") {
		t.Errorf("verify of an unsigned windows loader: exit %d\n%s", vr.code, vr.stdout)
	}
	if tr := signet("verify", loader); tr.code != 0 || !strings.Contains(tr.stdout, "signature: none\n") || !strings.Contains(tr.stdout, "WARNING: the loader is not signed") {
		t.Errorf("verify text of an unsigned windows loader: exit %d\n%s", tr.code, tr.stdout)
	}
	if rr := signet("verify", "--require-signature", loader); rr.code != 1 || !strings.Contains(rr.stdout, "SIGNATURE "+loader+": not signed (--require-signature)") {
		t.Errorf("verify --require-signature of an unsigned loader: exit %d\n%s", rr.code, rr.stdout)
	}

	// Without any resource flag the loader still gets the application manifest.
	plain, r := sealWindows(t)
	if r.code != 0 {
		t.Fatalf("seal: exit %d\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(plain); err != nil || !bytes.Contains(b, []byte("<activeCodePage")) {
		t.Errorf("a windows loader sealed without resource flags has no application manifest (%v)", err)
	}
}

func TestSignAndVerifyWindowsLoader(t *testing.T) {
	pki := authenticodetest.NewPKI(t)
	sign := func(in string, extra ...string) result {
		return signet(append([]string{"sign", "--pfx", pki.Path("modern.pfx"), "--password-file", pki.Path("password.txt"), in, "-o", in}, extra...)...)
	}
	loader, r := sealWindows(t, "--company", "Example Ltd")
	if r.code != 0 {
		t.Fatalf("seal: exit %d\n%s", r.code, r.stderr)
	}
	if s := sign(loader); s.code != 0 {
		t.Fatalf("sign: exit %d\n%s", s.code, s.stderr)
	}
	if tags := exiftool(t, loader); tags["CompanyName"] != "Example Ltd" {
		t.Errorf("company after signing: %v", tags["CompanyName"])
	}

	// Signed, no --ca: not checked, a failure.
	if v := signet("verify", loader); v.code != 1 || !strings.Contains(v.stdout, "signature present, not checked: pass --ca FILE") {
		t.Errorf("verify of a signed loader without --ca: exit %d\n%s", v.code, v.stdout)
	}
	// With the right root: OK, and the signer is named.
	v, vr := verifyReport(t, "--ca", pki.Path("ca.pem"), loader)
	if vr.code != 0 || !v.OK || v.Signature == nil || !v.Signature.Checked || !v.Signature.Valid ||
		!strings.Contains(v.Signature.Signer, "CN=signet test code signing") || len(v.Signature.SignerKey) != 64 {
		t.Errorf("verify --ca of a signed loader: exit %d\n%s", vr.code, vr.stdout)
	}
	if tr := signet("verify", "--ca", pki.Path("ca.pem"), loader); tr.code != 0 || !strings.Contains(tr.stdout, "signature: signed by CN=signet test code signing") {
		t.Errorf("verify text: exit %d\n%s", tr.code, tr.stdout)
	}
	// With another root: the chain fails.
	other := authenticodetest.NewPKI(t)
	if v := signet("verify", "--ca", other.Path("ca.pem"), loader); v.code != 1 || !strings.Contains(v.stdout, "SIGNATURE "+loader+": the signature does not verify") {
		t.Errorf("verify against a foreign root: exit %d\n%s", v.code, v.stdout)
	}
	// A changed payload byte breaks the signature (and the payload).
	b, err := os.ReadFile(loader)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(filepath.Dir(loader), "tampered.exe")
	off, _, _, err := payload.SecurityDirectory(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	c := append([]byte(nil), b...)
	c[int(off)-payload.TrailerSize-20] ^= 1
	if err := os.WriteFile(tampered, c, 0o755); err != nil {
		t.Fatal(err)
	}
	if v := signet("verify", "--ca", pki.Path("ca.pem"), tampered); v.code != 1 || !strings.Contains(v.stdout, "SIGNATURE "+tampered+": the signature does not verify") {
		t.Errorf("verify of a tampered signed loader: exit %d\n%s", v.code, v.stdout)
	}

	// A warn-level loader is not signed.
	warn, r := sealWindows(t, "--level", "warn")
	if r.code != 0 {
		t.Fatalf("seal: exit %d\n%s", r.code, r.stderr)
	}
	if s := sign(warn); s.code != 1 || !strings.Contains(s.stderr, "refusing to sign a warn-level loader: re-seal with --level enforce") {
		t.Errorf("sign of a warn-level loader: exit %d\n%s", s.code, s.stderr)
	}
}

func TestRequireSigner(t *testing.T) {
	pki := authenticodetest.NewPKI(t)
	loader, r := sealWindows(t, "--require-signer", pki.Path("leaf.pem"))
	if r.code != 0 || !strings.Contains(r.stdout, "the loader starts only when signed with the key of CN=signet test code signing") {
		t.Fatalf("seal --require-signer: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	raw, err := payload.FindInFile(loader)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Decode(raw)
	if err != nil || m.RequireSigner == nil {
		t.Fatalf("manifest: %v, require-signer %v", err, m)
	}
	// Unsigned: the loader would refuse to start, so verify fails.
	if v := signet("verify", loader); v.code != 1 || !strings.Contains(v.stdout, "not signed, but sealed with require-signer") {
		t.Errorf("verify of an unsigned pinned loader: exit %d\n%s", v.code, v.stdout)
	}
	// Signed with another key: refused by signet sign.
	s := signet("sign", "--pfx", pki.Path("ec.pfx"), "--password-file", pki.Path("password.txt"), loader, "-o", loader+".ec")
	if s.code != 1 || !strings.Contains(s.stderr, "the loader would never start") {
		t.Errorf("sign with a key other than the pinned one: exit %d\n%s", s.code, s.stderr)
	}
	// Signed with the pinned key, no time stamp: a warning naming the expiry date.
	s = signet("sign", "--pfx", pki.Path("modern.pfx"), "--password-file", pki.Path("password.txt"), loader, "-o", loader)
	if s.code != 0 || !strings.Contains(s.stderr, "this loader will stop starting when the certificate expires on ") {
		t.Fatalf("sign of a pinned loader: exit %d\n%s", s.code, s.stderr)
	}
	v, vr := verifyReport(t, "--ca", pki.Path("ca.pem"), loader)
	if vr.code != 0 || !v.OK || v.Signature == nil || v.Signature.RequiredSigner != v.Signature.SignerKey ||
		len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], "no time stamp") {
		t.Errorf("verify of a pinned, signed loader: exit %d\n%s", vr.code, vr.stdout)
	}

	// Refused for a linux target, and bad certificates are refused.
	if r := sealHello(t, filepath.Join(t.TempDir(), "hello"), "--require-signer", pki.Path("leaf.pem")); r.code != 2 || !strings.Contains(r.stderr, "--require-signer is for a windows target") {
		t.Errorf("seal --require-signer for linux: exit %d\n%s", r.code, r.stderr)
	}
	if _, r := sealWindows(t, "--require-signer", pki.Path("chain.pem")); r.code != 1 || !strings.Contains(r.stderr, "more than one PEM block") {
		t.Errorf("seal --require-signer with a chain: exit %d\n%s", r.code, r.stderr)
	}
	if _, r := sealWindows(t, "--require-signer", pki.Path("ca.pem")); r.code != 1 || !strings.Contains(r.stderr, "does not allow code signing") {
		t.Errorf("seal --require-signer with a CA certificate: exit %d\n%s", r.code, r.stderr)
	}
}

func TestResourceFlagsNeedWindows(t *testing.T) {
	for _, flag := range [][]string{{"--company", "X"}, {"--icon", "x.ico"}, {"--file-version", "1.2.3"}} {
		r := sealHello(t, filepath.Join(t.TempDir(), "hello"), flag...)
		if r.code != 2 || !strings.Contains(r.stderr, "are for a windows target, not "+runtime.GOOS+"/"+runtime.GOARCH) {
			t.Errorf("seal %v for linux: exit %d\n%s", flag, r.code, r.stderr)
		}
	}
	if _, r := sealWindows(t, "--file-version", "1.2"); r.code != 1 || !strings.Contains(r.stderr, "FileVersion") {
		t.Errorf("seal --file-version 1.2: exit %d\n%s", r.code, r.stderr)
	}
}

// TestLinuxLoaderWithSignerPin: a linux loader whose manifest demands a signature check
// (signet seal never makes one) refuses to start with exit 107.
func TestLinuxLoaderWithSignerPin(t *testing.T) {
	pin := sha256.Sum256([]byte("key"))
	m := &manifest.Manifest{Entry: "hello.py", Level: manifest.LevelEnforce, PythonPath: python, PythonVersion: "3.11",
		RequireSigner: &pin,
		Files:         []manifest.File{{Path: "hello.py", Size: 1, SHA256: sha256.Sum256([]byte("x")), Role: manifest.RoleEntry}}}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	stub, err := os.ReadFile(realStub)
	if err != nil {
		t.Fatal(err)
	}
	b, err := payload.Attach(stub, raw)
	if err != nil {
		t.Fatal(err)
	}
	loader := filepath.Join(t.TempDir(), "hello")
	if err := os.WriteFile(loader, b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(loader).CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 107 ||
		!strings.Contains(string(out), "signet: refused: this loader was sealed to check its own Windows signature, which this operating system cannot do") {
		t.Errorf("a linux loader with require-signer: %v\n%s", err, out)
	}
	if v := signet("verify", loader); v.code != 1 || !strings.Contains(v.stdout, "a linux loader cannot check its own signature") {
		t.Errorf("verify: exit %d\n%s", v.code, v.stdout)
	}
}
