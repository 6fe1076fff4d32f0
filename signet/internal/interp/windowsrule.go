package interp

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// sddlFunc returns the SDDL of a Windows path (forward slashes); an error
// wrapping fs.ErrNotExist means the path does not exist.
type sddlFunc func(path string) (string, error)

// windowsChecker applies the Windows rule. Each path is checked at the
// strictest level it is needed at, and reported once.
type windowsChecker struct {
	sddl     sddlFunc
	checked  map[string]uint32 // path -> mask it was checked with
	problems []Problem
}

func newWindowsChecker(get sddlFunc) *windowsChecker {
	return &windowsChecker{sddl: get, checked: make(map[string]uint32)}
}

// isDrivePath reports whether p is "X:/..." (a local drive path).
func isDrivePath(p string) bool {
	return len(p) >= 3 && p[1] == ':' && p[2] == '/' &&
		((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z'))
}

// checkExe applies the rule to the interpreter executable: the file and its
// directory (where python.exe loads DLLs and ._pth files from) may not be
// writable at all; the directory above (pyvenv.cfg) may not receive files;
// everything higher must not let anyone replace what is below.
func (c *windowsChecker) checkExe(exe string) {
	if !c.validate(exe) {
		return
	}
	exe = winClean(exe)
	c.node(exe, maskTarget, true)
	dir, ok := winParent(exe)
	if !ok {
		return
	}
	c.node(dir, maskTarget, true)
	if up, ok := winParent(dir); ok {
		c.node(up, maskNoNewFiles, true)
	}
	c.ancestors(dir)
}

// checkTrust applies the rule to a trust path: the path itself may not be
// writable; when it does not exist, its parent must not be writable either.
func (c *windowsChecker) checkTrust(p string) {
	if !c.validate(p) {
		return
	}
	p = winClean(p)
	for !c.node(p, maskTarget, false) {
		// Missing: no one else may be able to create it.
		parent, ok := winParent(p)
		if !ok {
			return
		}
		p = parent
	}
	c.ancestors(p)
}

func (c *windowsChecker) validate(p string) bool {
	if !isDrivePath(p) || strings.Contains(p, `\`) || !isDrivePath(winClean(p)) || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
		c.problems = append(c.problems, Problem{Path: p, Reason: "is not an absolute local path like C:/Python311/python.exe", Fix: fixReseal})
		return false
	}
	return true
}

// ancestors checks every directory above p up to the drive root.
func (c *windowsChecker) ancestors(p string) {
	for {
		parent, ok := winParent(p)
		if !ok {
			return
		}
		c.node(parent, maskAncestor, true)
		p = parent
	}
}

// winClean cleans a drive path, keeping the root as "X:/".
func winClean(p string) string {
	c := path.Clean(p)
	if len(c) == 2 && c[1] == ':' {
		return c + "/"
	}
	return c
}

// winParent returns the directory above a clean drive path; the root "X:/"
// has none.
func winParent(p string) (string, bool) {
	if len(p) <= 3 {
		return "", false
	}
	i := strings.LastIndexByte(p, '/')
	if i <= 2 {
		return p[:3], true
	}
	return p[:i], true
}

// node checks one path against mask and reports whether it exists. A
// missing path is a problem only if mustExist.
func (c *windowsChecker) node(p string, mask uint32, mustExist bool) bool {
	if done, ok := c.checked[p]; ok && done&mask == mask {
		return true
	}
	s, err := c.sddl(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if mustExist {
			c.add(p, "does not exist", fixReinstall)
			return true // reported; do not treat as creatable
		}
		return false
	case err != nil:
		c.add(p, fmt.Sprintf("security descriptor cannot be read: %v", err), fixCannotCheck)
		return true
	}
	c.checked[p] |= mask
	sd, err := parseSDDL(s)
	if err != nil {
		c.add(p, fmt.Sprintf("security descriptor cannot be understood: %v", err), fixWindowsACL)
		return true
	}
	if reasons := unsafeReasons(sd, mask); len(reasons) > 0 {
		c.add(p, strings.Join(reasons, "; "), fixWindowsACL)
	}
	return true
}

// add records a problem, replacing an earlier one for the same path (a
// stricter level repeats the lighter level's findings).
func (c *windowsChecker) add(p, reason, fix string) {
	for i := range c.problems {
		if c.problems[i].Path == p {
			c.problems[i] = Problem{Path: p, Reason: reason, Fix: fix}
			return
		}
	}
	c.problems = append(c.problems, Problem{Path: p, Reason: reason, Fix: fix})
}
