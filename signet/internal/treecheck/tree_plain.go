//go:build !unix && !windows

package treecheck

// Systems without O_NOFOLLOW (plan9, wasm) rely on the Lstat/SameFile checks alone.
const extraOpenFlags = 0
