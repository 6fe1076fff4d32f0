// Package manifest encodes and decodes the canonical manifest that signet seals into a
// loader: which interpreter to run, how strictly to enforce, and the size, SHA-256 digest and
// role of every sealed file. The format is line-based UTF-8 text (see docs/design.md, "The
// manifest"); there is exactly one encoding of every manifest, and decoding refuses anything
// else.
//
// It imports only the standard library and signet/internal/apppath: it is part of the loader stub,
// which decodes its manifest at every start, so Decode is linear and allocates little.
package manifest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// FormatVersion is the version written on the first line, "signet-manifest 1".
const FormatVersion = 1

const (
	// MaxEncodedSize is the largest manifest, in bytes, that Decode accepts and Encode writes.
	MaxEncodedSize = 64 << 20
	// MaxFiles is the largest number of file lines in a manifest.
	MaxFiles = 1 << 20
	// MaxTrust is the largest number of python-trust lines in a manifest.
	MaxTrust = 4096
)

// Role says what a sealed file is for.
type Role string

// The roles of sealed files.
const (
	RoleEntry     Role = "entry"     // the entry script
	RoleModule    Role = "module"    // Python source (.py, .pyw)
	RoleExtension Role = "extension" // extension module (.so, .pyd)
	RoleBytecode  Role = "bytecode"  // sealed bytecode (.pyc)
	RoleData      Role = "data"      // anything else inside the app tree
	RoleRuntime   Role = "runtime"   // an interpreter file outside the app tree (absolute path)
)

// Level says what the loader does about a problem.
type Level string

// The enforcement levels.
const (
	LevelEnforce Level = "enforce" // refuse to start on any problem
	LevelWarn    Level = "warn"    // report, then start (development only)
)

// File is one sealed file.
type File struct {
	Path   string // relative app path, or absolute for RoleRuntime
	Size   int64
	SHA256 [32]byte
	Role   Role
}

// Manifest is the decoded form of a manifest.
type Manifest struct {
	Entry         string    // app path of the entry script; also a File with RoleEntry
	Level         Level     // LevelEnforce or LevelWarn
	PythonPath    string    // absolute (outside the app), or a relative app path sealed as a File
	PythonVersion string    // "X.Y", e.g. "3.11"
	PythonSHA256  *[32]byte // digest of the interpreter executable; nil is written as "-"
	PythonTrust   []string  // paths whose ownership the loader checks: absolute, or app paths for a bundled interpreter
	SealRuntime   bool      // RoleRuntime files are present only when true
	// RequireSigner, when set, is the SHA-256 of the DER SubjectPublicKeyInfo of the only
	// certificate whose Authenticode signature the (Windows) loader accepts on itself; the
	// loader refuses to start unsigned or signed by anyone else. Written as the optional
	// record "require-signer <hex>" after seal-runtime; nil writes no record.
	RequireSigner *[32]byte
	// VerifyAtImport, when set, has the loader check modules, their sealed bytecode and
	// extensions only where they are used (the bootstrap hashes the bytes it compiles, loads
	// or maps), not at start-up: start-up then costs what the data files and the directory
	// scan cost, however many modules are shipped. Written as the optional record
	// "verify-at-import on" after require-signer; false writes no record.
	VerifyAtImport bool
	Files          []File // sorted by Path in byte order in canonical form
}

// LineError is a decoding error that names the offending line (1-based).
type LineError struct {
	Line   int
	Reason string
}

func (e *LineError) Error() string {
	return fmt.Sprintf("manifest line %d: %s", e.Line, e.Reason)
}

func lineErr(line int, format string, args ...any) error {
	return &LineError{Line: line, Reason: fmt.Sprintf(format, args...)}
}

// RoleForPath returns the role implied by a relative app path's extension: module for .py
// and .pyw, extension for .so and .pyd, bytecode for .pyc, data for anything else. Matching
// ignores ASCII case. The entry script's role (RoleEntry) is set by the caller.
func RoleForPath(p string) Role {
	name := p[strings.LastIndexByte(p, '/')+1:]
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		return RoleData
	}
	switch ext := name[dot:]; {
	case strings.EqualFold(ext, ".py"), strings.EqualFold(ext, ".pyw"):
		return RoleModule
	case strings.EqualFold(ext, ".so"), strings.EqualFold(ext, ".pyd"):
		return RoleExtension
	case strings.EqualFold(ext, ".pyc"):
		return RoleBytecode
	}
	return RoleData
}

// Bundled reports whether the interpreter is the vendor's own, inside the delivery: its
// python-path (and python-trust paths) are app paths, not absolute ones.
func (m *Manifest) Bundled() bool {
	return m.PythonPath != "" && !isAbsolute(m.PythonPath)
}

// Sort puts m.Files and m.PythonTrust into canonical (byte) order in place, so that Lookup
// works on a manifest built by hand.
func (m *Manifest) Sort() {
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	sort.Strings(m.PythonTrust)
}

// Lookup finds the file with the given path by binary search. It requires m.Files to be in
// canonical order, as Decode returns them (or as Sort leaves them).
func (m *Manifest) Lookup(path string) (File, bool) {
	return lookup(m.Files, path)
}

// SHA256SumLines returns "<hex>  <path>\n" for every file, sorted by path: the input of
// `sha256sum -c` run from the app root (runtime files carry absolute paths).
func (m *Manifest) SHA256SumLines() []byte {
	files := m.sortedFiles()
	n := 0
	for _, f := range files {
		n += 64 + 2 + len(f.Path) + 1
	}
	b := make([]byte, 0, n)
	for _, f := range files {
		b = appendHex(b, &f.SHA256)
		b = append(b, "  "...)
		b = append(b, f.Path...)
		b = append(b, '\n')
	}
	return b
}

// sortedFiles returns m.Files if already sorted, else a sorted copy.
func (m *Manifest) sortedFiles() []File {
	if sort.SliceIsSorted(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path }) {
		return m.Files
	}
	files := append([]File(nil), m.Files...)
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files
}

// errInvalid is wrapped by every error Encode returns.
var errInvalid = errors.New("invalid manifest")
