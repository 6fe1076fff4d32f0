package stubs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// tinySource is a stand-in loader source: a main package at cmd/loader that imports a
// second package of the module, like the real stub does.
func tinySource() fstest.MapFS {
	return fstest.MapFS{
		"cmd/loader/main.go":      {Data: []byte("package main\n\nimport \"github.com/signet-dev/signet/signet/greet\"\n\nfunc main() { println(greet.Hello) }\n")},
		"cmd/loader/main_test.go": {Data: []byte("this is not Go and must not be written out\n")},
		"greet/greet.go":          {Data: []byte("package greet\n\nconst Hello = \"hello\"\n")},
	}
}

func TestGetBuildsOnceThenHitsTheCache(t *testing.T) {
	cache := t.TempDir()
	b := &Builder{Source: tinySource(), CacheDir: cache}
	first, err := b.Get(context.Background(), "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first, cache) || filepath.Base(first) != "loader" {
		t.Errorf("stub at %s, want <cache>/<key>/loader", first)
	}
	fi, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	// A cache hit must not run Go: a go command that does not exist proves it.
	hit := &Builder{Source: tinySource(), CacheDir: cache, GoCommand: filepath.Join(t.TempDir(), "no-go")}
	second, err := hit.Get(context.Background(), "linux", "amd64")
	if err != nil {
		t.Fatalf("second Get (cache hit expected): %v", err)
	}
	if second != first {
		t.Errorf("second Get returned %s, want %s", second, first)
	}
	fi2, err := os.Stat(second)
	if err != nil {
		t.Fatal(err)
	}
	if !fi2.ModTime().Equal(fi.ModTime()) {
		t.Errorf("cached stub was rewritten")
	}
	// Nothing but the key directory is left in the cache (no build directories).
	entries, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != filepath.Base(filepath.Dir(first)) {
		t.Errorf("cache holds %v, want only the key directory", entries)
	}
}

func TestGetMagicPerTarget(t *testing.T) {
	cache := t.TempDir()
	tests := []struct {
		goos, goarch, name, magic string
	}{
		{"linux", "amd64", "loader", "\x7fELF"},
		{"linux", "arm64", "loader", "\x7fELF"},
		{"windows", "amd64", "loader.exe", "MZ"},
	}
	for _, tt := range tests {
		t.Run(tt.goos+"_"+tt.goarch, func(t *testing.T) {
			b := &Builder{Source: tinySource(), CacheDir: cache}
			p, err := b.Get(context.Background(), tt.goos, tt.goarch)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(p) != tt.name {
				t.Errorf("stub named %s, want %s", filepath.Base(p), tt.name)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte(tt.magic)) {
				t.Errorf("stub starts with %q, want %q", data[:4], tt.magic)
			}
			if bytes.Contains(data, []byte(cache)) {
				t.Errorf("stub contains the build path %s", cache)
			}
		})
	}
}

func TestGetIsReproducible(t *testing.T) {
	var stubs [][]byte
	for i := 0; i < 2; i++ {
		b := &Builder{Source: tinySource(), CacheDir: t.TempDir()}
		p, err := b.Get(context.Background(), "windows", "amd64")
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		stubs = append(stubs, data)
	}
	if !bytes.Equal(stubs[0], stubs[1]) {
		t.Errorf("two builds differ (%d and %d bytes)", len(stubs[0]), len(stubs[1]))
	}
}

func TestGetErrors(t *testing.T) {
	noGo := filepath.Join(t.TempDir(), "no-go")
	tests := []struct {
		name          string
		b             *Builder
		goos, goarch  string
		wantInMessage string
	}{
		{"unknown target", &Builder{Source: tinySource(), CacheDir: t.TempDir()}, "plan9", "amd64", `unknown target "plan9/amd64"`},
		{"no go toolchain", &Builder{Source: tinySource(), CacheDir: t.TempDir(), GoCommand: noGo}, "windows", "amd64", "signet seal needs the Go toolchain to build the loader stub for windows/amd64 once, or pass --stub"},
		{"other go version", &Builder{Source: tinySource(), CacheDir: t.TempDir(), GoVersion: "go1.2.3"}, "linux", "amd64", "signet was built with go1.2.3"},
		{"broken source", &Builder{Source: fstest.MapFS{"cmd/loader/main.go": {Data: []byte("package main\nfunc main() { undefined() }\n")}}, CacheDir: t.TempDir()}, "linux", "amd64", "undefined"},
		{"empty source", &Builder{Source: fstest.MapFS{}, CacheDir: t.TempDir()}, "linux", "amd64", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.b.Get(context.Background(), tt.goos, tt.goarch)
			if err == nil {
				t.Fatalf("Get = %s, want an error", p)
			}
			if !strings.Contains(err.Error(), tt.wantInMessage) {
				t.Errorf("error %q does not contain %q", err, tt.wantInMessage)
			}
			if tt.b.CacheDir != "" {
				if m, _ := filepath.Glob(filepath.Join(tt.b.CacheDir, "*", "loader*")); len(m) != 0 {
					t.Errorf("a failed build left %v in the cache", m)
				}
			}
		})
	}
}

func TestCacheKeyDependsOnEveryInput(t *testing.T) {
	src := []sourceFile{{name: "a.go", data: []byte("x")}}
	base := cacheKey(src, "go1.26.8", "linux", "amd64")
	others := []string{
		cacheKey([]sourceFile{{name: "a.go", data: []byte("y")}}, "go1.26.8", "linux", "amd64"),
		cacheKey([]sourceFile{{name: "b.go", data: []byte("x")}}, "go1.26.8", "linux", "amd64"),
		cacheKey([]sourceFile{{name: "a.g", data: []byte("ox")}}, "go1.26.8", "linux", "amd64"),
		cacheKey(src, "go1.26.9", "linux", "amd64"),
		cacheKey(src, "go1.26.8", "linux", "arm64"),
		cacheKey(src, "go1.26.8", "windows", "amd64"),
	}
	for i, k := range others {
		if k == base {
			t.Errorf("variant %d has the same key as the base", i)
		}
	}
	if again := cacheKey(src, "go1.26.8", "linux", "amd64"); again != base {
		t.Errorf("key is not stable: %s then %s", base, again)
	}
}

func TestBuildEnvOverridesTheCallersGoSettings(t *testing.T) {
	env := buildEnv([]string{"PATH=/bin", "GOFLAGS=-race", "GOOS=plan9", "CGO_CFLAGS=-O3", "GOAMD64=v3", "HOME=/h"}, "linux", "amd64")
	got := map[string][]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = append(got[k], v)
	}
	want := map[string]string{"PATH": "/bin", "HOME": "/h", "GOFLAGS": "", "GOOS": "linux", "GOARCH": "amd64",
		"CGO_ENABLED": "0", "GOAMD64": "v1", "GOWORK": "off", "GOTOOLCHAIN": "local", "GOENV": "off"}
	for k, v := range want {
		if len(got[k]) != 1 || got[k][0] != v {
			t.Errorf("%s = %q, want exactly [%q]", k, got[k], v)
		}
	}
	if _, ok := got["CGO_CFLAGS"]; ok {
		t.Errorf("CGO_CFLAGS was passed through")
	}
}

func TestExeName(t *testing.T) {
	tests := []struct{ base, goos, want string }{
		{"hello", "linux", "hello"},
		{"hello", "windows", "hello.exe"},
		{"hello.exe", "windows", "hello.exe"},
		{"hello.EXE", "windows", "hello.EXE"},
	}
	for _, tt := range tests {
		if got := ExeName(tt.base, tt.goos); got != tt.want {
			t.Errorf("ExeName(%q, %q) = %q, want %q", tt.base, tt.goos, got, tt.want)
		}
	}
}
