package loader

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestManageMemory: after ManageMemory the collector is off and the limit is the base; the
// payload's size raises the limit. Without ManageMemory (tests calling run), allowPayload
// leaves the process's policy alone.
func TestManageMemory(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		memoryManaged = false
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})

	memoryManaged = false
	allowPayload(1 << 20)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("allowPayload before ManageMemory set the memory limit to %d", got)
	}

	ManageMemory()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GC percent after ManageMemory = %d, want -1 (off)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != baseMemoryLimit {
		t.Errorf("memory limit after ManageMemory = %d, want %d", got, baseMemoryLimit)
	}
	allowPayload(5 << 20)
	if got, want := debug.SetMemoryLimit(-1), int64(baseMemoryLimit+5<<20); got != want {
		t.Errorf("memory limit after allowPayload(5 MiB) = %d, want %d", got, want)
	}
}
