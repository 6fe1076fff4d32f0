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

// How far a path has been checked (unixChecker.seen).
const (
	checkedAbove  = 1
	checkedStrict = 2
)

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
	rootUID uint32
	// userUID, with userOwns, is a second trusted owner: the user running a
	// bundled interpreter (Rule.Bundled), who also may own the delivery.
	userUID  uint32
	userOwns bool
	// stickyAbove accepts a sticky directory that is only above the checked
	// paths (Rule.Bundled): there only an entry's owner may rename it.
	stickyAbove bool
	// seen records each path checked: checkedAbove (a sticky directory may have
	// been accepted) or checkedStrict.
	seen     map[string]int
	problems []Problem
	links    int
}

func newUnixChecker(lstat lstatFunc, readlink readlinkFunc, stopAt string) *unixChecker {
	return &unixChecker{lstat: lstat, readlink: readlink, stopAt: stopAt, seen: make(map[string]int)}
}

// bundled switches to the rule for an interpreter inside the delivery (Rule.Bundled): uid
// may own paths too, and sticky directories above them are accepted.
func (c *unixChecker) bundled(uid uint32) {
	c.userUID, c.userOwns, c.stickyAbove = uid, true, true
}

// check applies the rule to p. mustExist is true for the interpreter itself;
// a trust path may be missing if its parent directory is safe.
func (c *unixChecker) check(p string, mustExist bool) {
	if !strings.HasPrefix(p, "/") {
		c.problems = append(c.problems, Problem{Path: p, Reason: "is not an absolute path", Fix: fixReseal})
		return
	}
	c.links = 0
	c.visitAs(path.Clean(p), mustExist, false)
}

func (c *unixChecker) visit(p string, mustExist bool) {
	c.visitAs(p, mustExist, false)
}

// visitAs applies the rule to p; above says p is only a directory above a checked path.
func (c *unixChecker) visitAs(p string, mustExist, above bool) {
	level := checkedStrict
	if above {
		level = checkedAbove
	}
	if c.seen[p] >= level || (c.stopAt != "" && p == c.stopAt) {
		return
	}
	c.seen[p] = level
	uid, mode, err := c.lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if mustExist {
			c.add(p, "does not exist", fixReinstall)
			return
		}
		// Absent is fine only if no one but root (or, bundled, the user) could create it:
		// its directory is held to the full rule, sticky or not.
		if parent := path.Dir(p); parent != p {
			c.visitAs(parent, false, false)
		}
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
	switch {
	case uid == c.rootUID || (c.userOwns && uid == c.userUID):
	case c.userOwns:
		reasons = append(reasons, fmt.Sprintf("is owned by uid %d, neither root nor the user running the app (uid %d)", uid, c.userUID))
	default:
		reasons = append(reasons, fmt.Sprintf("is owned by uid %d, not root", uid))
	}
	stickyOK := above && c.stickyAbove && mode.IsDir() && mode&fs.ModeSticky != 0
	if mode&0o022 != 0 && !stickyOK {
		reasons = append(reasons, fmt.Sprintf("is writable by group or others (%s)", modeString(mode)))
	}
	if len(reasons) > 0 {
		fix := fixUnixOwner
		if c.userOwns {
			fix = fixBundledOwner
		}
		c.add(p, strings.Join(reasons, " and "), fix)
	}
	c.visitParent(p, true)
}

func (c *unixChecker) visitParent(p string, mustExist bool) {
	if parent := path.Dir(p); parent != p {
		c.visitAs(parent, mustExist, true)
	}
}

// add records a problem once: a path checked again more strictly (see seen) reports only
// what is new.
func (c *unixChecker) add(p, reason, fix string) {
	for _, q := range c.problems {
		if q.Path == p && q.Reason == reason {
			return
		}
	}
	c.problems = append(c.problems, Problem{Path: p, Reason: reason, Fix: fix})
}

// run applies the rule to the interpreter and the trust paths.
func (c *unixChecker) run(exe string, trust []string) []Problem {
	c.check(exe, true)
	for _, t := range trust {
		c.check(t, false)
	}
	return c.problems
}
