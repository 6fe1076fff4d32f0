package stats

import (
	"testing"
	"time"
)

func ms(v ...float64) []time.Duration {
	d := make([]time.Duration, len(v))
	for i, x := range v {
		d[i] = time.Duration(x * float64(time.Millisecond))
	}
	return d
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []time.Duration
		want Summary
	}{
		{"one", ms(5), Summary{ms(5)[0], ms(5)[0], ms(5)[0], 1}},
		{"odd unsorted", ms(9, 1, 5), Summary{ms(1)[0], ms(5)[0], ms(9)[0], 3}},
		{"even takes the mean of the middle two", ms(4, 1, 2, 10), Summary{ms(1)[0], ms(3)[0], ms(10)[0], 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tc.in...)
			got, err := Summarize(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
			}
			for i := range in {
				if in[i] != tc.in[i] {
					t.Fatalf("Summarize reordered its input: %v, was %v", tc.in, in)
				}
			}
		})
	}
	if _, err := Summarize(nil); err == nil {
		t.Error("Summarize(nil): no error")
	}
}

func TestRatios(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b    []time.Duration
		want    RatioSummary
		wantErr bool
	}{
		{"per round, not ratio of medians", ms(10, 30, 20), ms(10, 10, 40), RatioSummary{0.5, 1, 3, 3}, false},
		{"even count", ms(2, 4), ms(1, 1), RatioSummary{2, 3, 4, 2}, false},
		{"length mismatch", ms(1, 2), ms(1), RatioSummary{}, true},
		{"empty", nil, nil, RatioSummary{}, true},
		{"zero denominator", ms(1), ms(0), RatioSummary{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Ratios(tc.a, tc.b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Ratios error = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("Ratios = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestMillis(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{1234567 * time.Nanosecond, "1.23 ms"},
		{99994 * time.Microsecond, "99.99 ms"},
		{123456 * time.Microsecond, "123.5 ms"},
	} {
		if got := Millis(tc.in); got != tc.want {
			t.Errorf("Millis(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
