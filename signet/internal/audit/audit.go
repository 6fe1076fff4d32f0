// Package audit implements `signet verify`: an offline check of an installed delivery, the
// same checks the loader makes at start-up, reported in full instead of stopping at the
// first failing step, as text for people and JSON for tools.
//
// Verify checks that the loader's payload is intact and its manifest decodes, that every
// sealed file in the loader's directory is unchanged and nothing unsealed could be imported
// there, that sealed runtime files are unchanged, and, when the loader is for this OS, the
// interpreter rule (ownership, steering files, pinned digest, version), and for a Windows
// loader its Authenticode signature (against the roots given) and any signer pin sealed into
// it. A warn-level loader always fails verification: its checks do not stop the app.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/signet/internal/interp"
	"github.com/signet-dev/signet/signet/internal/loader"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/pefile"
	"github.com/signet-dev/signet/signet/internal/treecheck"
)

// Kinds of Problem. MODIFIED, MISSING and UNEXPECTED are the loader's own words for app
// and runtime files.
const (
	KindPayload     = "PAYLOAD"     // the payload is missing, damaged, or its manifest does not decode
	KindModified    = "MODIFIED"    // a sealed file differs from its seal
	KindMissing     = "MISSING"     // a sealed file is not there
	KindUnexpected  = "UNEXPECTED"  // an unsealed importable file or directory, or a symlink
	KindInterpreter = "INTERPRETER" // the interpreter fails its rule
	KindWarnLevel   = "WARN-LEVEL"  // the loader was sealed with level warn
)

// Options tune Verify.
type Options struct {
	// Workers is the number of files hashed at once; 0 means all cores.
	Workers int
	// Recompile checks every sealed bytecode file against its sealed source, compiled again
	// (signet verify --recompile): a problem of kind BYTECODE for each that differs.
	Recompile bool
	// Python is the interpreter Recompile compiles with; "" means the sealed one (when the
	// loader is for this OS).
	Python string
	// Roots are the trusted roots a Windows loader's Authenticode signature must chain to
	// (signet verify --ca). nil: a signed Windows loader fails verification ("signature
	// present, not checked"), as there is no code-signing trust store to use instead.
	Roots *x509.CertPool
	// RequireSignature makes an unsigned Windows loader fail; otherwise it is a warning.
	RequireSignature bool
}

// Report is the outcome of Verify. Its JSON form (field names are stable):
//
//	{
//	  "loader": "dist/hello",            // the path given
//	  "ok": false,                       // true only when problems is empty
//	  "target": "linux/amd64",           // from the loader's ELF/PE header; "unknown" if neither
//	  "payload": "intact",               // "intact", "missing" or "damaged"
//	  "level": "enforce",                // from the manifest; absent if it cannot be read
//	  "entry": "hello.py",
//	  "files": 3,                        // sealed files, runtime files included
//	  "recompiled": 4,                   // with Options.Recompile: bytecode files checked
//	  "interpreter": {"path": "/usr/bin/python3.11", "version": "3.11",
//	                  "sha256": "", "checked": true, "note": ""},
//	  "signature": {"present": true, "checked": true, "valid": true,   // Windows loaders only
//	                "signer": "CN=...", "issuer": "CN=...", "signer_key_sha256": "…",
//	                "not_after": "2027-01-01T00:00:00Z", "timestamp": "", "timestamp_authority": "",
//	                "required_signer": ""},
//	  "warnings": ["the loader is not signed: ..."],   // absent when none; never fail
//	  "problems": [{"kind": "MODIFIED", "path": "hello.py",
//	                "detail": "content differs from the sealed digest"}]
//	}
type Report struct {
	Loader      string       `json:"loader"`
	OK          bool         `json:"ok"`
	Target      string       `json:"target"`
	Payload     string       `json:"payload"`
	Level       string       `json:"level,omitempty"`
	Entry       string       `json:"entry,omitempty"`
	Files       int          `json:"files"`
	Recompiled  int          `json:"recompiled,omitempty"` // sealed bytecode files checked by --recompile
	Interpreter *Interpreter `json:"interpreter,omitempty"`
	Signature   *Signature   `json:"signature,omitempty"`
	Warnings    []string     `json:"warnings,omitempty"`
	Problems    []Problem    `json:"problems"`
}

// Interpreter is what the seal says about the interpreter and whether it was checked here.
type Interpreter struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`  // hex; "" when not pinned
	Checked bool   `json:"checked"` // false when the loader is for another OS
	Note    string `json:"note"`    // why it was not checked, and how it is pinned
}

// Problem is one finding.
type Problem struct {
	Kind   string `json:"kind"`
	Path   string `json:"path"` // app path, absolute runtime/interpreter path, or the loader
	Detail string `json:"detail"`
}

// String is the problem as one line: "KIND PATH: DETAIL".
func (p Problem) String() string {
	s := p.Kind + " " + printable(p.Path)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// printable quotes a path that could forge lines or terminal escapes.
func printable(p string) string {
	q := strconv.Quote(p)
	if q[1:len(q)-1] != p {
		return q
	}
	return p
}

// Payload states.
const (
	PayloadIntact  = "intact"
	PayloadMissing = "missing"
	PayloadDamaged = "damaged"
)

// versionTimeout bounds running the interpreter to ask its version.
const versionTimeout = 30 * time.Second

// Verify checks the delivery of loader. The error is non-nil only when the check cannot
// run at all (the loader cannot be read, or its directory cannot be listed); everything
// found wrong is in the report. ctx bounds the interpreters it runs (the version question,
// --recompile): when it is cancelled they are killed and Verify returns its error.
func Verify(ctx context.Context, loader string, opts Options) (*Report, error) {
	r := &Report{Loader: loader, Problems: []Problem{}}
	abs, err := filepath.Abs(loader)
	if err != nil {
		return nil, fmt.Errorf("reading the loader: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("reading the loader: %w", err)
	}
	goos, goarch, err := detectTarget(real)
	if err != nil {
		return nil, fmt.Errorf("reading the loader: %w", err)
	}
	r.Target = goos + "/" + goarch
	m, err := readManifest(real, r)
	if err != nil {
		return nil, err
	}
	if err := r.checkSignature(real, goos, m, opts); err != nil {
		return nil, err
	}
	if m == nil {
		return r.finish(), nil
	}
	r.Level, r.Entry, r.Files = string(m.Level), m.Entry, len(m.Files)
	if m.Level == manifest.LevelWarn {
		r.add(KindWarnLevel, loader, "checks do not stop the app; re-seal with --level enforce before delivery")
	}
	if err := r.checkTree(real, m, opts); err != nil {
		return nil, err
	}
	sameOS := goos == runtime.GOOS
	if opts.Recompile {
		if err := r.recompile(ctx, filepath.Dir(real), m, opts, sameOS); err != nil {
			return nil, err
		}
	}
	if m.SealRuntime {
		r.checkRuntime(m, sameOS)
	}
	r.checkInterpreter(ctx, m, filepath.Dir(real), goos, sameOS)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("checking the interpreter: %w", err)
	}
	return r.finish(), nil
}

func (r *Report) add(kind, path, detail string) {
	r.Problems = append(r.Problems, Problem{Kind: kind, Path: path, Detail: detail})
}

func (r *Report) finish() *Report {
	r.OK = len(r.Problems) == 0
	return r
}

// readManifest finds and decodes the payload. A missing or damaged payload, or one that
// does not decode, is a problem in the report and gives a nil manifest.
func readManifest(loader string, r *Report) (*manifest.Manifest, error) {
	b, err := payload.FindInFile(loader)
	switch {
	case errors.Is(err, payload.ErrNoPayload):
		r.Payload = PayloadMissing
		r.add(KindPayload, r.Loader, "no signet payload: this is not a sealed loader")
		return nil, nil
	case errors.Is(err, payload.ErrDamaged):
		r.Payload = PayloadDamaged
		r.add(KindPayload, r.Loader, err.Error())
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the loader's payload: %w", err)
	}
	m, err := manifest.Decode(b)
	if err != nil {
		r.Payload = PayloadDamaged
		r.add(KindPayload, r.Loader, "the manifest does not decode: "+err.Error())
		return nil, nil
	}
	r.Payload = PayloadIntact
	return m, nil
}

// checkTree verifies the app files in the loader's directory.
func (r *Report) checkTree(loader string, m *manifest.Manifest, opts Options) error {
	var sealed []treecheck.Sealed
	for _, f := range m.Files {
		if f.Role != manifest.RoleRuntime {
			sealed = append(sealed, treecheck.Sealed{Path: f.Path, Size: f.Size, SHA256: f.SHA256})
		}
	}
	root := filepath.Dir(loader)
	problems, err := treecheck.Check(root, sealed, treecheck.Options{Workers: opts.Workers, Ignore: []string{filepath.Base(loader)}})
	if err != nil {
		return fmt.Errorf("checking the app in %s: %w", root, err)
	}
	for _, p := range problems {
		r.add(p.Kind.String(), p.Path, p.Detail)
	}
	return nil
}

// checkRuntime hashes the sealed runtime files (absolute paths), when they are on this OS.
func (r *Report) checkRuntime(m *manifest.Manifest, sameOS bool) {
	if !sameOS {
		return
	}
	for _, f := range m.Files {
		if f.Role != manifest.RoleRuntime {
			continue
		}
		size, sum, err := hashRegular(filepath.FromSlash(f.Path))
		switch {
		case errors.Is(err, os.ErrNotExist):
			r.add(KindMissing, f.Path, "")
		case err != nil:
			r.add(KindModified, f.Path, err.Error())
		case size != f.Size:
			r.add(KindModified, f.Path, fmt.Sprintf("size is %d bytes, sealed %d", size, f.Size))
		case sum != f.SHA256:
			r.add(KindModified, f.Path, "content differs from the sealed digest")
		}
	}
}

// hashRegular hashes a regular file; anything else is an error.
func hashRegular(name string) (int64, [32]byte, error) {
	var sum [32]byte
	fi, err := os.Stat(name)
	if err != nil {
		return 0, sum, err
	}
	if !fi.Mode().IsRegular() {
		return 0, sum, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	f, err := os.Open(name)
	if err != nil {
		return 0, sum, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, sum, err
	}
	h.Sum(sum[:0])
	return n, sum, nil
}

// checkInterpreter applies the interpreter rule when the loader is for this OS, as the
// loader in appRoot does (loader.InterpreterRule).
func (r *Report) checkInterpreter(ctx context.Context, m *manifest.Manifest, appRoot, goos string, sameOS bool) {
	in := &Interpreter{Path: m.PythonPath, Version: m.PythonVersion}
	r.Interpreter = in
	if m.PythonSHA256 != nil {
		in.SHA256 = hex.EncodeToString(m.PythonSHA256[:])
	}
	if !sameOS {
		in.Note = "interpreter not checked here: " + goos + " target; "
		if in.SHA256 != "" {
			in.Note += "pinned by sha256 " + in.SHA256
		} else {
			in.Note += "by version only (" + m.PythonVersion + ")"
		}
		return
	}
	in.Checked = true
	rule := loader.InterpreterRule(m, appRoot)
	problems := interp.Check(rule)
	for _, p := range problems {
		detail := p.Reason
		if p.Fix != "" {
			detail += ": " + p.Fix
		}
		r.add(KindInterpreter, p.Path, detail)
	}
	if len(problems) > 0 {
		return // do not run an interpreter that fails its rule
	}
	running, err := interpreterVersion(ctx, filepath.FromSlash(rule.Path))
	if err != nil {
		r.add(KindInterpreter, m.PythonPath, "cannot be run to ask its version: "+err.Error())
		return
	}
	if running != m.PythonVersion {
		p := interp.VersionProblem(m.PythonPath, m.PythonVersion, running)
		r.add(KindInterpreter, p.Path, p.Reason+": "+p.Fix)
	}
}

// interpreterVersion runs the interpreter isolated, with an empty environment, and returns
// its "X.Y".
func interpreterVersion(ctx context.Context, python string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
	cmd.Env = []string{}
	if runtime.GOOS == "windows" {
		cmd.Env = append(cmd.Env, "SystemRoot="+os.Getenv("SystemRoot"))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second // a killed interpreter's children do not hold Output up
	out, err := cmd.Output()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil { // cancelled, or over versionTimeout: killed
			return "", fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// detectTarget reads the OS and architecture a loader was built for from its ELF or PE
// header.
func detectTarget(name string) (goos, goarch string, err error) {
	f, err := os.Open(name)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", "", err
	}
	goos, goarch, err = targetOf(f, st.Size())
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", name, err)
	}
	return goos, goarch, nil
}

// targetOf reads the OS and architecture from an ELF or PE header. An ELF or PE for an
// architecture signet does not build for gives the arch "unknown".
func targetOf(r io.ReaderAt, size int64) (goos, goarch string, err error) {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return "", "", fmt.Errorf("not an executable: %w", err)
	}
	switch {
	case string(magic[:]) == "\x7fELF":
		ef, err := elf.NewFile(r)
		if err != nil {
			return "", "", err
		}
		switch ef.Machine {
		case elf.EM_X86_64:
			return "linux", "amd64", nil
		case elf.EM_AARCH64:
			return "linux", "arm64", nil
		}
		return "linux", "unknown", nil
	case string(magic[:2]) == "MZ":
		pf, err := pefile.Parse(r, size)
		if err != nil {
			return "", "", err
		}
		switch pf.Machine {
		case pefile.MachineAMD64:
			return "windows", "amd64", nil
		case pefile.MachineARM64:
			return "windows", "arm64", nil
		}
		return "windows", "unknown", nil
	}
	return "", "", errors.New("neither an ELF nor a PE executable")
}

// Text is the report for people: a summary, one line per problem, and the verdict.
func (r *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "loader %s: %s, payload %s", r.Loader, r.Target, r.Payload)
	if r.Level != "" {
		fmt.Fprintf(&b, ", level %s, entry %s, sealed files: %d", r.Level, r.Entry, r.Files)
	}
	b.WriteString("\n")
	if in := r.Interpreter; in != nil {
		fmt.Fprintf(&b, "interpreter %s (Python %s)", in.Path, in.Version)
		if in.SHA256 != "" {
			fmt.Fprintf(&b, ", sha256 %s", in.SHA256)
		}
		if !in.Checked {
			fmt.Fprintf(&b, ": %s", strings.TrimPrefix(in.Note, "interpreter "))
		} else if !r.hasKind(KindInterpreter) {
			b.WriteString(": ok")
		}
		b.WriteString("\n")
	}
	if s := r.Signature; s != nil {
		b.WriteString(s.text())
	}
	if r.Recompiled > 0 {
		fmt.Fprintf(&b, "recompiled %d sealed bytecode files from their sealed sources\n", r.Recompiled)
	}
	for _, w := range r.Warnings {
		b.WriteString("WARNING: " + w + "\n")
	}
	for _, p := range r.Problems {
		b.WriteString(p.String())
		b.WriteString("\n")
	}
	if r.OK {
		b.WriteString("OK: every check holds\n")
	} else {
		fmt.Fprintf(&b, "FAILED: %d problem(s)\n", len(r.Problems))
	}
	return b.String()
}

func (r *Report) hasKind(kind string) bool {
	for _, p := range r.Problems {
		if p.Kind == kind {
			return true
		}
	}
	return false
}
