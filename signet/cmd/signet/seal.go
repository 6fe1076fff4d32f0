package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/signet-dev/signet/signet/internal/authenticode"
	"github.com/signet-dev/signet/signet/internal/cliflag"
	"github.com/signet-dev/signet/signet/internal/limitread"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/platform"
	"github.com/signet-dev/signet/signet/internal/seal"
	"github.com/signet-dev/signet/signet/internal/winresource"
)

const sealHelp = `Usage: signet seal --main SCRIPT [--root DIR] --runtime DIR [--python PATH] [--target OS/ARCH] -o LOADER [flags]
       signet seal --main SCRIPT [--root DIR] --python PATH [--target OS/ARCH] -o LOADER [flags]

Seal the app in --root: hash every file, record the interpreter, and write LOADER, which
verifies the app at every start and then runs SCRIPT with the interpreter.

With --runtime DIR (a relocatable CPython installation, such as python-build-standalone's
install_only tree or the Windows embeddable distribution) the delivery carries its own
interpreter: DIR is copied into the delivery (at runtime/, or --runtime-dir) and every file
of it is sealed; its __pycache__ is left out, and its standard library gets sealed bytecode
like the app. --python then names the interpreter in the delivery (runtime/bin/python3.11,
runtime/python.exe; found by itself when there is one). The delivery keeps working when its
directory is moved or copied. Without --runtime, --python is the absolute path of an
interpreter installed on the target machine, owned by root (Windows: by administrators).

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
	var trust cliflag.List
	fs.StringVar(&o.Main, "main", "", "entry `script`, relative to --root (required)")
	fs.StringVar(&o.Root, "root", ".", "app root `directory`")
	fs.StringVar(&o.Python, "python", "", "the interpreter: with --runtime its `path` in the delivery (runtime/bin/python3.11); else the absolute path of the one installed on the target (required then)")
	fs.StringVar(&o.Runtime, "runtime", "", "bundle this relocatable CPython installation `directory` into the delivery and seal it")
	fs.StringVar(&o.RuntimeDir, "runtime-dir", seal.DefaultRuntimeDir, "the bundled runtime's `directory` in the delivery")
	fs.StringVar(&o.Target, "target", runtime.GOOS+"/"+runtime.GOARCH, "`os/arch` of the loader: "+platform.Names())
	fs.StringVar(&o.Output, "o", "", "`path` of the loader to write (required)")
	fs.StringVar(&level, "level", string(manifest.LevelEnforce), "enforce (refuse to start on any problem) or warn (report, then start; development only)")
	fs.BoolVar(&o.SealRuntime, "seal-runtime", false, "also seal the interpreter's own files and pin its digest")
	fs.StringVar(&o.PythonVersion, "python-version", "", "interpreter `X.Y`: required for a target that cannot run here, else checked")
	fs.StringVar(&o.PythonSHA256, "python-sha256", "", "pin the interpreter executable's `sha256` (64 hex digits)")
	fs.Var(&trust, "python-trust", "trusted interpreter `path` (repeatable): replaces the paths asked from the interpreter")
	fs.StringVar(&o.Stub, "stub", "", "prebuilt loader stub `file` (default: build it once with the local Go toolchain)")
	fs.BoolVar(&o.VerifyAtImport, "verify-at-import", false, "verify modules, their bytecode and extensions when they are imported, not before the app starts: start-up then grows with what is imported (see docs/threat-model.md)")
	fs.BoolVar(&o.NoBytecode, "no-bytecode", false, "seal no bytecode: modules are compiled from their verified source at every import")
	var info winresource.Info
	var icon, requireSigner string
	for _, f := range seal.ResourceFields {
		fs.StringVar(f.Field(&info), f.Flag, "", f.What+" (windows version information)")
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
	case o.Python == "" && o.Runtime == "":
		return usageError(stderr, "seal", "--python is required: the absolute path of the interpreter executable (or bundle your own with --runtime DIR)")
	case o.Output == "":
		return usageError(stderr, "seal", "-o is required: the path of the loader to write, e.g. dist/hello")
	case level != string(manifest.LevelEnforce) && level != string(manifest.LevelWarn):
		return usageError(stderr, "seal", "--level %q: want enforce or warn", level)
	}
	target, err := platform.Parse(o.Target)
	if err != nil {
		return usageError(stderr, "seal", "--target: %v", err)
	}
	goos := target.GOOS
	resourcesGiven := icon != ""
	for _, f := range seal.ResourceFields {
		resourcesGiven = resourcesGiven || *f.Field(&info) != ""
	}
	if goos != "windows" && resourcesGiven {
		return usageError(stderr, "seal", "%s", seal.ResourceFlagsError(o.Target))
	}
	if goos != "windows" && requireSigner != "" {
		return usageError(stderr, "seal", "--require-signer is for a windows target: %s has no signature check for executables, so the loader could never start", o.Target)
	}
	if icon != "" {
		b, err := limitread.File(icon, winresource.MaxIconSize)
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
	res, err := seal.Seal(ctx, o)
	if err != nil {
		return failure(stderr, "seal", err)
	}
	runtimeCaches := 0
	for _, s := range res.Skipped {
		if o.Runtime != "" && strings.HasPrefix(s, o.RuntimeDir+"/") {
			runtimeCaches++
			continue
		}
		fmt.Fprintf(stderr, "signet seal: note: left out %s (bytecode; not sealed, not copied)\n", s)
	}
	if runtimeCaches > 0 {
		fmt.Fprintf(stderr, "signet seal: note: left out the runtime's %s (sealed bytecode replaces them)\n", strings.Replace(plural(runtimeCaches, "__pycache__ directory"), "directorys", "directories", 1))
	}
	if res.BytecodeNote != "" {
		fmt.Fprintf(stderr, "signet seal: note: %s\n", res.BytecodeNote)
	}
	for _, s := range res.NotCompiled {
		fmt.Fprintf(stderr, "signet seal: note: no sealed bytecode for %s\n", s)
	}
	if res.RuntimeNotCompiled > 0 {
		fmt.Fprintf(stderr, "signet seal: note: no sealed bytecode for %s of the runtime that do not compile (test data of the standard library; importing them fails as with plain Python)\n", plural(res.RuntimeNotCompiled, "module"))
	}
	where := "at"
	if res.Manifest.Bundled() {
		where = "bundled at"
	}
	fmt.Fprintf(stdout, "sealed %s: %d files, entry %s, level %s, target %s, Python %s %s %s\n",
		res.Loader, len(res.Manifest.Files), res.Manifest.Entry, res.Manifest.Level, o.Target,
		res.Manifest.PythonVersion, where, res.Manifest.PythonPath)
	if res.Bytecode > 0 {
		fmt.Fprintf(stdout, "sealed bytecode: %d files under __signet_pyc__/%s\n", res.Bytecode, res.Manifest.PythonVersion)
	}
	switch {
	case res.RuntimeFiles > 0:
		fmt.Fprintf(stdout, "copied %s and the runtime's %s next to the loader: ship its whole directory\n",
			plural(res.Copied-res.RuntimeFiles, "app file"), plural(res.RuntimeFiles, "file"))
	case res.Copied > 0:
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
