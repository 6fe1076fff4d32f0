// Package apppath holds the path rules shared by the seal tool and the loader stub: which
// strings are acceptable app paths and interpreter paths in a manifest, and which file and
// directory names Python could import (and so must never appear unsealed in an app tree).
//
// It imports only the standard library: it is part of the loader stub.
package apppath

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

const (
	// MaxPathLen is the longest path, in bytes, that Validate and ValidateAbsolute accept.
	MaxPathLen = 4096
	// MaxComponentLen is the longest path component, in bytes.
	MaxComponentLen = 255
)

// Validate reports whether p is an acceptable relative app path: non-empty, '/'-separated,
// not starting with '/', with no empty, "." or ".." component, valid UTF-8 without NUL,
// control characters (below 0x20, and 0x7f) or backslash, at most MaxPathLen bytes with
// components of at most MaxComponentLen bytes. A first component that looks like a Windows
// drive ("C:") is refused too, so that a relative path can never be read as an absolute one.
func Validate(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if p[0] == '/' {
		return fmt.Errorf("path %q is absolute, want a path relative to the app root", p)
	}
	if isDrive(p) {
		return fmt.Errorf("path %q starts with a drive letter, want a path relative to the app root", p)
	}
	return validateComponents(p, p)
}

// ValidateAbsolute reports whether p is an acceptable absolute path for the interpreter,
// its trusted directories, and runtime files: either "/..." (Unix) or "X:/..." with an ASCII
// drive letter and forward slashes (Windows paths are written with '/' in a manifest). The
// part after the root follows the same rules as Validate; the bare root is refused.
func ValidateAbsolute(p string) error {
	var rest string
	switch {
	case strings.HasPrefix(p, "/"):
		rest = p[1:]
	case len(p) >= 3 && isDrive(p) && p[2] == '/':
		rest = p[3:]
	default:
		return fmt.Errorf("path %q is not absolute (want /... or X:/...)", p)
	}
	if rest == "" {
		return fmt.Errorf("path %q is a bare root", p)
	}
	return validateComponents(p, rest)
}

// isDrive reports whether p starts with an ASCII letter followed by ':' and then either the
// end of the string or '/'.
func isDrive(p string) bool {
	if len(p) < 2 || p[1] != ':' {
		return false
	}
	c := p[0] | 0x20
	return c >= 'a' && c <= 'z' && (len(p) == 2 || p[2] == '/')
}

// validateComponents checks rest (a '/'-separated relative path) and names full in errors.
func validateComponents(full, rest string) error {
	if len(full) > MaxPathLen {
		return fmt.Errorf("path %.64q... is %d bytes long, over the limit of %d", full, len(full), MaxPathLen)
	}
	if !utf8.ValidString(full) {
		return fmt.Errorf("path %q is not valid UTF-8", full)
	}
	for i := 0; i < len(full); i++ {
		switch c := full[i]; {
		case c == 0:
			return fmt.Errorf("path %q contains a NUL byte", full)
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("path %q contains control character %#02x", full, c)
		case c == '\\':
			return fmt.Errorf("path %q contains a backslash (use '/')", full)
		}
	}
	for rest != "" {
		comp := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			comp, rest = rest[:i], rest[i+1:]
			if rest == "" {
				return fmt.Errorf("path %q ends with '/'", full)
			}
		} else {
			rest = ""
		}
		switch {
		case comp == "":
			return fmt.Errorf("path %q has an empty component", full)
		case comp == "." || comp == "..":
			return fmt.Errorf("path %q has a %q component", full, comp)
		case len(comp) > MaxComponentLen:
			return fmt.Errorf("path %q has a component of %d bytes, over the limit of %d", full, len(comp), MaxComponentLen)
		}
	}
	return nil
}

// importableFileSuffixes are the file name endings (lower case) that Python can import or
// that change what it imports: modules, bytecode, extensions, archives on sys.path, path
// configuration files, and shared libraries an extension module can load from its own
// directory (Windows searches an extension's directory for its DLLs).
var importableFileSuffixes = []string{
	".py", ".pyw", ".pyc", ".pyo", ".pth", "._pth",
	".so", ".pyd", ".dll", ".dylib",
	".zip", ".egg", ".whl",
}

// importableDirSuffixes are the directory name endings (lower case) that carry importable
// or import-steering content.
var importableDirSuffixes = []string{".dist-info", ".egg-info", ".egg"}

// IsImportableName reports whether a file (isDir false) or directory (isDir true) with the
// final path component name could be imported by Python or could steer what it imports.
// An unsealed entry with such a name in an app tree is UNEXPECTED.
//
// Files: *.py *.pyw *.pyc *.pyo *.pth *._pth, extensions *.so (which covers
// foo.cpython-311-x86_64-linux-gnu.so and foo.abi3.so) and *.pyd, shared libraries *.dll,
// *.dylib and versioned *.so.N[.N...], archives *.zip *.egg *.whl, and pyvenv.cfg.
// Directories: __pycache__, *.dist-info, *.egg-info, *.egg.
//
// Matching ignores case (Windows file systems do, and CPython's finder lower-cases suffixes
// there) and trailing dots and spaces (Win32 strips them when opening a file).
func IsImportableName(name string, isDir bool) bool {
	name = strings.ToLower(strings.TrimRight(name, ". "))
	if name == "" {
		return false
	}
	if isDir {
		if name == "__pycache__" {
			return true
		}
		return hasAnySuffix(name, importableDirSuffixes)
	}
	if name == "pyvenv.cfg" {
		return true
	}
	return hasAnySuffix(name, importableFileSuffixes) || isVersionedSharedLib(name)
}

func hasAnySuffix(name string, suffixes []string) bool {
	for _, s := range suffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// isVersionedSharedLib reports whether name looks like libfoo.so.1 or libfoo.so.1.2.3: an
// extension module with an $ORIGIN run path would load such a library from the app tree.
func isVersionedSharedLib(name string) bool {
	i := strings.LastIndex(name, ".so.")
	if i <= 0 {
		return false
	}
	ver := name[i+len(".so."):]
	if ver == "" {
		return false
	}
	for j := 0; j < len(ver); j++ {
		if c := ver[j]; (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}
