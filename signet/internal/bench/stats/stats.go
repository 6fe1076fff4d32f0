// Package stats summarises repeated timings for signet's benchmark scripts: minimum,
// median and maximum of a sample, and the median of per-round ratios between two
// interleaved samples, which is robust against a machine whose speed drifts during a run.
package stats

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Summary is the minimum, median and maximum of a sample.
type Summary struct {
	Min, Median, Max time.Duration
	N                int
}

// Summarize returns the Summary of d. The median of an even-sized sample is the mean of
// the two middle values. An empty sample is an error.
func Summarize(d []time.Duration) (Summary, error) {
	if len(d) == 0 {
		return Summary{}, errors.New("stats: empty sample")
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return Summary{Min: s[0], Median: medianSorted(s), Max: s[len(s)-1], N: len(s)}, nil
}

func medianSorted(s []time.Duration) time.Duration {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// RatioSummary is the minimum, median and maximum of per-round ratios a[i]/b[i].
type RatioSummary struct {
	Min, Median, Max float64
	N                int
}

// Ratios returns the summary of a[i]/b[i] over rounds i: a and b must be measured in the
// same rounds (interleaved), so each ratio compares runs made close together in time.
func Ratios(a, b []time.Duration) (RatioSummary, error) {
	if len(a) != len(b) {
		return RatioSummary{}, fmt.Errorf("stats: %d rounds against %d", len(a), len(b))
	}
	if len(a) == 0 {
		return RatioSummary{}, errors.New("stats: empty sample")
	}
	r := make([]float64, len(a))
	for i := range a {
		if b[i] <= 0 {
			return RatioSummary{}, fmt.Errorf("stats: round %d: non-positive denominator %v", i, b[i])
		}
		r[i] = float64(a[i]) / float64(b[i])
	}
	sort.Float64s(r)
	n := len(r)
	med := r[n/2]
	if n%2 == 0 {
		med = (r[n/2-1] + r[n/2]) / 2
	}
	return RatioSummary{Min: r[0], Median: med, Max: r[n-1], N: n}, nil
}

// Millis formats d in milliseconds with a precision that suits start-up times
// (0.01 ms below 100 ms, 0.1 ms above).
func Millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 100 {
		return fmt.Sprintf("%.2f ms", ms)
	}
	return fmt.Sprintf("%.1f ms", ms)
}
