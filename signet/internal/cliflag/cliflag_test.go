package cliflag

import (
	"flag"
	"io"
	"reflect"
	"testing"
)

func TestList(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want List
	}{
		{nil, nil},
		{[]string{"-x", "a"}, List{"a"}},
		{[]string{"-x", "a", "-x", "b", "-x", "a"}, List{"a", "b", "a"}},
		{[]string{"-x", ""}, List{""}},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var l List
		fs.Var(&l, "x", "")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(l, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.args, l, tc.want)
		}
	}
	l := List{"a", "b"}
	if l.String() != "a,b" {
		t.Errorf("String() = %q", l.String())
	}
}
