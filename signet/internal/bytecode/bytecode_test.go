package bytecode

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// testPython is the interpreter the tests compile with: SIGNET_TEST_PYTHON, by default
// /usr/bin/python3.11. A missing interpreter fails the test.
func testPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("SIGNET_TEST_PYTHON")
	if py == "" {
		py = "/usr/bin/python3.11"
	}
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("interpreter for the bytecode tests is missing (install it, or set SIGNET_TEST_PYTHON): %v", err)
	}
	return py
}

const sampleSource = "import sys\nNAMES = {'alpha', 'beta', 'gamma'}\ndef f(x):\n    return [y * 2 for y in x if y in NAMES]\nclass C:\n    def m(self):\n        return lambda: f(('alpha',))\n"

func TestCompileRunsAndIsDeterministic(t *testing.T) {
	py := testPython(t)
	sources := []Source{
		{Filename: "pkg/mod.py", Data: []byte(sampleSource)},
		{Filename: "bad.py", Data: []byte("def broken(:\n")},
		{Filename: "nul.py", Data: []byte("x = 1\x00\n")},
		{Filename: "empty.py", Data: nil},
	}
	first, err := Compile(context.Background(), py, sources)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(sources) {
		t.Fatalf("got %d results for %d sources", len(first), len(sources))
	}
	if first[0].Err != "" || len(first[0].Pyc) <= HeaderSize || first[3].Err != "" {
		t.Fatalf("valid sources did not compile: %+v / %+v", first[0].Err, first[3].Err)
	}
	if !strings.Contains(first[1].Err, "SyntaxError") || first[1].Pyc != nil {
		t.Errorf("syntax error: got %+v", first[1])
	}
	if first[2].Err == "" {
		t.Errorf("a source with a NUL byte compiled")
	}
	if flags := binary.LittleEndian.Uint32(first[0].Pyc[4:8]); flags != 1 {
		t.Errorf("pyc flags = %d, want 1 (hash-based, unchecked)", flags)
	}
	// the pyc loads in the interpreter and runs
	cmd := exec.Command(py, "-I", "-S", "-c", "import sys, marshal\nc = marshal.loads(sys.stdin.buffer.read()[16:])\nprint(c.co_filename); g = {'__name__': 'm'}; exec(c, g); print(g['C']().m()())")
	cmd.Stdin = bytes.NewReader(first[0].Pyc)
	if out, err := cmd.CombinedOutput(); err != nil || string(out) != "pkg/mod.py\n['alphaalpha']\n" {
		t.Errorf("running the pyc: %v: %q", err, out)
	}
	// compiling again in a new process, alone or in another order, gives the same bytes
	again, err := Compile(context.Background(), py, []Source{sources[3], sources[0]})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again[1].Pyc, first[0].Pyc) || !bytes.Equal(again[0].Pyc, first[3].Pyc) {
		t.Errorf("compiling the same source twice gave different bytes")
	}
}

func TestCheck(t *testing.T) {
	py := testPython(t)
	src := Source{Filename: "pkg/mod.py", Data: []byte(sampleSource)}
	other := Source{Filename: "pkg/mod.py", Data: []byte(strings.Replace(sampleSource, "* 2", "* 3", 1))}
	renamed := Source{Filename: "pkg/other.py", Data: src.Data}
	res, err := Compile(context.Background(), py, []Source{src, other, renamed})
	if err != nil {
		t.Fatal(err)
	}
	honest, forged, wrongName := res[0].Pyc, res[1].Pyc, res[2].Pyc
	// forged code with the honest header: only the code differs
	forgedCode := append(append([]byte(nil), honest[:HeaderSize]...), forged[HeaderSize:]...)
	badMagic := append([]byte{0, 0, '\r', '\n'}, honest[4:]...)
	truncated := honest[:HeaderSize+3]
	tests := []struct {
		name string
		pair Pair
		want string // substring of the reason; "" for no mismatch
	}{
		{"honest", Pair{src, honest}, ""},
		{"compiled from other source", Pair{src, forged}, "header does not fit"},
		{"other code under the honest header", Pair{src, forgedCode}, "code differs"},
		{"compiled under another file name", Pair{src, append(append([]byte(nil), honest[:HeaderSize]...), wrongName[HeaderSize:]...)}, "code differs"},
		{"other magic number", Pair{src, badMagic}, "another Python"},
		{"truncated", Pair{src, truncated}, "does not load"},
		{"source does not compile", Pair{Source{Filename: "x.py", Data: []byte("def (:")}, honest}, "does not compile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(context.Background(), py, []Pair{tt.pair})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == "" && len(got) != 0:
				t.Errorf("Check = %+v, want no mismatch", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0].Reason, tt.want)):
				t.Errorf("Check = %+v, want a mismatch containing %q", got, tt.want)
			}
		})
	}
}

func TestParseAnswer(t *testing.T) {
	rec := func(status byte, data string) []byte {
		b := []byte{status}
		b = binary.LittleEndian.AppendUint64(b, uint64(len(data)))
		return append(b, data...)
	}
	tests := []struct {
		name    string
		in      []byte
		want    int
		wantErr bool
	}{
		{"empty", nil, 0, false},
		{"two records", append(rec('o', "abc"), rec('e', "")...), 2, false},
		{"short header", []byte{'o', 1, 0}, 0, true},
		{"length beyond the end", rec('o', "abc")[:10], 0, true},
		{"huge length", append([]byte{'o'}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAnswer(tt.in)
			if (err != nil) != tt.wantErr || len(got) != tt.want {
				t.Errorf("parseAnswer = %d records, %v; want %d, error %v", len(got), err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte{'o', 3, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c'})
	f.Add([]byte{'e', 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{'m', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := parseAnswer(b)
		if err != nil {
			return
		}
		total := 0
		for _, r := range recs {
			total += 9 + len(r.data)
		}
		if total != len(b) {
			t.Fatalf("records cover %d of %d bytes", total, len(b))
		}
	})
}
