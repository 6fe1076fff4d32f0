//go:build linux

package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSealAndBazelHelperSayTheSame runs `signet seal` and the Bazel rules' helper
// (signet/cmd/bazelseal) on the same app with the same bad settings: both run the one seal
// pipeline, so each must refuse with the same message (after its own "signet seal:" or
// "bazelseal:" prefix), and neither may leave an output behind.
func TestSealAndBazelHelperSayTheSame(t *testing.T) {
	helper := built(t, "./signet/cmd/bazelseal", "", "")
	app := t.TempDir()
	for name, body := range map[string]string{"main.py": "import pkg.mod\n", "pkg/__init__.py": "", "pkg/mod.py": "X = 1\n"} {
		p := filepath.Join(app, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Settings both commands share: a foreign target, so neither runs an interpreter.
	type settings struct{ target, python, version, sha, main, level, company string }
	base := settings{target: "linux/arm64", python: "/usr/bin/python3.11", version: "3.11", main: "main.py", level: "enforce"}
	cases := []struct {
		name string
		edit func(*settings)
		want string
	}{
		{"unknown target", func(s *settings) { s.target = "darwin/arm64" }, `--target: unknown target "darwin/arm64"`},
		{"bad version", func(s *settings) { s.version = "3" }, `--python-version "3": want X.Y`},
		{"bad digest pin", func(s *settings) { s.sha = "xyz" }, `--python-sha256 "xyz": want 64 hex digits`},
		{"windows interpreter for linux", func(s *settings) { s.python = "C:/Python311/python.exe" }, "is a Windows path, but the target is linux"},
		{"relative interpreter", func(s *settings) { s.python = "bin/python3" }, "--python"},
		{"main not sealed", func(s *settings) { s.main = "nope.py" }, "--main nope.py is not a file of the app"},
		{"bad level", func(s *settings) { s.level = "lenient" }, `--level "lenient": want enforce or warn`},
		{"resources for linux", func(s *settings) { s.company = "Example Ltd" }, "are for a windows target, not linux/arm64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.edit(&s)
			out := t.TempDir()

			cli := []string{"seal", "--root", app, "--main", s.main, "--python", s.python, "--python-version", s.version,
				"--target", s.target, "--level", s.level, "--stub", bin.stub, "-o", filepath.Join(out, "cli", "hello")}
			params := []string{"--target", s.target, "--stub", bin.stub, "--python", s.python, "--python-version", s.version,
				"--main", s.main, "--level", s.level, "--loader-name", "hello",
				"--out-loader", filepath.Join(out, "hello"), "--out-manifest", filepath.Join(out, "hello.manifest"),
				"--out-delivery", filepath.Join(out, "hello.tar")}
			for _, f := range []string{"main.py", "pkg/__init__.py", "pkg/mod.py"} {
				params = append(params, "--src", filepath.Join(app, filepath.FromSlash(f)), "--app", f)
			}
			if s.sha != "" {
				cli = append(cli, "--python-sha256", s.sha)
				params = append(params, "--python-sha256", s.sha)
			}
			if s.company != "" {
				cli = append(cli, "--company", s.company)
				params = append(params, "--company", s.company)
			}
			paramFile := filepath.Join(t.TempDir(), "params")
			if err := os.WriteFile(paramFile, []byte(strings.Join(params, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}

			a := run(t, out, nil, "", bin.signet, cli...)
			b := run(t, out, nil, "", helper, "@"+paramFile)
			if a.code == 0 || b.code == 0 {
				t.Fatalf("a refusal was expected from both:\nsignet seal: %s\nbazelseal: %s", a, b)
			}
			msgA := firstLine(strings.TrimPrefix(a.stderr, "signet seal: "))
			msgB := firstLine(strings.TrimPrefix(b.stderr, "bazelseal: "))
			if msgA != msgB {
				t.Errorf("the two commands disagree:\n  signet seal: %s\n  bazelseal:   %s", msgA, msgB)
			}
			if !strings.Contains(msgA, tc.want) {
				t.Errorf("message %q does not say %q", msgA, tc.want)
			}
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				t.Errorf("left behind after a refusal: %s", e.Name())
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
