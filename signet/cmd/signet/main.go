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
	"crypto/sha256"
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
	"strings"
	"time"

	"github.com/signet-dev/signet/signet/internal/audit"
	"github.com/signet-dev/signet/signet/internal/authenticode"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/seal"
	"github.com/signet-dev/signet/signet/internal/signcmd"
	"github.com/signet-dev/signet/signet/internal/stubs"
	"github.com/signet-dev/signet/signet/internal/winresource"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

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

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

const sealHelp = `Usage: signet seal --main SCRIPT [--root DIR] --python PATH [--target OS/ARCH] -o LOADER [flags]

Seal the app in --root: hash every file, record the interpreter, and write LOADER, which
verifies the app at every start and then runs SCRIPT with the interpreter.

The loader checks the directory it sits in. If LOADER is written directly into --root, the
root is the delivery. Otherwise every sealed file is copied next to LOADER, and LOADER's
directory is the delivery (ship that directory). __pycache__ directories are refused when
sealing in place and left out (not sealed, not copied) otherwise. Before LOADER is written,
the delivery is checked exactly as the loader will check it; LOADER is written atomically,
and nothing is left at its path if sealing fails.

Every module and the entry script are compiled with the interpreter and sealed as
bytecode under __signet_pyc__/X.Y/ in the delivery (the sources stay beside it), so the app
starts without compiling anything; --no-bytecode leaves it out. A module whose source does
not compile gets none (importing it fails as with plain Python).

For a windows target, ".exe" is added to LOADER; give --python as the interpreter's path
on the target (C:/Python311/python.exe) and --python-version. Its interpreter cannot run
here, so no bytecode is sealed. A windows loader always gets an application manifest
(asInvoker, long-path aware, UTF-8 code page); --company, --product, --description,
--file-version, --product-version, --copyright, --original-filename, --internal-name,
--comments and --icon add version information and an icon (windows targets only).
--require-signer CERT makes the windows loader refuse to start (exit 107) unless its own
Authenticode signature is valid on the customer's machine and made with CERT's key; sign
it afterwards with 'signet sign', with --timestamp, or it stops starting when CERT expires.

Flags:
`

func runSeal(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("seal")
	var o seal.Options
	var level string
	var trust listFlag
	fs.StringVar(&o.Main, "main", "", "entry `script`, relative to --root (required)")
	fs.StringVar(&o.Root, "root", ".", "app root `directory`")
	fs.StringVar(&o.Python, "python", "", "absolute `path` of the interpreter executable (required)")
	fs.StringVar(&o.Target, "target", runtime.GOOS+"/"+runtime.GOARCH, "`os/arch` of the loader: "+strings.Join(stubs.Targets, ", "))
	fs.StringVar(&o.Output, "o", "", "`path` of the loader to write (required)")
	fs.StringVar(&level, "level", string(manifest.LevelEnforce), "enforce (refuse to start on any problem) or warn (report, then start; development only)")
	fs.BoolVar(&o.SealRuntime, "seal-runtime", false, "also seal the interpreter's own files and pin its digest")
	fs.StringVar(&o.PythonVersion, "python-version", "", "interpreter `X.Y`: required for a target that cannot run here, else checked")
	fs.StringVar(&o.PythonSHA256, "python-sha256", "", "pin the interpreter executable's `sha256` (64 hex digits)")
	fs.Var(&trust, "python-trust", "trusted interpreter `path` (repeatable): replaces the paths asked from the interpreter")
	fs.StringVar(&o.Stub, "stub", "", "prebuilt loader stub `file` (default: build it once with the local Go toolchain)")
	fs.BoolVar(&o.NoBytecode, "no-bytecode", false, "seal no bytecode: modules are compiled from their verified source at every import")
	var info winresource.Info
	var icon, requireSigner string
	resFlags := []struct {
		p          *string
		name, what string
	}{
		{&info.CompanyName, "company", "company `name` (windows version information)"},
		{&info.ProductName, "product", "product `name` (windows version information)"},
		{&info.FileDescription, "description", "file `description` Explorer shows (windows version information)"},
		{&info.FileVersion, "file-version", "file `version` 1.2.3 or 1.2.3.4 (windows version information)"},
		{&info.ProductVersion, "product-version", "product `version` 1.2.3 or 1.2.3.4 (windows version information)"},
		{&info.LegalCopyright, "copyright", "copyright `notice` (windows version information)"},
		{&info.OriginalFilename, "original-filename", "original file `name`, e.g. hello.exe (windows version information)"},
		{&info.InternalName, "internal-name", "internal `name` (windows version information)"},
		{&info.Comments, "comments", "`comments` (windows version information)"},
	}
	for _, f := range resFlags {
		fs.StringVar(f.p, f.name, "", f.what)
	}
	fs.StringVar(&icon, "icon", "", "application icon `file`, .ico or .png of at most 256x256 (windows)")
	fs.StringVar(&requireSigner, "require-signer", "", "vendor certificate `file` (PEM or DER): the windows loader starts only when signed with its key")
	if code := parse(fs, args, sealHelp, stdout, stderr); code >= 0 {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return usageError(stderr, "seal", "unexpected argument %q (flags go before arguments; seal takes none)", fs.Arg(0))
	case o.Main == "":
		return usageError(stderr, "seal", "--main is required: the entry script, relative to --root")
	case o.Python == "":
		return usageError(stderr, "seal", "--python is required: the absolute path of the interpreter executable")
	case o.Output == "":
		return usageError(stderr, "seal", "-o is required: the path of the loader to write, e.g. dist/hello")
	case level != string(manifest.LevelEnforce) && level != string(manifest.LevelWarn):
		return usageError(stderr, "seal", "--level %q: want enforce or warn", level)
	}
	if _, _, err := stubs.ParseTarget(o.Target); err != nil {
		return usageError(stderr, "seal", "--target: %v", err)
	}
	goos, _, _ := stubs.ParseTarget(o.Target)
	resourcesGiven := icon != ""
	for _, f := range resFlags {
		resourcesGiven = resourcesGiven || *f.p != ""
	}
	if goos != "windows" && resourcesGiven {
		return usageError(stderr, "seal", "--company, --product, --description, --file-version, --product-version, --copyright, --original-filename, --internal-name, --comments and --icon are for a windows target, not %s", o.Target)
	}
	if goos != "windows" && requireSigner != "" {
		return usageError(stderr, "seal", "--require-signer is for a windows target: %s has no signature check for executables, so the loader could never start", o.Target)
	}
	if icon != "" {
		b, err := readLimited(icon, winresource.MaxIconSize)
		if err != nil {
			return failure(stderr, "seal", fmt.Errorf("--icon: %w", err))
		}
		info.Icon = b
	}
	if resourcesGiven {
		o.Resources = &info
	}
	var signerCert *x509.Certificate
	if requireSigner != "" {
		cert, err := readCertificate(requireSigner)
		if err != nil {
			return failure(stderr, "seal", fmt.Errorf("--require-signer: %w", err))
		}
		if err := authenticode.CheckSigningCert(cert, time.Now()); err != nil {
			return failure(stderr, "seal", fmt.Errorf("--require-signer %s: %w", requireSigner, err))
		}
		pin := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
		o.RequireSigner, signerCert = &pin, cert
	}
	o.Level = manifest.Level(level)
	o.PythonTrust = trust
	o.CopyApp = true
	res, err := seal.Seal(ctx, o)
	if err != nil {
		return failure(stderr, "seal", err)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(stderr, "signet seal: note: left out %s (bytecode; not sealed, not copied)\n", s)
	}
	if res.BytecodeNote != "" {
		fmt.Fprintf(stderr, "signet seal: note: %s\n", res.BytecodeNote)
	}
	for _, s := range res.NotCompiled {
		fmt.Fprintf(stderr, "signet seal: note: no sealed bytecode for %s\n", s)
	}
	fmt.Fprintf(stdout, "sealed %s: %d files, entry %s, level %s, target %s, Python %s at %s\n",
		res.Loader, len(res.Manifest.Files), res.Manifest.Entry, res.Manifest.Level, o.Target,
		res.Manifest.PythonVersion, res.Manifest.PythonPath)
	if res.Bytecode > 0 {
		fmt.Fprintf(stdout, "sealed bytecode: %d files under __signet_pyc__/%s\n", res.Bytecode, res.Manifest.PythonVersion)
	}
	if res.Copied > 0 {
		fmt.Fprintf(stdout, "copied %s next to the loader: ship its whole directory\n", plural(res.Copied, "app file"))
	}
	if signerCert != nil {
		fmt.Fprintf(stdout, "the loader starts only when signed with the key of %s (sha256 %x); sign it with signet sign --timestamp URL\n",
			signerCert.Subject, *o.RequireSigner)
	}
	if res.Manifest.Level == manifest.LevelWarn {
		fmt.Fprintf(stderr, "signet seal: warning: level warn: the loader reports problems but still starts the app; do not deliver it\n")
	}
	return exitOK
}

// readLimited reads a regular file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// readCertificate reads one X.509 certificate, PEM (exactly one CERTIFICATE block) or DER.
func readCertificate(path string) (*x509.Certificate, error) {
	b, err := readLimited(path, 1<<20)
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
	report, err := audit.Verify(fs.Arg(0), opts)
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
func runSign(_ context.Context, args []string, stdout, stderr io.Writer) int {
	return signcmd.Run(args, stdout, stderr)
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
