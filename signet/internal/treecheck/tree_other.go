//go:build unix && !linux

package treecheck

import "syscall"

// Non-blocking so a FIFO swapped in after the Lstat cannot stall the check;
// no-follow so a symlink swapped in fails to open.
const extraOpenFlags = syscall.O_NONBLOCK | syscall.O_NOFOLLOW
