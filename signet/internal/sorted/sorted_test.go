package sorted

import (
	"reflect"
	"testing"
)

func TestUnique(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{nil, nil},
		{[]string{"b", "a", "b", "c", "a"}, []string{"a", "b", "c"}},
		{[]string{"x"}, []string{"x"}},
		{[]string{"", "", "a"}, []string{"", "a"}},
	} {
		in := append([]string(nil), tc.in...)
		got := Unique(in)
		if !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("Unique(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !reflect.DeepEqual(in, tc.in) && len(in) > 0 {
			t.Errorf("Unique changed its input: %q", in)
		}
	}
}
