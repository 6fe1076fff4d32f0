package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		old     string // "" means no file before
		write   func(io.Writer) error
		want    string // content after
		wantErr string
	}{
		{name: "new file", write: text("hello"), want: "hello"},
		{name: "replaces", old: "old", write: text("new"), want: "new"},
		{name: "no sync", opts: Options{NoSync: true}, write: text("x"), want: "x"},
		{name: "failed write keeps the old file", old: "old", write: fail("disk full"), want: "old", wantErr: "disk full"},
		{name: "failed write leaves nothing", write: fail("boom"), wantErr: "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, "out")
			if tc.old != "" {
				if err := os.WriteFile(name, []byte(tc.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := WriteWith(name, 0o640, tc.opts, tc.write)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), name) {
					t.Fatalf("error %v; want one naming %s and saying %q", err, name, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(name)
			switch {
			case tc.want == "" && !errors.Is(err, os.ErrNotExist):
				t.Fatalf("want no file, got %q, %v", got, err)
			case tc.want != "" && string(got) != tc.want:
				t.Fatalf("content %q, %v; want %q", got, err, tc.want)
			}
			if tc.want != "" && tc.wantErr == "" && runtime.GOOS != "windows" {
				fi, err := os.Stat(name)
				if err != nil || fi.Mode().Perm() != 0o640 {
					t.Fatalf("mode %v, %v; want 0640", fi.Mode(), err)
				}
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "out" {
					t.Errorf("left behind: %s", e.Name())
				}
			}
		})
	}
}

func TestWriteBytesIntoMissingDirectory(t *testing.T) {
	name := filepath.Join(t.TempDir(), "no", "such", "dir", "f")
	if err := WriteBytes(name, 0o644, []byte("x")); err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("error %v; want one naming %s", err, name)
	}
}

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func fail(msg string) func(io.Writer) error {
	return func(w io.Writer) error { _, _ = io.WriteString(w, "partial"); return errors.New(msg) }
}
