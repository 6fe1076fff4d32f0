package seal

import (
	"testing"

	"github.com/signet-dev/signet/signet/internal/apppath"
)

// FuzzParseProbe feeds arbitrary interpreter output to the probe parser: it must not panic,
// and every trusted path it accepts must be a valid absolute manifest path.
func FuzzParseProbe(f *testing.F) {
	f.Add([]byte("version 3.11\npath 2f7573722f6c69622f707974686f6e332e3131\nlib 2f6f70742f6c69622f6c6962707974686f6e332e31312e736f\n"))
	f.Add([]byte("version 3.12\nlibdir 2f7573722f6c6f63616c2f6c6962\n"))
	f.Add([]byte("version 3.11\npath 00\n"))
	f.Add([]byte("path 2f\nversion x\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		in, err := parseProbe(out, "linux")
		if err != nil {
			return
		}
		if !versionPattern.MatchString(in.version) {
			t.Errorf("accepted version %q", in.version)
		}
		for _, p := range in.trust {
			if err := apppath.ValidateAbsolute(p); err != nil {
				t.Errorf("accepted trust path %q: %v", p, err)
			}
		}
	})
}
