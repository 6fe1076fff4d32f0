package winresource

import (
	"bytes"
	"errors"
	"testing"

	"github.com/signet-dev/signet/signet/internal/payload"
)

// FuzzApply feeds arbitrary executables to Apply: it must never panic, winres must never
// reach a panic (which Apply would contain), and whatever Apply returns must be a
// well-formed PE. Run it with -fuzzminimizetime=200x: minimizing these inputs by time
// stalls the fuzzer.
func FuzzApply(f *testing.F) {
	small := makePE()
	f.Add(small)
	withRsrc := bytes.Clone(small)
	optOff, _ := peOffsets(withRsrc)
	f.Add(pePatch(withRsrc, optOff+112+resourceDirIndex*8, 0x2000, 4)) // .reloc doubles as .rsrc
	f.Add(pePatch(withRsrc, optOff+112+resourceDirIndex*8, 0x1000, 4)) // .rsrc before .reloc
	if applied, err := Apply(small, Info{ProductName: "p", FileVersion: "1.2.3"}); err == nil {
		f.Add(applied)
	}
	f.Add([]byte("MZ"))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	info := Info{CompanyName: "c", FileVersion: "1.2.3.4", Icon: bitmapICO()}
	f.Fuzz(func(t *testing.T, exe []byte) {
		out, err := Apply(exe, info)
		if err != nil {
			// The recover in writeToEXE is a last resort: readLayout should refuse
			// every layout winres cannot handle.
			if errors.Is(err, errWinresPanic) {
				t.Fatalf("winres panicked on a layout readLayout accepted: %v", err)
			}
			return
		}
		if format, err := payload.Detect(out); err != nil || format != payload.FormatPE {
			t.Fatalf("output is not a PE: %v %v", format, err)
		}
		if _, err := readLayout(out); err != nil {
			t.Fatalf("output layout: %v", err)
		}
	})
}

// FuzzIcon feeds arbitrary icon bytes to Validate and Apply.
func FuzzIcon(f *testing.F) {
	f.Add(bitmapICO())
	f.Add(pngICO(f, 16))
	f.Add(testPNG(f, 8))
	small := makePE()
	f.Fuzz(func(t *testing.T, icon []byte) {
		info := Info{Icon: icon}
		verr := info.Validate()
		_, aerr := Apply(small, info)
		if (verr == nil) != (aerr == nil) {
			t.Fatalf("Validate: %v, but Apply: %v", verr, aerr)
		}
	})
}
