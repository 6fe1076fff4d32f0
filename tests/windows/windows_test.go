// Package windows_test checks the Windows delivery as Bazel builds it, from the host: the
// version information, icon and manifest of //examples/hello's hello.exe read back with
// exiftool and wrestool, unstamped and stamped; signing it with `bazel run
// //examples/hello:hello_sign` and the TEST ONLY key in testdata/, checked by osslsigncode and
// `signet verify`. These tools are not in Bazel's sandbox (the offline root filesystem), so
// this test runs with `go test` on the host and calls tools/bazel itself; its BUILD target is
// manual. A missing tool fails the test when CI=true and skips it otherwise.
package windows_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/testtool"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// bazel runs tools/bazel in the repository and returns its stdout.
func bazel(t *testing.T, repo string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repo, "tools", "bazel"), args...)
	cmd.Dir = repo
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tools/bazel %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// outputFile is the one file among the outputs of target (cquery) whose path ends in suffix.
func outputFile(t *testing.T, repo, suffix string, flags ...string) string {
	t.Helper()
	out := bazel(t, repo, append([]string{"cquery", "--output=files"}, flags...)...)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, suffix) {
			return filepath.Join(repo, line)
		}
	}
	t.Fatalf("cquery %s: no output ends in %s:\n%s", strings.Join(flags, " "), suffix, out)
	return ""
}

// copyOut copies a Bazel output (replaced by later builds) into dir.
func copyOut(t *testing.T, src, dir, name string, mode os.FileMode) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
	return dst
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// exif reads the version information of exe with exiftool.
func exif(t *testing.T, exiftool, exe string) map[string]any {
	t.Helper()
	out, err := exec.Command(exiftool, "-json", "-FileVersionNumber", "-ProductVersionNumber", "-CompanyName",
		"-ProductName", "-FileDescription", "-FileVersion", "-ProductVersion", "-LegalCopyright",
		"-OriginalFileName", "-InternalName", "-Comments", exe).Output()
	if err != nil {
		t.Fatalf("exiftool %s: %v", exe, err)
	}
	var got []map[string]any
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 1 {
		t.Fatalf("exiftool -json: %v\n%s", err, out)
	}
	return got[0]
}

func TestBazelWindowsDelivery(t *testing.T) {
	exiftool := testtool.Need(t, "exiftool")
	wrestool := testtool.Need(t, "wrestool")
	osslsigncode := testtool.Need(t, "osslsigncode")
	repo := repoRoot(t)
	if _, err := os.Stat(filepath.Join(repo, "tools", "bazel")); err != nil {
		t.Fatalf("tools/bazel: %v", err)
	}
	tmp := t.TempDir()

	bazel(t, repo, "build", "//examples/hello:hello_loader", "//tests/windows:hello_test_signed")
	loader := copyOut(t, outputFile(t, repo, "/windows_amd64/hello.exe", "//examples/hello:hello_loader"), tmp, "unsigned.exe", 0o644)
	delivery := outputFile(t, repo, "/windows_amd64/hello.tar", "//examples/hello:hello_loader")
	// The signet CLI, to check the signed delivery: built here with the host's Go.
	signet := filepath.Join(tmp, "signet")
	build := exec.Command(testtool.Need(t, "go"), "build", "-o", signet, "./signet/cmd/signet")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./signet/cmd/signet: %v\n%s", err, out)
	}
	testSigned := copyOut(t, outputFile(t, repo, "/hello.exe", "//tests/windows:hello_test_signed"), tmp, "test-signed.exe", 0o644)

	t.Run("version information, unstamped", func(t *testing.T) {
		want := map[string]any{
			"CompanyName":       "Example Ltd",
			"ProductName":       "Hello",
			"FileDescription":   "Hello, a sealed Python app",
			"FileVersion":       "0.0.0.0", // {STABLE_VERSION} without --stamp
			"FileVersionNumber": "0.0.0.0",
			"ProductVersion":    "1.0.0",
			"LegalCopyright":    "(c) 2026 Example Ltd",
			"OriginalFileName":  "hello.exe",
			"InternalName":      "hello",
			"Comments":          "A sealed Python app",
		}
		got := exif(t, exiftool, loader)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("exiftool %s = %v, want %q", k, got[k], v)
			}
		}
	})

	t.Run("icon and manifest", func(t *testing.T) {
		out, err := run(t, wrestool, "-l", loader)
		if err != nil {
			t.Fatalf("wrestool -l: %v\n%s", err, out)
		}
		for _, typ := range []string{"--type=3 ", "--type=14 ", "--type=16 ", "--type=24 "} {
			if !strings.Contains(out, typ) {
				t.Errorf("wrestool -l lists no resource %s(icon 3, icon group 14, version 16, manifest 24):\n%s", typ, out)
			}
		}
		manifest, err := exec.Command(wrestool, "-x", "--raw", "--type=24", loader).Output()
		if err != nil {
			t.Fatalf("wrestool -x --type=24: %v", err)
		}
		if !bytes.Contains(manifest, []byte(`<requestedExecutionLevel level="asInvoker" uiAccess="false"/>`)) {
			t.Errorf("the application manifest does not ask for asInvoker:\n%s", manifest)
		}
		icon, err := exec.Command(wrestool, "-x", "--type=14", loader).Output()
		if err != nil {
			t.Fatalf("wrestool -x --type=14: %v", err)
		}
		src, err := os.ReadFile(filepath.Join(repo, "examples", "hello", "hello.ico"))
		if err != nil {
			t.Fatal(err)
		}
		// wrestool rebuilds the .ico from the icon group and images: the directory and the
		// image are hello.ico's, byte for byte (it may append the resource's padding).
		if !bytes.HasPrefix(icon, src) {
			t.Errorf("the icon wrestool rebuilds from the loader (%d bytes) does not start with examples/hello/hello.ico (%d bytes)", len(icon), len(src))
		}
	})

	t.Run("bazel run hello_sign signs with the key from the command line", func(t *testing.T) {
		pw := filepath.Join(tmp, "password")
		if err := os.WriteFile(pw, []byte("signet-test-only\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		signed := filepath.Join(tmp, "dist", "hello.exe")
		if err := os.MkdirAll(filepath.Dir(signed), 0o755); err != nil {
			t.Fatal(err)
		}
		bazel(t, repo, "run", "//examples/hello:hello_sign", "--", "--pfx",
			filepath.Join(repo, "tests", "windows", "testdata", "test.pfx"), "--password-file", pw, "-o", signed)
		ca := filepath.Join(repo, "tests", "windows", "testdata", "ca.pem")
		out, err := run(t, osslsigncode, "verify", "-CAfile", ca, "-in", signed)
		if err != nil || !strings.Contains(out, "Signature verification: ok") {
			t.Errorf("osslsigncode verify -CAfile ca.pem: %v\n%s", err, out)
		}
		if !strings.Contains(out, "signet TEST ONLY code signing") {
			t.Errorf("osslsigncode does not name the signer:\n%s", out)
		}

		// signet verify checks the installed delivery with the signed loader in it.
		app := filepath.Join(tmp, "app")
		if err := os.Mkdir(app, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := run(t, "tar", "-xf", delivery, "-C", app, "--no-same-owner"); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		copyOut(t, signed, app, "hello.exe", 0o755)
		out, err = run(t, signet, "verify", "--ca", ca, filepath.Join(app, "hello.exe"))
		if err != nil || !strings.Contains(out, "signet TEST ONLY code signing") {
			t.Errorf("signet verify --ca ca.pem: %v, want success naming the signer:\n%s", err, out)
		}

		// Without a time stamp signing is deterministic: the build-time test signature is
		// the same file.
		a, _ := os.ReadFile(signed)
		b, _ := os.ReadFile(testSigned)
		if !bytes.Equal(a, b) {
			t.Errorf("bazel run hello_sign and the build-time test signature differ (%d and %d bytes)", len(a), len(b))
		}
	})

	t.Run("hello_sign without arguments prints its usage", func(t *testing.T) {
		cmd := exec.Command(filepath.Join(repo, "tools", "bazel"), "run", "//examples/hello:hello_sign")
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "usage: bazel run //examples/hello:hello_sign -- --pfx FILE") {
			t.Errorf("bazel run hello_sign: %v, want exit 2 and the usage:\n%s", err, out)
		}
	})

	t.Run("stamped build takes the workspace status; unstamped is reproducible", func(t *testing.T) {
		status := filepath.Join(tmp, "status.sh")
		if err := os.WriteFile(status, []byte("#!/bin/sh\necho STABLE_VERSION 4.5.6.7\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		stampFlags := []string{"--stamp", "--workspace_status_command=" + status}
		bazel(t, repo, append([]string{"build"}, append(stampFlags, "//examples/hello:hello_loader")...)...)
		stamped := copyOut(t, outputFile(t, repo, "/windows_amd64/hello.exe", append(stampFlags, "//examples/hello:hello_loader")...), tmp, "stamped.exe", 0o644)
		got := exif(t, exiftool, stamped)
		if got["FileVersion"] != "4.5.6.7" || got["FileVersionNumber"] != "4.5.6.7" || got["ProductVersion"] != "1.0.0" {
			t.Errorf("stamped: FileVersion %v, FileVersionNumber %v, ProductVersion %v; want 4.5.6.7, 4.5.6.7, 1.0.0", got["FileVersion"], got["FileVersionNumber"], got["ProductVersion"])
		}

		bazel(t, repo, "build", "//examples/hello:hello_loader")
		again, err := os.ReadFile(outputFile(t, repo, "/windows_amd64/hello.exe", "//examples/hello:hello_loader"))
		if err != nil {
			t.Fatal(err)
		}
		first, _ := os.ReadFile(loader)
		if !bytes.Equal(again, first) {
			t.Errorf("the unstamped loader differs after a stamped build: unstamped builds are not reproducible")
		}
	})
}
