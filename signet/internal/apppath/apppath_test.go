package apppath

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	long := strings.Repeat("a", MaxComponentLen)
	tests := []struct {
		path    string
		wantErr string // "" means valid
	}{
		{"hello.py", ""},
		{"pkg/__init__.py", ""},
		{"pkg/data/with space.txt", ""},
		{" leading space", ""},
		{"ünïcödé/名前.py", ""},
		{"a:b", ""}, // a colon is fine on Linux; portability refuses it for Windows
		{"ab:/x", ""},
		{long, ""},
		{long + "/" + long, ""},
		{"", "empty path"},
		{"/abs", "absolute"},
		{"C:/x", "drive letter"},
		{"c:", "drive letter"},
		{"z:/", "drive letter"},
		{"a//b", "empty component"},
		{"a/", "ends with '/'"},
		{"./a", `"." component`},
		{"a/.", `"." component`},
		{"a/../b", `".." component`},
		{"..", `".." component`},
		{"a\x00b", "NUL"},
		{"a\nb", "control character"},
		{"a\rb", "control character"},
		{"a\tb", "control character"},
		{"a\x7fb", "control character"},
		{`a\b`, "backslash"},
		{"a\xffb", "UTF-8"},
		{"\xed\xa0\x80", "UTF-8"}, // surrogate half
		{long + "a", "component of 256 bytes"},
		{strings.Repeat("abcdefg/", 512) + "x", "over the limit of 4096"},
	}
	for _, tt := range tests {
		err := Validate(tt.path)
		checkErr(t, "Validate", tt.path, err, tt.wantErr)
	}
}

func TestValidateAbsolute(t *testing.T) {
	tests := []struct {
		path    string
		wantErr string
	}{
		{"/usr/bin/python3.11", ""},
		{"/usr/lib/python311.zip", ""},
		{"C:/Python311/python.exe", ""},
		{"c:/x", ""},
		{"/", "bare root"},
		{"C:/", "bare root"},
		{"", "not absolute"},
		{"usr/bin", "not absolute"},
		{"C:", "not absolute"},
		{"C:x", "not absolute"},
		{`C:\Python311\python.exe`, "not absolute"},
		{`C:/Python311\python.exe`, "backslash"},
		{"1:/x", "not absolute"},
		{"//server/share", "empty component"},
		{"/usr/../etc", `".." component`},
		{"/usr/bin/", "ends with '/'"},
		{"/usr\x00/bin", "NUL"},
		{"/usr/\x1b[31m", "control character"},
	}
	for _, tt := range tests {
		err := ValidateAbsolute(tt.path)
		checkErr(t, "ValidateAbsolute", tt.path, err, tt.wantErr)
	}
}

func checkErr(t *testing.T, fn, path string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s(%q) = %v, want nil", fn, path, err)
	case want != "" && err == nil:
		t.Errorf("%s(%q) = nil, want error containing %q", fn, path, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s(%q) = %v, want error containing %q", fn, path, err, want)
	}
}

func TestIsImportableName(t *testing.T) {
	tests := []struct {
		name  string
		isDir bool
		want  bool
	}{
		{"mod.py", false, true},
		{"MOD.PY", false, true},
		{"gui.pyw", false, true},
		{"mod.cpython-311.pyc", false, true},
		{"mod.pyo", false, true},
		{"evil.pth", false, true},
		{"python311._pth", false, true},
		{"pyvenv.cfg", false, true},
		{"PyVenv.CFG", false, true},
		{"_speedups.so", false, true},
		{"_speedups.cpython-311-x86_64-linux-gnu.so", false, true},
		{"_speedups.abi3.so", false, true},
		{"libfoo.so.1", false, true},
		{"libfoo.so.1.2.3", false, true},
		{"_speedups.cp311-win_amd64.pyd", false, true},
		{"_speedups.PYD", false, true},
		{"helper.dll", false, true},
		{"libhelper.dylib", false, true},
		{"bundle.zip", false, true},
		{"old.egg", false, true},
		{"pkg-1.0-py3-none-any.whl", false, true},
		{"mod.py.", false, true},  // Win32 strips trailing dots
		{"mod.py  ", false, true}, // and trailing spaces
		{".py", false, true},
		{"config.txt", false, false},
		{"README", false, false},
		{"mod.py.txt", false, false},
		{"mod.pyx", false, false},
		{"mod.pyi", false, false},
		{"libfoo.so.bak", false, false},
		{"notes.soap", false, false},
		{"pyvenv.cfg.orig", false, false},
		{"__pycache__", false, false}, // a file of that name imports nothing
		{"__pycache__", true, true},
		{"__PYCACHE__", true, true},
		{"pkg-1.0.dist-info", true, true},
		{"pkg.egg-info", true, true},
		{"pkg-1.0-py3.11.egg", true, true},
		{"pkg", true, false},
		{"mod.py", true, false}, // a directory named mod.py is not a module
		{"data.zip", true, false},
		{"", false, false},
		{"...", false, false},
	}
	for _, tt := range tests {
		if got := IsImportableName(tt.name, tt.isDir); got != tt.want {
			t.Errorf("IsImportableName(%q, %v) = %v, want %v", tt.name, tt.isDir, got, tt.want)
		}
	}
}
