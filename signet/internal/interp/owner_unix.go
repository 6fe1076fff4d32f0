//go:build unix

package interp

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwnership applies the Unix rule to the interpreter and the trust paths.
func checkOwnership(exe string, trust []string, bundled bool) []Problem {
	c := newUnixChecker(lstatOwner, os.Readlink, "")
	if bundled {
		c.bundled(uint32(os.Geteuid()))
	}
	return c.run(exe, trust)
}

func checkUnixPaths(exe string, trust []string, stopAt string, lstat lstatFunc, readlink readlinkFunc) []Problem {
	return newUnixChecker(lstat, readlink, stopAt).run(exe, trust)
}

func lstatOwner(p string) (uint32, fs.FileMode, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return 0, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fmt.Errorf("lstat %s: no owner information", p)
	}
	return st.Uid, fi.Mode(), nil
}
