//go:build linux && !amd64 && !arm64

package treecheck

// sysFstatat is 0: on these architectures a file is opened and fstat'ed to learn its
// identity (their fstatat64 fills another struct than syscall.Stat_t).
const sysFstatat = 0
