package interp

import (
	"fmt"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// fakeNode is one entry of a fake file system.
type fakeNode struct {
	uid    uint32
	mode   fs.FileMode
	target string // for symlinks
	err    error
}

type fakeFS map[string]fakeNode

func (f fakeFS) lstat(p string) (uint32, fs.FileMode, error) {
	n, ok := f[p]
	if !ok {
		return 0, 0, fmt.Errorf("fake lstat %s: %w", p, fs.ErrNotExist)
	}
	return n.uid, n.mode, n.err
}

func (f fakeFS) readlink(p string) (string, error) {
	n, ok := f[p]
	if !ok || n.mode&fs.ModeSymlink == 0 {
		return "", fmt.Errorf("fake readlink %s: not a link", p)
	}
	return n.target, nil
}

func dir(uid uint32, perm fs.FileMode) fakeNode  { return fakeNode{uid: uid, mode: fs.ModeDir | perm} }
func file(uid uint32, perm fs.FileMode) fakeNode { return fakeNode{uid: uid, mode: perm} }
func link(target string) fakeNode                { return fakeNode{mode: fs.ModeSymlink | 0o777, target: target} }

// debian is a stock system layout.
func debian() fakeFS {
	return fakeFS{
		"/":                               dir(0, 0o755),
		"/usr":                            dir(0, 0o755),
		"/usr/bin":                        dir(0, 0o755),
		"/usr/bin/python3":                link("python3.11"),
		"/usr/bin/python3.11":             file(0, 0o755),
		"/usr/lib":                        dir(0, 0o755),
		"/usr/lib/python3.11":             dir(0, 0o755),
		"/usr/lib/python3.11/lib-dynload": dir(0, 0o755),
		"/lib":                            link("usr/lib"),
		"/tmp":                            dir(0, fs.ModeSticky|0o777),
		"/home":                           dir(0, 0o755),
		"/home/bob":                       dir(1000, 0o755),
		"/home/bob/py":                    dir(1000, 0o755),
		"/home/bob/py/python":             file(1000, 0o755),
		"/opt":                            dir(0, 0o775),
		"/opt/py":                         dir(0, 0o755),
		"/opt/py/python":                  file(0, 0o755),
	}
}

func TestUnixRule(t *testing.T) {
	stock := []string{"/usr/lib/python3.11", "/usr/lib/python3.11/lib-dynload", "/usr/lib/python311.zip"}
	tests := []struct {
		name   string
		change fakeFS
		exe    string
		trust  []string
		want   []string // "path: reason substring"
	}{
		{name: "stock Debian", exe: "/usr/bin/python3.11", trust: stock},
		{name: "through a symlink", exe: "/usr/bin/python3", trust: []string{"/lib/python3.11"}},
		{name: "group-writable file", change: fakeFS{"/usr/bin/python3.11": file(0, 0o775)}, exe: "/usr/bin/python3.11",
			want: []string{"/usr/bin/python3.11: is writable by group or others (-rwxrwxr-x)"}},
		{name: "user-owned directory above", change: fakeFS{"/usr/lib": dir(1000, 0o755)}, exe: "/usr/bin/python3.11", trust: stock,
			want: []string{"/usr/lib: is owned by uid 1000, not root"}},
		{name: "both owner and mode", change: fakeFS{"/usr/lib/python3.11": dir(7, 0o757)}, exe: "/usr/bin/python3.11", trust: stock,
			want: []string{"/usr/lib/python3.11: is owned by uid 7, not root and is writable by group or others"}},
		{name: "interpreter in a home directory", exe: "/home/bob/py/python",
			want: []string{"/home/bob: is owned by uid 1000", "/home/bob/py: is owned by uid 1000", "/home/bob/py/python: is owned by uid 1000"}},
		{name: "group-writable /opt", exe: "/opt/py/python", want: []string{"/opt: is writable by group or others (drwxrwxr-x)"}},
		{name: "sticky world-writable directory", change: fakeFS{"/tmp/py": dir(0, 0o755), "/tmp/py/python": file(0, 0o755)},
			exe: "/tmp/py/python", want: []string{"/tmp: is writable by group or others (dtrwxrwxrwx)"}},
		{name: "symlink target in a writable place", change: fakeFS{"/usr/bin/python3.11": link("/home/bob/py/python")},
			exe: "/usr/bin/python3.11", want: []string{"/home/bob:", "/home/bob/py:", "/home/bob/py/python:"}},
		{name: "symlink in a writable directory", change: fakeFS{"/opt/python": link("/usr/bin/python3.11")},
			exe: "/opt/python", want: []string{"/opt: is writable"}},
		{name: "missing interpreter", exe: "/usr/bin/python3.12", want: []string{"/usr/bin/python3.12: does not exist"}},
		{name: "missing trust in a writable directory", exe: "/usr/bin/python3.11", trust: []string{"/opt/python311.zip"},
			want: []string{"/opt: is writable"}},
		{name: "missing trust below a missing directory", exe: "/usr/bin/python3.11", trust: []string{"/usr/lib/python3.12/x/y.zip"}},
		{name: "symlink loop", change: fakeFS{"/usr/bin/a": link("b"), "/usr/bin/b": link("a")}, exe: "/usr/bin/python3.11", trust: []string{"/usr/bin/a"}},
		{name: "unreadable", change: fakeFS{"/usr/lib": {err: fs.ErrPermission}}, exe: "/usr/bin/python3.11", trust: stock,
			want: []string{"/usr/lib: cannot be checked: permission denied"}},
		{name: "relative path", exe: "python3", want: []string{"python3: is not an absolute path"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := debian()
			for k, v := range tc.change {
				f[k] = v
			}
			c := newUnixChecker(f.lstat, f.readlink, "")
			c.check(tc.exe, true)
			for _, p := range tc.trust {
				c.check(p, false)
			}
			var got []string
			for _, p := range c.problems {
				got = append(got, p.String())
			}
			sort.Strings(got)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d matching %q", got, len(tc.want), tc.want)
			}
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			for i := range want {
				if !strings.HasPrefix(got[i], want[i]) {
					t.Errorf("problem %q does not start with %q", got[i], want[i])
				}
			}
		})
	}
}

func TestUnixRuleLinkLimit(t *testing.T) {
	f := debian()
	for i := 0; i < maxLinks+5; i++ {
		f[fmt.Sprintf("/usr/bin/l%d", i)] = link(fmt.Sprintf("l%d", i+1))
	}
	c := newUnixChecker(f.lstat, f.readlink, "")
	c.check("/usr/bin/l0", true)
	want := []Problem{{Path: fmt.Sprintf("/usr/bin/l%d", maxLinks), Reason: "too many levels of symbolic links", Fix: fixReinstall}}
	if !reflect.DeepEqual(c.problems, want) {
		t.Errorf("got %v, want %v", c.problems, want)
	}
}

// TestBundledRule checks the rule for an interpreter inside the delivery (Rule.Bundled): the
// user running the app may own the delivery and everything above it, a sticky directory is
// accepted only above the checked paths, and no other user may own or write any of them.
func TestBundledRule(t *testing.T) {
	const alice, mallory = 1000, 1001
	delivery := func() fakeFS {
		return fakeFS{
			"/":                                     dir(0, 0o755),
			"/home":                                 dir(0, 0o755),
			"/home/alice":                           dir(alice, 0o700),
			"/home/alice/app":                       dir(alice, 0o755),
			"/home/alice/app/runtime":               dir(alice, 0o755),
			"/home/alice/app/runtime/bin":           dir(alice, 0o755),
			"/home/alice/app/runtime/bin/python3":   file(alice, 0o755),
			"/home/alice/app/runtime/lib":           dir(alice, 0o755),
			"/home/alice/app/runtime/lib/python3.x": dir(alice, 0o755),
			"/tmp":                                  dir(0, fs.ModeSticky|0o777),
			"/tmp/app":                              dir(alice, 0o755),
			"/tmp/app/python3":                      file(alice, 0o755),
			"/tmp/app/lib":                          dir(alice, 0o755),
		}
	}
	exe := "/home/alice/app/runtime/bin/python3"
	trust := []string{"/home/alice/app/runtime/lib/python3.x", "/home/alice/app/runtime/lib/python3x.zip"}
	tests := []struct {
		name   string
		edit   func(fakeFS)
		exe    string
		trust  []string
		want   []string // paths with problems
		reason string
	}{
		{name: "owned by the user", exe: exe, trust: trust},
		{name: "owned by root", exe: exe, trust: trust, edit: func(f fakeFS) {
			for p, n := range f {
				n.uid = 0
				f[p] = n
			}
		}},
		{name: "in a sticky directory", exe: "/tmp/app/python3", trust: []string{"/tmp/app/lib", "/tmp/app/python3x.zip"}},
		{name: "another user owns the delivery", exe: exe, trust: trust,
			edit: func(f fakeFS) { f["/home/alice/app"] = dir(mallory, 0o755) },
			want: []string{"/home/alice/app"}, reason: "neither root nor the user running the app (uid 1000)"},
		{name: "another user owns the interpreter", exe: exe, trust: trust,
			edit: func(f fakeFS) { f[exe] = file(mallory, 0o755) },
			want: []string{exe}, reason: "neither root nor the user"},
		{name: "group-writable runtime directory", exe: exe, trust: trust,
			edit: func(f fakeFS) { f["/home/alice/app/runtime/lib"] = dir(alice, 0o775) },
			want: []string{"/home/alice/app/runtime/lib"}, reason: "writable by group or others"},
		{name: "a sticky directory is no place for a missing trust path", exe: "/tmp/app/python3", trust: []string{"/tmp/python3x.zip"},
			want: []string{"/tmp"}, reason: "writable by group or others"},
		{name: "a sticky delivery directory", exe: exe, trust: trust,
			edit: func(f fakeFS) { f["/home/alice/app/runtime/bin/python3"] = file(alice, fs.ModeSticky|0o777) },
			want: []string{exe}, reason: "writable by group or others"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := delivery()
			if tc.edit != nil {
				tc.edit(f)
			}
			c := newUnixChecker(f.lstat, f.readlink, "")
			c.rootUID = 0
			c.bundled(alice)
			var got []string
			for _, p := range c.run(tc.exe, tc.trust) {
				got = append(got, p.Path)
				if tc.reason != "" && !strings.Contains(p.Reason, tc.reason) {
					t.Errorf("%s: reason %q, want %q", p.Path, p.Reason, tc.reason)
				}
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tc.want) && (len(got) > 0 || len(tc.want) > 0) {
				t.Errorf("problems at %v, want at %v", got, tc.want)
			}
		})
	}
	// Without Bundled, the same delivery is refused: the system rule wants root everywhere.
	f := delivery()
	if got := newUnixChecker(f.lstat, f.readlink, "").run(exe, trust); len(got) == 0 {
		t.Errorf("the system rule accepted an interpreter owned by uid %d", alice)
	}
}
