package seal

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/signet-dev/signet/signet/internal/apppath"
	"github.com/signet-dev/signet/signet/internal/sorted"
)

// interpreter is what the manifest records about the interpreter, plus what a
// --seal-runtime seal hashes.
type interpreter struct {
	path    string    // as recorded: absolute, '/'-separated
	version string    // "X.Y"
	sha256  *[32]byte // nil: not pinned
	trust   []string  // sorted, unique
	// Only for an interpreter probed on this machine:
	exe        string   // the resolved executable, native form
	searchPath []string // sys.path entries that exist (directories or zip files)
	libs       []string // libpython files the interpreter maps
}

// probeTimeout bounds one run of the interpreter at seal time.
const probeTimeout = 60 * time.Second

// probeProgram runs under `python -I -S -c` and prints, one per line, "version X.Y", then
// "path <hex>" for every sys.path entry and "lib <hex>" for every libpython file the process
// maps (Linux, from /proc/self/maps), or "libdir <hex>" where libpython is expected when that
// cannot be read (Windows: next to the executable; elsewhere: sysconfig's LIBDIR when Python
// is built shared). Paths are hex-encoded file-system bytes so no name can break the format.
const probeProgram = `import os, sys
w = sys.stdout.write
h = lambda p: os.fsencode(p).hex()
w("version %d.%d\n" % sys.version_info[:2])
w("implementation %s\n" % sys.implementation.name)
for p in sys.path:
    w("path %s\n" % h(p))
if sys.platform == "win32":
    w("libdir %s\n" % h(os.path.dirname(sys.executable)))
else:
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({l.split(None, 5)[5].strip() for l in f if len(l.split(None, 5)) == 6 and "/libpython" in l})
        for l in libs:
            w("lib %s\n" % h(l))
    except OSError:
        import sysconfig
        if sysconfig.get_config_var("Py_ENABLE_SHARED"):
            w("libdir %s\n" % h(sysconfig.get_config_var("LIBDIR")))
`

// zipEntry matches the name of the stdlib zip on sys.path ("python311.zip").
var zipEntry = regexp.MustCompile(`^python[0-9]+\.zip$`)

// versionPattern matches an "X.Y" Python version.
var versionPattern = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}$`)

// minimumVersion is the oldest Python a loader can start: the bootstrap needs -P
// (sys.flags.safe_path), new in 3.11, to keep the app root off sys.path.
const minimumVersion = "3.11"

// checkMinimumVersion refuses a Python older than minimumVersion. what names where the
// version came from ("--python-version", the interpreter's path).
func checkMinimumVersion(version, what string) error {
	var major, minor int
	if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil {
		return fmt.Errorf("%s: Python version %q is not X.Y", what, version)
	}
	if major < 3 || (major == 3 && minor < 11) {
		return fmt.Errorf("%s is Python %s, older than %s, the oldest signet supports (its loader needs sys.flags.safe_path, new in 3.11): seal with Python %s or newer", what, version, minimumVersion, minimumVersion)
	}
	return nil
}

// isHost reports whether a target is this machine's OS and architecture, so that its
// interpreter can be run here.
func isHost(goos, goarch string) bool {
	return goos == runtime.GOOS && goarch == runtime.GOARCH
}

// resolveInterpreter checks the interpreter options and finds what the manifest records.
func resolveInterpreter(ctx context.Context, o *Options, goos, goarch string) (*interpreter, error) {
	if o.Python == "" {
		return nil, errors.New("--python is required: the absolute path of the interpreter executable")
	}
	if o.PythonVersion != "" && !versionPattern.MatchString(o.PythonVersion) {
		return nil, fmt.Errorf("--python-version %q: want X.Y, e.g. 3.11", o.PythonVersion)
	}
	var pin *[32]byte
	if o.PythonSHA256 != "" {
		b, err := hex.DecodeString(o.PythonSHA256)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("--python-sha256 %q: want 64 hex digits", o.PythonSHA256)
		}
		pin = (*[32]byte)(b)
	}
	var trust []string
	for _, t := range o.PythonTrust {
		t, err := AbsoluteFor(t, goos)
		if err != nil {
			return nil, fmt.Errorf("--python-trust: %w", err)
		}
		trust = append(trust, t)
	}
	var in *interpreter
	var err error
	if isHost(goos, goarch) && !o.PythonAsGiven {
		in, err = probeInterpreter(ctx, o, goos, pin)
	} else {
		in, err = foreignInterpreter(o, goos, goarch, pin)
	}
	if err != nil {
		return nil, err
	}
	if err := checkMinimumVersion(in.version, "--python "+o.Python); err != nil {
		return nil, err
	}
	if trust != nil {
		in.trust = trust
	}
	in.trust = sorted.Unique(in.trust)
	return in, nil
}

// AbsoluteFor turns p into the manifest's form of an absolute path for goos ('/'-separated,
// "X:/..." on Windows) and checks it.
func AbsoluteFor(p, goos string) (string, error) {
	if goos == "windows" {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	if err := apppath.ValidateAbsolute(p); err != nil {
		return "", err
	}
	winStyle := len(p) >= 3 && p[1] == ':' && p[2] == '/'
	if goos == "windows" && !winStyle {
		return "", fmt.Errorf("path %q is not a Windows path (want X:/... or X:\\...)", p)
	}
	if goos != "windows" && winStyle {
		return "", fmt.Errorf("path %q is a Windows path, but the target is %s", p, goos)
	}
	return p, nil
}

// foreignInterpreter takes the interpreter of a target that cannot run here on trust: the
// path and version as given, the digest if given, and the standard layout's trust paths.
func foreignInterpreter(o *Options, goos, goarch string, pin *[32]byte) (*interpreter, error) {
	p, err := AbsoluteFor(o.Python, goos)
	if err != nil {
		return nil, fmt.Errorf("--python: %w", err)
	}
	if o.PythonVersion == "" {
		if o.PythonAsGiven {
			return nil, errors.New("--python-version is required: the interpreter is taken as given, not run here to ask it")
		}
		return nil, fmt.Errorf("--python-version is required for a %s/%s target: its interpreter cannot be run here to ask it", goos, goarch)
	}
	if o.SealRuntime {
		return nil, fmt.Errorf("--seal-runtime needs the interpreter's files on this machine: seal for %s/%s on a %s/%s machine, or without --seal-runtime", goos, goarch, goos, goarch)
	}
	return &interpreter{path: p, version: o.PythonVersion, sha256: pin, trust: DefaultTrust(p, o.PythonVersion, goos)}, nil
}

// DefaultTrust is where a standard installation of Python keeps its standard library:
// on Windows next to python.exe (the directory itself, DLLs, Lib, pythonXY.zip); elsewhere
// under the prefix above bin/ (lib/pythonX.Y, its lib-dynload, lib/pythonXY.zip).
func DefaultTrust(python, version, goos string) []string {
	xy := strings.ReplaceAll(version, ".", "")
	dir := path.Dir(python)
	if goos == "windows" {
		return []string{dir, dir + "/DLLs", dir + "/Lib", dir + "/python" + xy + ".zip"}
	}
	lib := path.Join(path.Dir(dir), "lib")
	return []string{lib + "/python" + version, lib + "/python" + version + "/lib-dynload", lib + "/python" + xy + ".zip"}
}

// probeInterpreter checks that o.Python is an executable for this machine and asks it for
// its version, search path and libpython.
func probeInterpreter(ctx context.Context, o *Options, goos string, pin *[32]byte) (*interpreter, error) {
	if !filepath.IsAbs(o.Python) {
		return nil, fmt.Errorf("--python %q: want an absolute path, e.g. $(python3 -c 'import sys;print(sys.executable)')", o.Python)
	}
	real, err := filepath.EvalSymlinks(o.Python)
	if err != nil {
		return nil, fmt.Errorf("--python %s: %w", o.Python, err)
	}
	digest, err := checkExecutable(o.Python, real, goos)
	if err != nil {
		return nil, err
	}
	if pin != nil && *pin != digest {
		return nil, fmt.Errorf("--python-sha256: %s has sha256 %x, not the pinned %x", real, digest, *pin)
	}
	if pin == nil && o.SealRuntime {
		pin = &digest
	}
	recorded, err := AbsoluteFor(filepath.ToSlash(real), goos)
	if err != nil {
		return nil, fmt.Errorf("--python: %w", err)
	}
	in, err := runProbe(ctx, real, goos)
	if err != nil {
		return nil, err
	}
	if o.PythonVersion != "" && o.PythonVersion != in.version {
		return nil, fmt.Errorf("--python-version %s: %s is Python %s", o.PythonVersion, real, in.version)
	}
	in.path = recorded
	in.exe = real
	in.sha256 = pin
	return in, nil
}

// checkExecutable checks that real (the resolved --python) is a regular file holding an
// executable for goos, and returns its SHA-256.
func checkExecutable(given, real, goos string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(real)
	if err != nil {
		return sum, fmt.Errorf("--python %s: %w", given, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return sum, fmt.Errorf("--python %s: %w", given, err)
	}
	if !fi.Mode().IsRegular() {
		return sum, fmt.Errorf("--python %s: %s is not a regular file", given, real)
	}
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	head := magic[:n]
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		return sum, fmt.Errorf("--python %s is a shell script (a pyenv shim?); pass the real interpreter, e.g. $(%s -c 'import sys;print(sys.executable)')", given, given)
	case goos == "windows" && !bytes.HasPrefix(head, []byte("MZ")):
		return sum, fmt.Errorf("--python %s is not a Windows executable (no PE header)", given)
	case goos != "windows" && !bytes.Equal(head, []byte("\x7fELF")):
		return sum, fmt.Errorf("--python %s is not an ELF executable", given)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return sum, fmt.Errorf("--python %s: %w", given, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, fmt.Errorf("--python %s: %w", given, err)
	}
	h.Sum(sum[:0])
	return sum, nil
}

// runProbe runs probeProgram in the interpreter, isolated (-I -S) and with an empty
// environment (the loader gives the app an allow-listed one; nothing here should depend on
// the vendor's), and parses what it prints.
func runProbe(ctx context.Context, python, goos string) (*interpreter, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-I", "-S", "-B", "-c", probeProgram)
	cmd.Env = probeEnv(goos)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		// A Python 2 knows no -I: ask it its version only, to say what is wrong.
		if v := oldVersion(ctx, python, goos); v != "" {
			if verr := checkMinimumVersion(v, python); verr != nil {
				return nil, verr
			}
		}
		return nil, fmt.Errorf("asking %s for its version and search path: %w: %s", python, err, strings.TrimSpace(stderr.String()))
	}
	in, err := parseProbe(stdout.Bytes(), goos)
	if err != nil {
		return nil, fmt.Errorf("asking %s for its version and search path: %w", python, err)
	}
	return in, nil
}

// oldVersion asks an interpreter that refused the probe for its X.Y version, with the
// options even Python 2 knows (no environment, no site), or "".
func oldVersion(ctx context.Context, python, goos string) string {
	cmd := exec.CommandContext(ctx, python, "-E", "-S", "-B", "-c", "import sys; sys.stdout.write('%d.%d' % sys.version_info[:2])")
	cmd.Env = probeEnv(goos)
	out, err := cmd.Output()
	if err != nil || !versionPattern.Match(out) {
		return ""
	}
	return string(out)
}

// probeEnv is the environment of the probe: empty, except what Windows needs to start a
// process at all.
func probeEnv(goos string) []string {
	env := []string{}
	if goos == "windows" {
		for _, k := range []string{"SystemRoot", "SystemDrive"} {
			if v, ok := os.LookupEnv(k); ok {
				env = append(env, k+"="+v)
			}
		}
	}
	return env
}

// parseProbe reads the probe's output. Trusted are: sys.path entries that exist, the stdlib
// zip's location even if it is absent (whoever could create it would steer imports), and the
// directories of libpython.
func parseProbe(out []byte, goos string) (*interpreter, error) {
	in := &interpreter{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), " ")
		switch key {
		case "version":
			if !versionPattern.MatchString(val) {
				return nil, fmt.Errorf("unexpected version %q", val)
			}
			in.version = val
			continue
		case "implementation":
			if val != "cpython" {
				return nil, fmt.Errorf("it is %q, not CPython: signet's loader runs CPython only", val)
			}
			continue
		}
		raw, err := hex.DecodeString(val)
		if err != nil || len(raw) == 0 {
			return nil, fmt.Errorf("unexpected line %q", sc.Text())
		}
		p := filepath.Clean(string(raw))
		if !filepath.IsAbs(p) {
			// A relative sys.path entry would depend on the working directory: -I leaves
			// none, so one means something is off.
			return nil, fmt.Errorf("relative %s entry %q", key, p)
		}
		recorded, err := AbsoluteFor(filepath.ToSlash(p), goos)
		if err != nil {
			return nil, fmt.Errorf("%s entry: %w", key, err)
		}
		switch key {
		case "path":
			if _, err := os.Stat(p); err == nil {
				in.trust = append(in.trust, recorded)
				in.searchPath = append(in.searchPath, p)
			} else if zipEntry.MatchString(filepath.Base(p)) {
				in.trust = append(in.trust, recorded)
			}
		case "lib":
			dir := path.Dir(recorded)
			if err := apppath.ValidateAbsolute(dir); err != nil {
				return nil, fmt.Errorf("libpython's directory: %w", err)
			}
			in.trust = append(in.trust, dir)
			in.libs = append(in.libs, p)
		case "libdir":
			in.trust = append(in.trust, recorded)
		default:
			return nil, fmt.Errorf("unexpected line %q", sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if in.version == "" {
		return nil, errors.New("it printed no version")
	}
	return in, nil
}
