//go:build linux

package audit

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/signet/internal/bytecode"
	"github.com/signet-dev/signet/signet/internal/launch"
	"github.com/signet-dev/signet/signet/internal/manifest"
)

// compileFor compiles source as filename with the test interpreter.
func compileFor(t *testing.T, filename, source string) []byte {
	t.Helper()
	res, err := bytecode.Compile(context.Background(), python, []bytecode.Source{{Filename: filename, Data: []byte(source)}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != "" {
		t.Fatalf("compile %s: %s", filename, res[0].Err)
	}
	return res[0].Pyc
}

func TestVerifyRecompile(t *testing.T) {
	parts := launch.BootstrapParts("3.11")
	honest := func(t *testing.T) map[string][]byte {
		return map[string][]byte{
			parts[0].Path:                             compileFor(t, parts[0].Filename, string(parts[0].Source)),
			parts[1].Path:                             compileFor(t, parts[1].Filename, string(parts[1].Source)),
			"__signet_pyc__/3.11/hello.py.pyc":        compileFor(t, "hello.py", appFiles["hello.py"]),
			"__signet_pyc__/3.11/pkg/__init__.py.pyc": compileFor(t, "pkg/__init__.py", appFiles["pkg/__init__.py"]),
		}
	}
	tests := []struct {
		name       string
		pycs       func(t *testing.T) map[string][]byte
		python     string
		problems   []string // prefixes of the problem lines, in order
		recompiled int
		wantErr    string
	}{
		{name: "honest seal", pycs: honest, recompiled: 4},
		{name: "forged module bytecode, sealed by the vendor's build", pycs: func(t *testing.T) map[string][]byte {
			p := honest(t)
			p["__signet_pyc__/3.11/hello.py.pyc"] = compileFor(t, "hello.py", "import os; os.system('evil')\n")
			return p
		}, recompiled: 4, problems: []string{"BYTECODE __signet_pyc__/3.11/hello.py.pyc: not what its sealed source compiles to"}},
		{name: "forged bootstrap bytecode", pycs: func(t *testing.T) map[string][]byte {
			p := honest(t)
			p[parts[0].Path] = compileFor(t, parts[0].Filename, "print('no checks')\n")
			return p
		}, recompiled: 4, problems: []string{"BYTECODE " + parts[0].Path + ": not what"}},
		{name: "bootstrap of another signet revision", pycs: func(t *testing.T) map[string][]byte {
			p := honest(t)
			other := "__signet_pyc__/3.11/__signet_bootstrap__." + strings.Repeat("0", 64) + ".pyc"
			p[other] = p[parts[0].Path]
			delete(p, parts[0].Path)
			return p
		}, recompiled: 3, problems: []string{"BYTECODE __signet_pyc__/3.11/__signet_bootstrap__.000"}},
		{name: "bytecode without a sealed source", pycs: func(t *testing.T) map[string][]byte {
			p := honest(t)
			p["__signet_pyc__/3.11/gone.py.pyc"] = p["__signet_pyc__/3.11/hello.py.pyc"]
			return p
		}, recompiled: 4, problems: []string{"BYTECODE __signet_pyc__/3.11/gone.py.pyc: no sealed module gone.py"}},
		{name: "an interpreter of another version", pycs: honest, python: "/bin/sh", wantErr: "--recompile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pycs := tt.pycs(t)
			loader := delivery(t, "linux/amd64", func(m *manifest.Manifest) {
				for p, data := range pycs {
					m.Files = append(m.Files, manifest.File{Path: p, Size: int64(len(data)), SHA256: sha256.Sum256(data), Role: manifest.RoleBytecode})
				}
			})
			for p, data := range pycs {
				full := filepath.Join(filepath.Dir(loader), filepath.FromSlash(p))
				must(t, os.MkdirAll(filepath.Dir(full), 0o755))
				must(t, os.WriteFile(full, data, 0o644))
			}
			// without --recompile, a forged but sealed file passes: that is what the option is for
			plain, err := Verify(t.Context(), loader, Options{})
			if err != nil || !plain.OK {
				t.Fatalf("Verify without --recompile: %v, %+v", err, plain)
			}
			r, err := Verify(t.Context(), loader, Options{Recompile: true, Python: tt.python})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Recompiled != tt.recompiled {
				t.Errorf("recompiled %d, want %d", r.Recompiled, tt.recompiled)
			}
			if len(r.Problems) != len(tt.problems) || r.OK != (len(tt.problems) == 0) {
				t.Fatalf("problems %v, want %q", r.Problems, tt.problems)
			}
			for i, want := range tt.problems {
				if !strings.HasPrefix(r.Problems[i].String(), want) {
					t.Errorf("problem %d = %q, want prefix %q", i, r.Problems[i], want)
				}
			}
		})
	}
}

// TestVerifyRecompileCancelled runs --recompile with an interpreter that answers the version
// question and then never answers the compile request: a cancelled context (Ctrl-C in signet
// verify) kills it, and Verify returns promptly with an error that says so.
func TestVerifyRecompileCancelled(t *testing.T) {
	stuck := filepath.Join(t.TempDir(), "python3.11")
	// Called as: -I -S -c PROGRAM [MODE]; the version question has no MODE.
	must(t, os.WriteFile(stuck, []byte("#!/bin/sh\nif [ $# -eq 4 ]; then echo 3.11; exit 0; fi\nexec sleep 600\n"), 0o755))
	pyc := []byte("not really bytecode, never compared")
	loader := delivery(t, "linux/amd64", func(m *manifest.Manifest) {
		m.Files = append(m.Files, manifest.File{Path: "__signet_pyc__/3.11/hello.py.pyc", Size: int64(len(pyc)), SHA256: sha256.Sum256(pyc), Role: manifest.RoleBytecode})
	})
	full := filepath.Join(filepath.Dir(loader), "__signet_pyc__", "3.11", "hello.py.pyc")
	must(t, os.MkdirAll(filepath.Dir(full), 0o755))
	must(t, os.WriteFile(full, pyc, 0o644))

	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(t.Context(), 300*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(300*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			r, err := Verify(ctx, loader, Options{Recompile: true, Python: stuck})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %+v, %v; want an error wrapping %v", r, err, tc.want)
			}
			if !strings.Contains(err.Error(), "--recompile") {
				t.Errorf("error %q does not name --recompile", err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("Verify took %v after the context ended", d)
			}
		})
	}
}
