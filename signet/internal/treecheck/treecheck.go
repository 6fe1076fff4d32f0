// Package treecheck verifies an installed app tree against its seal.
//
// Check stream-hashes every sealed file with SHA-256 on all cores and scans the
// whole tree for things that could be imported but are not sealed. It reports
// three kinds of problem: MODIFIED (the file is there but is not what was
// sealed: other bytes, other size, a symlink, a directory, a FIFO, ...),
// MISSING, and UNEXPECTED (an unsealed importable file or directory, or an
// unsealed symlink anywhere in the tree).
//
// The tree is hostile. Sealed files are opened relative to the root without
// following symlinks in any path component (on Linux with openat and
// O_NOFOLLOW, component by component); the type and size come from fstat of
// the descriptor that is then hashed, so what is hashed is what was opened,
// even if a name is swapped meanwhile. A hard link to a sealed file from
// outside the tree gives no way around this: the bytes are read at check
// time through the descriptor, whatever other names the inode has (changes
// after the check are the general gap described below). FIFOs are
// opened non-blocking, so they cannot stall the check. Unsealed files are
// never opened. Hashing reads through a fixed buffer per worker and stops one
// byte past the sealed size, so memory use does not depend on the app.
//
// Out of scope: Check proves the state of the tree at the moment each file is
// read. A process that can write the tree can change a file after it was
// checked; the Python bootstrap re-hashes what it imports for that reason.
// Kernel-enforced integrity at every open (Linux fs-verity, IMA appraisal) is
// stronger but needs root-managed setup and is not used here.
package treecheck

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/signet-dev/signet/signet/internal/apppath"
)

// Sealed is one file of the seal. Path is relative and '/'-separated; the
// manifest decoder has already rejected empty, ".", ".." components.
type Sealed struct {
	Path   string
	Size   int64
	SHA256 [32]byte
	// AtImport says the file is verified where it is used (the bootstrap hashes a module's
	// bytes when it imports them): Check neither opens nor hashes it, and only counts it as
	// sealed for the UNEXPECTED scan.
	AtImport bool
}

// Kind says what is wrong with a path.
type Kind int

// The kinds of problem, in the order they sort for the same path.
const (
	Modified Kind = iota + 1
	Missing
	Unexpected
)

// String returns the upper-case word printed in front of a problem.
func (k Kind) String() string {
	switch k {
	case Modified:
		return "MODIFIED"
	case Missing:
		return "MISSING"
	case Unexpected:
		return "UNEXPECTED"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Problem is one finding about one path of the tree.
type Problem struct {
	Kind   Kind
	Path   string // relative, '/'-separated
	Detail string // empty for MISSING
}

// String renders the problem as one line, e.g.
// "MODIFIED pkg/mod.py: content differs from the sealed digest".
// Names found on disk are hostile: a path holding control characters, quotes
// or invalid UTF-8 is printed Go-quoted so it cannot forge extra lines or
// terminal escapes.
func (p Problem) String() string {
	s := p.Kind.String() + " " + printablePath(p.Path)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

func printablePath(p string) string {
	if !utf8.ValidString(p) || strings.ContainsRune(p, '"') {
		return strconv.Quote(p)
	}
	for _, r := range p {
		if !unicode.IsPrint(r) && r != ' ' {
			return strconv.Quote(p)
		}
	}
	return p
}

// Options tune Check.
type Options struct {
	// Workers is the number of files hashed at once; 0 means runtime.NumCPU().
	Workers int
	// Ignore lists exact relative paths that the UNEXPECTED scan skips (and
	// does not descend into), e.g. the loader's own executable.
	Ignore []string
	// AfterFile, when set, is called once for every sealed file after it was
	// checked, from the worker goroutines (concurrently). A test hook.
	AfterFile func(path string)
	// Capture, when set, may return a buffer of exactly the sealed size for a
	// file whose bytes the caller wants: the file is then read into it whole
	// and those bytes are hashed. When Check reports no problem for the file,
	// the buffer holds exactly the verified content (the loader hands such
	// bytes to the interpreter instead of reading the file a second time).
	// Called from the worker goroutines; each path at most once.
	Capture func(path string) []byte
	// Verified, when set, is called for each file that Capture took a buffer for and that
	// passed its check: that buffer then holds exactly the sealed content. A buffer whose
	// file failed is never reported, so a caller that hands captured bytes on only after
	// Verified was called for every one of them cannot hand on bytes that failed. Called
	// from the worker goroutines; each path at most once.
	Verified func(path string)
	// Known, when set, is asked for each file not captured, after it was opened without
	// following symlinks and found a regular file of the sealed size, with files[i]'s index
	// and the file's identity (FileID): true means the file is in exactly the state in which
	// its content was verified before, so it is not hashed again (see signet/internal/
	// verifycache for when that holds). Remember, when set, is told of each file whose
	// content was hashed and matched, with its identity at the check. Both are called from
	// the worker goroutines, concurrently, each index at most once; only where the platform
	// gives identities (Linux).
	Known    func(i int, id FileID) bool
	Remember func(i int, id FileID)
}

// FileID is what identifies a file and its state: the device and inode, the size, and the
// modification and status-change times. The kernel sets the change time on every write,
// truncation, rename, link count or permission change, and no user can set it back.
type FileID struct {
	Dev, Ino            uint64
	Size                int64
	MtimeSec, MtimeNsec int64
	CtimeSec, CtimeNsec int64
}

// bufferSize is the read buffer per worker.
const bufferSize = 256 << 10

// Details used in problems.
const (
	detailDigest          = "content differs from the sealed digest"
	detailGrew            = "file grew while being checked"
	detailShrank          = "file shrank while being checked"
	detailSwapped         = "file was replaced while being checked"
	detailUnexpectedFile  = "importable file not in the seal"
	detailUnexpectedDir   = "importable directory not in the seal"
	detailUnexpectedLink  = "symlink not in the seal"
	detailUnreadableDir   = "directory cannot be scanned"
	detailSizeFmt         = "size is %d bytes, sealed %d"
	detailComponentFmt    = "path component %s %s"
	detailCannotOpenFmt   = "cannot be opened: %v"
	detailCannotReadFmt   = "cannot be read: %v"
	detailCannotStatFmt   = "cannot be examined: %v"
	detailNotDirectoryFmt = "is not a directory (%s)"
)

// Check verifies root against files and scans root for UNEXPECTED entries.
// It returns the problems sorted by path (then kind). The error is non-nil
// only when the check cannot run at all (the root is missing or cannot be
// opened or listed); then no problems are returned.
//
// A subdirectory that cannot be listed is reported as UNEXPECTED with the
// detail "directory cannot be scanned: ...": what it holds is unknown, so it
// must fail the check rather than be skipped.
func Check(root string, files []Sealed, opts Options) ([]Problem, error) {
	t, err := openTree(root, files)
	if err != nil {
		return nil, fmt.Errorf("checking app tree %s: %w", root, err)
	}
	defer t.close()
	// Listing the root is the one scan failure that stops everything.
	rootEntries, err := t.readDir("")
	if err != nil {
		return nil, fmt.Errorf("checking app tree %s: listing the root: %w", root, err)
	}

	if opts.Workers <= 0 && smallTree(files) {
		// Below this size, goroutines cost more in scheduler hand-offs (futex wake-ups,
		// spinning threads) than they save in hashing: measured on an app of 600 files and
		// 8 MB, a single goroutine checked it faster than two.
		opts.Workers = 1
	}
	var scanProblems []Problem
	scan := func() {
		s := newScanner(t, files, opts.Ignore)
		s.scanEntries("", rootEntries)
		scanProblems = s.problems
	}
	var hashProblems []Problem
	if opts.Workers == 1 {
		hashProblems = hashAll(t, files, opts)
		scan()
	} else {
		scanDone := make(chan struct{})
		go func() {
			defer close(scanDone)
			scan()
		}()
		hashProblems = hashAll(t, files, opts)
		<-scanDone
	}

	problems := append(hashProblems, scanProblems...)
	sort.Slice(problems, func(i, j int) bool {
		if problems[i].Path != problems[j].Path {
			return problems[i].Path < problems[j].Path
		}
		return problems[i].Kind < problems[j].Kind
	})
	return problems, nil
}

// smallTreeBytes is the total sealed size under which Check uses one goroutine by default.
const smallTreeBytes = 32 << 20

func smallTree(files []Sealed) bool {
	total := int64(0)
	for _, f := range files {
		total += f.Size
		if total >= smallTreeBytes {
			return false
		}
	}
	return true
}

// hashAll checks every sealed file on a pool of workers. Files are handed out
// grouped by directory so each directory is opened once and closed as soon
// as its last file is done.
func hashAll(t tree, files []Sealed, opts Options) []Problem {
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		da, ba := path.Split(files[order[a]].Path)
		db, bb := path.Split(files[order[b]].Path)
		if da != db {
			return da < db
		}
		return ba < bb
	})

	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	if workers > len(files) {
		workers = len(files)
	}
	// Workers pull the next file from a shared counter: no channel hand-off (and no thread
	// wake-up) per file, which for an app of hundreds of small files cost more than hashing.
	results := make([][]Problem, workers)
	var next atomic.Int64
	work := func(w int) {
		buf := make([]byte, bufferSize)
		h := sha256.New() // one per worker: a new one per file was ~120 bytes of garbage each
		for {
			k := int(next.Add(1) - 1)
			if k >= len(order) {
				return
			}
			i := order[k]
			f := files[i]
			if f.AtImport {
				if opts.AfterFile != nil {
					opts.AfterFile(f.Path)
				}
				continue
			}
			var dst []byte
			if opts.Capture != nil {
				if dst = opts.Capture(f.Path); int64(len(dst)) != f.Size {
					dst = nil
				}
			}
			var known func(FileID) bool
			var remember func(FileID)
			if opts.Known != nil && dst == nil {
				known = func(id FileID) bool { return opts.Known(i, id) }
			}
			if opts.Remember != nil {
				remember = func(id FileID) { opts.Remember(i, id) }
			}
			if p, bad := checkFile(t, f, buf, dst, h, known, remember); bad {
				results[w] = append(results[w], p)
			} else if dst != nil && opts.Verified != nil {
				opts.Verified(f.Path)
			}
			if opts.AfterFile != nil {
				opts.AfterFile(f.Path)
			}
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			work(w)
		}(w)
	}
	work(0)
	wg.Wait()

	var all []Problem
	for _, r := range results {
		all = append(all, r...)
	}
	return all
}

// checkFile opens, sizes and hashes one sealed file, streaming through buf into h (reset
// first), or, when dst is not nil (len(dst) == f.Size), reading the whole file into dst and
// hashing that.
func checkFile(t tree, f Sealed, buf, dst []byte, h hash.Hash, known func(FileID) bool, remember func(FileID)) (p Problem, bad bool) {
	file, size, id, kind, detail := t.open(f.Path, known)
	if kind != 0 {
		return Problem{Kind: kind, Path: f.Path, Detail: detail}, true
	}
	if file == nil { // known: in the state its content was verified in
		if size != f.Size {
			return Problem{Kind: Modified, Path: f.Path, Detail: fmt.Sprintf(detailSizeFmt, size, f.Size)}, true
		}
		return Problem{}, false
	}
	defer file.Close()
	if size != f.Size {
		return Problem{Kind: Modified, Path: f.Path, Detail: fmt.Sprintf(detailSizeFmt, size, f.Size)}, true
	}
	if id != nil {
		if remember != nil {
			defer func() {
				if !bad {
					remember(*id)
				}
			}()
		}
	}
	if dst != nil {
		return checkInto(file, f, dst)
	}
	h.Reset()
	// One byte past the sealed size tells a growing file from an intact one
	// without reading an unbounded amount.
	n, err := io.CopyBuffer(h, io.LimitReader(file, f.Size+1), buf)
	switch {
	case err != nil:
		return Problem{Kind: Modified, Path: f.Path, Detail: fmt.Sprintf(detailCannotReadFmt, err)}, true
	case n > f.Size:
		return Problem{Kind: Modified, Path: f.Path, Detail: detailGrew}, true
	case n < f.Size:
		return Problem{Kind: Modified, Path: f.Path, Detail: detailShrank}, true
	}
	var sum [32]byte
	h.Sum(sum[:0])
	if sum != f.SHA256 {
		return Problem{Kind: Modified, Path: f.Path, Detail: detailDigest}, true
	}
	return Problem{}, false
}

// typeDetail describes a file mode that is not a regular file.
func typeDetail(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeSymlink != 0:
		return "is a symlink"
	case mode.IsDir():
		return "is a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "is not a regular file (fifo)"
	case mode&fs.ModeSocket != 0:
		return "is not a regular file (socket)"
	case mode&fs.ModeDevice != 0:
		return "is not a regular file (device)"
	case mode&fs.ModeIrregular != 0:
		return "is not a regular file (irregular, e.g. a reparse point)"
	}
	return "is not a regular file"
}

// componentDetail describes a directory component of a sealed path that is
// not a plain directory. lstatMode is only used for wording; nil means the
// type could not be determined.
func componentDetail(component string, mode fs.FileMode, known bool) string {
	what := "is not a directory"
	if known {
		what = typeDetail(mode)
		if mode.IsRegular() {
			what = "is not a directory (regular file)"
		}
	}
	return fmt.Sprintf(detailComponentFmt, printablePath(component), what)
}

// scanner walks the tree looking for UNEXPECTED entries.
type scanner struct {
	t          tree
	sealed     map[string]bool // sealed file paths
	sealedDirs map[string]bool // every ancestor directory of a sealed file
	ignore     map[string]bool
	problems   []Problem
}

func newScanner(t tree, files []Sealed, ignore []string) *scanner {
	s := &scanner{
		t:          t,
		sealed:     make(map[string]bool, len(files)),
		sealedDirs: make(map[string]bool),
		ignore:     make(map[string]bool, len(ignore)),
	}
	for _, f := range files {
		s.sealed[f.Path] = true
		for d := path.Dir(f.Path); d != "." && !s.sealedDirs[d]; d = path.Dir(d) {
			s.sealedDirs[d] = true
		}
	}
	for _, p := range ignore {
		s.ignore[p] = true
	}
	return s
}

func (s *scanner) scanEntries(dir string, entries []fs.DirEntry) {
	for _, e := range entries {
		rel := e.Name()
		if dir != "" {
			rel = dir + "/" + rel
		}
		s.scanEntry(rel, e)
	}
}

func (s *scanner) scanEntry(rel string, e fs.DirEntry) {
	isLink := e.Type()&fs.ModeSymlink != 0
	isDir := e.IsDir() // false for a symlink to a directory
	switch {
	case s.ignore[rel]:
		return
	case s.sealed[rel]:
		// Whatever is here, the hash check reports it (a directory or
		// symlink at a sealed file's path is MODIFIED). Not descended.
		return
	case s.sealedDirs[rel]:
		// A sealed directory replaced by a symlink or a file is reported for
		// every sealed file below it by the hash check.
		if isDir {
			s.descend(rel)
		}
		return
	case isLink:
		s.report(rel, detailUnexpectedLink)
	case apppath.IsImportableName(e.Name(), isDir):
		if isDir {
			s.report(rel, detailUnexpectedDir)
		} else {
			s.report(rel, detailUnexpectedFile)
		}
	case isDir:
		s.descend(rel)
	}
}

func (s *scanner) descend(rel string) {
	entries, err := s.t.readDir(rel)
	if err != nil {
		s.report(rel, fmt.Sprintf("%s: %v", detailUnreadableDir, err))
		// Whatever part of the listing was read is still scanned.
	}
	s.scanEntries(rel, entries)
}

func (s *scanner) report(rel, detail string) {
	s.problems = append(s.problems, Problem{Kind: Unexpected, Path: rel, Detail: detail})
}

// tree is the OS-specific access to the app root.
type tree interface {
	// open opens the sealed file rel without following symlinks and returns
	// it with its size from fstat, and its identity where the platform gives
	// one (else nil). When the file is not a readable regular file, it returns
	// kind != 0 and a detail instead. With known, a regular file whose identity
	// known accepts is not opened: f is nil, size and id describe it.
	open(rel string, known func(FileID) bool) (f io.ReadCloser, size int64, id *FileID, kind Kind, detail string)
	// readDir lists the directory rel ("" is the root) without following
	// symlinks in rel.
	readDir(rel string) ([]fs.DirEntry, error)
	close()
}

// checkInto reads the open file f into dst (exactly its sealed size), checks that nothing
// follows, and compares the digest of dst.
func checkInto(file io.Reader, f Sealed, dst []byte) (Problem, bool) {
	n, err := io.ReadFull(file, dst)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return Problem{Kind: Modified, Path: f.Path, Detail: detailShrank}, true
	case err != nil:
		return Problem{Kind: Modified, Path: f.Path, Detail: fmt.Sprintf(detailCannotReadFmt, err)}, true
	case int64(n) != f.Size:
		return Problem{Kind: Modified, Path: f.Path, Detail: detailShrank}, true
	}
	var probe [1]byte
	if m, _ := file.Read(probe[:]); m != 0 {
		return Problem{Kind: Modified, Path: f.Path, Detail: detailGrew}, true
	}
	if sha256.Sum256(dst) != f.SHA256 {
		return Problem{Kind: Modified, Path: f.Path, Detail: detailDigest}, true
	}
	return Problem{}, false
}
