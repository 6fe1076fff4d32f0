// Command bazelseal is the helper the signet Bazel rules run inside their seal action. It
// runs signet's one seal pipeline (signet/internal/seal, as `signet seal` does) on exactly
// the files the action declares (no directory walk, no network, no environment, no probing
// of the sealed interpreter), and writes three outputs: the loader, its canonical manifest,
// and the delivery archive (the loader plus the app tree as it is installed, as a
// reproducible tar).
//
// For a Windows target the seal first writes the loader's resources (application manifest
// always; version information and icon when given, with {KEY} placeholders taken from the
// workspace status files when stamping: see resources.go).
//
// It takes its arguments from a params file (Bazel's "multiline" format: one argument per
// line), so that the input list of a large app never reaches a command line:
//
//	bazelseal @params
//
// The interpreter is taken as given (path, version, trust paths): the target machine's, or
// one bundled into the delivery (--runtime-src/--runtime-path, e.g. a rules_python
// py_runtime's files), whose files are then sealed with the app.
// Sealed bytecode is compiled only when the action declares an interpreter to compile it
// with (--bytecode-python), which must be the same Python version as the target's.
package main

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/signet-dev/signet/signet/internal/atomicfile"
	"github.com/signet-dev/signet/signet/internal/cliflag"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/platform"
	"github.com/signet-dev/signet/signet/internal/seal"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stderr))
}

// request is one seal action: the seal options and where the outputs go.
type request struct {
	opts                                seal.Options
	level                               string
	outLoader, outManifest, outDelivery string
	resources                           resourceRequest // windows only
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	args, err := expandParams(args)
	if err != nil {
		fmt.Fprintf(stderr, "bazelseal: %v\n", err)
		return exitUsage
	}
	fs := flag.NewFlagSet("bazelseal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var r request
	o := &r.opts
	var srcs, apps, trust, status cliflag.List
	fs.StringVar(&o.Target, "target", "", "`os/arch` of the loader (required): "+platform.Names())
	fs.StringVar(&o.Stub, "stub", "", "loader stub `file` for the target (required)")
	fs.StringVar(&o.Python, "python", "", "the interpreter: absolute `path` on the target, or with a bundled runtime its path in the delivery (required)")
	fs.StringVar(&o.PythonVersion, "python-version", "", "interpreter `X.Y` (required)")
	fs.StringVar(&o.PythonSHA256, "python-sha256", "", "pin of the interpreter executable's `sha256`")
	fs.Var(&trust, "python-trust", "trusted interpreter `path` on the target (repeatable; default: a standard installation's)")
	fs.StringVar(&r.level, "level", string(manifest.LevelEnforce), "enforce or warn")
	fs.StringVar(&o.Main, "main", "", "app `path` of the entry script (required)")
	fs.StringVar(&o.LoaderName, "loader-name", "", "file `name` of the loader in the delivery, without .exe (required)")
	fs.StringVar(&o.BytecodePython, "bytecode-python", "", "interpreter `file` that compiles sealed bytecode in the action (optional)")
	var runtimeSrcs, runtimeRels cliflag.List
	fs.Var(&runtimeSrcs, "runtime-src", "file of a bundled runtime (repeatable; pairs with the --runtime-path of the same position)")
	fs.Var(&runtimeRels, "runtime-path", "`path` of the --runtime-src of the same position, relative to the runtime's top directory")
	fs.StringVar(&o.RuntimeDir, "runtime-dir", seal.DefaultRuntimeDir, "the bundled runtime's `directory` in the delivery")
	fs.Var(&srcs, "src", "input `file` (repeatable; pairs with the --app of the same position)")
	fs.Var(&apps, "app", "app `path` of the --src of the same position (repeatable)")
	fs.StringVar(&r.outLoader, "out-loader", "", "`path` of the loader to write (required)")
	fs.StringVar(&r.outManifest, "out-manifest", "", "`path` of the canonical manifest to write (required)")
	fs.StringVar(&r.outDelivery, "out-delivery", "", "`path` of the delivery tar to write (required)")
	r.resources.values = map[string]*string{}
	for _, f := range seal.ResourceFields {
		r.resources.values[f.Flag] = fs.String(f.Flag, "", f.What+" (windows version information; {KEY} takes a workspace status value)")
	}
	fs.StringVar(&r.resources.icon, "icon", "", "application icon `file`, .ico or .png (windows)")
	fs.Var(&status, "status-file", "workspace status `file` (repeatable): stamping is on; {KEY} in a resource value takes its value")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bazelseal: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if len(srcs) != len(apps) {
		fmt.Fprintf(stderr, "bazelseal: %d --src but %d --app: they come in pairs\n", len(srcs), len(apps))
		return exitUsage
	}
	if len(runtimeSrcs) != len(runtimeRels) {
		fmt.Fprintf(stderr, "bazelseal: %d --runtime-src but %d --runtime-path: they come in pairs\n", len(runtimeSrcs), len(runtimeRels))
		return exitUsage
	}
	for i := range runtimeSrcs {
		o.RuntimeFiles = append(o.RuntimeFiles, seal.Input{Src: runtimeSrcs[i], App: runtimeRels[i]})
	}
	for _, req := range []struct{ name, value string }{{"--target", o.Target}, {"--stub", o.Stub},
		{"--python", o.Python}, {"--python-version", o.PythonVersion}, {"--main", o.Main},
		{"--loader-name", o.LoaderName}, {"--out-loader", r.outLoader}, {"--out-manifest", r.outManifest},
		{"--out-delivery", r.outDelivery}} {
		if req.value == "" {
			fmt.Fprintf(stderr, "bazelseal: %s is required\n", req.name)
			return exitUsage
		}
	}
	o.Files = make([]seal.Input, len(srcs))
	for i := range srcs {
		o.Files[i] = seal.Input{Src: srcs[i], App: apps[i]}
	}
	o.PythonTrust = trust
	o.Level = manifest.Level(r.level)
	o.PythonAsGiven = true
	r.resources.statusFile = status
	if err := sealAction(ctx, &r); err != nil {
		fmt.Fprintf(stderr, "bazelseal: %v\n", err)
		return exitError
	}
	return exitOK
}

// sealAction runs the seal pipeline and writes the three outputs, each atomically.
func sealAction(ctx context.Context, r *request) error {
	p, err := platform.Parse(r.opts.Target)
	if err != nil {
		return fmt.Errorf("--target: %w", err)
	}
	if r.resources.given() {
		if !p.Windows() {
			return errors.New(seal.ResourceFlagsError(p.String()))
		}
		info, err := r.resources.info()
		if err != nil {
			return err
		}
		r.opts.Resources = &info
	}
	d, err := seal.Build(ctx, r.opts)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(r.outLoader, 0o755, d.Loader); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(r.outManifest, 0o644, d.Encoded); err != nil {
		return err
	}
	return atomicfile.Write(r.outDelivery, 0o644, func(w io.Writer) error { return writeDelivery(w, d) })
}

// writeDelivery writes the delivery tar. seal.Delivery.WriteTar gives every sealed file mode
// 0644, but a bundled interpreter is executed by the loader (execve needs an execute bit), so
// its entry is rewritten with mode 0755; everything else passes through unchanged.
func writeDelivery(w io.Writer, d *seal.Delivery) error {
	if !d.Manifest.Bundled() {
		return d.WriteTar(w)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := d.WriteTar(pw)
		pw.CloseWithError(err)
		done <- err
	}()
	err := copyTar(w, pr, d.Manifest.PythonPath)
	if err == nil {
		_, err = io.Copy(io.Discard, pr) // whatever follows the end-of-archive marker
	}
	pr.CloseWithError(errors.New("delivery tar: stopped reading")) // unblocks WriteTar on error
	if werr := <-done; werr != nil {
		return werr
	}
	return err
}

// copyTar copies the archive r to w, giving the regular file entry named exe mode 0755.
func copyTar(w io.Writer, r io.Reader, exe string) error {
	tr, tw := tar.NewReader(r), tar.NewWriter(w)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return tw.Close()
		}
		if err != nil {
			return fmt.Errorf("delivery tar: %w", err)
		}
		if hdr.Name == exe && hdr.Typeflag == tar.TypeReg {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("delivery tar: %w", err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("delivery tar: %w", err)
		}
	}
}

// expandParams replaces an argument "@FILE" by the lines of FILE (one argument per line).
func expandParams(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if !strings.HasPrefix(a, "@") {
			out = append(out, a)
			continue
		}
		f, err := os.Open(a[1:])
		if err != nil {
			return nil, fmt.Errorf("reading the params file: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			out = append(out, sc.Text())
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the params file %s: %w", a[1:], err)
		}
	}
	return out, nil
}
