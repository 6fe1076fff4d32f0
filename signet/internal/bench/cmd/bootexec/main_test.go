package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
)

// sealedLoader writes an ELF (this test binary) with a manifest attached into a new
// directory and returns its path and the manifest bytes.
func sealedLoader(t *testing.T, pythonPath string) (string, []byte) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	stub, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{
		Entry: "main.py", Level: manifest.LevelEnforce,
		PythonPath: pythonPath, PythonVersion: "3.11",
		Files: []manifest.File{{Path: "main.py", Size: 5, Role: manifest.RoleEntry}},
	}
	if !filepath.IsAbs(pythonPath) {
		m.Files = append(m.Files, manifest.File{Path: pythonPath, Size: 1, Role: manifest.RoleForPath(pythonPath)})
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := payload.Attach(stub, raw)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "app")
	if err := os.WriteFile(name, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	return name, raw
}

func TestConfigForBuildsTheLoadersConfig(t *testing.T) {
	for _, tc := range []struct {
		name, pythonPath string
		wantInterpreter  func(root string) string
	}{
		{"absolute interpreter", "/usr/bin/python3.11", func(string) string { return "/usr/bin/python3.11" }},
		{"interpreter inside the app", "py/bin/python3", func(root string) string { return filepath.Join(root, "py", "bin", "python3") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loader, raw := sealedLoader(t, tc.pythonPath)
			cfg, err := configFor(loader, []string{"a", "b"})
			if err != nil {
				t.Fatal(err)
			}
			root := filepath.Dir(loader)
			if cfg.Interpreter != tc.wantInterpreter(root) || cfg.AppRoot != root || cfg.Loader != loader ||
				cfg.AppName != "app" || !reflect.DeepEqual(cfg.Args, []string{"a", "b"}) || string(cfg.Manifest) != string(raw) {
				t.Errorf("configFor = %+v", cfg)
			}
		})
	}
}

func TestConfigForRefusesAnUnsealedFile(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(plain, []byte("\x7fELF not sealed"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{plain, filepath.Join(t.TempDir(), "missing")} {
		if _, err := configFor(path, nil); err == nil {
			t.Errorf("configFor(%s): no error", path)
		}
	}
}
