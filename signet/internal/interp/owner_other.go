//go:build !unix && !windows

package interp

// checkOwnership cannot establish who may change files on this system, so
// the interpreter is refused.
func checkOwnership(exe string, trust []string) []Problem {
	return []Problem{{Path: exe, Reason: "interpreter ownership cannot be checked on this operating system", Fix: "use a supported operating system"}}
}
