//go:build !linux

package main

import "os"

// peakRSSKiB is 0 where ru_maxrss is not in KiB or not available.
func peakRSSKiB(*os.ProcessState) int64 { return 0 }
