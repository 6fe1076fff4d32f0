package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteIsDeterministicAndSized(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files int
		total int64
		text  bool
		first string
	}{
		{"binary", 250, 250*1000 + 7, false, "d000/f00000.dat"},
		{"text", 120, 120 * 64, true, "d000/f00000.py"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
			for _, dir := range []string{a, b} {
				if err := write(dir, tc.files, tc.total, 7, tc.text); err != nil {
					t.Fatal(err)
				}
			}
			var sum int64
			count := 0
			err := filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(a, p)
				got, _ := os.ReadFile(p)
				other, err := os.ReadFile(filepath.Join(b, rel))
				if err != nil || !bytes.Equal(got, other) {
					t.Errorf("%s differs between two runs with the same seed (%v)", rel, err)
				}
				sum += int64(len(got))
				count++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if count != tc.files || sum != tc.total {
				t.Errorf("got %d files, %d bytes; want %d files, %d bytes", count, sum, tc.files, tc.total)
			}
			if _, err := os.Stat(filepath.Join(a, filepath.FromSlash(tc.first))); err != nil {
				t.Errorf("first file: %v", err)
			}
		})
	}
}

func TestWriteSeedChangesContent(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if err := write(a, 1, 64, 1, false); err != nil {
		t.Fatal(err)
	}
	if err := write(b, 1, 64, 2, false); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(filepath.Join(a, "d000", "f00000.dat"))
	y, _ := os.ReadFile(filepath.Join(b, "d000", "f00000.dat"))
	if bytes.Equal(x, y) {
		t.Error("seeds 1 and 2 wrote the same bytes")
	}
}

func TestRunRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{},
		{"-files", "0", filepath.Join(dir, "x")},
		{"-files", "10", "-total", "5", filepath.Join(dir, "y")},
		{dir}, // exists
	} {
		if err := run(args); err == nil {
			t.Errorf("run(%q): no error", args)
		}
	}
}
