package loader

import "runtime/debug"

// The loader's heap is short-lived and nearly all live: the manifest, the payload it hands
// to the interpreter, a read buffer per worker. A start-up ends in execve (Linux) or in
// waiting for the child (Windows), so garbage collection during it only costs time: with
// the default policy, allocating a few megabytes of sealed bytecode started collections
// whose stop-the-world preemption signals and extra threads made a 300-module app start
// 1.20x plain Python instead of 1.07x (BENCHMARKS.md, "Big app"). So the collector is off,
// and runs only when the heap approaches a limit: baseMemoryLimit plus the payload laid
// out for the interpreter. Peak memory stays bounded whatever the app's size.
const baseMemoryLimit = 24 << 20

// memoryManaged is set by ManageMemory; tests that call run directly keep the default
// collector.
var memoryManaged bool

// ManageMemory turns the collector off until the heap nears baseMemoryLimit. Main calls it
// first; a program that runs the launch path without Main (bench/cmd/bootexec) calls it to
// run under the same policy.
func ManageMemory() {
	memoryManaged = true
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(baseMemoryLimit)
}

// allowPayload raises the memory limit by the size of the payload that the start-up builds.
func allowPayload(n int) {
	if memoryManaged {
		debug.SetMemoryLimit(baseMemoryLimit + int64(n))
	}
}
