package treecheck

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// baseTree is the app every case starts from.
var baseTree = map[string]string{
	"hello.py":         "import pkg.mod\nprint('hello')\n",
	"pkg/__init__.py":  "",
	"pkg/mod.py":       "VALUE = 42\n",
	"pkg/sub/deep.py":  "DEEP = True\n",
	"data/config.txt":  "colour = blue\n",
	"data/notes/a.txt": strings.Repeat("a", 300<<10), // larger than one buffer
}

// writeTree writes files under root and returns their seal.
func writeTree(t testing.TB, root string, files map[string]string) []Sealed {
	t.Helper()
	var sealed []Sealed
	for rel, content := range files {
		full := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, Sealed{Path: rel, Size: int64(len(content)), SHA256: sha256.Sum256([]byte(content))})
	}
	sort.Slice(sealed, func(i, j int) bool { return sealed[i].Path < sealed[j].Path })
	return sealed
}

// want is an expected problem: the detail must contain detail.
type want struct {
	kind   Kind
	path   string
	detail string
}

type treeCase struct {
	name   string
	mutate func(t *testing.T, root string)
	opts   Options
	want   []want
}

func in(root, rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }

func mustWrite(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// portableCases need nothing beyond plain files and directories.
var portableCases = []treeCase{
	{name: "intact tree", mutate: func(*testing.T, string) {}},
	{
		name: "byte flipped",
		mutate: func(t *testing.T, root string) {
			mustWrite(t, in(root, "pkg/mod.py"), "VALUE = 43\n")
		},
		want: []want{{Modified, "pkg/mod.py", "content differs from the sealed digest"}},
	},
	{
		name: "byte flipped past the first buffer",
		mutate: func(t *testing.T, root string) {
			b := []byte(baseTree["data/notes/a.txt"])
			b[len(b)-1] = 'b'
			mustWrite(t, in(root, "data/notes/a.txt"), string(b))
		},
		want: []want{{Modified, "data/notes/a.txt", "content differs from the sealed digest"}},
	},
	{
		name: "truncated",
		mutate: func(t *testing.T, root string) {
			must(t, os.Truncate(in(root, "pkg/mod.py"), 3))
		},
		want: []want{{Modified, "pkg/mod.py", "size is 3 bytes, sealed 11"}},
	},
	{
		name: "grown",
		mutate: func(t *testing.T, root string) {
			mustWrite(t, in(root, "hello.py"), baseTree["hello.py"]+"import os; os.system('x')\n")
		},
		want: []want{{Modified, "hello.py", "size is"}},
	},
	{
		name: "same size, other content",
		mutate: func(t *testing.T, root string) {
			mustWrite(t, in(root, "data/config.txt"), "colour = red!\n")
		},
		want: []want{{Modified, "data/config.txt", "content differs"}},
	},
	{
		name: "deleted file",
		mutate: func(t *testing.T, root string) {
			must(t, os.Remove(in(root, "data/config.txt")))
		},
		want: []want{{Missing, "data/config.txt", ""}},
	},
	{
		name: "deleted directory",
		mutate: func(t *testing.T, root string) {
			must(t, os.RemoveAll(in(root, "pkg/sub")))
		},
		want: []want{{Missing, "pkg/sub/deep.py", ""}},
	},
	{
		name: "directory in place of a file",
		mutate: func(t *testing.T, root string) {
			must(t, os.Remove(in(root, "pkg/mod.py")))
			// Importable content inside is not looked at: the path already fails.
			mustWrite(t, in(root, "pkg/mod.py/__init__.py"), "")
		},
		want: []want{{Modified, "pkg/mod.py", "is a directory"}},
	},
	{
		name: "file in place of a sealed directory",
		mutate: func(t *testing.T, root string) {
			must(t, os.RemoveAll(in(root, "pkg/sub")))
			mustWrite(t, in(root, "pkg/sub"), "x")
		},
		want: []want{{Modified, "pkg/sub/deep.py", "path component pkg/sub is not a directory (regular file)"}},
	},
	{
		name: "extra importable files and directories",
		mutate: func(t *testing.T, root string) {
			mustWrite(t, in(root, "pkg/evil.py"), "")
			mustWrite(t, in(root, "pkg/evil.pth"), "import os\n")
			mustWrite(t, in(root, "pkg/mod.pyc"), "")
			mustWrite(t, in(root, "fast.cpython-311-x86_64-linux-gnu.so"), "")
			mustWrite(t, in(root, "pkg/__pycache__/mod.cpython-311.pyc"), "")
			mustWrite(t, in(root, "pkg/__pycache__/other.cpython-311.pyc"), "")
			mustWrite(t, in(root, "x-1.0.dist-info/METADATA"), "")
			mustWrite(t, in(root, "newpkg/__init__.py"), "")
		},
		want: []want{
			{Unexpected, "fast.cpython-311-x86_64-linux-gnu.so", "importable file not in the seal"},
			{Unexpected, "newpkg/__init__.py", "importable file not in the seal"},
			{Unexpected, "pkg/__pycache__", "importable directory not in the seal"},
			{Unexpected, "pkg/evil.pth", "importable file not in the seal"},
			{Unexpected, "pkg/evil.py", "importable file not in the seal"},
			{Unexpected, "pkg/mod.pyc", "importable file not in the seal"},
			{Unexpected, "x-1.0.dist-info", "importable directory not in the seal"},
		},
	},
	{
		name: "data directories with logs are allowed",
		mutate: func(t *testing.T, root string) {
			mustWrite(t, in(root, "logs/app.log"), "started\n")
			mustWrite(t, in(root, "data/cache/blob.bin"), "\x00\x01")
			mustWrite(t, in(root, "hello"), "the loader")
			must(t, os.MkdirAll(in(root, "empty"), 0o755))
		},
	},
	{
		name: "ignored path is not reported",
		mutate: func(t *testing.T, root string) {
			mustWrite(t, in(root, "launcher.dll"), "MZ")
			mustWrite(t, in(root, "other.dll"), "MZ")
		},
		opts: Options{Ignore: []string{"launcher.dll"}},
		want: []want{{Unexpected, "other.dll", "importable file not in the seal"}},
	},
}

func runCase(t *testing.T, tc treeCase) {
	root := t.TempDir()
	files := writeTree(t, root, baseTree)
	tc.mutate(t, root)
	got, err := Check(root, files, tc.opts)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if len(got) != len(tc.want) {
		t.Fatalf("got %d problems %v, want %d %v", len(got), got, len(tc.want), tc.want)
	}
	for i, w := range tc.want {
		g := got[i]
		if g.Kind != w.kind || g.Path != w.path || !strings.Contains(g.Detail, w.detail) {
			t.Errorf("problem %d = %q, want %v %s containing %q", i, g, w.kind, w.path, w.detail)
		}
		if w.kind == Missing && g.Detail != "" {
			t.Errorf("MISSING has a detail: %q", g)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range append(append([]treeCase{}, portableCases...), platformCases()...) {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
}

func TestCheckMissingRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "gone")
	_, err := Check(root, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), root) {
		t.Fatalf("Check of a missing root: err = %v, want an error naming %s", err, root)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestWorkersAgreeAndHookSeesEveryFile(t *testing.T) {
	root := t.TempDir()
	tree := make(map[string]string)
	for i := 0; i < 2000; i++ {
		tree[fmt.Sprintf("pkg%02d/mod%04d.py", i%37, i)] = fmt.Sprintf("N = %d\n", i)
	}
	files := writeTree(t, root, tree)
	// A few problems of each kind so the comparison is not between empty lists.
	mustWrite(t, in(root, "pkg01/mod0001.py"), "N = 1000\n")
	must(t, os.Remove(in(root, "pkg02/mod0002.py")))
	mustWrite(t, in(root, "pkg03/evil.py"), "")

	var results [][]Problem
	for _, workers := range []int{1, 2, 0} {
		var mu sync.Mutex
		seen := make(map[string]int)
		got, err := Check(root, files, Options{Workers: workers, AfterFile: func(p string) {
			mu.Lock()
			seen[p]++
			mu.Unlock()
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != len(files) {
			t.Errorf("workers=%d: AfterFile saw %d distinct files, want %d", workers, len(seen), len(files))
		}
		for _, f := range files {
			if seen[f.Path] != 1 {
				t.Errorf("workers=%d: %s checked %d times", workers, f.Path, seen[f.Path])
			}
		}
		results = append(results, got)
	}
	if len(results[0]) != 3 {
		t.Fatalf("got %v, want 3 problems", results[0])
	}
	for i := 1; i < len(results); i++ {
		if !reflect.DeepEqual(results[0], results[i]) {
			t.Errorf("results differ between worker counts:\n%v\n%v", results[0], results[i])
		}
	}
}

// fakeTree serves one real file while claiming a size, to test reads that
// disagree with fstat (a file growing or shrinking while it is hashed).
type fakeTree struct {
	name      string
	claimed   int64
	listing   map[string][]fs.DirEntry
	listError map[string]error
}

func (f *fakeTree) open(string, func(FileID) bool) (io.ReadCloser, int64, *FileID, Kind, string) {
	file, err := os.Open(f.name)
	if err != nil {
		return nil, 0, nil, Modified, err.Error()
	}
	return file, f.claimed, nil, 0, ""
}

func (f *fakeTree) readDir(rel string) ([]fs.DirEntry, error) {
	return f.listing[rel], f.listError[rel]
}

func (f *fakeTree) close() {}

func TestCheckFileReadsDisagreeWithSize(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	mustWrite(t, name, "0123456789")
	tests := []struct {
		sealedSize int64
		want       string
	}{
		{sealedSize: 4, want: detailGrew},
		{sealedSize: 20, want: detailShrank},
	}
	for _, tc := range tests {
		for _, capture := range []bool{false, true} {
			tr := &fakeTree{name: name, claimed: tc.sealedSize}
			var dst []byte
			if capture {
				dst = make([]byte, tc.sealedSize)
			}
			p, bad := checkFile(tr, Sealed{Path: "f", Size: tc.sealedSize}, make([]byte, 3), dst, sha256.New(), nil, nil)
			if !bad || p.Kind != Modified || p.Detail != tc.want {
				t.Errorf("sealed size %d, capture %v: got %q (bad=%v), want MODIFIED %q", tc.sealedSize, capture, p, bad, tc.want)
			}
		}
	}
}

// TestCaptureHoldsTheVerifiedBytes: files the caller captures are checked like any other,
// and when no problem is reported the buffer holds exactly the sealed content; Verified is
// called for exactly the captured files that passed.
func TestCaptureHoldsTheVerifiedBytes(t *testing.T) {
	root := t.TempDir()
	content := map[string]string{"a.pyc": "alpha bytes", "pkg/b.pyc": "beta", "c.py": "not captured"}
	var files []Sealed
	for p, c := range content {
		mustWrite(t, in(root, p), c)
		files = append(files, Sealed{Path: p, Size: int64(len(c)), SHA256: sha256.Sum256([]byte(c))})
	}
	var mu sync.Mutex
	buffers := map[string][]byte{}
	capture := func(p string) []byte {
		if !strings.HasSuffix(p, ".pyc") {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		buffers[p] = make([]byte, len(content[p]))
		return buffers[p]
	}
	var verified []string
	verify := func(p string) {
		mu.Lock()
		defer mu.Unlock()
		verified = append(verified, p)
	}
	problems, err := Check(root, files, Options{Capture: capture, Verified: verify})
	must(t, err)
	if len(problems) != 0 {
		t.Fatalf("intact tree: %v", problems)
	}
	slices.Sort(verified)
	if want := []string{"a.pyc", "pkg/b.pyc"}; !slices.Equal(verified, want) {
		t.Errorf("Verified was called for %q, want %q", verified, want)
	}
	for _, p := range []string{"a.pyc", "pkg/b.pyc"} {
		if string(buffers[p]) != content[p] {
			t.Errorf("captured %s = %q, want %q", p, buffers[p], content[p])
		}
	}
	if _, ok := buffers["c.py"]; ok {
		t.Errorf("c.py was captured though Capture returned nil for it")
	}

	// A changed captured file is MODIFIED, like any other.
	mustWrite(t, in(root, "pkg/b.pyc"), "BETA")
	verified = nil
	problems, err = Check(root, files, Options{Capture: capture, Verified: verify})
	must(t, err)
	if len(problems) != 1 || problems[0].Path != "pkg/b.pyc" || problems[0].Kind != Modified {
		t.Errorf("changed captured file: got %v, want one MODIFIED pkg/b.pyc", problems)
	}
	if !slices.Equal(verified, []string{"a.pyc"}) {
		t.Errorf("with pkg/b.pyc changed, Verified was called for %q, want only a.pyc", verified)
	}
}

func TestUnreadableDirectoryIsReported(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, in(root, "data/x.txt"), "")
	mustWrite(t, in(root, "data/y.py"), "")
	entries, err := os.ReadDir(root)
	must(t, err)
	partial, err := os.ReadDir(in(root, "data"))
	must(t, err)
	tr := &fakeTree{
		listing:   map[string][]fs.DirEntry{"data": partial},
		listError: map[string]error{"data": fs.ErrPermission},
	}
	s := newScanner(tr, nil, nil)
	s.scanEntries("", entries)
	want := []Problem{
		{Kind: Unexpected, Path: "data", Detail: "directory cannot be scanned: permission denied"},
		{Kind: Unexpected, Path: "data/y.py", Detail: detailUnexpectedFile},
	}
	if !reflect.DeepEqual(s.problems, want) {
		t.Errorf("got %q, want %q", s.problems, want)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Modified, "pkg/mod.py", detailDigest}, "MODIFIED pkg/mod.py: content differs from the sealed digest"},
		{Problem{Missing, "data/x.txt", ""}, "MISSING data/x.txt"},
		{Problem{Unexpected, "pkg/evil.pth", detailUnexpectedFile}, "UNEXPECTED pkg/evil.pth: importable file not in the seal"},
		{Problem{Unexpected, "a b/é.py", detailUnexpectedFile}, "UNEXPECTED a b/é.py: importable file not in the seal"},
		{Problem{Unexpected, "evil\nMODIFIED x.py", detailUnexpectedFile}, `UNEXPECTED "evil\nMODIFIED x.py": importable file not in the seal`},
		{Problem{Unexpected, "\x1b[2Jx.py", ""}, `UNEXPECTED "\x1b[2Jx.py"`},
		{Problem{Unexpected, "bad\xffutf8.py", ""}, `UNEXPECTED "bad\xffutf8.py"`},
		{Problem{Kind(9), "x", ""}, "Kind(9) x"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	root := b.TempDir()
	tree := make(map[string]string)
	content := strings.Repeat("0123456789abcdef", (1<<20)/16)
	for i := 0; i < 200; i++ {
		// Distinct content per file so no layer can dedupe.
		tree[fmt.Sprintf("pkg%d/mod%03d.py", i%10, i)] = fmt.Sprintf("%08d", i) + content[8:]
	}
	files := writeTree(b, root, tree)
	b.SetBytes(int64(len(files)) << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		problems, err := Check(root, files, Options{})
		if err != nil || len(problems) != 0 {
			b.Fatalf("Check = %v, %v", problems, err)
		}
	}
}
