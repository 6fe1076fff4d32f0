// Command signet seals Python applications into tamper-resistant loaders and
// verifies sealed deliveries.
//
//	signet seal --main hello.py [--root DIR] --python PATH [--target OS/ARCH] -o dist/hello
//	signet verify [--json] [--recompile [--python PATH]] [--ca FILE] [--require-signature] LOADER
//	signet manifest LOADER
//	signet version
//	signet help [COMMAND]
//
// Exit status: 0 on success, 1 when the command fails (for verify: when any check fails),
// 2 on a usage error.
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/signet-dev/signet/signet/internal/audit"
	"github.com/signet-dev/signet/signet/internal/limitread"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/signcmd"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	// Ctrl-C (and SIGTERM) cancel ctx, which the commands pass down to what can take long:
	// time-stamp requests, the interpreters verify runs. Once ctx is done the default
	// handling is back, so a second Ctrl-C ends signet at once.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// stopSignals cancel the context of a command. syscall.SIGTERM is defined on every OS signet
// builds for; Windows never delivers it (os.Interrupt stands for its Ctrl-C and Ctrl-Break).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"seal", "seal an app: write a loader that verifies it at every start", runSeal},
		{"verify", "check an installed delivery offline, as the loader would", runVerify},
		{"manifest", "print a loader's sealed digests in sha256sum -c form", runManifest},
		{"sign", "Authenticode-sign a Windows loader (after sealing)", runSign},
		{"password", "save or forget a .pfx password in the OS keystore", runPassword},
		{"version", "print the version of signet", runVersion},
		{"help", "explain a command", nil},
	}
}

// run is the whole program: it parses args (without the program name) and returns the exit
// status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		return runHelp(ctx, rest, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return c.run(ctx, rest, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "signet: unknown command %q (try: signet help)\n", name)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, "signet seals Python apps into tamper-resistant loaders.\n\nUsage:\n  signet COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'signet help COMMAND' or 'signet COMMAND -h' for a command's flags.\n")
}

func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] && c.run != nil {
			return c.run(ctx, []string{"-h"}, stdout, stderr)
		}
	}
	if args[0] == "help" {
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "signet help: unknown command %q\n", args[0])
	return exitUsage
}

// newFlags makes a subcommand's flag set; its usage text is printed by parse.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses args. It returns -1 to go on, or the exit status: 0 after printing the help
// for -h, 2 after a usage error.
func parse(fs *flag.FlagSet, args []string, help string, stdout, stderr io.Writer) int {
	printHelp := func(w io.Writer) {
		fmt.Fprint(w, help)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "signet %s: %v\n", fs.Name(), err)
		fmt.Fprintf(stderr, "run 'signet %s -h' for its flags\n", fs.Name())
		return exitUsage
	}
	return -1
}

func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "signet %s: %s\n", cmd, fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "run 'signet %s -h' for its flags\n", cmd)
	return exitUsage
}

func failure(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "signet %s: %v\n", cmd, err)
	return exitFailure
}

// readCertificate reads one X.509 certificate, PEM (exactly one CERTIFICATE block) or DER.
func readCertificate(path string) (*x509.Certificate, error) {
	b, err := limitread.File(path, 1<<20)
	if err != nil {
		return nil, err
	}
	der := b
	if block, rest := pem.Decode(b); block != nil {
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: PEM block %q, want CERTIFICATE", path, block.Type)
		}
		if next, _ := pem.Decode(rest); next != nil {
			return nil, fmt.Errorf("%s holds more than one PEM block; give the vendor's signing certificate alone", path)
		}
		der = block.Bytes
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cert, nil
}

const verifyHelp = `Usage: signet verify [--json] [--recompile [--python PATH]] [--ca FILE] [--require-signature] LOADER

Check an installed delivery offline: the loader's payload, every sealed file in its
directory (MODIFIED, MISSING, UNEXPECTED), sealed runtime files, and the interpreter rule
when LOADER is for this OS. Exits 0 only when everything holds; a warn-level loader always
fails.

--recompile also compiles every sealed module again and checks that its sealed bytecode is
what the sealed source compiles to (BYTECODE problems), with --python (default: the sealed
interpreter); it must be the sealed Python version.

A Windows loader's Authenticode signature is checked against the roots in --ca (a PEM
bundle; there is no code-signing trust store here): the digest over the file, the
signature, the time stamp if any, and the chain; the signer is named. A signed loader
without --ca fails ("signature present, not checked"). An unsigned one is a WARNING, or a
failure with --require-signature or when it was sealed with --require-signer.

Flags:
`

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var opts audit.Options
	fs.BoolVar(&opts.Recompile, "recompile", false, "check every sealed bytecode file against its sealed source, compiled again")
	fs.StringVar(&opts.Python, "python", "", "absolute `path` of the interpreter --recompile uses (default: the sealed one)")
	ca := fs.String("ca", "", "PEM `file` of the trusted roots a Windows loader's signature must chain to")
	fs.BoolVar(&opts.RequireSignature, "require-signature", false, "fail when a Windows loader is not signed")
	if code := parse(fs, args, verifyHelp, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, "verify", "want exactly one LOADER argument, got %d", fs.NArg())
	}
	if opts.Python != "" && !opts.Recompile {
		return usageError(stderr, "verify", "--python is used only with --recompile")
	}
	if *ca != "" {
		roots, err := audit.LoadRoots(*ca)
		if err != nil {
			return failure(stderr, "verify", err)
		}
		opts.Roots = roots
	}
	report, err := audit.Verify(ctx, fs.Arg(0), opts)
	if err != nil {
		return failure(stderr, "verify", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return failure(stderr, "verify", err)
		}
	} else {
		fmt.Fprint(stdout, report.Text())
	}
	if !report.OK {
		return exitFailure
	}
	return exitOK
}

const manifestHelp = `Usage: signet manifest LOADER

Print the sealed files of LOADER as "<sha256>  <path>" lines, so that
    cd APPROOT && signet manifest ./hello | sha256sum -c
checks the app with an independent tool.
`

func runManifest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("manifest")
	if code := parse(fs, args, manifestHelp, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, "manifest", "want exactly one LOADER argument, got %d", fs.NArg())
	}
	b, err := payload.FindInFile(fs.Arg(0)) // its errors name the file
	if err != nil {
		return failure(stderr, "manifest", err)
	}
	m, err := manifest.Decode(b)
	if err != nil {
		return failure(stderr, "manifest", fmt.Errorf("%s: %w", fs.Arg(0), err))
	}
	if _, err := stdout.Write(m.SHA256SumLines()); err != nil {
		return failure(stderr, "manifest", err)
	}
	return exitOK
}

const versionHelp = `Usage: signet version

Print the version of signet and of the Go toolchain it was built with (which also builds
the loader stubs).
`

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version")
	if code := parse(fs, args, versionHelp, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stderr, "version", "unexpected argument %q", fs.Arg(0))
	}
	version := "(devel)"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		version = info.Main.Version
	}
	fmt.Fprintf(stdout, "signet %s %s\n", version, runtime.Version())
	return exitOK
}

// runSign is "signet sign": Authenticode signing, implemented by package signcmd.
func runSign(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return signcmd.Run(ctx, args, stdout, stderr)
}

// runPassword is "signet password save|forget PFX", implemented by package signcmd.
func runPassword(_ context.Context, args []string, stdout, stderr io.Writer) int {
	return signcmd.RunPassword(args, stdout, stderr)
}

// plural spells a count with its noun: "1 app file", "2 app files".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
