//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/signet-dev/signet/signet/internal/stubs"
)

// python is the real interpreter the tests seal against.
const python = "/usr/bin/python3.11"

// realStub is the loader stub built from the embedded source, as `signet seal` builds it.
var realStub string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		cache, err := os.MkdirTemp("", "signet-cli-test-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(cache)
		b := &stubs.Builder{CacheDir: cache}
		if realStub, err = b.Get(context.Background(), runtime.GOOS, runtime.GOARCH); err != nil {
			panic(err)
		}
		return m.Run()
	}())
}

// helloRoot is a copy of the repository's example app (its hello.py alone, so that build
// files next to it are not sealed) in a new directory.
func helloRoot(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "hello", "hello.py"))
	if err != nil {
		t.Fatalf("example app: %v", err)
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "hello.py"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("these tests need CPython 3.11 at %s: %v", python, err)
	}
	return root
}

type result struct {
	code           int
	stdout, stderr string
}

func signet(args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

func sealHello(t *testing.T, out string, extra ...string) result {
	t.Helper()
	args := append([]string{"seal", "--main", "hello.py", "--root", helloRoot(t), "--python", python, "--stub", realStub, "-o", out}, extra...)
	return signet(args...)
}

func TestSealManifestVerify(t *testing.T) {
	root := helloRoot(t)
	dist := filepath.Join(t.TempDir(), "dist")
	loader := filepath.Join(dist, "hello")
	r := sealHello(t, loader)
	if r.code != 0 {
		t.Fatalf("seal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "sealed "+loader) || !strings.Contains(r.stdout, "copied 1 app file next") ||
		!strings.Contains(r.stdout, "sealed bytecode: 3 files under __signet_pyc__/3.11") {
		t.Errorf("seal output:\n%s", r.stdout)
	}

	// `signet manifest` feeds the real sha256sum, from the delivery and from the app root
	// (which lacks the sealed bytecode: only the delivery holds it).
	m := signet("manifest", loader)
	if m.code != 0 || m.stdout == "" || !strings.Contains(m.stdout, "  __signet_pyc__/3.11/hello.py.pyc\n") {
		t.Fatalf("manifest: exit %d\n%s%s", m.code, m.stdout, m.stderr)
	}
	for _, check := range [][]string{{dist, "-c"}, {root, "-c", "--ignore-missing"}} {
		dir := check[0]
		cmd := exec.Command("sha256sum", check[1:]...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(m.stdout)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "hello.py: OK") {
			t.Errorf("sha256sum -c in %s: %v\n%s", dir, err, out)
		}
	}

	v := signet("verify", loader)
	if v.code != 0 || !strings.Contains(v.stdout, "OK: every check holds") {
		t.Fatalf("verify of an intact delivery: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	if out, err := exec.Command(loader).CombinedOutput(); err != nil || string(out) != "hello from posix\n" {
		t.Errorf("running the sealed loader: %v\n%s", err, out)
	}
	if v := signet("verify", "--recompile", loader); v.code != 0 || !strings.Contains(v.stdout, "recompiled 3 sealed bytecode files") {
		t.Errorf("verify --recompile of an honest seal: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}

	// A changed bytecode file is refused at start like any app file.
	pyc := filepath.Join(dist, "__signet_pyc__", "3.11", "hello.py.pyc")
	pycBytes, err := os.ReadFile(pyc)
	if err != nil {
		t.Fatal(err)
	}
	pycBytes[len(pycBytes)-1] ^= 0x01
	if err := os.WriteFile(pyc, pycBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	var exitErr *exec.ExitError
	if out, err := exec.Command(loader).CombinedOutput(); !errors.As(err, &exitErr) || exitErr.ExitCode() != 101 || !strings.Contains(string(out), "MODIFIED __signet_pyc__/3.11/hello.py.pyc") {
		t.Errorf("the loader ran a modified bytecode file: %v\n%s", err, out)
	}
	pycBytes[len(pycBytes)-1] ^= 0x01
	if err := os.WriteFile(pyc, pycBytes, 0o644); err != nil {
		t.Fatal(err)
	}

	// One flipped byte: verify fails naming the file, and so does sha256sum.
	script := filepath.Join(dist, "hello.py")
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x01
	if err := os.WriteFile(script, b, 0o644); err != nil {
		t.Fatal(err)
	}
	v = signet("verify", loader)
	if v.code != 1 || !strings.Contains(v.stdout, "MODIFIED hello.py") {
		t.Errorf("verify of a modified delivery: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	if out, err := exec.Command(loader).CombinedOutput(); !errors.As(err, &exitErr) || exitErr.ExitCode() != 101 || !strings.Contains(string(out), "MODIFIED hello.py") {
		t.Errorf("the loader ran a modified app: %v\n%s", err, out)
	}
	cmd := exec.Command("sha256sum", "-c", "--quiet")
	cmd.Dir = dist
	cmd.Stdin = strings.NewReader(m.stdout)
	if err := cmd.Run(); err == nil {
		t.Errorf("sha256sum -c accepted the modified file")
	}

	j := signet("verify", "--json", loader)
	if j.code != 1 {
		t.Errorf("verify --json: exit %d", j.code)
	}
	var report struct {
		OK       bool `json:"ok"`
		Target   string
		Payload  string
		Problems []struct{ Kind, Path, Detail string }
	}
	if err := json.Unmarshal([]byte(j.stdout), &report); err != nil {
		t.Fatalf("verify --json output does not parse: %v\n%s", err, j.stdout)
	}
	if report.OK || report.Payload != "intact" || report.Target != runtime.GOOS+"/"+runtime.GOARCH ||
		len(report.Problems) != 1 || report.Problems[0].Kind != "MODIFIED" || report.Problems[0].Path != "hello.py" {
		t.Errorf("verify --json report = %+v", report)
	}
}

func TestSealIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	var loaders [][]byte
	for _, name := range []string{"a/hello", "b/hello"} {
		out := filepath.Join(dir, name)
		if r := sealHello(t, out); r.code != 0 {
			t.Fatalf("seal: exit %d\n%s", r.code, r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		loaders = append(loaders, b)
	}
	if !bytes.Equal(loaders[0], loaders[1]) {
		t.Errorf("two seals of the same app differ")
	}
}

func TestWarnLevelFailsVerify(t *testing.T) {
	loader := filepath.Join(t.TempDir(), "hello")
	r := sealHello(t, loader, "--level", "warn")
	if r.code != 0 || !strings.Contains(r.stderr, "level warn") {
		t.Fatalf("seal: exit %d\n%s", r.code, r.stderr)
	}
	v := signet("verify", loader)
	if v.code != 1 || !strings.Contains(v.stdout, "WARN-LEVEL "+loader+": checks do not stop the app") {
		t.Errorf("verify of a warn-level loader: exit %d\n%s", v.code, v.stdout)
	}
}

func TestSealFailures(t *testing.T) {
	shim := filepath.Join(t.TempDir(), "python3")
	if err := os.WriteFile(shim, []byte("#!/usr/bin/env bash\nexec pyenv exec python3 \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := helloRoot(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"pyenv shim", []string{"--main", "hello.py", "--root", root, "--python", shim, "--stub", realStub}, 1, "signet seal: --python " + shim + " is a shell script (a pyenv shim?)"},
		{"missing --main", []string{"--root", root, "--python", python, "--stub", realStub}, 2, "signet seal: --main is required"},
		{"missing --python", []string{"--main", "hello.py", "--root", root, "--stub", realStub}, 2, "signet seal: --python is required"},
		{"unknown target", []string{"--main", "hello.py", "--root", root, "--python", python, "--target", "darwin/arm64"}, 2, `signet seal: --target: unknown target "darwin/arm64"`},
		{"bad level", []string{"--main", "hello.py", "--root", root, "--python", python, "--level", "strict"}, 2, `signet seal: --level "strict"`},
		{"unknown flag", []string{"--mian", "hello.py"}, 2, "flag provided but not defined: -mian"},
		{"stray argument", []string{"--main", "hello.py", "--python", python, "extra"}, 2, `unexpected argument "extra"`},
		{"main not in the app", []string{"--main", "nope.py", "--root", root, "--python", python, "--stub", realStub}, 1, "signet seal: --main nope.py is not a file of the app"},
		{"missing stub", []string{"--main", "hello.py", "--root", root, "--python", python, "--stub", filepath.Join(root, "no-stub")}, 1, "signet seal: reading the stub:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "dist", "hello")
			r := signet(append(append([]string{"seal"}, tt.args...), "-o", out)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", r.code, r.stderr, tt.code, tt.inStderr)
			}
			if _, err := os.Lstat(out); !os.IsNotExist(err) {
				t.Errorf("a failed seal left something at %s (%v)", out, err)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
				t.Errorf("a failed seal left %v in the output directory", entries)
			}
		})
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"no command", nil, 2, "", "Usage:"},
		{"help", []string{"help"}, 0, "signet COMMAND", ""},
		{"help seal", []string{"help", "seal"}, 0, "Usage: signet seal --main SCRIPT", ""},
		{"seal -h", []string{"seal", "-h"}, 0, "-python-sha256", ""},
		{"verify -h", []string{"verify", "-h"}, 0, "Usage: signet verify [--json] [--recompile [--python PATH]] [--ca FILE] [--require-signature] LOADER", ""},
		{"manifest -h", []string{"manifest", "--help"}, 0, "sha256sum -c", ""},
		{"version", []string{"version"}, 0, "signet ", ""},
		{"help sign", []string{"help", "sign"}, 0, "--digest-out", ""},
		{"sign without input", []string{"sign"}, 2, "", "signet sign"},
		{"password without verb", []string{"password"}, 2, "", "want save or forget"},
		{"unknown command", []string{"sael"}, 2, "", `unknown command "sael"`},
		{"verify without loader", []string{"verify"}, 2, "", "want exactly one LOADER"},
		{"manifest without loader", []string{"manifest"}, 2, "", "want exactly one LOADER"},
		{"verify missing loader", []string{"verify", "/nonexistent/hello"}, 1, "", "signet verify: reading the loader:"},
		{"manifest of an unsealed file", []string{"manifest", realStub}, 1, "", "signet manifest: " + realStub + ": no signet payload"},
		{"verify of an unsealed file", []string{"verify", realStub}, 1, "PAYLOAD " + realStub + ": no signet payload", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signet(tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout, tt.inStdout) || !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q", r.code, r.stdout, r.stderr, tt.code, tt.inStdout, tt.inStderr)
			}
		})
	}
}
