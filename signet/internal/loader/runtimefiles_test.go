package loader

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/signet/internal/manifest"
)

func TestCheckRuntimeFiles(t *testing.T) {
	dir := t.TempDir()
	content := []byte("import sys\n")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sealed := func(p string) manifest.File {
		return manifest.File{Path: p, Size: int64(len(content)), SHA256: sha256.Sum256(content), Role: manifest.RoleRuntime}
	}
	intact := write("intact.py", content)
	flipped := write("flipped.py", []byte("import sy5\n"))
	longer := write("longer.py", append(append([]byte(nil), content...), '#'))
	missing := filepath.Join(dir, "missing.py")
	subdir := filepath.Join(dir, "adir")
	if err := os.Mkdir(subdir, 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		file manifest.File
		want string // prefix of the problem line; "" for none
	}{
		{"intact", sealed(intact), ""},
		{"same size, other bytes", sealed(flipped), "MODIFIED " + flipped + ": content differs from the sealed digest"},
		{"other size", sealed(longer), "MODIFIED " + longer + ": size is 12 bytes, sealed 11"},
		{"missing", sealed(missing), "MISSING " + missing},
		{"a directory", sealed(subdir), "MODIFIED " + subdir + ": "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkRuntimeFile(tc.file, make([]byte, 4096))
			if tc.want == "" && got != "" || tc.want != "" && !strings.HasPrefix(got, tc.want) {
				t.Errorf("checkRuntimeFile() = %q, want prefix %q", got, tc.want)
			}
		})
	}

	var all []manifest.File
	for _, tc := range tests {
		all = append(all, tc.file)
	}
	got := checkRuntimeFiles(all)
	if len(got) != len(tests)-1 {
		t.Fatalf("checkRuntimeFiles() = %q, want %d problems", got, len(tests)-1)
	}
	for i, tc := range tests[1:] {
		if !strings.HasPrefix(got[i], tc.want) {
			t.Errorf("problem %d = %q, want prefix %q (manifest order)", i, got[i], tc.want)
		}
	}
	if got := checkRuntimeFiles(nil); got != nil {
		t.Errorf("checkRuntimeFiles(nil) = %q", got)
	}
}
