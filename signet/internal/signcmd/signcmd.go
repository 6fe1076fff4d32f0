// Package signcmd implements `signet sign`: Authenticode-sign a Windows
// loader (a PE file that carries its sealed payload in the overlay) with a
// key from a .pfx file, or in two steps with an external signer (HSM):
// --digest-out writes the 32 bytes to sign, --signature-in attaches the
// signature made outside. Outputs are written atomically; on failure
// nothing is left at the output path.
package signcmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/signet-dev/signet/signet/internal/atomicfile"
	"github.com/signet-dev/signet/signet/internal/authenticode"
	"github.com/signet-dev/signet/signet/internal/cliflag"
	"github.com/signet-dev/signet/signet/internal/limitread"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/pfx"
	"github.com/signet-dev/signet/signet/internal/tsa"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `usage:
  signet sign --pfx FILE (--password-file F | --password-env VAR | --saved-password) [--timestamp URL ...] IN -o OUT
  signet sign --digest-out DIGEST IN
  signet sign --signature-in SIG --cert-chain CHAIN.pem [--timestamp URL ...] IN -o OUT

Signs the Windows loader IN with Authenticode (SHA-256) and writes OUT.
--digest-out writes the 32 bytes an external signer must sign as a SHA-256
digest, e.g.
  openssl pkeyutl -sign -inkey key.pem -pkeyopt digest:sha256 -in DIGEST -out SIG
--saved-password uses the password that 'signet password save FILE' stored
in the OS keystore of the current user.
--timestamp may repeat; the authorities are tried in order.
`

// Hooks for tests.
var (
	now          = time.Now
	tsaTimeout   = tsa.DefaultTimeout
	tsaBackoff   = tsa.DefaultBackoff
	maxInputSize = int64(authenticode.MaxImageSize)
)

type options struct {
	pfxPath, passwordFile, passwordEnv string
	savedPassword                      bool
	timestamps                         cliflag.List
	digestOut, signatureIn, certChain  string
	in, out                            string
}

// Run runs `signet sign` with args (without the "sign" word). ctx ends the
// time-stamp requests (Ctrl-C). It returns the process exit code: 0 success,
// 1 failure, 2 usage error.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "signet sign: %v\n%s", err, usage)
		return exitUsage
	}
	if err := run(ctx, opts, stderr); err != nil {
		fmt.Fprintf(stderr, "signet sign: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func parse(args []string, stderr io.Writer) (*options, error) {
	var o options
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.pfxPath, "pfx", "", "PKCS#12 file with the key and certificate chain")
	fs.StringVar(&o.passwordFile, "password-file", "", "file holding the .pfx password (mode 0600 or stricter)")
	fs.StringVar(&o.passwordEnv, "password-env", "", "name of the environment variable holding the .pfx password")
	fs.BoolVar(&o.savedPassword, "saved-password", false, "use the password saved in the OS keystore by 'signet password save'")
	fs.Var(&o.timestamps, "timestamp", "RFC 3161 time-stamping authority URL (repeatable)")
	fs.StringVar(&o.digestOut, "digest-out", "", "write the digest to sign externally and stop")
	fs.StringVar(&o.signatureIn, "signature-in", "", "attach this externally made signature")
	fs.StringVar(&o.certChain, "cert-chain", "", "PEM certificates (leaf first) for --signature-in")
	fs.StringVar(&o.out, "o", "", "output file")
	// Flags may follow the positional IN (`IN -o OUT`), so parse in rounds.
	var positional []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		// fs.Parse stops at the first non-flag argument or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		rest = rest[1:]
		args = rest
	}
	if len(positional) != 1 {
		return nil, fmt.Errorf("want exactly one input file, got %d", len(positional))
	}
	o.in = positional[0]

	switch {
	case o.digestOut != "":
		if o.pfxPath != "" || o.signatureIn != "" || o.out != "" || len(o.timestamps) > 0 || o.hasPassword() {
			return nil, errors.New("--digest-out takes only IN")
		}
	case o.signatureIn != "":
		if o.pfxPath != "" || o.hasPassword() {
			return nil, errors.New("--signature-in does not use --pfx or a password")
		}
		if o.certChain == "" {
			return nil, errors.New("--signature-in needs --cert-chain")
		}
		if o.out == "" {
			return nil, errors.New("-o OUT is required")
		}
	case o.pfxPath != "":
		if o.certChain != "" {
			return nil, errors.New("--cert-chain goes with --signature-in, not --pfx")
		}
		n := 0
		for _, set := range []bool{o.passwordFile != "", o.passwordEnv != "", o.savedPassword} {
			if set {
				n++
			}
		}
		if n != 1 {
			return nil, errors.New("give exactly one of --password-file, --password-env, --saved-password")
		}
		if o.out == "" {
			return nil, errors.New("-o OUT is required")
		}
	default:
		return nil, errors.New("give --pfx, --digest-out or --signature-in")
	}
	for _, u := range o.timestamps {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, fmt.Errorf("--timestamp %q: not an http(s) URL", u)
		}
	}
	return &o, nil
}

func (o *options) hasPassword() bool {
	return o.passwordFile != "" || o.passwordEnv != "" || o.savedPassword
}

func run(ctx context.Context, o *options, stderr io.Writer) error {
	image, err := readInput(o.in)
	if err != nil {
		return err
	}
	prep, err := authenticode.Prepare(image)
	if err != nil {
		return fmt.Errorf("%s: %w", o.in, err)
	}
	m, err := sealedManifest(o.in, image)
	if err != nil {
		return err
	}
	if m == nil {
		fmt.Fprintf(stderr, "note: %s carries no signet payload (it is not a sealed loader); signing it as a plain PE file\n", o.in)
	}
	if o.digestOut != "" {
		if err := atomicfile.WriteBytes(o.digestOut, 0o644, prep.SignedDigest()); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote the SHA-256 digest to sign for %s to %s\n", o.in, o.digestOut)
		return nil
	}
	if prep.WasSigned() {
		fmt.Fprintf(stderr, "%s is already signed; replacing its signature\n", o.in)
	}
	var ts *tsa.Client
	if len(o.timestamps) > 0 {
		ts = &tsa.Client{URLs: o.timestamps, Timeout: tsaTimeout, Backoff: tsaBackoff, Log: stderr}
	}
	var signed []byte
	var leaf *x509.Certificate
	if o.signatureIn != "" {
		signed, leaf, err = attach(ctx, o, m, prep, ts)
	} else {
		signed, leaf, err = signWithPFX(ctx, o, m, prep, ts)
	}
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(o.out, 0o755, signed); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "signed %s -> %s\n", o.in, o.out)
	if m != nil && m.RequireSigner != nil && ts == nil {
		fmt.Fprintf(stderr, "warning: %s checks its own signature, and this signature has no time stamp: this loader will stop starting when the certificate expires on %s; sign with --timestamp URL to avoid that\n",
			o.out, leaf.NotAfter.UTC().Format("2006-01-02"))
	}
	return nil
}

// stamper returns ts as a pkcs9.Timestamper, or an untyped nil.
func stamper(ts *tsa.Client) pkcs9.Timestamper {
	if ts == nil {
		return nil
	}
	return ts
}

func signWithPFX(ctx context.Context, o *options, m *manifest.Manifest, prep *authenticode.Prepared, ts *tsa.Client) ([]byte, *x509.Certificate, error) {
	data, err := readPFX(o.pfxPath)
	if err != nil {
		return nil, nil, err
	}
	password, err := readPassword(o, data)
	if err != nil {
		return nil, nil, err
	}
	id, err := openPFX(o.pfxPath, data, password)
	clear(password)
	if err != nil {
		if o.savedPassword && errors.Is(err, pfx.ErrWrongPassword) {
			return nil, nil, fmt.Errorf("%w (the saved password); save the right one with: signet password save %s", err, o.pfxPath)
		}
		return nil, nil, err
	}
	if err := authenticode.CheckSigningCert(id.Leaf, now()); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.pfxPath, err)
	}
	if err := checkPin(o, m, id.Leaf, o.pfxPath); err != nil {
		return nil, nil, err
	}
	out, err := prep.Sign(ctx, id.Key, id.Chain, stamper(ts))
	if err != nil {
		return nil, nil, fmt.Errorf("signing %s: %w", o.in, err)
	}
	return out, id.Leaf, nil
}

func attach(ctx context.Context, o *options, m *manifest.Manifest, prep *authenticode.Prepared, ts *tsa.Client) ([]byte, *x509.Certificate, error) {
	chain, err := readChain(o.certChain)
	if err != nil {
		return nil, nil, err
	}
	if err := authenticode.CheckSigningCert(chain[0], now()); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.certChain, err)
	}
	if err := checkPin(o, m, chain[0], o.certChain); err != nil {
		return nil, nil, err
	}
	sig, err := readSmallFile(o.signatureIn, 64<<10)
	if err != nil {
		return nil, nil, err
	}
	out, err := prep.Attach(ctx, sig, chain, stamper(ts))
	if err != nil {
		return nil, nil, fmt.Errorf("%s with %s: %w", o.in, o.signatureIn, err)
	}
	return out, chain[0], nil
}

// sealedManifest returns the manifest sealed into image, nil when image carries no signet
// payload. A warn-level loader, a damaged payload and an undecodable manifest are refused:
// a signature would vouch for a loader that must not be delivered.
func sealedManifest(name string, image []byte) (*manifest.Manifest, error) {
	raw, err := payload.Find(bytes.NewReader(image), int64(len(image)))
	switch {
	case errors.Is(err, payload.ErrNoPayload):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: refusing to sign a loader whose sealed payload is damaged (%w): seal it again", name, err)
	}
	m, err := manifest.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: refusing to sign a loader whose sealed manifest does not decode (%w): seal it again", name, err)
	}
	if m.Level == manifest.LevelWarn {
		return nil, fmt.Errorf("%s: refusing to sign a warn-level loader: re-seal with --level enforce", name)
	}
	return m, nil
}

// checkPin refuses a signing certificate whose key is not the one the loader was sealed to
// require (it would never start), and warns when such a loader is signed without a time
// stamp: it stops starting when the certificate expires.
func checkPin(o *options, m *manifest.Manifest, leaf *x509.Certificate, certFile string) error {
	if m == nil || m.RequireSigner == nil {
		return nil
	}
	key := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	if key != *m.RequireSigner {
		return fmt.Errorf("%s was sealed to start only when signed with the key sha256 %x, but the certificate %q in %s has the key sha256 %x: the loader would never start; sign with the pinned certificate, or seal again with --require-signer for this one",
			o.in, *m.RequireSigner, leaf.Subject.String(), certFile, key)
	}
	return nil
}

// readChain reads PEM certificates; the first is the leaf, the rest are
// ordered issuer by issuer after it.
func readChain(path string) ([]*x509.Certificate, error) {
	data, err := readSmallFile(path, 1<<20)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate found", path)
	}
	return pfx.OrderChain(certs[0], certs), nil
}

func readInput(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return limitread.All(f, maxInputSize, path)
}

func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	return limitread.All(f, limit, path)
}
