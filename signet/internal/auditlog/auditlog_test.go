package auditlog

import (
	"strings"
	"testing"
)

func TestPrepare(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"plain", []string{"MODIFIED pkg/mod.py: content differs"}, []string{prefix + "MODIFIED pkg/mod.py: content differs"}},
		{"control characters", []string{"UNEXPECTED evil\nMODIFIED\x1b[2J\x7f\u0085.py"}, []string{prefix + "UNEXPECTED evil?MODIFIED?[2J??.py"}},
		{"invalid UTF-8", []string{"a\xffb"}, []string{prefix + "a?b"}},
		{"non-ASCII kept", []string{"MISSING données/é.txt"}, []string{prefix + "MISSING données/é.txt"}},
		{"long line", []string{strings.Repeat("é", maxLineBytes)}, []string{prefix + strings.Repeat("é", maxLineBytes/2)}},
	}
	for _, tc := range tests {
		got := prepare(tc.lines)
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s: prepare = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPrepareCapsRecords(t *testing.T) {
	lines := make([]string, 250)
	for i := range lines {
		lines[i] = "MISSING x"
	}
	got := prepare(lines)
	if len(got) != maxRecords {
		t.Fatalf("%d records, want %d", len(got), maxRecords)
	}
	if want := prefix + "... and 151 more problems"; got[len(got)-1] != want {
		t.Errorf("last record %q, want %q", got[len(got)-1], want)
	}
	if got := prepare(lines[:maxRecords]); len(got) != maxRecords || strings.Contains(got[len(got)-1], "more") {
		t.Errorf("exactly %d lines must not be cut: %q", maxRecords, got[len(got)-1])
	}
}

func TestSanitizeTag(t *testing.T) {
	tests := map[string]string{
		"hello":                  "hello",
		"my app.exe":             "my_app.exe",
		"":                       "signet",
		"a[1]: x\n":              "a_1___x_",
		strings.Repeat("x", 100): strings.Repeat("x", maxTagBytes),
	}
	for in, want := range tests {
		if got := sanitizeTag(in); got != want {
			t.Errorf("sanitizeTag(%q) = %q, want %q", in, got, want)
		}
	}
}
