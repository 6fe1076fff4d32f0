// Package signet holds the source of the loader stub, embedded so that the signet tool can
// build a stub for any target with the local Go toolchain (see signet/internal/stubs and
// docs/design.md, "How signet seal gets stubs").
package signet

import "embed"

// StubSource is the source of every package the loader stub is built from, with paths
// relative to this directory ("cmd/loader/main.go", "internal/manifest/encode.go", ...). It also
// holds the packages' _test.go files, which signet/internal/stubs leaves out when it writes the
// source out to build it.
//
//go:embed cmd/loader/*.go internal/loader/*.go internal/manifest/*.go internal/apppath/*.go internal/payload/*.go internal/pefile/*.go internal/treecheck/*.go internal/interp/*.go internal/launch/*.go internal/launch/*.py internal/auditlog/*.go internal/verifycache/*.go
var StubSource embed.FS
