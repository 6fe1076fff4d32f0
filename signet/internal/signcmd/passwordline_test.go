package signcmd

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestReadPasswordLine(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, wantErr string
	}{
		{"plain", "hunter2\n", "hunter2", ""},
		{"CRLF", "hunter2\r\n", "hunter2", ""},
		{"no newline", "hunter2", "hunter2", ""},
		{"only the first line", "first\nsecond\n", "first", ""},
		{"empty line", "\n", "", ""},
		{"spaces kept", "  pass word  \n", "  pass word  ", ""},
		{"inner CR kept", "a\rb\n", "a\rb", ""},
		{"not UTF-8", "\xff\n", "", "not UTF-8 text"},
		{"at the limit", strings.Repeat("x", maxPasswordFile), strings.Repeat("x", maxPasswordFile), ""},
		{"over the limit", strings.Repeat("x", maxPasswordFile+1), "", "larger than 4096 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readPasswordLine(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func FuzzReadPasswordLine(f *testing.F) {
	for _, s := range []string{"hunter2\n", "a\r\n", "", "\xff", "x\ny\n", strings.Repeat("é", 3000)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := readPasswordLine(bytes.NewReader(in))
		if err != nil {
			return
		}
		if len(got) > maxPasswordFile || bytes.IndexByte(got, '\n') >= 0 || !utf8.Valid(got) {
			t.Fatalf("readPasswordLine(%q) = %q", in, got)
		}
		if !bytes.HasPrefix(in, got) {
			t.Fatalf("readPasswordLine(%q) = %q, not a prefix of the input", in, got)
		}
	})
}
