// Package platform is the table of target platforms signet makes loaders for: the one list
// in Go. Bazel's list (SIGNET_PLATFORMS in toolchains/platforms.bzl) is checked against it by
// this package's test, so adding a platform is an entry here and there, and a test fails
// until both agree.
package platform

import (
	"fmt"
	"strings"
)

// Platform is one target: an operating system and CPU architecture, in Go's and Bazel's
// spelling.
type Platform struct {
	GOOS, GOARCH string // Go's names: "linux", "amd64"
	BazelOS      string // @platforms//os constraint: "linux", "windows"
	BazelCPU     string // @platforms//cpu constraint: "x86_64", "aarch64"
}

// All lists the targets, in the order users see them.
var All = []Platform{
	{GOOS: "linux", GOARCH: "amd64", BazelOS: "linux", BazelCPU: "x86_64"},
	{GOOS: "linux", GOARCH: "arm64", BazelOS: "linux", BazelCPU: "aarch64"},
	{GOOS: "windows", GOARCH: "amd64", BazelOS: "windows", BazelCPU: "x86_64"},
	{GOOS: "windows", GOARCH: "arm64", BazelOS: "windows", BazelCPU: "aarch64"},
}

// String is the target as users write it: "linux/amd64".
func (p Platform) String() string { return p.GOOS + "/" + p.GOARCH }

// Key is the target's name in Bazel targets and output groups: "linux_amd64".
func (p Platform) Key() string { return p.GOOS + "_" + p.GOARCH }

// Windows reports whether loaders for p are Windows executables (PE, ".exe").
func (p Platform) Windows() bool { return p.GOOS == "windows" }

// ExeName returns name as the executable file name for p: with ".exe" for Windows (unless
// it already ends in it, in any case), unchanged otherwise.
func (p Platform) ExeName(name string) string {
	if p.Windows() && !strings.HasSuffix(strings.ToLower(name), ".exe") {
		return name + ".exe"
	}
	return name
}

// Names lists every target as users write them, comma-separated, for messages.
func Names() string {
	names := make([]string, len(All))
	for i, p := range All {
		names[i] = p.String()
	}
	return strings.Join(names, ", ")
}

// Parse returns the platform named "os/arch", or an error that lists the known ones.
func Parse(target string) (Platform, error) {
	goos, goarch, _ := strings.Cut(target, "/")
	if p, ok := Lookup(goos, goarch); ok {
		return p, nil
	}
	return Platform{}, fmt.Errorf("unknown target %q (want one of %s)", target, Names())
}

// Lookup returns the platform with Go's names goos and goarch, if it is a target.
func Lookup(goos, goarch string) (Platform, bool) {
	for _, p := range All {
		if p.GOOS == goos && p.GOARCH == goarch {
			return p, true
		}
	}
	return Platform{}, false
}
