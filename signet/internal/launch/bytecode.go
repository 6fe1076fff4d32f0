package launch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Sealed bytecode (docs/design.md, "Sealed bytecode"): `signet seal` compiles every sealed
// module, and the bootstrap itself, with the sealed interpreter and seals the results as
// bytecode-role files under BytecodeDir. These names are shared by the seal (which writes
// them), the bootstrap (which loads module bytecode) and Start (which hands the bootstrap's
// bytecode to the interpreter).

// BytecodeDir is the top-level app directory that holds sealed bytecode, one subdirectory
// per Python version ("__signet_pyc__/3.11/...").
const BytecodeDir = "__signet_pyc__"

// Compile-time file names of the bootstrap's two parts: what tracebacks through the
// bootstrap show, whether it was compiled from source at start or at seal time.
const (
	BootstrapFilename     = "<signet-bootstrap>"
	BootstrapLazyFilename = "<signet-bootstrap-lazy>"
)

// maxBootstrapBytecode bounds what Start reads for one bootstrap part (a few tens of KiB
// in practice); a bigger sealed record is not used.
const maxBootstrapBytecode = 4 << 20

// BytecodePath returns the app path of the sealed bytecode of the module (or entry script)
// at app path source, for Python version "X.Y": "__signet_pyc__/X.Y/<source>.pyc".
func BytecodePath(version, source string) string {
	return BytecodeDir + "/" + version + "/" + source + ".pyc"
}

// BootstrapPart is one part of the Python bootstrap, as `signet seal` compiles it.
type BootstrapPart struct {
	Path     string // app path of its sealed bytecode; names the SHA-256 of Source
	Filename string // the file name to compile it with (BootstrapFilename, BootstrapLazyFilename)
	Source   []byte // the embedded source
}

// BootstrapParts returns the bootstrap and the lazy bootstrap embedded in this package, with
// the app paths of their sealed bytecode for Python version "X.Y":
// "__signet_pyc__/X.Y/__signet_bootstrap__.<sha256 of the source>.pyc" and
// "__signet_bootstrap_lazy__.<sha256>.pyc" beside it. A loader looks only for the names of
// its own embedded source, so bytecode of another revision's bootstrap is never run.
func BootstrapParts(version string) [2]BootstrapPart {
	paths := bootstrapPaths(version)
	return [2]BootstrapPart{
		{Path: paths[0], Filename: BootstrapFilename, Source: []byte(bootstrapSource)},
		{Path: paths[1], Filename: BootstrapLazyFilename, Source: []byte(bootstrapLazySource)},
	}
}

// bootstrapPaths returns the app paths of the sealed bytecode of the two bootstrap parts for
// Python version "X.Y". The digests in them are constants generated from the embedded
// sources (bootstrap_digest.go), so a start-up neither copies nor hashes ~60 KB of source.
func bootstrapPaths(version string) [2]string {
	dir := BytecodeDir + "/" + version + "/"
	return [2]string{
		dir + "__signet_bootstrap__." + bootstrapSHA256 + ".pyc",
		dir + "__signet_bootstrap_lazy__." + bootstrapLazySHA256 + ".pyc",
	}
}

// Payload is what the interpreter reads from its inherited descriptor.
type Payload struct {
	Data    []byte // bootstrap part, lazy bootstrap part, preloaded module bytecode, manifest
	Form    string // "pyc": both bootstrap parts are sealed bytecode; "py": source
	BootLen int    // length of the bootstrap part
	LazyLen int    // length of the lazy bootstrap part
	PycLen  int    // length of the preloaded module bytecode (0: none, read at import)
}

// maxPreload bounds the module bytecode preloaded into the payload; an app with more is
// served from disk, each file read and hashed when it is imported. The preloaded bytes stay
// in the loader's memory until the launch and in the interpreter's for the app's lifetime,
// so the bound keeps both small (a 300-module app has ~4 MB of bytecode) rather than
// letting them grow with the app.
const maxPreload = 16 << 20

// BuildPayload returns the payload for cfg. When the manifest seals bytecode of exactly the
// bootstrap embedded here (for its python-version), that bytecode is sent instead of the
// source, which spares the interpreter compiling ~30 KB of Python at every start; so is the
// sealed bytecode of the app's modules (see preloadBytecode).
//
// When cfg.Preload is complete (the start-up check read every file it names into it and
// each passed), its buffer is the payload and nothing is read again. Otherwise each file is
// read from the app root once more and checked against its sealed size and digest: a bootstrap part that
// is missing, from another signet revision, or no longer matches its seal is replaced by the
// embedded source (the loader's own code, not the app's, so this fallback runs nothing
// unsealed), and module bytecode that fails is left to the bootstrap, which refuses it at
// import. The interpreter checks the bytecode's magic number (see reader).
func BuildPayload(cfg Config) Payload {
	if cfg.Preload.complete() && cfg.Preload.laidOutFor(cfg.Manifest) {
		return cfg.Preload.payload
	}
	version, ok := manifestVersion(cfg.Manifest)
	if !ok {
		return assemble("py", []byte(bootstrapSource), []byte(bootstrapLazySource), nil, cfg.Manifest)
	}
	paths := bootstrapPaths(version)
	pycs := preloadBytecode(cfg.AppRoot, cfg.Manifest)
	boot, errBoot := readSealedBytecode(cfg.AppRoot, cfg.Manifest, paths[0])
	lazy, errLazy := readSealedBytecode(cfg.AppRoot, cfg.Manifest, paths[1])
	if errBoot != nil || errLazy != nil {
		return assemble("py", []byte(bootstrapSource), []byte(bootstrapLazySource), pycs, cfg.Manifest)
	}
	return assemble("pyc", boot, lazy, pycs, cfg.Manifest)
}

func assemble(form string, boot, lazy, pycs, manifest []byte) Payload {
	b := make([]byte, 0, len(boot)+len(lazy)+len(pycs)+len(manifest))
	b = append(b, boot...)
	b = append(b, lazy...)
	b = append(b, pycs...)
	b = append(b, manifest...)
	return Payload{Data: b, Form: form, BootLen: len(boot), LazyLen: len(lazy), PycLen: len(pycs)}
}

// Preload is the payload of an app laid out before the start-up check runs, with a slot
// for every sealed file whose verified bytes go into it: the bootstrap's sealed bytecode
// (when the manifest has bytecode of exactly the embedded bootstrap) and the app's module
// bytecode (see preloadBytecode). The loader passes Slot as the tree check's Capture and
// Verified as its Verified, so each of those files is read and hashed once, straight into
// its place in the payload; the payload is used only when every slot was verified.
type Preload struct {
	source   []byte // the manifest it was laid out for
	payload  Payload
	slots    map[string]*slot
	verified atomic.Int64 // slots whose file passed its check
}

// slot is where one preloaded file's bytes go, and whether they passed their check.
type slot struct {
	buf []byte
	ok  atomic.Bool
}

// NewPreload lays out the payload for manifest, or returns nil when the manifest has no
// python-version header (then BuildPayload sends the bootstrap source).
func NewPreload(manifest []byte) *Preload {
	return newPreload(manifest, true)
}

// IsBootstrapBytecode reports whether the app path is the sealed bytecode of the bootstrap
// itself (which the loader reads into the payload), of any Python version.
func IsBootstrapBytecode(path string) bool {
	rest, ok := strings.CutPrefix(path, BytecodeDir+"/")
	if !ok {
		return false
	}
	_, name, _ := strings.Cut(rest, "/")
	return strings.HasPrefix(name, "__signet_bootstrap")
}

// NewBootstrapPreload is NewPreload without the app's module bytecode: the bootstrap then
// reads and hashes each module's sealed bytecode when it is imported. For a loader whose
// start-up check does not read every file (a verification cache, signet/internal/
// verifycache), so that start-up grows with what is imported.
func NewBootstrapPreload(manifest []byte) *Preload {
	return newPreload(manifest, false)
}

func newPreload(manifest []byte, modules bool) *Preload {
	version, ok := manifestVersion(manifest)
	if !ok {
		return nil
	}
	form := "pyc"
	var bootRecs [2]record
	for i, path := range bootstrapPaths(version) {
		size, digest, ok := bytecodeRecord(manifest, path)
		if !ok || size > maxBootstrapBytecode {
			form = "py"
			break
		}
		bootRecs[i] = record{path: path, size: size, digest: digest}
	}
	var recs []record
	var pycLen int64
	if modules {
		recs, pycLen = preloadRecords(manifest, version)
	}
	bootLen, lazyLen := int64(len(bootstrapSource)), int64(len(bootstrapLazySource))
	if form == "pyc" {
		bootLen, lazyLen = bootRecs[0].size, bootRecs[1].size
	}
	data := make([]byte, bootLen+lazyLen+pycLen+int64(len(manifest)))
	p := &Preload{
		source:  manifest,
		payload: Payload{Data: data, Form: form, BootLen: int(bootLen), LazyLen: int(lazyLen), PycLen: int(pycLen)},
		slots:   make(map[string]*slot, len(recs)+2),
	}
	off := int64(0)
	place := func(path string, size int64) {
		p.slots[path] = &slot{buf: data[off : off+size : off+size]}
		off += size
	}
	if form == "pyc" {
		place(bootRecs[0].path, bootRecs[0].size)
		place(bootRecs[1].path, bootRecs[1].size)
	} else {
		off += int64(copy(data, bootstrapSource))
		off += int64(copy(data[off:], bootstrapLazySource))
	}
	for _, r := range recs {
		place(r.path, r.size)
	}
	copy(data[off:], manifest)
	return p
}

// Slot returns the buffer that the app file path (a preloaded bytecode file) is read into,
// or nil. Safe for concurrent use; p may be nil.
func (p *Preload) Slot(path string) []byte {
	if p == nil {
		return nil
	}
	if s, ok := p.slots[path]; ok {
		return s.buf
	}
	return nil
}

// Verified records that the bytes read into path's slot passed their check (size and
// digest). Safe for concurrent use; p may be nil.
func (p *Preload) Verified(path string) {
	if p == nil {
		return
	}
	if s, ok := p.slots[path]; ok && s.ok.CompareAndSwap(false, true) {
		p.verified.Add(1)
	}
}

// Len returns the size of the payload laid out by p (0 for nil).
func (p *Preload) Len() int {
	if p == nil {
		return 0
	}
	return len(p.payload.Data)
}

// complete reports whether every slot holds bytes that passed their check.
func (p *Preload) complete() bool {
	return p != nil && p.verified.Load() == int64(len(p.slots))
}

// laidOutFor reports whether p was laid out for exactly the manifest slice m (the same
// bytes in memory, not a copy that would have to be compared), as the loader passes it.
func (p *Preload) laidOutFor(m []byte) bool {
	return len(m) > 0 && len(m) == len(p.source) && &m[0] == &p.source[0]
}

// preloadBytecode returns the verified bytes of every preloaded bytecode file, back to back
// in manifest order, or nil if there are none or any of them cannot be read or no longer
// matches its seal (then the bootstrap reads each from disk at import, and refuses a changed
// one). Preloaded are the bytecode records under "__signet_pyc__/X.Y/" ending in ".pyc",
// except the bootstrap's own ("__signet_pyc__/X.Y/__signet_bootstrap*"): bootstrap.py
// derives the same list, and each file's offset, from the manifest. Handing over bytes the
// loader verified spares the interpreter reading and hashing them again (its SHA-256 is
// several times slower than Go's) and leaves no window to swap a file after the check.
func preloadBytecode(appRoot string, manifest []byte) []byte {
	version, ok := manifestVersion(manifest)
	if !ok {
		return nil
	}
	recs, total := preloadRecords(manifest, version)
	if len(recs) == 0 {
		return nil
	}
	data := make([]byte, total)
	dst := make([][]byte, len(recs))
	off := int64(0)
	for i, r := range recs {
		dst[i] = data[off : off+r.size : off+r.size]
		off += r.size
	}
	workers := min(runtime.NumCPU(), len(recs), 8)
	var failed atomic.Bool
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(recs) {
					return
				}
				r := recs[i]
				if !readVerifiedInto(filepath.Join(appRoot, filepath.FromSlash(r.path)), dst[i], r.digest) {
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() {
		return nil
	}
	return data
}

// preloadRecords returns the records of the module bytecode that is preloaded (see
// preloadBytecode) for Python version "X.Y" and their total size, or nothing when that
// total exceeds maxPreload (then every module's bytecode is read from disk at import).
func preloadRecords(manifest []byte, version string) ([]record, int64) {
	prefix := BytecodeDir + "/" + version + "/"
	recs := bytecodeRecords(manifest, prefix, prefix+"__signet_bootstrap")
	total := int64(0)
	for _, r := range recs {
		total += r.size
		if total > maxPreload {
			return nil, 0
		}
	}
	return recs, total
}

// readVerifiedInto fills dst with the file name, which must be exactly len(dst) bytes long
// and have the SHA-256 digest.
func readVerifiedInto(name string, dst []byte, digest [32]byte) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := io.ReadFull(f, dst); err != nil {
		return false
	}
	var probe [1]byte
	if n, _ := f.Read(probe[:]); n != 0 {
		return false // grown
	}
	return sha256.Sum256(dst) == digest
}

// record is one parsed "file" line of a manifest.
type record struct {
	path   string
	size   int64
	digest [32]byte
}

// bytecodeRecords returns, in manifest order, the bytecode records whose path starts with
// prefix and ends with ".pyc" but does not start with exclude. Lines that are not canonical
// file lines are skipped.
func bytecodeRecords(manifest []byte, prefix, exclude string) []record {
	marker := []byte(" bytecode " + prefix)
	recs := make([]record, 0, bytes.Count(manifest, marker)) // at most one per line: no regrowth
	for len(manifest) > 0 {
		line := manifest
		nl := bytes.IndexByte(manifest, '\n')
		if nl < 0 {
			break
		}
		line, manifest = manifest[:nl], manifest[nl+1:]
		i := bytes.Index(line, marker)
		if i < 0 {
			continue
		}
		path := string(line[i+len(" bytecode "):])
		if !strings.HasSuffix(path, ".pyc") || strings.HasPrefix(path, exclude) {
			continue
		}
		size, digest, ok := parseHead(line[:i])
		if !ok {
			continue
		}
		recs = append(recs, record{path: path, size: size, digest: digest})
	}
	return recs
}

// parseHead parses "file <64 hex> <size>", the start of a canonical file line.
func parseHead(head []byte) (int64, [32]byte, bool) {
	var digest [32]byte
	if len(head) < len("file ")+64+2 || string(head[:5]) != "file " || head[5+64] != ' ' {
		return 0, digest, false
	}
	hexDigest := head[5 : 5+64]
	if !isLowerHex(hexDigest) {
		return 0, digest, false
	}
	size, ok := parseSize(head[5+64+1:])
	if !ok {
		return 0, digest, false
	}
	if _, err := hex.Decode(digest[:], hexDigest); err != nil {
		return 0, digest, false
	}
	return size, digest, true
}

// errNotSealed says that the manifest has no bytecode record for a path.
var errNotSealed = errors.New("no sealed bytecode record")

// readSealedBytecode reads the bytecode-role file rel of the app once and returns its bytes
// if they match the manifest's record.
func readSealedBytecode(appRoot string, manifest []byte, rel string) ([]byte, error) {
	size, digest, ok := bytecodeRecord(manifest, rel)
	if !ok {
		return nil, errNotSealed
	}
	if size > maxBootstrapBytecode {
		return nil, fmt.Errorf("sealed bytecode %s: %d bytes is too big", rel, size)
	}
	f, err := os.Open(filepath.Join(appRoot, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, size+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != size || sha256.Sum256(data) != digest {
		return nil, fmt.Errorf("sealed bytecode %s: changed since it was sealed", rel)
	}
	return data, nil
}

// bytecodeRecord finds the line "file <sha256> <size> bytecode <rel>" in canonical manifest
// bytes and returns its size and digest. It reads only that line, so the loader does not
// decode the manifest a second time; anything not in canonical form is "not found".
func bytecodeRecord(manifest []byte, rel string) (int64, [32]byte, bool) {
	var digest [32]byte
	if rel == "" || strings.ContainsAny(rel, "\n") {
		return 0, digest, false
	}
	needle := []byte(" bytecode " + rel + "\n")
	for off := 0; off < len(manifest); {
		i := bytes.Index(manifest[off:], needle)
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		lineStart := bytes.LastIndexByte(manifest[:i], '\n') + 1
		size, digest, ok := parseHead(manifest[lineStart:i]) // "file <64 hex> <size>"
		if !ok {
			continue
		}
		return size, digest, true
	}
	return 0, digest, false
}

func isLowerHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parseSize parses a canonical decimal size: digits only, no leading zero, at most 18 digits.
func parseSize(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// manifestVersion returns the "X.Y" of the python-version header line of canonical manifest
// bytes. Header lines come before file lines, and no path holds a newline, so the first
// line starting with "python-version " is the header.
func manifestVersion(manifest []byte) (string, bool) {
	const key = "\npython-version "
	i := bytes.Index(manifest, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := manifest[i+len(key):]
	end := bytes.IndexByte(rest, '\n')
	if end < 0 {
		return "", false
	}
	v := string(rest[:end])
	major, minor, ok := strings.Cut(v, ".")
	if !ok || !isDecimal(major) || !isDecimal(minor) {
		return "", false
	}
	return v, true
}

func isDecimal(s string) bool {
	if len(s) == 0 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
