package loader

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestManageMemory: after ManageMemory the collector is off and the limit is the base; the
// manifest and payload sizes raise the limit; releaseMemory restores the default collector.
// Without ManageMemory (tests calling run), none of it touches the process's policy.
func TestManageMemory(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		memoryManaged = false
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})

	memoryManaged = false
	allowMemory(1<<20, 1<<20)
	releaseMemory()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("allowMemory before ManageMemory set the memory limit to %d", got)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("releaseMemory before ManageMemory set GC percent %d", got)
	}

	ManageMemory()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GC percent after ManageMemory = %d, want -1 (off)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != baseMemoryLimit {
		t.Errorf("memory limit after ManageMemory = %d, want %d", got, baseMemoryLimit)
	}
	allowMemory(1<<20, 5<<20)
	if got, want := debug.SetMemoryLimit(-1), int64(baseMemoryLimit+manifestFactor<<20+2*5<<20); got != want {
		t.Errorf("memory limit after allowMemory(1 MiB, 5 MiB) = %d, want %d", got, want)
	}
	releaseMemory()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent after releaseMemory = %d, want 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit after releaseMemory = %d, want none", got)
	}
}

// TestMemoryLimitCoversALargeStart: the limit stays above what a start-up of a large app
// holds live (measured ~8 bytes of heap per manifest byte at 50,000 files, plus the
// payload), so the collector does not run over and over near it.
func TestMemoryLimitCoversALargeStart(t *testing.T) {
	for _, tc := range []struct{ manifest, payload int }{
		{0, 0}, {6 << 20, 0}, {6 << 20, 128 << 20}, {100 << 10, 4 << 20},
	} {
		live := int64(8*tc.manifest + tc.payload)
		if got := memoryLimit(tc.manifest, tc.payload); got < live+baseMemoryLimit {
			t.Errorf("memoryLimit(%d, %d) = %d, below the live heap %d plus the base", tc.manifest, tc.payload, got, live)
		}
	}
}
