package interp

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// lstatFunc returns the owner and mode of a path without following a final
// symlink; an error wrapping fs.ErrNotExist means the path does not exist.
type lstatFunc func(path string) (uid uint32, mode fs.FileMode, err error)

// readlinkFunc returns a symlink's target.
type readlinkFunc func(path string) (string, error)

// maxLinks bounds symlink resolution, like the kernel's limit of 40.
const maxLinks = 40

// unixChecker applies the Unix ownership rule to paths and the directories
// above them, reporting each offending path once.
type unixChecker struct {
	lstat    lstatFunc
	readlink readlinkFunc
	// stopAt, when not empty, is a directory that is taken as safe without
	// looking at it or above it (tests run under a world-writable /tmp).
	stopAt string
	// rootUID is the owner that is trusted: 0, except in tests that run
	// unprivileged.
	rootUID  uint32
	seen     map[string]bool
	problems []Problem
	links    int
}

func newUnixChecker(lstat lstatFunc, readlink readlinkFunc, stopAt string) *unixChecker {
	return &unixChecker{lstat: lstat, readlink: readlink, stopAt: stopAt, seen: make(map[string]bool)}
}

// check applies the rule to p. mustExist is true for the interpreter itself;
// a trust path may be missing if its parent directory is safe.
func (c *unixChecker) check(p string, mustExist bool) {
	if !strings.HasPrefix(p, "/") {
		c.problems = append(c.problems, Problem{Path: p, Reason: "is not an absolute path", Fix: fixReseal})
		return
	}
	c.links = 0
	c.visit(path.Clean(p), mustExist)
}

func (c *unixChecker) visit(p string, mustExist bool) {
	if c.seen[p] || (c.stopAt != "" && p == c.stopAt) {
		return
	}
	c.seen[p] = true
	uid, mode, err := c.lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if mustExist {
			c.add(p, "does not exist", fixReinstall)
			return
		}
		// Absent is fine only if no one but root could create it.
		c.visitParent(p, false)
		return
	case err != nil:
		c.add(p, fmt.Sprintf("cannot be checked: %v", err), fixCannotCheck)
		return
	case mode&fs.ModeSymlink != 0:
		// The link itself can only be replaced through its directory; then
		// the target is held to the same rule.
		c.visitParent(p, true)
		c.links++
		if c.links > maxLinks {
			c.add(p, "too many levels of symbolic links", fixReinstall)
			return
		}
		target, err := c.readlink(p)
		if err != nil {
			c.add(p, fmt.Sprintf("cannot read the symlink: %v", err), fixCannotCheck)
			return
		}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(p), target)
		}
		c.visit(path.Clean(target), mustExist)
		return
	}
	var reasons []string
	if uid != c.rootUID {
		reasons = append(reasons, fmt.Sprintf("is owned by uid %d, not root", uid))
	}
	if mode&0o022 != 0 {
		reasons = append(reasons, fmt.Sprintf("is writable by group or others (%s)", modeString(mode)))
	}
	if len(reasons) > 0 {
		c.add(p, strings.Join(reasons, " and "), fixUnixOwner)
	}
	c.visitParent(p, true)
}

func (c *unixChecker) visitParent(p string, mustExist bool) {
	if parent := path.Dir(p); parent != p {
		c.visit(parent, mustExist)
	}
}

func (c *unixChecker) add(p, reason, fix string) {
	c.problems = append(c.problems, Problem{Path: p, Reason: reason, Fix: fix})
}
