//go:build !unix

package treecheck

// platformCases: symlinks need privileges and FIFOs do not exist here.
func platformCases() []treeCase { return nil }
