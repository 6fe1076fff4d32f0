//go:build linux

package e2e_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/signet/internal/verifycache"
)

// TestVerificationCache runs a delivery with its own interpreter (1,000+ sealed files)
// three ways: the first start hashes every file and remembers them; the next start reads a
// fraction of the bytes (the process's own read count, /proc/self/io rchar, shows it); a
// change made since, even of the same size, is still refused before the app's first line,
// and an unsafe cache directory is not used at all.
func TestVerificationCache(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		rt := relocatableRuntime(t, py)
		work := t.TempDir()
		appDir := filepath.Join(work, "app")
		bundledApp(t, appDir, "")
		if err := os.WriteFile(filepath.Join(appDir, "io.py"),
			[]byte("print(dict(l.split(': ') for l in open('/proc/self/io').read().splitlines())['rchar'])\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		dist := filepath.Join(work, "dist")
		loader := filepath.Join(dist, "hello")
		r := run(t, appDir, nil, "", bin.signet, "seal", "--main", "io.py", "--root", appDir, "--runtime", rt,
			"--stub", bin.stub, "-o", loader)
		if r.code != 0 {
			t.Fatalf("seal: %s", r)
		}
		sealed := int64(0)
		filepath.Walk(dist, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() && p != loader { // the sealed files
				sealed += fi.Size()
			}
			return nil
		})
		cacheHome := filepath.Join(work, "cache")
		if err := os.Mkdir(cacheHome, 0o700); err != nil {
			t.Fatal(err)
		}
		env := []string{"XDG_CACHE_HOME=" + cacheHome}
		// Files changed less than the margin ago are not remembered.
		time.Sleep(verifycache.Margin + 500*time.Millisecond)

		read := func(t *testing.T, env []string) int64 {
			t.Helper()
			r := run(t, work, env, "", loader)
			n, err := strconv.ParseInt(strings.TrimSpace(r.stdout), 10, 64)
			if r.code != 0 || err != nil {
				t.Fatalf("loader: %s", r)
			}
			return n
		}
		first := read(t, env)
		if first < sealed {
			t.Errorf("the first start read %d bytes, less than the %d sealed: not every file was hashed", first, sealed)
		}
		entries, _ := os.ReadDir(filepath.Join(cacheHome, "signet-verified"))
		if len(entries) != 1 {
			t.Fatalf("cache directory holds %d files, want 1", len(entries))
		}
		second := read(t, env)
		if second > sealed/4 {
			t.Errorf("the second start read %d of %d sealed bytes: the cache was not used", second, sealed)
		}

		// Same size, other bytes: the change time moved, so it is hashed and refused.
		mod := filepath.Join(dist, "runtime", "lib", "python"+py.version, "textwrap.py")
		orig, err := os.ReadFile(mod)
		if err != nil {
			t.Fatal(err)
		}
		changed := append([]byte{}, orig...)
		changed[len(changed)-2] ^= 0x20
		if err := os.WriteFile(mod, changed, 0o644); err != nil {
			t.Fatal(err)
		}
		r = run(t, work, env, "", loader)
		if r.code != 101 || !hasLine(r.stderr, "signet: MODIFIED runtime/lib/python"+py.version+"/textwrap.py: content differs") {
			t.Errorf("a same-size change after caching: %s", r)
		}
		if err := os.WriteFile(mod, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		if n := read(t, env); n < int64(len(orig)) {
			t.Errorf("the restored file was not read again (%d bytes read)", n)
		}

		// A cache directory others may write is not used: every start hashes everything.
		unsafe := filepath.Join(work, "shared")
		if err := os.Mkdir(unsafe, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(unsafe, 0o777); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if n := read(t, []string{"XDG_CACHE_HOME=" + unsafe}); n < sealed {
				t.Errorf("start %d with a world-writable cache directory read %d of %d bytes", i+1, n, sealed)
			}
		}
	})
}

// TestVerifyAtImport seals with --verify-at-import: modules are checked where they are
// imported, data files and planted files still before the app's first line. A module changed
// before the start is refused when it is imported (106), and its bytes never run; a module
// the app never imports costs nothing and is never judged.
func TestVerifyAtImport(t *testing.T) {
	forEachPython(t, func(t *testing.T, py python) {
		tests := []struct {
			name   string
			tamper func(t *testing.T, dist, canary string)
			code   int
			line   string
			stdout string
		}{
			{"untouched", func(*testing.T, string, string) {}, 0, "", "price 21\nloaded\n"},
			{"imported module changed", func(t *testing.T, dist, canary string) {
				appendTo(t, filepath.Join(dist, "shop", "pricing.py"), "\nopen("+quote(canary)+", 'a').write('ran')\n")
				if err := os.Remove(filepath.Join(dist, "__signet_pyc__", py.version, "shop", "pricing.py.pyc")); err != nil {
					t.Fatal(err)
				}
			}, 106, "signet: MISSING __signet_pyc__/" + py.version + "/shop/pricing.py.pyc: not found", ""},
			{"imported bytecode changed", func(t *testing.T, dist, _ string) {
				appendTo(t, filepath.Join(dist, "__signet_pyc__", py.version, "shop", "pricing.py.pyc"), "\x00")
			}, 106, "signet: MODIFIED __signet_pyc__/" + py.version + "/shop/pricing.py.pyc: content differs from the sealed digest", ""},
			{"module never imported changed", func(t *testing.T, dist, _ string) {
				appendTo(t, filepath.Join(dist, "unused.py"), "\nraise SystemExit(3)\n")
			}, 0, "", "price 21\nloaded\n"},
			{"data file changed", func(t *testing.T, dist, _ string) {
				appendTo(t, filepath.Join(dist, "shop", "rates.txt"), "x")
			}, 101, "signet: MODIFIED shop/rates.txt", ""},
			{"module planted", func(t *testing.T, dist, canary string) {
				writeTo(t, filepath.Join(dist, "shop", "evil.py"), "open("+quote(canary)+", 'a')\n")
			}, 101, "signet: UNEXPECTED shop/evil.py", ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				work := t.TempDir()
				appDir := filepath.Join(work, "app")
				canary := filepath.Join(work, "CANARY")
				files := map[string]string{
					"main.py":          "from shop import price\nprint('price', price(3))\nimport shop.pricing\nprint('loaded')\n",
					"unused.py":        "X = 1\n",
					"shop/__init__.py": "from .pricing import price\n",
					"shop/pricing.py":  "def price(n):\n    return n * 7\n",
					"shop/rates.txt":   "7\n",
				}
				for name, body := range files {
					p := filepath.Join(appDir, filepath.FromSlash(name))
					os.MkdirAll(filepath.Dir(p), 0o755)
					writeTo(t, p, body)
				}
				dist := filepath.Join(work, "dist")
				loader := filepath.Join(dist, "hello")
				r := run(t, appDir, nil, "", bin.signet, "seal", "--main", "main.py", "--root", appDir,
					"--python", py.path, "--stub", bin.stub, "--verify-at-import", "-o", loader)
				if r.code != 0 {
					t.Fatalf("seal: %s", r)
				}
				tc.tamper(t, dist, canary)
				r = run(t, work, []string{"XDG_CACHE_HOME=" + filepath.Join(work, "nocache")}, "", loader)
				if r.code != tc.code || r.stdout != tc.stdout || (tc.line != "" && !hasLine(r.stderr, tc.line)) {
					t.Errorf("want exit %d, stdout %q, a line %q: %s", tc.code, tc.stdout, tc.line, r)
				}
				if _, err := os.Stat(canary); err == nil {
					t.Errorf("the attacker's code ran")
				}
			})
		}
	})
}
