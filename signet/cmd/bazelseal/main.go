// Command bazelseal is the helper the signet Bazel rules run inside their seal action. It
// seals exactly the files the action declares (no directory walk, no network, no environment,
// no probing of any interpreter), and writes three outputs: the loader, its canonical
// manifest, and the delivery archive (the loader plus the app tree as it is installed, as a
// reproducible tar).
//
// For a Windows target it first writes the loader's resources (application manifest always;
// version information and icon when given, with {KEY} placeholders taken from the workspace
// status files when stamping: see resources.go), as `signet seal` does.
//
// It takes its arguments from a params file (Bazel's "multiline" format: one argument per
// line), so that the input list of a large app never reaches a command line:
//
//	bazelseal @params
//
// The interpreter is the target machine's, taken as given (path, version, trust paths), as
// `signet seal` does for a foreign target. Sealed bytecode is compiled only when the action
// declares an interpreter to compile it with (--bytecode-python), which must be the same
// Python version as the target's.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
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

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, stderr io.Writer) int {
	args, err := expandParams(args)
	if err != nil {
		fmt.Fprintf(stderr, "bazelseal: %v\n", err)
		return exitUsage
	}
	fs := flag.NewFlagSet("bazelseal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o request
	var srcs, apps, trust listFlag
	fs.StringVar(&o.target, "target", "", "`os/arch` of the loader (required)")
	fs.StringVar(&o.stub, "stub", "", "loader stub `file` for the target (required)")
	fs.StringVar(&o.python, "python", "", "absolute `path` of the interpreter on the target (required)")
	fs.StringVar(&o.pythonVersion, "python-version", "", "interpreter `X.Y` (required)")
	fs.StringVar(&o.pythonSHA256, "python-sha256", "", "pin of the interpreter executable's `sha256`")
	fs.Var(&trust, "python-trust", "trusted interpreter `path` on the target (repeatable; default: a standard installation's)")
	fs.StringVar(&o.level, "level", "enforce", "enforce or warn")
	fs.StringVar(&o.main, "main", "", "app `path` of the entry script (required)")
	fs.StringVar(&o.loaderName, "loader-name", "", "file `name` of the loader in the delivery, without .exe (required)")
	fs.StringVar(&o.bytecodePython, "bytecode-python", "", "interpreter `file` that compiles sealed bytecode in the action (optional)")
	fs.Var(&srcs, "src", "input `file` (repeatable; pairs with the --app of the same position)")
	fs.Var(&apps, "app", "app `path` of the --src of the same position (repeatable)")
	fs.StringVar(&o.outLoader, "out-loader", "", "`path` of the loader to write (required)")
	fs.StringVar(&o.outManifest, "out-manifest", "", "`path` of the canonical manifest to write (required)")
	fs.StringVar(&o.outDelivery, "out-delivery", "", "`path` of the delivery tar to write (required)")
	o.resources.values = map[string]*string{}
	for _, f := range resourceFields {
		o.resources.values[f.flag] = fs.String(f.flag, "", f.what+" (windows version information; {KEY} takes a workspace status value)")
	}
	fs.StringVar(&o.resources.icon, "icon", "", "application icon `file`, .ico or .png (windows)")
	var status listFlag
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
	for name, v := range map[string]string{"--target": o.target, "--stub": o.stub, "--python": o.python,
		"--python-version": o.pythonVersion, "--main": o.main, "--loader-name": o.loaderName,
		"--out-loader": o.outLoader, "--out-manifest": o.outManifest, "--out-delivery": o.outDelivery} {
		if v == "" {
			fmt.Fprintf(stderr, "bazelseal: %s is required\n", name)
			return exitUsage
		}
	}
	for i := range srcs {
		o.inputs = append(o.inputs, input{src: srcs[i], app: apps[i]})
	}
	o.trust = trust
	o.resources.statusFile = status
	if err := sealAction(ctx, &o); err != nil {
		fmt.Fprintf(stderr, "bazelseal: %v\n", err)
		return exitError
	}
	return exitOK
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
