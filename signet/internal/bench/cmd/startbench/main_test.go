package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseRatio(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    ratioSpec
		wantErr bool
	}{
		{"a/b", ratioSpec{a: "a", b: "b"}, false},
		{"sealed/python<=1.10", ratioSpec{a: "sealed", b: "python", op: "<=", target: 1.10}, false},
		{"openssl/loader>=0.9", ratioSpec{a: "openssl", b: "loader", op: ">=", target: 0.9}, false},
		{"ab", ratioSpec{}, true},
		{"/b", ratioSpec{}, true},
		{"a/b<=x", ratioSpec{}, true},
		{"a/b>=0", ratioSpec{}, true},
	} {
		got, err := parseRatio(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseRatio(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && got != tc.want {
			t.Errorf("parseRatio(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseCommands(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []command
		wantErr bool
	}{
		{"a x y --- b z", []command{{"a", []string{"x", "y"}}, {"b", []string{"z"}}}, false},
		{"a x", []command{{"a", []string{"x"}}}, false},
		{"a", nil, true},
		{"a x --- a y", nil, true},
		{"a x ---", nil, true},
		{"", nil, true},
	} {
		got, err := parseCommands(strings.Fields(tc.in))
		if (err != nil) != tc.wantErr {
			t.Errorf("parseCommands(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseCommands(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestRunReportsEveryCommandAndRatio(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"-n", "3", "-warmup", "1", "-same-output", "-ratio", "t/f<=1000",
		"--", "t", "/bin/true", "---", "f", "/bin/true"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| t |", "| f |", "| t / f |", "<= 1000.00 | yes |", "3 measured rounds after 1 warm-up"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunFailsOnDifferentOutputOrExitStatus(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "1", "-warmup", "1", "-same-output", "--", "a", "/bin/echo", "x", "---", "b", "/bin/echo", "y"},
		{"-n", "1", "-warmup", "0", "--", "a", "/bin/false"},
		{"-n", "1", "-ratio", "a/c", "--", "a", "/bin/true", "---", "b", "/bin/true"},
	} {
		if err := run(args, new(bytes.Buffer)); err == nil {
			t.Errorf("run(%q): no error", args)
		}
	}
}

func TestExpandArgFiles(t *testing.T) {
	list := filepath.Join(t.TempDir(), "args")
	if err := os.WriteFile(list, []byte("x y\n\nz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := expandArgFiles([]string{"a", "@@" + list, "b"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "x y", "z", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("expandArgFiles = %q, want %q", got, want)
	}
	if _, err := expandArgFiles([]string{"@@" + list + ".missing"}); err == nil {
		t.Error("missing argument file: no error")
	}
}
