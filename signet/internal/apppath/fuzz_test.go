package apppath

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"a.py", "pkg/a.py", "../x", "/usr/bin/python3", "C:/Python/python.exe", "a//b", "a\\b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if Validate(p) == nil {
			if !utf8.ValidString(p) || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\\\n") || len(p) > MaxPathLen {
				t.Fatalf("Validate accepted %q", p)
			}
			for _, c := range strings.Split(p, "/") {
				if c == "" || c == "." || c == ".." || len(c) > MaxComponentLen {
					t.Fatalf("Validate accepted %q with component %q", p, c)
				}
			}
			if ValidateAbsolute(p) == nil {
				t.Fatalf("%q is both a valid relative and a valid absolute path", p)
			}
		}
		if ValidateAbsolute(p) == nil && !strings.HasPrefix(p, "/") && !(len(p) > 3 && p[1] == ':' && p[2] == '/') {
			t.Fatalf("ValidateAbsolute accepted %q", p)
		}
		IsImportableName(p, false)
		IsImportableName(p, true)
	})
}
