// Package interp applies the interpreter rule of the loader stub: the
// interpreter the app was sealed against may only be used if no one but the
// system's administrators could have changed it or what it loads first.
//
// Concretely, Check verifies, for the interpreter executable and every
// "trust" path (its sys.path entries and libpython), and for every directory
// above each of them up to the file system root:
//
//   - Linux and other Unix: owned by root (uid 0) and not writable by group
//     or others, like OpenSSH StrictModes. Symlinks are followed: the link's
//     own directory chain and its target's are both checked. A world-writable
//     sticky directory (such as /tmp) in the chain is refused too.
//   - Windows: owned by SYSTEM, TrustedInstaller or Administrators, and the
//     DACL grants no write-type right to anyone else on the interpreter, its
//     directory and each trust path; the directory above python.exe (where
//     pyvenv.cfg is looked for) may not let others add files; directories
//     higher up may not let others delete, rename or re-permission anything
//     (creating new folders there, as users may in C:\, is allowed). See the
//     masks in sddl.go; the rule is applied to the SDDL string of each path.
//
// A trust path that does not exist (such as /usr/lib/python311.zip, which is
// on sys.path even when absent) is accepted only if its parent directory
// passes the rule, so that no one else could create it. Files that steer
// CPython's start-up from beside the executable (pyvenv.cfg, ._pth files,
// pythonXY.zip) must be absent unless they are sealed. When the seal pins the
// interpreter's SHA-256, the executable is hashed too.
package interp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Rule is what the seal says about the interpreter.
type Rule struct {
	// Path is the absolute interpreter executable (forward slashes on
	// Windows, e.g. C:/Python311/python.exe).
	Path string
	// Version is the sealed "X.Y", e.g. "3.11".
	Version string
	// SHA256, when set, pins the executable's digest.
	SHA256 *[32]byte
	// Trust lists absolute files and directories whose ownership must be
	// safe: the interpreter's sys.path entries and where libpython lives.
	Trust []string
	// Sealed reports whether an absolute path is a sealed runtime file; a
	// sealed steering file (e.g. a vendor's python311._pth) is allowed. Nil
	// means none is sealed.
	Sealed func(path string) bool
	// Bundled says the interpreter is the vendor's own, inside the delivery,
	// whose every file the loader has just hashed. Then the ownership rule
	// protects the delivery rather than a system installation: on Unix each
	// path and the directories above it may be owned by root or by the user
	// running the app (no one else could swap a checked file before it is
	// used), and a sticky directory above the delivery (such as /tmp) is
	// accepted, since only the owner of an entry may rename it there. On
	// Windows the system installation's rule still applies.
	Bundled bool
}

// Problem is one reason the interpreter may not be used.
type Problem struct {
	Path   string // the path that fails the rule
	Reason string // what is wrong with it
	Fix    string // what an administrator can do about it
}

// String renders the problem as one line: "PATH: REASON: FIX".
func (p Problem) String() string {
	s := p.Path + ": " + p.Reason
	if p.Fix != "" {
		s += ": " + p.Fix
	}
	return s
}

// Fixes suggested in problems.
const (
	fixReseal    = "re-seal against the new interpreter"
	fixReinstall = "reinstall the interpreter the app was sealed against, or re-seal"
	fixSteering  = "remove it, or seal it with the app as a runtime file"
	fixUnixOwner = "chown root and chmod go-w"
	// fixBundledOwner is for a path of a delivery that bundles its own interpreter.
	fixBundledOwner = "chown it to yourself (or root) and chmod go-w"
	fixWindowsACL   = "make SYSTEM, TrustedInstaller or Administrators the owner and remove write access for everyone else (install the interpreter for all users)"
	fixCannotCheck  = "make it readable to the user running the app, or re-seal"
)

// Check applies the whole interpreter rule except the version (which the
// bootstrap checks from inside the interpreter, see VersionProblem) and
// returns every problem found; none means the interpreter may be used.
func Check(r Rule) []Problem {
	problems := checkOwnership(r.Path, r.Trust, r.Bundled)
	problems = append(problems, CheckSteeringFiles(r.Path, r.Version, r.Sealed)...)
	if r.SHA256 != nil {
		if p, bad := checkDigest(r.Path, *r.SHA256); bad {
			problems = append(problems, p)
		}
	}
	return problems
}

// VersionProblem is the problem reported when the interpreter at path runs
// version running although the app was sealed against version sealed; it
// reads "PATH: python3.11 was replaced by 3.12: re-seal against the new
// interpreter".
func VersionProblem(path, sealed, running string) Problem {
	return Problem{
		Path:   path,
		Reason: fmt.Sprintf("python%s was replaced by %s", sealed, running),
		Fix:    fixReseal,
	}
}

// checkDigest hashes the interpreter executable. Only a regular file is
// opened, so a FIFO planted at the path cannot block the loader.
func checkDigest(path string, want [32]byte) (Problem, bool) {
	fail := func(reason string) (Problem, bool) {
		return Problem{Path: path, Reason: reason, Fix: fixReinstall}, true
	}
	fi, err := os.Stat(nativePath(path))
	if err != nil {
		return fail(fmt.Sprintf("cannot be hashed: %v", err))
	}
	if !fi.Mode().IsRegular() {
		return fail("is not a regular file")
	}
	f, err := os.Open(nativePath(path))
	if err != nil {
		return fail(fmt.Sprintf("cannot be hashed: %v", err))
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fail(fmt.Sprintf("cannot be hashed: %v", err))
	}
	var got [32]byte
	h.Sum(got[:0])
	if got != want {
		return Problem{
			Path:   path,
			Reason: fmt.Sprintf("SHA-256 is %s, sealed %s", hex.EncodeToString(got[:]), hex.EncodeToString(want[:])),
			Fix:    fixReinstall,
		}, true
	}
	return Problem{}, false
}

// modeString words a Unix mode for a problem, e.g. "drwxrwxrwt".
func modeString(m os.FileMode) string {
	return strings.TrimSpace(m.String())
}

// nativePath turns a rule path (forward slashes) into one for the os package.
func nativePath(p string) string {
	return filepath.FromSlash(p)
}
