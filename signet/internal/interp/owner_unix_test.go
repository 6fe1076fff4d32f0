//go:build unix

package interp

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// realTree builds bin/python3.11 and lib/python3.11 under a fresh directory
// and returns it with a checker trusting it (the temporary directory sits in
// the world-writable /tmp, which the rule rightly refuses) and the current
// user as owner (tests may run unprivileged).
func realTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"bin", "lib/python3.11/lib-dynload"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "bin/python3.11"), []byte("#!interp\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func checkReal(root string) []Problem {
	c := newUnixChecker(lstatOwner, os.Readlink, root)
	c.rootUID = uint32(os.Getuid())
	c.check(filepath.Join(root, "bin/python3.11"), true)
	for _, p := range []string{"lib/python3.11", "lib/python3.11/lib-dynload", "lib/python311.zip"} {
		c.check(filepath.Join(root, p), false)
	}
	return c.problems
}

func TestUnixRuleOnRealFiles(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(root string) error
		undo    func(root string) error
		want    string // path below root with a problem; "" = none
	}{
		{name: "intact", breakIt: func(string) error { return nil }, undo: func(string) error { return nil }},
		{
			name:    "world-writable lib",
			breakIt: func(r string) error { return os.Chmod(filepath.Join(r, "lib"), 0o757) },
			undo:    func(r string) error { return os.Chmod(filepath.Join(r, "lib"), 0o755) },
			want:    "lib",
		},
		{
			name:    "group-writable interpreter",
			breakIt: func(r string) error { return os.Chmod(filepath.Join(r, "bin/python3.11"), 0o775) },
			undo:    func(r string) error { return os.Chmod(filepath.Join(r, "bin/python3.11"), 0o755) },
			want:    "bin/python3.11",
		},
		{
			name: "interpreter is a link into a writable directory",
			breakIt: func(r string) error {
				w := filepath.Join(r, "w")
				if err := os.Mkdir(w, 0o755); err != nil {
					return err
				}
				if err := os.Chmod(w, 0o777); err != nil {
					return err
				}
				if err := os.Rename(filepath.Join(r, "bin/python3.11"), filepath.Join(w, "python")); err != nil {
					return err
				}
				return os.Symlink("../w/python", filepath.Join(r, "bin/python3.11"))
			},
			undo: func(r string) error {
				if err := os.Remove(filepath.Join(r, "bin/python3.11")); err != nil {
					return err
				}
				if err := os.Rename(filepath.Join(r, "w/python"), filepath.Join(r, "bin/python3.11")); err != nil {
					return err
				}
				return os.Remove(filepath.Join(r, "w"))
			},
			want: "w",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := realTree(t)
			if err := tc.breakIt(root); err != nil {
				t.Fatal(err)
			}
			got := checkReal(root)
			if tc.want == "" && len(got) != 0 {
				t.Fatalf("intact tree: %v", got)
			}
			if tc.want != "" && (len(got) != 1 || got[0].Path != filepath.Join(root, tc.want) || got[0].Fix != fixUnixOwner) {
				t.Fatalf("got %v, want one problem at %s", got, tc.want)
			}
			if err := tc.undo(root); err != nil {
				t.Fatal(err)
			}
			if got := checkReal(root); len(got) != 0 {
				t.Fatalf("after undoing: %v", got)
			}
		})
	}
}

func TestTempDirIsRefusedWithoutStop(t *testing.T) {
	// /tmp is world-writable (sticky): an interpreter below it is refused.
	root := realTree(t)
	got := checkOwnership(filepath.Join(root, "bin/python3.11"), nil, false)
	found := false
	for _, p := range got {
		if p.Path == os.TempDir() && strings.Contains(p.Reason, "writable by group or others") {
			found = true
		}
	}
	if !found {
		t.Errorf("%s not refused for %s: %v", os.TempDir(), root, got)
	}
}

// systemPython is the distribution's interpreter the tests check for real.
const systemPython = "/usr/bin/python3.11"

func TestCheckSystemInterpreter(t *testing.T) {
	if _, err := os.Stat(systemPython); err != nil {
		t.Fatalf("this test needs the system interpreter %s (root-owned, as installed by the distribution): %v", systemPython, err)
	}
	out, err := exec.Command(systemPython, "-I", "-S", "-c", "import sys; print('\\n'.join(p for p in sys.path if p))").Output()
	if err != nil {
		t.Fatalf("asking %s for sys.path: %v", systemPython, err)
	}
	trust := strings.Fields(string(out))
	if len(trust) < 2 {
		t.Fatalf("unexpected sys.path from %s: %q", systemPython, out)
	}
	content, err := os.ReadFile(systemPython)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	rule := Rule{Path: systemPython, Version: "3.11", SHA256: &sum, Trust: trust}
	if got := Check(rule); len(got) != 0 {
		t.Fatalf("Check(%+v) = %v, want no problems", rule, got)
	}
	sum[0] ^= 1
	got := Check(rule)
	if len(got) != 1 || got[0].Path != systemPython || !strings.Contains(got[0].Reason, "SHA-256 is") {
		t.Fatalf("wrong pin: got %v, want one digest problem", got)
	}
}
