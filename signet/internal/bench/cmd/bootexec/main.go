// Command bootexec runs a sealed app's Python bootstrap exactly as its loader would, but
// without the loader's checks, so that start-up time can be split into its parts.
//
//	bootexec LOADER [app args...]
//	bootexec -importtime LOADER [app args...]
//	bootexec -phases 21 LOADER [app args...]
//
// The first form reads the manifest sealed into LOADER and calls launch.Start with the
// Config the loader would build (same interpreter, flags, allow-listed environment, memfd
// payload) and the loader's memory policy (loader.ManageMemory): it is the loader minus
// payload check, tree check and interpreter check.
//
// The second form is the legitimate way to see what the bootstrap imports: the loader's
// argv and environment cannot be changed from outside (that is the point), so bootexec
// builds the same payload (launch.BuildPayload) and argv (launch.Argv), adds
// "-X importtime" after the interpreter path, hands the payload over on an inherited
// descriptor (an unlinked temporary file), and prints CPython's import-time report (stderr)
// as a Markdown code block.
//
// The third form runs the same way, but with launch's reader (the -c program) replaced by
// timedReader, which does the same steps and reports how long reading the payload, turning
// the bootstrap into a code object (compiling the source, or loading sealed bytecode), and
// running it (bootstrap and app together) took inside the interpreter; it prints
// min/median/max over the runs as a Markdown table.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/signet/internal/bench/stats"
	"github.com/signet-dev/signet/signet/internal/launch"
	"github.com/signet-dev/signet/signet/internal/loader"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
)

// Positions in launch.Argv's result (see its doc comment).
const (
	argvC      = 6
	argvReader = 7
	argvFD     = 8
	argvForm   = 9
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "bootexec: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("bootexec", flag.ContinueOnError)
	importTime := fs.Bool("importtime", false, "run with -X importtime and print the report")
	phases := fs.Int("phases", 0, "time the bootstrap's phases over this many runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return errors.New("want a sealed LOADER argument")
	}
	cfg, err := configFor(fs.Arg(0), fs.Args()[1:])
	if err != nil {
		return err
	}
	if !*importTime && *phases == 0 {
		loader.ManageMemory()
		_, err := launch.Start(cfg) // returns only on error
		return err
	}
	var report string
	if *importTime {
		report, err = runImportTime(cfg)
	} else {
		report, err = runPhases(cfg, *phases)
	}
	if err != nil {
		return err
	}
	fmt.Print(report)
	return nil
}

// configFor builds the launch.Config the loader at loaderPath would build.
func configFor(loaderPath string, appArgs []string) (launch.Config, error) {
	abs, err := filepath.Abs(loaderPath)
	if err != nil {
		return launch.Config{}, fmt.Errorf("locating %s: %w", loaderPath, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return launch.Config{}, fmt.Errorf("locating %s: %w", loaderPath, err)
	}
	raw, err := payload.FindInFile(real)
	if err != nil {
		return launch.Config{}, fmt.Errorf("reading the payload of %s: %w", real, err)
	}
	m, err := manifest.Decode(raw)
	if err != nil {
		return launch.Config{}, fmt.Errorf("decoding the manifest of %s: %w", real, err)
	}
	root := filepath.Dir(real)
	interpreter := filepath.FromSlash(m.PythonPath)
	if !filepath.IsAbs(interpreter) {
		interpreter = filepath.Join(root, interpreter)
	}
	return launch.Config{
		Interpreter: interpreter,
		AppRoot:     root,
		Loader:      real,
		AppName:     filepath.Base(real),
		Manifest:    raw,
		Args:        appArgs,
		Environ:     os.Environ(),
	}, nil
}

// runImportTime runs the bootstrap under -X importtime and returns the report.
func runImportTime(cfg launch.Config) (string, error) {
	stderr, _, err := runChild(cfg, []string{"-X", "importtime"}, "")
	if err != nil {
		return "", err
	}
	return "```\n" + stderr + "```\n", nil
}

// timedReader is launch's Linux reader with timers: it writes one line
// "phases <read> <code object> <run>" (seconds) to stderr after the bootstrap returns.
// Like launch's readers it reads the memfd in one read(2), then compiles the source (form
// "py") or loads sealed bytecode (form "pyc": a 16-byte pyc header, then marshal data).
const timedReader = "import sys,time,marshal,posix as o\n" +
	"p=time.perf_counter;t0=p();a=sys.argv;f=int(a[1]);b=o.read(f,o.fstat(f).st_size);o.close(f);t1=p();n=int(a[3])\n" +
	"g={'__name__':'__signet_bootstrap__','__builtins__':__builtins__,'_signet_payload':b}\n" +
	"c=compile(b[:n],'<signet-bootstrap>','exec',dont_inherit=True) if a[2]=='py' else marshal.loads(b[16:n])\n" +
	"t2=p();exec(c,g);t3=p()\n" +
	"o.write(2,('phases %.9f %.9f %.9f\\n'%(t1-t0,t2-t1,t3-t2)).encode())"

// runPhases runs the bootstrap runs times with timedReader and summarises the phases.
func runPhases(cfg launch.Config, runs int) (string, error) {
	var form string
	names := []string{"read the payload (fd)", "", "run bootstrap + app"}
	samples := make([][]time.Duration, len(names))
	for i := 0; i < runs; i++ {
		stderr, f, err := runChild(cfg, nil, timedReader)
		if err != nil {
			return "", err
		}
		form = f
		line := stderr[strings.LastIndex(strings.TrimSuffix(stderr, "\n"), "\n")+1:]
		fields := strings.Fields(line)
		if len(fields) != 4 || fields[0] != "phases" {
			return "", fmt.Errorf("no phases line from the timed reader; stderr:\n%s", stderr)
		}
		for k := range names {
			sec, err := strconv.ParseFloat(fields[k+1], 64)
			if err != nil {
				return "", fmt.Errorf("phases line %q: %w", line, err)
			}
			samples[k] = append(samples[k], time.Duration(sec*float64(time.Second)))
		}
	}
	names[1] = "compile the bootstrap source (form py)"
	if form == "pyc" {
		names[1] = "load the sealed bootstrap bytecode (form pyc)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| phase inside the interpreter (%d runs) | min | median | max |\n|---|---:|---:|---:|\n", runs)
	for k, name := range names {
		sum, err := stats.Summarize(samples[k])
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, stats.Millis(sum.Min), stats.Millis(sum.Median), stats.Millis(sum.Max))
	}
	return b.String(), nil
}

// runChild runs the interpreter with the loader's payload and argv (plus extraFlags after
// the interpreter path, and with the -c program replaced by reader unless it is empty) and
// the allow-listed environment, the payload on an inherited descriptor. It returns stderr
// and the payload's form ("py" or "pyc").
func runChild(cfg launch.Config, extraFlags []string, reader string) (string, string, error) {
	p := launch.BuildPayload(cfg)
	const childFD = 3 // the first of exec.Cmd.ExtraFiles
	argv := launch.Argv(cfg, childFD, p)
	if len(argv) <= argvForm || argv[argvC] != "-c" || argv[argvFD] != strconv.Itoa(childFD) || argv[argvForm] != p.Form {
		return "", "", fmt.Errorf("launch.Argv changed shape: %q", argv)
	}
	if reader != "" {
		argv[argvReader] = reader
	}
	argv = append(append([]string{argv[0]}, extraFlags...), argv[1:]...)

	// The payload goes into an unlinked temporary file: like the loader's memfd, a regular
	// file whose size the reader takes from fstat and reads in one go.
	f, err := os.CreateTemp("", "bootexec-payload-")
	if err != nil {
		return "", "", fmt.Errorf("creating the payload file: %w", err)
	}
	defer f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return "", "", fmt.Errorf("unlinking the payload file: %w", err)
	}
	if _, err := f.Write(p.Data); err != nil {
		return "", "", fmt.Errorf("writing the payload: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", "", fmt.Errorf("rewinding the payload file: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Args = argv
	cmd.Env = launch.AllowedEnv(cfg.Environ, "linux")
	cmd.ExtraFiles = []*os.File{f}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("%s: %w; stderr:\n%s", argv[0], err, stderr.Bytes())
	}
	return stderr.String(), p.Form, nil
}
