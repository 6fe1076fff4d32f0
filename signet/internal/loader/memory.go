package loader

import (
	"math"
	"runtime/debug"
)

// The loader's heap is short-lived and nearly all live: the manifest and what is decoded
// from it, the payload it hands to the interpreter, a read buffer per worker. A start-up
// ends in execve (Linux) or in waiting for the child (Windows), so garbage collection
// during it only costs time: with the default policy, allocating a few megabytes of sealed
// bytecode started collections whose stop-the-world preemption signals and extra threads
// made a 300-module app start 1.20x plain Python instead of 1.06x (BENCHMARKS.md, "Big
// app"). So the collector is off, and runs only when the heap approaches a limit that
// grows with what the start-up must hold (memoryLimit). The limit is soft: past it the
// collector runs, so garbage never piles up beyond it, but a limit set below the live heap
// would make the collector run over and over; hence the generous factors.
const baseMemoryLimit = 24 << 20

// Per byte of manifest, the live heap of a start-up holds the raw bytes, the decoded
// records (paths, digests), the tree check's list and the preload's slot map: measured
// ~8 bytes per manifest byte at 50,000 files. manifestFactor leaves room above that.
const manifestFactor = 16

// memoryLimit is the heap size at which the loader's collector runs, for a manifest of
// manifestBytes and a payload of payloadBytes (twice: a warn-level start with problems
// builds a second payload from disk).
func memoryLimit(manifestBytes, payloadBytes int) int64 {
	return baseMemoryLimit + manifestFactor*int64(manifestBytes) + 2*int64(payloadBytes)
}

// memoryManaged is set by ManageMemory; tests that call run directly keep the default
// collector.
var memoryManaged bool

// ManageMemory turns the collector off until the heap nears baseMemoryLimit. Main calls it
// first; a program that runs the launch path without Main (signet/internal/bench/cmd/bootexec) calls it to
// run under the same policy.
func ManageMemory() {
	memoryManaged = true
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(baseMemoryLimit)
}

// allowMemory raises the memory limit for a start-up that holds a manifest of
// manifestBytes and a payload of payloadBytes.
func allowMemory(manifestBytes, payloadBytes int) {
	if memoryManaged {
		debug.SetMemoryLimit(memoryLimit(manifestBytes, payloadBytes))
	}
}

// releaseMemory restores the default collector and returns free memory to the OS: for a
// loader that stays alive while the app runs (Windows), once the payload is handed over.
// With the collector off the runtime's periodic forced collection is off too, so without
// this an idle loader would keep whatever the start-up left behind.
func releaseMemory() {
	if memoryManaged {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		debug.FreeOSMemory()
	}
}
