//go:build !unix

package main

import "os"

func main() {
	os.Stderr.WriteString("execwrap: needs execve (Linux, Unix)\n")
	os.Exit(1)
}
