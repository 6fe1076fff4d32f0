// Package stubs obtains the loader stub that `signet seal` attaches a manifest to.
//
// The stub's whole source is embedded into the signet tool (signet.StubSource). On first
// use for a target, Get writes that source into a private temporary directory, builds it
// with the local Go toolchain (CGO_ENABLED=0, -trimpath, no build id), and caches the stub
// under the user cache directory, keyed by the SHA-256 of the source, the Go version and the
// target. Later calls for the same key reuse the cached stub without running Go at all.
// See docs/design.md, "How signet seal gets stubs".
package stubs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/signet-dev/signet/signet"
	"github.com/signet-dev/signet/signet/internal/platform"
)

// ModulePath is the module the stub source is written out as.
const ModulePath = "github.com/signet-dev/signet"

// sourceDir is the directory of the module that holds the stub source ("signet/...").
const sourceDir = "signet"

// loaderPackage is the stub's main package, relative to the module root.
const loaderPackage = "./signet/cmd/loader"

// goMod is the go.mod written next to the stub source.
const goMod = "module " + ModulePath + "\n\ngo 1.26\n"

// ExeName returns the file name of a stub (or loader) for goos: "loader" or "loader.exe".
func ExeName(base, goos string) string {
	if goos == "windows" && !strings.EqualFold(path.Ext(base), ".exe") {
		return base + ".exe"
	}
	return base
}

// Builder builds and caches stubs. The zero value uses the embedded source, the user cache
// directory and the Go command from $GO or PATH.
type Builder struct {
	// Source is the stub source with paths relative to the module's signet/ directory
	// ("cmd/loader/main.go"); nil means signet.StubSource. Files ending in _test.go are
	// left out.
	Source fs.FS
	// CacheDir is where stubs are cached; "" means <os.UserCacheDir()>/signet/internal/stubs.
	CacheDir string
	// GoCommand is the go command; "" means $GO, else "go" found on PATH.
	GoCommand string
	// GoVersion is the Go version the stub must be built with (part of the cache key);
	// "" means runtime.Version(), the version this program was built with.
	GoVersion string
}

// Get returns the path of a cached stub for goos/goarch, building it first if needed, with
// the zero Builder.
func Get(ctx context.Context, goos, goarch string) (string, error) {
	var b Builder
	return b.Get(ctx, goos, goarch)
}

// Get returns the path of a cached stub for goos/goarch, building it first if needed.
func (b *Builder) Get(ctx context.Context, goos, goarch string) (string, error) {
	if _, ok := platform.Lookup(goos, goarch); !ok {
		return "", fmt.Errorf("unknown target %q (want one of %s)", goos+"/"+goarch, platform.Names())
	}
	src, err := b.readSource()
	if err != nil {
		return "", err
	}
	root, err := b.cacheRoot()
	if err != nil {
		return "", err
	}
	goVersion := b.goVersion()
	dir := filepath.Join(root, cacheKey(src, goVersion, goos, goarch))
	stub := filepath.Join(dir, ExeName("loader", goos))
	if err := checkCached(stub, goos); err == nil {
		return stub, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("cached stub %s: %w (remove it to rebuild)", stub, err)
	}
	if err := b.build(ctx, src, root, dir, stub, goVersion, goos, goarch); err != nil {
		return "", err
	}
	return stub, nil
}

// sourceFile is one file of the stub source.
type sourceFile struct {
	name string // relative to the module's signet/ directory, '/'-separated
	data []byte
}

// readSource returns the stub source without test files, sorted by name.
func (b *Builder) readSource() ([]sourceFile, error) {
	fsys := b.Source
	if fsys == nil {
		fsys = signet.StubSource
	}
	var files []sourceFile
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", name)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		files = append(files, sourceFile{name: name, data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the embedded loader source: %w", err)
	}
	if len(files) == 0 {
		return nil, errors.New("reading the embedded loader source: it is empty")
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files, nil
}

func (b *Builder) cacheRoot() (string, error) {
	if b.CacheDir != "" {
		return b.CacheDir, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory for loader stubs: %w", err)
	}
	return filepath.Join(dir, "signet", "stubs"), nil
}

func (b *Builder) goVersion() string {
	if b.GoVersion != "" {
		return b.GoVersion
	}
	return runtime.Version()
}

// cacheKey is the hex SHA-256 of the source, the generated go.mod, the Go version and the
// target, each length-prefixed so that no two inputs give the same hashed bytes.
func cacheKey(src []sourceFile, goVersion, goos, goarch string) string {
	h := sha256.New()
	put := func(b []byte) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	put([]byte("signet-stub-cache 1"))
	put([]byte(goMod))
	for _, f := range src {
		put([]byte(f.name))
		put(f.data)
	}
	put([]byte(goVersion))
	put([]byte(goos + "/" + goarch))
	return hex.EncodeToString(h.Sum(nil))
}

// checkCached returns nil if stub is a regular file that looks like an executable for goos,
// an error wrapping fs.ErrNotExist if there is nothing there, and another error otherwise.
func checkCached(stub, goos string) error {
	fi, err := os.Lstat(stub)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	f, err := os.Open(stub)
	if err != nil {
		return err
	}
	defer f.Close()
	return checkMagic(f, goos)
}

// checkMagic checks that r starts like an ELF (linux) or PE (windows) executable.
func checkMagic(r io.Reader, goos string) error {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return fmt.Errorf("reading its header: %w", err)
	}
	want := []byte("\x7fELF")
	if goos == "windows" {
		want = []byte("MZ")
	}
	if !bytes.HasPrefix(magic[:], want) {
		return fmt.Errorf("not a %s executable", goos)
	}
	return nil
}

// goCommand finds the go command: b.GoCommand, $GO, or "go" on PATH.
func (b *Builder) goCommand(goos, goarch string) (string, error) {
	name := b.GoCommand
	if name == "" {
		name = os.Getenv("GO")
	}
	if name == "" {
		name = "go"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("signet seal needs the Go toolchain to build the loader stub for %s/%s once, or pass --stub FILE: %w", goos, goarch, err)
	}
	return p, nil
}

// build writes the source into a private directory under root, builds the stub there, and
// renames it to stub (in dir) once it is complete.
func (b *Builder) build(ctx context.Context, src []sourceFile, root, dir, stub, goVersion, goos, goarch string) error {
	goCmd, err := b.goCommand(goos, goarch)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("creating the stub cache: %w", err)
	}
	work, err := os.MkdirTemp(root, ".build-")
	if err != nil {
		return fmt.Errorf("creating a build directory for the loader stub: %w", err)
	}
	defer os.RemoveAll(work)
	modRoot := filepath.Join(work, "src")
	if err := writeSource(modRoot, src); err != nil {
		return err
	}
	out := filepath.Join(work, ExeName("loader", goos))
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w -buildid=", "-o", out, loaderPackage)
	cmd.Dir = modRoot
	cmd.Env = buildEnv(os.Environ(), goos, goarch)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the loader stub for %s/%s with %s: %w\n%s", goos, goarch, goCmd, err, strings.TrimSpace(output.String()))
	}
	if err := checkBuilt(out, goos, goVersion); err != nil {
		return fmt.Errorf("building the loader stub for %s/%s with %s: %w", goos, goarch, goCmd, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the stub cache: %w", err)
	}
	if err := os.Rename(out, stub); err != nil {
		return fmt.Errorf("caching the loader stub: %w", err)
	}
	return nil
}

// checkBuilt checks the fresh stub: its magic, that it was built by the expected Go version,
// and syncs it to disk before it is renamed into the cache.
func checkBuilt(out, goos, goVersion string) error {
	f, err := os.OpenFile(out, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := checkMagic(f, goos); err != nil {
		return err
	}
	info, err := buildinfo.Read(f)
	if err != nil {
		return fmt.Errorf("reading the stub's build info: %w", err)
	}
	if info.GoVersion != goVersion {
		return fmt.Errorf("the Go toolchain is %s but signet was built with %s: put %s first on PATH (or set $GO to it), or pass --stub FILE", info.GoVersion, goVersion, goVersion)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// writeSource writes go.mod and the source files (under signet/) into modRoot.
func writeSource(modRoot string, src []sourceFile) error {
	write := func(rel string, data []byte) error {
		p := filepath.Join(modRoot, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o600)
	}
	if err := write("go.mod", []byte(goMod)); err != nil {
		return fmt.Errorf("writing the loader source: %w", err)
	}
	for _, f := range src {
		if !fs.ValidPath(f.name) {
			return fmt.Errorf("writing the loader source: bad file name %q", f.name)
		}
		if err := write(sourceDir+"/"+f.name, f.data); err != nil {
			return fmt.Errorf("writing the loader source: %w", err)
		}
	}
	return nil
}

// clearedEnv are variables that would change what the go command builds or how; buildEnv
// drops them and sets its own values.
var clearedEnv = map[string]bool{
	"GOFLAGS": true, "GOWORK": true, "GOOS": true, "GOARCH": true, "GOAMD64": true,
	"GOARM64": true, "GOARM": true, "GO386": true, "GOEXPERIMENT": true, "GOTOOLCHAIN": true,
	"GOENV": true, "GODEBUG": true, "GOFIPS140": true, "CGO_ENABLED": true, "CC": true,
	"CXX": true, "GCCGO": true,
}

// buildEnv returns environ without clearedEnv (and CGO_*), plus a fixed build configuration:
// no cgo, the target, baseline instruction sets, no user go env file, no workspace, no
// toolchain switch.
func buildEnv(environ []string, goos, goarch string) []string {
	env := make([]string, 0, len(environ)+10)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if clearedEnv[k] || strings.HasPrefix(k, "CGO_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOFLAGS=", "GOWORK=off",
		"GOENV=off", "GOTOOLCHAIN=local", "GOEXPERIMENT=")
	switch goarch {
	case "amd64":
		env = append(env, "GOAMD64=v1")
	case "arm64":
		env = append(env, "GOARM64=v8.0")
	}
	return env
}
