package interp

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

func TestSteeringFileNames(t *testing.T) {
	tests := []struct {
		exe, version string
		want         []string
	}{
		{"/usr/bin/python3.11", "3.11", []string{"python._pth", "python3.11._pth", "python311._pth", "python311.zip", "pyvenv.cfg"}},
		{"C:/Python311/python.exe", "3.11", []string{"python._pth", "python311._pth", "python311.zip", "pyvenv.cfg"}},
		{"C:/Python312/pythonw.EXE", "3.12", []string{"python._pth", "python312._pth", "python312.zip", "pythonw._pth", "pyvenv.cfg"}},
	}
	for _, tc := range tests {
		if got := SteeringFileNames(tc.exe, tc.version); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SteeringFileNames(%q, %q) = %q, want %q", tc.exe, tc.version, got, tc.want)
		}
	}
}

func TestCheckSteeringFiles(t *testing.T) {
	tests := []struct {
		name   string
		create []string // relative to the temporary root; exe is bin/python3.11
		sealed []string
		want   []string
	}{
		{name: "none"},
		{name: "pyvenv.cfg beside", create: []string{"bin/pyvenv.cfg"}, want: []string{"bin/pyvenv.cfg"}},
		{name: "pyvenv.cfg one up", create: []string{"pyvenv.cfg"}, want: []string{"pyvenv.cfg"}},
		{name: "._pth files and zip", create: []string{"bin/python3.11._pth", "bin/python311._pth", "python._pth", "bin/python311.zip"},
			want: []string{"bin/python3.11._pth", "bin/python311._pth", "bin/python311.zip", "python._pth"}},
		{name: "sealed ._pth is allowed", create: []string{"bin/python311._pth", "bin/pyvenv.cfg"}, sealed: []string{"bin/python311._pth"},
			want: []string{"bin/pyvenv.cfg"}},
		{name: "unrelated files are fine", create: []string{"bin/python3", "lib/python311.zip", "bin/README"}},
		{name: "directory named like one counts", create: []string{"bin/pyvenv.cfg/"}, want: []string{"bin/pyvenv.cfg"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.create {
				p := filepath.Join(root, filepath.FromSlash(c))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if c[len(c)-1] == '/' {
					if err := os.Mkdir(p, 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			slash := filepath.ToSlash(root)
			sealed := map[string]bool{}
			for _, s := range tc.sealed {
				sealed[slash+"/"+s] = true
			}
			got := CheckSteeringFiles(slash+"/bin/python3.11", "3.11", func(p string) bool { return sealed[p] })
			var paths []string
			for _, p := range got {
				paths = append(paths, p.Path)
				if p.Fix != fixSteering {
					t.Errorf("fix = %q", p.Fix)
				}
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, slash+"/"+w)
			}
			sort.Strings(paths)
			if !reflect.DeepEqual(paths, want) {
				t.Errorf("got %q, want %q", paths, want)
			}
		})
	}
}

func TestCheckSteeringFilesWindowsNamesAndErrors(t *testing.T) {
	present := map[string]error{
		"C:/Python311/python._pth": nil,
		"C:/pyvenv.cfg":            nil,
		"C:/python311.zip":         fs.ErrPermission,
	}
	lstat := func(p string) error {
		if err, ok := present[p]; ok {
			return err
		}
		return fmt.Errorf("lstat %s: %w", p, fs.ErrNotExist)
	}
	got := checkSteeringFiles(`C:\Python311\python.exe`, "3.11", nil, lstat)
	want := []Problem{
		{Path: "C:/Python311/python._pth", Reason: "unsealed file that steers the interpreter's start-up", Fix: fixSteering},
		{Path: "C:/python311.zip", Reason: "cannot check for a steering file: permission denied", Fix: fixCannotCheck},
		{Path: "C:/pyvenv.cfg", Reason: "unsealed file that steers the interpreter's start-up", Fix: fixSteering},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestVersionProblem(t *testing.T) {
	got := VersionProblem("/usr/bin/python3.11", "3.11", "3.12").String()
	want := "/usr/bin/python3.11: python3.11 was replaced by 3.12: re-seal against the new interpreter"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCheckDigest(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "python")
	content := []byte("not really an interpreter\n")
	if err := os.WriteFile(exe, content, 0o755); err != nil {
		t.Fatal(err)
	}
	right := sha256.Sum256(content)
	wrong := right
	wrong[31] ^= 0xff
	tests := []struct {
		name string
		path string
		pin  [32]byte
		want string // reason prefix; "" = no problem
	}{
		{"match", exe, right, ""},
		{"mismatch", exe, wrong, "SHA-256 is "},
		{"directory", dir, right, "is not a regular file"},
		{"missing", filepath.Join(dir, "nope"), right, "cannot be hashed"},
	}
	for _, tc := range tests {
		p, bad := checkDigest(filepath.ToSlash(tc.path), tc.pin)
		if (tc.want == "") == bad {
			t.Errorf("%s: bad = %v (%v)", tc.name, bad, p)
			continue
		}
		if bad && (len(p.Reason) < len(tc.want) || p.Reason[:len(tc.want)] != tc.want) {
			t.Errorf("%s: reason %q, want prefix %q", tc.name, p.Reason, tc.want)
		}
	}
}
