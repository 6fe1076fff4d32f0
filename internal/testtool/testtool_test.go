package testtool

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestNeedFindsAProgramOnPath(t *testing.T) {
	if got := Need(t, "sh"); got == "" {
		t.Fatal("Need(sh) returned an empty path")
	}
}

// TestNeedSkipsOrFails: a missing program skips the test outside CI and fails it under
// CI=true; both say which package to install when it is known.
func TestNeedSkipsOrFails(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			t.Setenv("CI", ci)
			rec := &recorder{TB: t}
			done := make(chan struct{})
			go func() { // Fatalf and Skipf end the goroutine that calls them
				defer close(done)
				Need(rec, "osslsigncode")
			}()
			<-done
			if rec.failed != (ci == "true") || rec.skipped != (ci != "true") {
				t.Errorf("failed=%v skipped=%v, want a failure only under CI=true, else a skip", rec.failed, rec.skipped)
			}
			if want := "apt-get install osslsigncode"; !strings.Contains(rec.msg, want) {
				t.Errorf("message %q does not say %q", rec.msg, want)
			}
		})
	}
}

// recorder records Fatalf and Skipf instead of ending the test.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
