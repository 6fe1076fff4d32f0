// Package cliflag holds the flag types that signet's commands share.
package cliflag

import "strings"

// List is a repeatable string flag: each use appends one value.
type List []string

// String returns the values joined by commas (flag.Value).
func (l *List) String() string { return strings.Join(*l, ",") }

// Set appends v (flag.Value).
func (l *List) Set(v string) error { *l = append(*l, v); return nil }
