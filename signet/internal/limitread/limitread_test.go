package limitread

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAll(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		limit   int64
		wantErr bool
	}{
		{"empty", "", 0, false},
		{"under", "abc", 4, false},
		{"exactly", "abcd", 4, false},
		{"one over", "abcde", 4, true},
		{"zero limit, one byte", "a", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := All(strings.NewReader(tc.in), tc.limit, "the input")
			if tc.wantErr {
				if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "the input") {
					t.Fatalf("got %q, %v; want an ErrTooLarge naming the input", b, err)
				}
				return
			}
			if err != nil || string(b) != tc.in {
				t.Fatalf("got %q, %v; want %q", b, err, tc.in)
			}
		})
	}
}

func TestFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := File(name, 5); err != nil || string(b) != "12345" {
		t.Fatalf("File at the limit: %q, %v", b, err)
	}
	if _, err := File(name, 4); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), name) {
		t.Fatalf("File over the limit: %v; want ErrTooLarge naming %s", err, name)
	}
	if _, err := File(filepath.Join(t.TempDir(), "missing"), 4); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
