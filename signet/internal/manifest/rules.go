package manifest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/signet-dev/signet/signet/internal/apppath"
)

// The rules below are shared by Encode and Decode, so that whatever one accepts the other
// accepts too. They return errors without line numbers; Decode adds them.

func checkEntry(p string) error {
	if err := checkNoTrailingSpace(p); err != nil {
		return err
	}
	if err := apppath.Validate(p); err != nil {
		return fmt.Errorf("entry: %w", err)
	}
	return nil
}

func checkLevel(l Level) error {
	if l != LevelEnforce && l != LevelWarn {
		return fmt.Errorf("level %q is neither %q nor %q", l, LevelEnforce, LevelWarn)
	}
	return nil
}

// isAbsolute reports whether p has the shape of an absolute manifest path ("/..." or
// "X:..."); apppath.Validate refuses both shapes, so relative and absolute never overlap.
func isAbsolute(p string) bool {
	if strings.HasPrefix(p, "/") {
		return true
	}
	if len(p) >= 2 && p[1] == ':' {
		c := p[0] | 0x20
		return c >= 'a' && c <= 'z'
	}
	return false
}

func checkPythonPath(p string) error {
	if err := checkNoTrailingSpace(p); err != nil {
		return err
	}
	var err error
	if isAbsolute(p) {
		err = apppath.ValidateAbsolute(p)
	} else {
		err = apppath.Validate(p)
	}
	if err != nil {
		return fmt.Errorf("python-path: %w", err)
	}
	return nil
}

// checkPythonVersion accepts "X.Y" with decimal numbers of 1 to 3 digits without leading zeros.
func checkPythonVersion(v string) error {
	major, minor, ok := strings.Cut(v, ".")
	if !ok || !isSmallDecimal(major) || !isSmallDecimal(minor) {
		return fmt.Errorf("python-version %q is not of the form X.Y", v)
	}
	return nil
}

func isSmallDecimal(s string) bool {
	if s == "" || len(s) > 3 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkTrust checks one python-trust path. It has the form of the python-path: absolute for an
// interpreter installed on the machine, an app path (relative to the delivery) for a runtime
// bundled in the delivery, whose search path is inside it.
func checkTrust(p string, bundled bool) error {
	if err := checkNoTrailingSpace(p); err != nil {
		return err
	}
	var err error
	switch {
	case bundled && isAbsolute(p):
		return fmt.Errorf("python-trust %q is absolute, but the interpreter is bundled in the delivery: its trusted paths are app paths", p)
	case bundled:
		err = apppath.Validate(p)
	default:
		err = apppath.ValidateAbsolute(p)
	}
	if err != nil {
		return fmt.Errorf("python-trust: %w", err)
	}
	return nil
}

// checkFile checks one file record on its own (not its place among the others).
func checkFile(f *File, sealRuntime bool) error {
	if err := checkNoTrailingSpace(f.Path); err != nil {
		return err
	}
	if f.Size < 0 {
		return fmt.Errorf("file %q: negative size %d", f.Path, f.Size)
	}
	switch f.Role {
	case RoleRuntime:
		if !sealRuntime {
			return fmt.Errorf("file %q: role runtime but seal-runtime is off", f.Path)
		}
		if err := apppath.ValidateAbsolute(f.Path); err != nil {
			return fmt.Errorf("runtime file: %w", err)
		}
		return nil
	case RoleEntry, RoleModule, RoleExtension, RoleBytecode, RoleData:
	default:
		return fmt.Errorf("file %q: unknown role %q", f.Path, f.Role)
	}
	if err := apppath.Validate(f.Path); err != nil {
		return fmt.Errorf("file: %w", err)
	}
	if f.Role != RoleEntry {
		if want := RoleForPath(f.Path); f.Role != want {
			return fmt.Errorf("file %q: role %s, want %s for this name", f.Path, f.Role, want)
		}
	}
	return nil
}

func checkNoTrailingSpace(p string) error {
	if strings.HasSuffix(p, " ") {
		return fmt.Errorf("path %q ends with a space, which a manifest cannot hold", p)
	}
	return nil
}

var errNoEntryFile = errors.New("the entry script is not listed as a file")
