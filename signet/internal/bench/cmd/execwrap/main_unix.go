//go:build unix

// Command execwrap is the floor of any Go loader on Linux: it starts the Go runtime and
// replaces itself with its arguments (execve), doing nothing else.
//
//	execwrap /usr/bin/python3.11 -I -S hello.py
//
// Built like the loader stub (CGO_ENABLED=0, -trimpath, -ldflags='-s -w -buildid='), the
// difference between its start-up and the program's own is what the Go runtime costs.
// Elsewhere (no execve) it only says so.
package main

import (
	"os"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		os.Stderr.WriteString("usage: execwrap /absolute/program [args...]\n")
		os.Exit(2)
	}
	err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	os.Stderr.WriteString("execwrap: " + os.Args[1] + ": " + err.Error() + "\n")
	os.Exit(1)
}
