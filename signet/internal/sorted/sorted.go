// Package sorted makes the sorted, duplicate-free string lists that manifests and other
// canonical outputs are built from.
package sorted

import "slices"

// Unique returns a sorted copy of s without repeats; s is not changed.
func Unique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
