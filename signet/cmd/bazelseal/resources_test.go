package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	status := map[string]string{"STABLE_VERSION": "1.4.2", "BUILD_NUMBER": "77", "STABLE_GIT": "abc123"}
	tests := []struct {
		name, value string
		version     bool
		status      map[string]string
		want        string
		wantErr     string
	}{
		{"plain value untouched, stamped", "1.2.3", true, status, "1.2.3", ""},
		{"plain value untouched, unstamped", "Example Ltd", false, nil, "Example Ltd", ""},
		{"stamped version", "{STABLE_VERSION}", true, status, "1.4.2", ""},
		{"stamped mixed version", "1.4.{BUILD_NUMBER}", true, status, "1.4.77", ""},
		{"stamped text, two keys", "commit {STABLE_GIT}, build {BUILD_NUMBER}", false, status, "commit abc123, build 77", ""},
		{"unstamped version is fixed", "{STABLE_VERSION}", true, nil, "0.0.0.0", ""},
		{"unstamped mixed version is fixed", "1.4.{BUILD_NUMBER}", true, nil, "0.0.0.0", ""},
		{"unstamped text drops the key", "commit {STABLE_GIT}", false, nil, "commit ", ""},
		{"braces that are no key stay", "{not a key}", false, nil, "{not a key}", ""},
		{"unknown key refused", "{STABLE_NOPE}", true, status, "", "the workspace status has no STABLE_NOPE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expand(tc.value, "file-version", tc.version, tc.status)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("expand(%q) = %q, %v; want an error containing %q", tc.value, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("expand(%q) = %q, %v; want %q", tc.value, got, err, tc.want)
			}
		})
	}
}

func TestReadStatus(t *testing.T) {
	dir := t.TempDir()
	stable := filepath.Join(dir, "stable-status.txt")
	volatile := filepath.Join(dir, "volatile-status.txt")
	os.WriteFile(stable, []byte("BUILD_EMBED_LABEL \nSTABLE_VERSION 2.0.1\nSTABLE_NAME two words here\n"), 0o644)
	os.WriteFile(volatile, []byte("BUILD_TIMESTAMP 1700000000\nSTABLE_VERSION 9.9.9\n"), 0o644)
	got, err := readStatus([]string{stable, volatile})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"BUILD_EMBED_LABEL": "", "STABLE_VERSION": "2.0.1", "STABLE_NAME": "two words here", "BUILD_TIMESTAMP": "1700000000"}
	if len(got) != len(want) {
		t.Errorf("readStatus = %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (the stable file comes first)", k, got[k], v)
		}
	}
	if _, err := readStatus([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Errorf("a missing status file was accepted")
	}
}

func TestResourcesRefusedForLinux(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.py")
	stub := filepath.Join(dir, "stub")
	os.WriteFile(src, []byte("print('hi')\n"), 0o644)
	os.WriteFile(stub, fakeELF(), 0o755)
	base := []string{"--target", "linux/amd64", "--stub", stub, "--python", "/usr/bin/python3.11",
		"--python-version", "3.11", "--main", "main.py", "--loader-name", "app", "--src", src, "--app", "main.py",
		"--out-loader", filepath.Join(dir, "app"), "--out-manifest", filepath.Join(dir, "app.manifest"),
		"--out-delivery", filepath.Join(dir, "app.tar")}
	for _, extra := range [][]string{{"--company", "Example Ltd"}, {"--file-version", "1.2.3"}, {"--icon", src}} {
		var stderr bytes.Buffer
		code := run(context.Background(), []string{writeParams(t, t.TempDir(), append(append([]string{}, base...), extra...))}, &stderr)
		if code != exitError || !strings.Contains(stderr.String(), "are for a windows target, not linux/amd64") {
			t.Errorf("%s: exit %d, stderr %q; want the refusal of resources for a linux target", extra[0], code, stderr.String())
		}
		if _, err := os.Stat(filepath.Join(dir, "app")); err == nil {
			t.Fatalf("%s: a loader was written", extra[0])
		}
	}
}
