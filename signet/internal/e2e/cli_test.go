//go:build linux

package e2e_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyAndSha256sum checks an installed delivery offline, with `signet verify` and with
// coreutils' `sha256sum -c` fed by `signet manifest`: both pass on an intact delivery and
// both fail, naming the file, once a sealed module is changed.
func TestVerifyAndSha256sum(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		app := t.TempDir()
		copyApp(t, "victim", app, t.TempDir())
		loader := seal(t, app, sealOpts{main: "app.py", python: py.path})

		check := func(t *testing.T) (verify, sum result) {
			verify = run(t, app, nil, "", bin.signet, "verify", loader)
			m := run(t, app, nil, "", bin.signet, "manifest", loader)
			if m.code != 0 {
				t.Fatalf("signet manifest: %s", m)
			}
			if !strings.Contains(m.stdout, "  mod.py\n") {
				t.Errorf("signet manifest does not list mod.py:\n%s", m.stdout)
			}
			sum = run(t, app, nil, m.stdout, "sha256sum", "-c", "-")
			return verify, sum
		}

		verify, sum := check(t)
		if verify.code != 0 {
			t.Errorf("signet verify on an intact delivery: %s", verify)
		}
		if sum.code != 0 {
			t.Errorf("sha256sum -c on an intact delivery: %s", sum)
		}

		replaceInFile(t, filepath.Join(app, "mod.py"), "if 0 else", "if 1 else")
		verify, sum = check(t)
		if verify.code == 0 || !strings.Contains(verify.stdout+verify.stderr, "mod.py") {
			t.Errorf("signet verify on a tampered delivery: %s\nwant a non-zero exit naming mod.py", verify)
		}
		if sum.code == 0 || !hasLine(sum.stdout, "mod.py: FAILED") {
			t.Errorf("sha256sum -c on a tampered delivery: %s\nwant a non-zero exit and \"mod.py: FAILED\"", sum)
		}
	})
}
