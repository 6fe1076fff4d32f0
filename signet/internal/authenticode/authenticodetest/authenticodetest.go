// Package authenticodetest provides test fixtures for signet's signing
// packages, made with independent tools: a CA, an intermediate and a
// code-signing leaf made by `openssl req/x509`, .pfx files made by
// `openssl pkcs12 -export` (modern and -legacy), a real PE built by the Go
// toolchain for windows/amd64 with an overlay appended, and a local RFC 3161
// authority that pipes each request through `openssl ts -reply`.
//
// A missing tool fails the test when CI=true and skips it otherwise.
package authenticodetest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/signet-dev/signet/internal/testtool"
)

// Overlay is appended to the test PE, standing in for a sealed payload.
var Overlay = append([]byte("SIGNET-TEST-OVERLAY"), bytes.Repeat([]byte{0x5a, 0x00, 0xa5, 0xff}, 257)...)

// Run runs a command and fails the test with its output if it fails.
func Run(t testing.TB, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// PKI is a directory of test keys and certificates, all PEM unless noted:
//
//	ca.pem ca.key            root CA
//	int.pem int.key          intermediate CA
//	leaf.pem leaf.key        code-signing leaf, RSA 2048 (extendedKeyUsage=codeSigning)
//	chain.pem                leaf, intermediate, root
//	modern.pfx legacy.pfx    leaf key + chain, `openssl pkcs12 -export` (default AES, and -legacy)
//	leaf-ec.pem leaf-ec.key  an ECDSA P-256 code-signing leaf; chain-ec.pem; ec.pfx with it
//	password.txt             the .pfx password (mode 0600)
//	tsa-ca.pem tsa.pem tsa.key   a separate root and a TSA cert (critical timeStamping EKU)
type PKI struct {
	Dir      string
	Password string
}

// Path names a file in the PKI directory.
func (p *PKI) Path(name string) string { return filepath.Join(p.Dir, name) }

const extFile = `[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
[leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=codeSigning
[tsa]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping
`

var (
	pkiOnce sync.Once
	pkiDir  string
	pki     *PKI
	pkiErr  error
)

// SharedPKI returns one PKI per test binary (read-only for tests); Main
// removes it at the end.
func SharedPKI(t testing.TB) *PKI {
	t.Helper()
	testtool.Need(t, "openssl")
	pkiOnce.Do(func() {
		dir, err := os.MkdirTemp("", "signet-pki-")
		if err != nil {
			pkiErr = err
			return
		}
		pkiDir = dir
		pki, pkiErr = makePKI(dir)
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pki
}

// Main runs the tests and removes what SharedPKI made.
func Main(m *testing.M) {
	code := m.Run()
	if pkiDir != "" {
		os.RemoveAll(pkiDir)
	}
	os.Exit(code)
}

// NewPKI makes a fresh PKI in a new temporary directory.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	testtool.Need(t, "openssl")
	p, err := makePKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pkiBuilder runs the fixture steps, keeping the first error.
type pkiBuilder struct {
	dir, openssl string
	err          error
}

func (b *pkiBuilder) ossl(args ...string) {
	if b.err != nil {
		return
	}
	cmd := exec.Command(b.openssl, args...)
	cmd.Dir = b.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.err = fmt.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (b *pkiBuilder) write(name, data string, mode os.FileMode) {
	if b.err == nil {
		b.err = writeFile(filepath.Join(b.dir, name), data, mode)
	}
}

func (b *pkiBuilder) cat(out string, names ...string) {
	var all strings.Builder
	for _, n := range names {
		if b.err != nil {
			return
		}
		data, err := os.ReadFile(filepath.Join(b.dir, n))
		b.err = err
		all.Write(data)
	}
	b.write(out, all.String(), 0o644)
}

func makePKI(dir string) (*PKI, error) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		return nil, err
	}
	p := &PKI{Dir: dir, Password: "correct horse battery staple"}
	b := &pkiBuilder{dir: dir, openssl: openssl}
	b.write("ext.cnf", extFile, 0o644)
	key := func(name string) {
		if name == "leaf.key" { // the main signing key: RSA, PKCS#1 v1.5
			b.ossl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", name)
			return
		}
		b.ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name)
	}
	root := func(name, cn string) {
		key(name + ".key")
		b.ossl("req", "-x509", "-new", "-key", name+".key", "-subj", "/CN="+cn+"/O=signet test", "-days", "3650",
			"-sha256", "-extensions", "ca", "-config", "ext.cnf", "-out", name+".pem")
	}
	serial := 1
	issue := func(name, cn, issuer, ext string) {
		serial++
		key(name + ".key")
		b.ossl("req", "-new", "-key", name+".key", "-subj", "/CN="+cn+"/O=signet test", "-out", name+".csr")
		b.ossl("x509", "-req", "-in", name+".csr", "-CA", issuer+".pem", "-CAkey", issuer+".key",
			"-set_serial", fmt.Sprint(serial), "-days", "365", "-sha256",
			"-extfile", "ext.cnf", "-extensions", ext, "-out", name+".pem")
	}
	root("ca", "signet test root")
	issue("int", "signet test intermediate", "ca", "ca")
	issue("leaf", "signet test code signing", "int", "leaf")
	issue("leaf-ec", "signet test ECDSA code signing", "int", "leaf")
	root("tsa-ca", "signet test TSA root")
	issue("tsa", "signet test TSA", "tsa-ca", "tsa")
	b.cat("chain.pem", "leaf.pem", "int.pem", "ca.pem")
	b.cat("chain-ec.pem", "leaf-ec.pem", "int.pem", "ca.pem")
	b.write("password.txt", p.Password+"\n", 0o600)
	export := func(key, chain, out string, extra ...string) {
		args := append([]string{"pkcs12", "-export"}, extra...)
		b.ossl(append(args, "-inkey", key, "-in", chain, "-passout", "file:password.txt", "-out", out)...)
	}
	export("leaf.key", "chain.pem", "modern.pfx")
	export("leaf.key", "chain.pem", "legacy.pfx", "-legacy")
	export("leaf-ec.key", "chain-ec.pem", "ec.pfx")
	if b.err != nil {
		return nil, b.err
	}
	return p, nil
}

var (
	peOnce  sync.Once
	peBytes []byte
	peErr   error
)

const peMain = `package main

import "fmt"

func main() { fmt.Println("signet authenticode test program") }
`

// PE returns the bytes of a windows/amd64 program built by the go command
// on PATH, with Overlay appended. It is built once per test binary.
func PE(t testing.TB) []byte {
	t.Helper()
	goTool := testtool.Need(t, "go")
	peOnce.Do(func() {
		dir, err := os.MkdirTemp("", "signet-pe-")
		if err != nil {
			peErr = err
			return
		}
		defer os.RemoveAll(dir)
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(peMain), 0o644); err != nil {
			peErr = err
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module signettestpe\n\ngo 1.21\n"), 0o644); err != nil {
			peErr = err
			return
		}
		cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", "hello.exe", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			peErr = fmt.Errorf("go build for windows/amd64: %v\n%s", err, out)
			return
		}
		exe, err := os.ReadFile(filepath.Join(dir, "hello.exe"))
		if err != nil {
			peErr = err
			return
		}
		peBytes = append(exe, Overlay...)
	})
	if peErr != nil {
		t.Fatal(peErr)
	}
	return append([]byte(nil), peBytes...)
}

// TSAMode selects how the local authority answers.
type TSAMode int

const (
	// TSAGood answers each request with a fresh token for it.
	TSAGood TSAMode = iota
	// TSAReplay answers every request with one token made at start-up for
	// another request (a replayed token).
	TSAReplay
)

const tsaConfig = `[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = %s
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5.6
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`

// TSA is a local RFC 3161 authority on 127.0.0.1 backed by `openssl ts`.
type TSA struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
}

// Requests is how many requests the authority received.
func (s *TSA) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// StartTSA starts a local authority using the PKI's tsa.pem and tsa.key;
// it stops when the test ends.
func StartTSA(t testing.TB, p *PKI, mode TSAMode) *TSA {
	t.Helper()
	openssl := testtool.Need(t, "openssl")
	dir := t.TempDir()
	for _, f := range []string{"tsa.pem", "tsa.key"} {
		write(t, filepath.Join(dir, f), read(t, p.Path(f)), 0o600)
	}
	write(t, filepath.Join(dir, "tsaserial"), "01\n", 0o600)
	cnf := filepath.Join(dir, "tsa.cnf")
	write(t, cnf, fmt.Sprintf(tsaConfig, dir), 0o600)
	reply := func(query []byte) ([]byte, error) {
		q := filepath.Join(dir, "query.tsq")
		r := filepath.Join(dir, "reply.tsr")
		if err := os.WriteFile(q, query, 0o600); err != nil {
			return nil, err
		}
		cmd := exec.Command(openssl, "ts", "-reply", "-config", cnf, "-section", "tsa_config1",
			"-queryfile", q, "-signer", filepath.Join(dir, "tsa.pem"), "-inkey", filepath.Join(dir, "tsa.key"), "-out", r)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("openssl ts -reply: %v\n%s", err, out)
		}
		return os.ReadFile(r)
	}
	s := &TSA{}
	var canned []byte
	if mode == TSAReplay {
		data := filepath.Join(dir, "other.bin")
		write(t, data, "some other request", 0o600)
		Run(t, dir, openssl, "ts", "-query", "-data", data, "-sha256", "-cert", "-out", filepath.Join(dir, "other.tsq"))
		q, err := os.ReadFile(filepath.Join(dir, "other.tsq"))
		if err != nil {
			t.Fatal(err)
		}
		if canned, err = reply(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests++
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		resp := canned
		if resp == nil {
			if resp, err = reply(body); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(resp)
	}))
	t.Cleanup(s.Close)
	return s
}

// DeadURL returns an http URL on 127.0.0.1 where nothing listens.
func DeadURL(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	return url
}

func write(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := writeFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

func writeFile(path, data string, mode os.FileMode) error {
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		return err
	}
	return os.Chmod(path, mode) // WriteFile's mode is subject to umask
}

func read(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
