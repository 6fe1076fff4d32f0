//go:build linux

package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADME holds README.md to the project's rule: the README shows only what runs. Its
// snippets are the real files, or are checked here, so that this test fails when they drift:
//
//   - A fenced block whose first line is a comment naming a repository file
//     ("# examples/hello/BUILD.bazel (abridged)") is an excerpt of that file: every
//     non-blank, non-comment line of the block must be a line of the file, in the same order.
//     Without "(abridged)" the rest of the block must be the whole file.
//   - A ```console block whose first command is `$ signet ...` is a session that is run for
//     real, command by command, in a fresh directory (with app/hello.py from examples/hello and,
//     for --runtime DIR, a relocatable CPython at DIR): each `$ ` line is a bash command and the
//     lines after it are its combined stdout and stderr. `…` in an expected line matches any
//     text; trailing spaces do not count; the session directory is shown as ".".
//
// Console blocks not led by `$ signet` (Bazel, osslsigncode, exiftool, ...) are not run.
func TestREADME(t *testing.T) {
	const name = "README.md"
	b, err := os.ReadFile(filepath.Join(repo, name))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeFences(string(b))
	if err != nil {
		t.Fatalf("%s:%v", name, err)
	}
	sessions := 0
	for _, f := range blocks {
		if path, abridged, ok := excerptOf(f); ok {
			t.Run(fmt.Sprintf("excerpt_line_%d", f.start-1), func(t *testing.T) {
				checkExcerpt(t, name, f, path, abridged)
			})
			continue
		}
		if f.info != "console" {
			continue
		}
		steps, err := consoleSteps(f)
		if err != nil {
			t.Errorf("%s:%v", name, err)
			continue
		}
		if len(steps) == 0 || !strings.HasPrefix(steps[0].cmd, "signet ") {
			t.Logf("%s:%d: console block not led by `$ signet`: not run here", name, f.start-1)
			continue
		}
		sessions++
		t.Run(fmt.Sprintf("session_line_%d", f.start-1), func(t *testing.T) {
			runSession(t, name, steps)
		})
	}
	if sessions == 0 {
		t.Errorf("%s has no ```console block led by `$ signet`: the session this test runs is gone, or the parser no longer finds it", name)
	}
}

// fence is one fenced code block of a Markdown file.
type fence struct {
	info  string   // the info string after the opening fence, e.g. "console"
	start int      // 1-based line number of the block's first content line
	lines []string // the content lines
}

// readmeFences returns the fenced code blocks (``` or ~~~) of a Markdown text.
func readmeFences(text string) ([]fence, error) {
	var out []fence
	var cur *fence
	var marker string
	open := 0
	for i, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimLeft(l, " ")
		if cur == nil {
			if len(l)-len(trimmed) > 3 {
				continue
			}
			for _, c := range []string{"```", "~~~"} {
				if strings.HasPrefix(trimmed, c) {
					n := len(trimmed) - len(strings.TrimLeft(trimmed, c[:1]))
					marker = strings.Repeat(c[:1], n)
					cur = &fence{info: strings.TrimSpace(trimmed[n:]), start: i + 2}
					open = i + 1
					break
				}
			}
			continue
		}
		if strings.HasPrefix(trimmed, marker) && strings.TrimSpace(strings.TrimLeft(trimmed, marker[:1])) == "" {
			out = append(out, *cur)
			cur = nil
			continue
		}
		cur.lines = append(cur.lines, l)
	}
	if cur != nil {
		return nil, fmt.Errorf("%d: code block is never closed", open)
	}
	return out, nil
}

// excerptHeader is the first line of a block that is an excerpt of a repository file.
var excerptHeader = regexp.MustCompile(`^(#|//)\s*([A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*)(\s+\(abridged\))?\s*$`)

// fileExtension is how a file name without a directory is told from a word.
var fileExtension = regexp.MustCompile(`\.[A-Za-z]`)

// excerptOf reports whether f is an excerpt of a repository file, which one, and whether the
// block says it is abridged.
func excerptOf(f fence) (path string, abridged, ok bool) {
	if len(f.lines) == 0 {
		return "", false, false
	}
	m := excerptHeader.FindStringSubmatch(strings.TrimSpace(f.lines[0]))
	if m == nil {
		return "", false, false
	}
	p := m[2]
	// A file name has a directory or an extension: "# TODO" or "# 1." names no file.
	if !strings.Contains(p, "/") && !fileExtension.MatchString(p) {
		return "", false, false
	}
	return p, m[3] != "", true
}

// commentMarker is the comment syntax of an excerpt, from its header line.
func commentMarker(f fence) string {
	if strings.HasPrefix(strings.TrimSpace(f.lines[0]), "//") {
		return "//"
	}
	return "#"
}

func trimRight(s string) string { return strings.TrimRight(s, " \t\r") }

// fileLines splits a file into lines without trailing spaces or trailing blank lines.
func fileLines(text string) []string {
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = trimRight(lines[i])
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func checkExcerpt(t *testing.T, readme string, f fence, path string, abridged bool) {
	b, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(path)))
	if err != nil {
		t.Fatalf("%s:%d: the block names %s, which cannot be read: %v", readme, f.start, path, err)
	}
	file := fileLines(string(b))
	if !abridged {
		block, first := fileLines(strings.Join(f.lines[1:], "\n")), f.start+1
		if len(file) > 0 && file[0] == trimRight(f.lines[0]) {
			// The file starts with that comment itself.
			block, first = fileLines(strings.Join(f.lines, "\n")), f.start
		}
		for i := 0; i < len(block) || i < len(file); i++ {
			got, want := "(the block ends)", "(the file ends)"
			if i < len(block) {
				got = block[i]
			}
			if i < len(file) {
				want = file[i]
			}
			if i >= len(block) || i >= len(file) || got != want {
				t.Errorf("%s:%d: the block is not the whole of %s (no \"(abridged)\"): first difference at %s line %d:\n  README: %s\n  file:   %s",
					readme, first+i, path, path, i+1, got, want)
				return
			}
		}
		return
	}
	marker := commentMarker(f)
	pos := make(map[string][]int) // line -> its line numbers in the file, 1-based
	for i, l := range file {
		pos[l] = append(pos[l], i+1)
	}
	next := 0 // index in file after the last matched line
	for i, l := range f.lines[1:] {
		l = trimRight(l)
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), marker) {
			continue
		}
		line := f.start + 1 + i
		found := -1
		for j := next; j < len(file); j++ {
			if file[j] == l {
				found = j
				break
			}
		}
		if found >= 0 {
			next = found + 1
			continue
		}
		if at := pos[l]; len(at) > 0 {
			t.Errorf("%s:%d: this line is in %s (line %v) but out of order: the excerpt's previous line matched %s line %d\n    %s",
				readme, line, path, at, path, next, l)
		} else {
			t.Errorf("%s:%d: this line is not a line of %s:\n          %s", readme, line, path, l)
			if similar := similarLines(file, l); len(similar) > 0 {
				t.Errorf("  %s has instead:\n%s", path, strings.Join(similar, "\n"))
			}
		}
		// Go on from the same place in the file: the excerpt's further lines are checked too.
	}
}

// leadingWord is the identifier a line starts with, e.g. "platforms" or "signet_sign".
var leadingWord = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)`)

// similarLines returns the lines of file (numbered) that start with the same identifier as l,
// to show what the README should say.
func similarLines(file []string, l string) []string {
	key := leadingWord.FindStringSubmatch(l)
	if key == nil {
		return nil
	}
	var out []string
	for i, fl := range file {
		if m := leadingWord.FindStringSubmatch(fl); m != nil && m[1] == key[1] {
			out = append(out, fmt.Sprintf("    %4d  %s", i+1, fl))
			// A multi-line value: show it up to its closing line.
			if strings.HasSuffix(fl, "[") || strings.HasSuffix(fl, "{") || strings.HasSuffix(fl, "(") {
				for j := i + 1; j < len(file) && j < i+20; j++ {
					out = append(out, fmt.Sprintf("    %4d  %s", j+1, file[j]))
					if strings.TrimSpace(file[j]) == "]," || strings.TrimSpace(file[j]) == "}," || strings.TrimSpace(file[j]) == ")," ||
						strings.TrimSpace(file[j]) == ")" {
						break
					}
				}
			}
		}
	}
	return out
}

// step is one command of a console session and what the README says it prints.
type step struct {
	line     int    // README line of the `$ ` line
	cmd      string // the command, without "$ "
	want     []string
	wantLine int // README line of want[0]
}

// consoleSteps splits a console block into its commands. A command line ending in a
// backslash continues on the next line.
func consoleSteps(f fence) ([]step, error) {
	var steps []step
	for i := 0; i < len(f.lines); i++ {
		l := f.lines[i]
		line := f.start + i
		if cmd, ok := strings.CutPrefix(l, "$ "); ok {
			s := step{line: line, cmd: cmd, wantLine: line + 1}
			for strings.HasSuffix(s.cmd, "\\") && i+1 < len(f.lines) {
				i++
				s.cmd += "\n" + f.lines[i]
				s.wantLine = f.start + i + 1
			}
			steps = append(steps, s)
			continue
		}
		if len(steps) == 0 {
			if strings.TrimSpace(l) != "" {
				return nil, fmt.Errorf("%d: console block has output before its first `$ ` command: %q", line, l)
			}
			continue
		}
		s := &steps[len(steps)-1]
		s.want = append(s.want, l)
	}
	return steps, nil
}

// runtimeArg finds the directories a session passes to --runtime.
var runtimeArg = regexp.MustCompile(`--runtime(?:=|\s+)([^\s;|&()<>]+)`)

// readmePython is the interpreter the README's sessions name.
const readmePython = "/usr/bin/python3.11"

func runSession(t *testing.T, readme string, steps []step) {
	dir := t.TempDir()
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	sess := filepath.Join(dir, "session")
	binDir := filepath.Join(dir, "bin")
	for _, d := range []string{filepath.Join(sess, "app"), binDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The app the sessions seal: examples/hello, as `--root app --main hello.py`.
	copyFile(t, filepath.Join(repo, "examples", "hello", "hello.py"), filepath.Join(sess, "app", "hello.py"), 0o644)
	// The interpreter the sessions name must exist: the README's session is about it.
	py, err := describePython(readmePython)
	if err != nil {
		t.Fatalf("the README's sessions seal for %s: %v", readmePython, err)
	}
	for _, s := range steps {
		for _, m := range runtimeArg.FindAllStringSubmatch(s.cmd, -1) {
			rt := m[1]
			if filepath.IsAbs(rt) {
				t.Fatalf("%s:%d: --runtime %s: a README session should bundle a runtime from its own directory", readme, s.line, rt)
			}
			dst := filepath.Join(sess, filepath.FromSlash(rt))
			if _, err := os.Stat(dst); err == nil {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("cp", "-a", relocatableRuntime(t, py), dst).CombinedOutput(); err != nil {
				t.Fatalf("copying the relocatable runtime to %s: %v\n%s", dst, err, out)
			}
		}
	}
	// `signet` on PATH is the tool under test; `signet seal` gets the prebuilt stub unless
	// the command names one, so that no Go toolchain build of the stub is needed.
	wrapper := fmt.Sprintf(`#!/bin/sh
if [ "$1" = seal ]; then
	for a in "$@"; do
		case "$a" in --stub|--stub=*|-stub|-stub=*) exec %[1]s "$@" ;; esac
	done
	shift
	exec %[1]s seal --stub %[2]s "$@"
fi
exec %[1]s "$@"
`, shellQuote(bin.signet), shellQuote(bin.stub))
	if err := os.WriteFile(filepath.Join(binDir, "signet"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + binDir + ":/usr/local/bin:/usr/bin:/bin"}
	tmpPrefixes := []string{"/tmp/", "/var/tmp/", filepath.Clean(os.TempDir()) + "/", dir}

	for _, s := range steps {
		for i, l := range append([]string{s.cmd}, s.want...) {
			for _, p := range tmpPrefixes {
				if strings.Contains(l, p) {
					ln := s.line
					if i > 0 {
						ln = s.wantLine + i - 1
					}
					t.Errorf("%s:%d: shows a temporary path (%s), which no reader's session prints: %s", readme, ln, p, l)
					break
				}
			}
		}
		r := run(t, sess, env, "", "bash", "-c", "exec 2>&1\n"+s.cmd)
		got := fileLines(normalizeSessionDir(r.stdout, sess))
		want := make([]string, len(s.want))
		for i, l := range s.want {
			want[i] = trimRight(l)
		}
		for len(want) > 0 && want[len(want)-1] == "" {
			want = want[:len(want)-1]
		}
		if diff := sessionDiff(readme, s, want, got); diff != "" {
			t.Errorf("%s:%d: $ %s\n(bash exit status %d) prints something else than the README says:\n%s",
				readme, s.line, s.cmd, r.code, diff)
		}
	}
}

// normalizeSessionDir shows the session directory as ".".
func normalizeSessionDir(out, sess string) string {
	out = strings.ReplaceAll(out, sess+"/", "./")
	return strings.ReplaceAll(out, sess, ".")
}

// sessionLineMatches reports whether an output line matches a README line, in which `…`
// stands for any text.
func sessionLineMatches(want, got string) bool {
	if !strings.Contains(want, "…") {
		return want == got
	}
	parts := strings.Split(want, "…")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `$`).MatchString(got)
}

// sessionDiff compares a step's output line by line; "" when it matches.
func sessionDiff(readme string, s step, want, got []string) string {
	same := len(want) == len(got)
	for i := 0; same && i < len(want); i++ {
		same = sessionLineMatches(want[i], got[i])
	}
	if same {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(want) || i < len(got); i++ {
		loc := fmt.Sprintf("%s:%d", readme, s.wantLine+i)
		switch {
		case i >= len(want):
			fmt.Fprintf(&b, "  %-14s  README: (nothing more)\n  %-14s  got:    %s\n", loc, "", got[i])
		case i >= len(got):
			fmt.Fprintf(&b, "  %-14s  README: %s\n  %-14s  got:    (nothing more)\n", loc, want[i], "")
		case sessionLineMatches(want[i], got[i]):
			fmt.Fprintf(&b, "  %-14s  ok:     %s\n", loc, want[i])
		default:
			fmt.Fprintf(&b, "  %-14s  README: %s\n  %-14s  got:    %s\n", loc, want[i], "", got[i])
		}
	}
	return b.String()
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
