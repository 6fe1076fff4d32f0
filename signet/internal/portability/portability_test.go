package portability

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const nfd = "cafe\u0301.py" // "café.py" with a combining accent
	const nfc = "caf\u00e9.py"
	tests := []struct {
		name  string
		paths []string
		goos  string
		want  []string // one substring per expected error, in order
	}{
		{"clean linux", []string{"main.py", "pkg/__init__.py", "pkg/data/a b.txt", nfc}, "linux", nil},
		{"clean windows", []string{"main.py", "pkg/__init__.py", "pkg/Data.txt", "pkg/console.txt", "pkg/com10.txt", "pkg/lpt.txt"}, "windows", nil},
		{"empty", nil, "windows", nil},
		{"case on linux is fine", []string{"README", "readme"}, "linux", nil},
		{"case on windows", []string{"README", "readme"}, "windows", []string{`"README" and "readme": differ only by case`}},
		{"case on darwin", []string{"Makefile", "makefile"}, "darwin", []string{"differ only by case, which darwin"}},
		{"case of directories", []string{"Pkg/a.py", "pkg/b.py"}, "windows", []string{`"Pkg" and "pkg": differ only by case`}},
		{"case through unicode folding", []string{"\u212a.txt", "k.txt"}, "windows", []string{"not in Unicode NFC form; rename it to \"K.txt\"", "differ only by case"}}, // KELVIN SIGN
		{"case of long s", []string{"\u017ftate.py", "STATE.py"}, "windows", []string{`differ only by case`}},                                                            // LATIN SMALL LETTER LONG S
		{"greek sigma", []string{"\u03c3.txt", "\u03c2.txt", "\u03a3.txt"}, "windows", []string{"differ only by case", "differ only by case"}},
		{"not NFC", []string{nfd}, "linux", []string{`not in Unicode NFC form; rename it to "café.py"`}},
		{"NFC duplicates", []string{nfc, nfd}, "linux", []string{"not in Unicode NFC", "differ only by Unicode normalization"}},
		{"NFC duplicates not double-reported on windows", []string{nfc, nfd}, "windows", []string{"not in Unicode NFC", "differ only by Unicode normalization"}},
		{"NFC duplicate directories", []string{"caf\u00e9/a", "cafe\u0301/b"}, "linux", []string{"not in Unicode NFC", "differ only by Unicode normalization"}},
		{"file and directory", []string{"pkg", "pkg/a.py", "pkg/b.py"}, "linux", []string{`"pkg": is both a file and a directory`}},
		{"listed twice", []string{"a.py", "a.py"}, "linux", []string{`"a.py": listed twice`}},
		{"invalid path", []string{"../a.py", "a\\b", "/abs"}, "linux", []string{`".." component`, "absolute", "backslash"}},
		{"reserved names", []string{"CON", "pkg/nul.txt", "aux.tar.gz", "Com1.py", "lpt9", "com\u00b9.txt", "LPT\u00b3", "prn .txt", "conin$", "COM0"}, "windows", []string{
			"COM0", "CON", "COM1", "LPT\u00b3", "AUX", "COM\u00b9", "CONIN$", "LPT9", "NUL", "PRN"}},
		{"reserved names are fine on linux", []string{"CON", "aux.py"}, "linux", nil},
		{"forbidden characters", []string{"a:b.txt", "what?.txt", "x/<y>.txt", `q"uote`, "p|ipe", "star*"}, "windows", []string{
			"contains ':'", "contains '|'", "contains '\"'", "contains '*'", "contains '?'", "contains '<'"}},
		{"trailing dot and space", []string{"dir./a.py", "name ", "ok. /x"}, "windows", []string{"ends with '.'", "ends with ' '", "ends with ' '"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Check(tt.paths, tt.goos)
			var got []string
			for _, err := range errs {
				got = append(got, err.Error())
				var p *Problem
				if !errors.As(err, &p) || len(p.Paths) == 0 {
					t.Errorf("error %v does not name its paths", err)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Check = %q, want %d errors containing %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("error %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestCheckDoesNotReorderInput(t *testing.T) {
	in := []string{"b.py", "a.py"}
	Check(in, "windows")
	if !reflect.DeepEqual(in, []string{"b.py", "a.py"}) {
		t.Errorf("Check reordered its input: %q", in)
	}
}

func TestCheckIsDeterministic(t *testing.T) {
	a := Check([]string{"X.py", "x.py", "CON", "cafe\u0301"}, "windows")
	b := Check([]string{"cafe\u0301", "CON", "x.py", "X.py"}, "windows")
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Check depends on input order:\n%v\n%v", a, b)
	}
}

func TestFoldKey(t *testing.T) {
	same := [][2]string{{"abc", "ABC"}, {"\u212a", "k"}, {"\u017f", "S"}, {"\u00df", "\u1e9e"}, {"Straße", "STRAßE"}}
	for _, p := range same {
		if foldKey(p[0]) != foldKey(p[1]) {
			t.Errorf("foldKey(%q) != foldKey(%q)", p[0], p[1])
		}
	}
	differ := [][2]string{{"a", "b"}, {"ss", "\u00df"}, {"i", "\u0131"}}
	for _, p := range differ {
		if foldKey(p[0]) == foldKey(p[1]) {
			t.Errorf("foldKey(%q) == foldKey(%q)", p[0], p[1])
		}
	}
}
