package main

import (
	"os/exec"
	"testing"
)

func TestPeakRSSOfAFinishedChild(t *testing.T) {
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if kib := peakRSSKiB(cmd.ProcessState); kib <= 0 || kib > 1<<20 {
		t.Errorf("peakRSSKiB(/bin/true) = %d KiB, want a small positive size", kib)
	}
}
