package manifest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSHA256SumLinesWithSha256sum checks the output against the real `sha256sum -c`.
func TestSHA256SumLinesWithSha256sum(t *testing.T) {
	tool, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Fatalf("sha256sum (coreutils) is needed for this test: %v", err)
	}
	root := t.TempDir()
	contents := map[string]string{"main.py": "print('hi')\n", "pkg/__init__.py": "", "data/a file.txt": "data\n"}
	m := &Manifest{Entry: "main.py", Level: LevelEnforce, PythonPath: "/usr/bin/python3", PythonVersion: "3.11"}
	for p, c := range contents {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		role := RoleForPath(p)
		if p == m.Entry {
			role = RoleEntry
		}
		m.Files = append(m.Files, File{Path: p, Size: int64(len(c)), SHA256: sum(c), Role: role})
	}
	run := func() error {
		cmd := exec.Command(tool, "-c", "--strict", "-")
		cmd.Dir = root
		cmd.Stdin = bytes.NewReader(m.SHA256SumLines())
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := run(); err != nil {
		t.Fatalf("sha256sum -c on an intact tree: %v", err)
	}
	if err := os.WriteFile(filepath.Join(root, "data/a file.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(); err == nil {
		t.Errorf("sha256sum -c accepted a modified file")
	}
}
