package main

import (
	"os"
	"syscall"
)

// peakRSSKiB returns the peak resident set size of a finished child (ru_maxrss, KiB on
// Linux). It includes whatever the child exec'd: Linux keeps the larger peak across execve.
func peakRSSKiB(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss)
	}
	return 0
}
