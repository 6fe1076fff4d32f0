package platform

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"linux/amd64", "linux_amd64", false},
		{"windows/arm64", "windows_arm64", false},
		{"darwin/arm64", "", true},
		{"linux", "", true},
		{"", "", true},
		{"linux/amd64/x", "", true},
		{"Linux/amd64", "", true},
	} {
		p, err := Parse(tc.in)
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), Names()) {
				t.Errorf("Parse(%q) = %v, %v; want an error listing %s", tc.in, p, err, Names())
			}
			continue
		}
		if err != nil || p.Key() != tc.want || p.String() != tc.in {
			t.Errorf("Parse(%q) = %v (%s), %v; want %s", tc.in, p, p.Key(), err, tc.want)
		}
	}
}

func TestExeName(t *testing.T) {
	win, _ := Lookup("windows", "amd64")
	lin, _ := Lookup("linux", "amd64")
	for _, tc := range []struct {
		p          Platform
		in, wanted string
	}{
		{win, "hello", "hello.exe"},
		{win, "hello.EXE", "hello.EXE"},
		{win, "dist/hello", "dist/hello.exe"},
		{lin, "hello", "hello"},
		{lin, "hello.exe", "hello.exe"},
	} {
		if got := tc.p.ExeName(tc.in); got != tc.wanted {
			t.Errorf("%s.ExeName(%q) = %q, want %q", tc.p, tc.in, got, tc.wanted)
		}
	}
}

// TestBazelTableAgrees checks SIGNET_PLATFORMS in toolchains/platforms.bzl, Bazel's copy of
// this table, entry by entry.
func TestBazelTableAgrees(t *testing.T) {
	// go test runs in this package's directory; Bazel runs it in the same place in the
	// runfiles tree, where the data dependency puts the .bzl file.
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "toolchains", "platforms.bzl"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)SIGNET_PLATFORMS = \{\n(.*?)\n\}`).FindSubmatch(src)
	if block == nil {
		t.Fatal("toolchains/platforms.bzl has no SIGNET_PLATFORMS = {...} block")
	}
	entry := regexp.MustCompile(`^\s*"(\w+)": struct\(goos = "(\w+)", goarch = "(\w+)", os = "(\w+)", cpu = "(\w+)"`)
	var got []Platform
	for _, line := range strings.Split(string(block[1]), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		m := entry.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("toolchains/platforms.bzl: cannot read the SIGNET_PLATFORMS entry %q", line)
		}
		p := Platform{GOOS: m[2], GOARCH: m[3], BazelOS: m[4], BazelCPU: m[5]}
		if m[1] != p.Key() {
			t.Errorf("toolchains/platforms.bzl: entry %q is for %s; name it %q", m[1], p, p.Key())
		}
		got = append(got, p)
	}
	if len(got) != len(All) {
		t.Fatalf("toolchains/platforms.bzl lists %d platforms, signet/internal/platform %d: %v vs %v", len(got), len(All), got, All)
	}
	for i := range All {
		if got[i] != All[i] {
			t.Errorf("platform %d: toolchains/platforms.bzl has %+v, signet/internal/platform has %+v", i, got[i], All[i])
		}
	}
}
