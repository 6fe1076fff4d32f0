//go:build linux

package audit

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/stubs"
)

// python is the real interpreter the tests seal against.
const python = "/usr/bin/python3.11"

var dummyStubs = map[string][]byte{}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		cache, err := os.MkdirTemp("", "audit-test-stubs-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(cache)
		b := &stubs.Builder{CacheDir: cache, Source: fstest.MapFS{
			"cmd/loader/main.go": {Data: []byte("package main\n\nfunc main() {}\n")},
		}}
		for _, target := range [][2]string{{"linux", "amd64"}, {"windows", "amd64"}, {"windows", "arm64"}} {
			p, err := b.Get(context.Background(), target[0], target[1])
			if err != nil {
				panic(err)
			}
			if dummyStubs[target[0]+"/"+target[1]], err = os.ReadFile(p); err != nil {
				panic(err)
			}
		}
		return m.Run()
	}())
}

var appFiles = map[string]string{"hello.py": "print('hi')\n", "pkg/__init__.py": "", "pkg/data.txt": "data"}

// delivery writes appFiles and a loader sealed with m (with the app files added) for
// target into a new directory, and returns the loader's path.
func delivery(t *testing.T, target string, edit func(m *manifest.Manifest)) string {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("these tests need CPython 3.11 at %s: %v", python, err)
	}
	dir := t.TempDir()
	m := &manifest.Manifest{Entry: "hello.py", Level: manifest.LevelEnforce, PythonPath: python, PythonVersion: "3.11",
		PythonTrust: []string{"/usr/lib/python3.11", "/usr/lib/python3.11/lib-dynload", "/usr/lib/python311.zip"}}
	for p, content := range appFiles {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		role := manifest.RoleForPath(p)
		if p == m.Entry {
			role = manifest.RoleEntry
		}
		m.Files = append(m.Files, manifest.File{Path: p, Size: int64(len(content)), SHA256: sha256.Sum256([]byte(content)), Role: role})
	}
	if edit != nil {
		edit(m)
	}
	m.Sort()
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	loader, err := payload.Attach(dummyStubs[target], enc)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, stubs.ExeName("hello", strings.Split(target, "/")[0]))
	if err := os.WriteFile(name, loader, 0o755); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestVerify(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "runtime.py")
	if err := os.WriteFile(outside, []byte("sealed runtime"), 0o644); err != nil {
		t.Fatal(err)
	}
	pin := sha256.Sum256([]byte("some interpreter"))
	tests := []struct {
		name     string
		target   string
		edit     func(m *manifest.Manifest)
		damage   func(t *testing.T, loader string)
		ok       bool
		payload  string
		checked  bool
		problems []string // each a prefix of one problem line, in order
		note     string
	}{
		{name: "intact", target: "linux/amd64", ok: true, payload: PayloadIntact, checked: true},
		{name: "modified", target: "linux/amd64", damage: func(t *testing.T, l string) { flipByte(t, filepath.Join(filepath.Dir(l), "hello.py"), 0) },
			payload: PayloadIntact, checked: true, problems: []string{"MODIFIED hello.py: content differs"}},
		{name: "missing and unexpected", target: "linux/amd64", damage: func(t *testing.T, l string) {
			dir := filepath.Dir(l)
			must(t, os.Remove(filepath.Join(dir, "pkg", "data.txt")))
			must(t, os.WriteFile(filepath.Join(dir, "evil.py"), nil, 0o644))
		}, payload: PayloadIntact, checked: true, problems: []string{"UNEXPECTED evil.py", "MISSING pkg/data.txt"}},
		{name: "warn level", target: "linux/amd64", edit: func(m *manifest.Manifest) { m.Level = manifest.LevelWarn },
			payload: PayloadIntact, checked: true, problems: []string{"WARN-LEVEL "}},
		{name: "damaged payload", target: "linux/amd64", damage: func(t *testing.T, l string) {
			fi, err := os.Stat(l)
			must(t, err)
			flipByte(t, l, fi.Size()-int64(payload.TrailerSize)-3)
		}, payload: PayloadDamaged, problems: []string{"PAYLOAD "}},
		{name: "no payload", target: "linux/amd64", damage: func(t *testing.T, l string) {
			must(t, os.WriteFile(l, dummyStubs["linux/amd64"], 0o755))
		}, payload: PayloadMissing, problems: []string{"PAYLOAD "}},
		{name: "interpreter digest", target: "linux/amd64", edit: func(m *manifest.Manifest) { m.PythonSHA256 = &pin },
			payload: PayloadIntact, checked: true, problems: []string{"INTERPRETER " + python}},
		{name: "interpreter version", target: "linux/amd64", edit: func(m *manifest.Manifest) { m.PythonVersion = "3.99" },
			payload: PayloadIntact, checked: true, problems: []string{"INTERPRETER " + python + ": python3.99 was replaced by 3.11"}},
		{name: "runtime file", target: "linux/amd64", edit: func(m *manifest.Manifest) {
			m.SealRuntime = true
			m.Files = append(m.Files, manifest.File{Path: filepath.ToSlash(outside), Size: 14, SHA256: sha256.Sum256([]byte("sealed runtime")), Role: manifest.RoleRuntime})
		}, damage: func(t *testing.T, _ string) { flipByte(t, outside, 1) },
			payload: PayloadIntact, checked: true, problems: []string{"MODIFIED " + outside}},
		{name: "windows target pinned", target: "windows/amd64", edit: func(m *manifest.Manifest) {
			m.PythonPath, m.PythonSHA256, m.PythonTrust = "C:/Python311/python.exe", &pin, []string{"C:/Python311"}
		}, ok: true, payload: PayloadIntact, note: "interpreter not checked here: windows target; pinned by sha256 " + hexOf(pin)},
		{name: "windows arm64 by version", target: "windows/arm64", edit: func(m *manifest.Manifest) {
			m.PythonPath, m.PythonTrust = "C:/Python311/python.exe", []string{"C:/Python311"}
		}, ok: true, payload: PayloadIntact, note: "interpreter not checked here: windows target; by version only (3.11)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loader := delivery(t, tt.target, tt.edit)
			if tt.damage != nil {
				tt.damage(t, loader)
			}
			r, err := Verify(t.Context(), loader, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r.OK != tt.ok || r.Payload != tt.payload || r.Target != tt.target {
				t.Errorf("ok %v payload %q target %q, want %v %q %q\n%s", r.OK, r.Payload, r.Target, tt.ok, tt.payload, tt.target, r.Text())
			}
			if len(r.Problems) != len(tt.problems) {
				t.Fatalf("problems:\n%s\nwant %q", r.Text(), tt.problems)
			}
			for i, want := range tt.problems {
				if got := r.Problems[i].String(); !strings.HasPrefix(got, want) {
					t.Errorf("problem %d = %q, want prefix %q", i, got, want)
				}
			}
			if r.Interpreter != nil && (r.Interpreter.Checked != tt.checked || r.Interpreter.Note != tt.note) {
				t.Errorf("interpreter %+v, want checked %v note %q", r.Interpreter, tt.checked, tt.note)
			}
			text := r.Text()
			wantVerdict := "FAILED: "
			if tt.ok {
				wantVerdict = "OK: "
			}
			if !strings.Contains(text, "\n"+wantVerdict) {
				t.Errorf("text has no %q verdict:\n%s", wantVerdict, text)
			}
			// The JSON form round-trips with the documented field names.
			b, err := json.Marshal(r)
			must(t, err)
			var decoded map[string]any
			must(t, json.Unmarshal(b, &decoded))
			for _, k := range []string{"loader", "ok", "target", "payload", "files", "problems"} {
				if _, ok := decoded[k]; !ok {
					t.Errorf("JSON lacks %q: %s", k, b)
				}
			}
			if decoded["ok"] != tt.ok {
				t.Errorf("JSON ok = %v", decoded["ok"])
			}
		})
	}
}

func TestVerifyCannotRun(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	must(t, os.WriteFile(text, []byte("hello"), 0o644))
	for _, p := range []string{filepath.Join(dir, "absent"), text} {
		if r, err := Verify(t.Context(), p, Options{}); err == nil {
			t.Errorf("Verify(%s) = %+v, want an error", p, r)
		}
	}
}

func TestProblemStringQuotesHostilePaths(t *testing.T) {
	p := Problem{Kind: KindUnexpected, Path: "a\nMODIFIED b", Detail: "x"}
	if got := p.String(); strings.Contains(got, "\n") {
		t.Errorf("String() = %q holds a newline", got)
	}
}

func flipByte(t *testing.T, name string, off int64) {
	t.Helper()
	b, err := os.ReadFile(name)
	must(t, err)
	b[off] ^= 0xff
	must(t, os.WriteFile(name, b, 0o644))
}

func hexOf(sum [32]byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 64)
	for i, c := range sum {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
