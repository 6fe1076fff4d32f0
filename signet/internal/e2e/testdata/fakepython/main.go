// Command fakepython stands in for a Windows CPython in signet's end-to-end tests, where no
// Windows CPython exists (the loader runs under wine). Started by the loader as python.exe,
// it records what it was given into record.json beside its own executable:
//
//   - argv, exactly as it arrived (os.Args);
//   - the environment (os.Environ());
//   - everything it reads from the inherited handle named by the first argument after the
//     -c program (the loader's payload: bootstrap, lazy bootstrap, manifest), or why it could
//     not read it;
//   - whether the handle was still readable afterwards is not checked: reading to the end
//     proves the loader closed its end.
//
// Then it exits with the status given as the app argument "--exit=N" (after "--"), else 0.
// It is built by the tests (GOOS=windows) and is not part of signet.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// record is what record.json holds.
type record struct {
	Argv       []string `json:"argv"`
	Environ    []string `json:"environ"`
	Handle     string   `json:"handle"`      // the handle value as passed
	Payload    []byte   `json:"payload"`     // what was read from it
	PayloadErr string   `json:"payload_err"` // why it could not be read, if so
}

func main() {
	code, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakepython:", err)
		os.Exit(120)
	}
	os.Exit(code)
}

func run() (int, error) {
	rec := record{Argv: os.Args, Environ: os.Environ()}
	code := 0
	for i, a := range os.Args {
		if a == "-c" && i+2 < len(os.Args) {
			rec.Handle = os.Args[i+2]
			rec.Payload, err = readHandle(rec.Handle)
			if err != nil {
				rec.PayloadErr = err.Error()
			}
		}
		if a == "--" {
			for _, app := range os.Args[i+1:] {
				if v, ok := strings.CutPrefix(app, "--exit="); ok {
					n, err := strconv.Atoi(v)
					if err != nil {
						return 0, fmt.Errorf("bad --exit: %w", err)
					}
					code = n
				}
			}
			break
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("finding its own executable: %w", err)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return 0, fmt.Errorf("encoding the record: %w", err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(exe), "record.json"), b, 0o644); err != nil {
		return 0, fmt.Errorf("writing the record: %w", err)
	}
	fmt.Println("fakepython ran")
	return code, nil
}

var err error

// readHandle reads the inherited handle whose decimal value is s to its end.
func readHandle(s string) ([]byte, error) {
	h, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("handle %q is not a number: %w", s, err)
	}
	f := os.NewFile(uintptr(h), "payload-pipe")
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return b, fmt.Errorf("reading handle %d: %w", h, err)
	}
	return b, nil
}
