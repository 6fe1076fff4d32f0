// Package portability checks, at seal time, that a set of relative app paths can be
// delivered to a target operating system unchanged: every path is a valid app path in
// Unicode NFC, no two paths differ only by Unicode normalization (or, where the target's
// file systems ignore case, only by case), no path is both a file and a directory, and for
// Windows no component is a reserved device name, holds a character Windows forbids, or
// ends with a dot or a space.
//
// It is not part of the loader stub (it uses golang.org/x/text).
package portability

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/signet-dev/signet/signet/internal/apppath"
)

// Problem is one reason a path set cannot be delivered to the target.
type Problem struct {
	Paths  []string // the path or paths concerned (directory paths for directory conflicts)
	Reason string
}

func (p *Problem) Error() string {
	quoted := make([]string, len(p.Paths))
	for i, s := range p.Paths {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(quoted, " and ") + ": " + p.Reason
}

func problem(reason string, paths ...string) error {
	return &Problem{Paths: paths, Reason: reason}
}

// caseInsensitive reports whether goos's usual file systems ignore case (NTFS; APFS and HFS+
// as formatted by default).
func caseInsensitive(goos string) bool { return goos == "windows" || goos == "darwin" || goos == "ios" }

// Check returns one error per problem found in paths (relative app paths of files) for the
// target goos, in a deterministic order; nil means the set is portable. Every error is a
// *Problem naming the path or paths concerned.
func Check(paths []string, goos string) []error {
	sorted := slices.Clone(paths)
	slices.Sort(sorted)

	var errs []error
	files := make(map[string]bool, len(sorted))
	valid := sorted[:0:0]
	for i, p := range sorted {
		if i > 0 && sorted[i-1] == p {
			errs = append(errs, problem("listed twice", p))
			continue
		}
		files[p] = true
		if err := apppath.Validate(p); err != nil {
			errs = append(errs, problem(err.Error(), p))
			continue
		}
		valid = append(valid, p)
		if nfc := norm.NFC.String(p); nfc != p {
			errs = append(errs, problem(fmt.Sprintf("not in Unicode NFC form; rename it to %q", nfc), p))
		}
		if goos == "windows" {
			errs = append(errs, windowsComponentProblems(p)...)
		}
	}

	// Conflicts between paths, checked on every prefix so that directories count too.
	nfc := newCollisions("differ only by Unicode normalization")
	var folded *collisions
	if caseInsensitive(goos) {
		folded = newCollisions(fmt.Sprintf("differ only by case, which %s file systems ignore", goos))
		// Names that are equal in NFC are already reported as a normalization conflict.
		folded.ignore = func(a, b string) bool { return norm.NFC.String(a) == norm.NFC.String(b) }
	}
	dirsReported := map[string]bool{}
	for _, p := range valid {
		for end := 0; end < len(p); {
			next := strings.IndexByte(p[end+1:], '/')
			if next < 0 {
				end = len(p)
			} else {
				end += 1 + next
			}
			prefix := p[:end]
			if end < len(p) && files[prefix] && !dirsReported[prefix] {
				dirsReported[prefix] = true
				errs = append(errs, problem("is both a file and a directory", prefix))
			}
			nfcKey := norm.NFC.String(prefix)
			errs = nfc.add(errs, nfcKey, prefix)
			if folded != nil {
				errs = folded.add(errs, foldKey(nfcKey), prefix)
			}
		}
	}
	return errs
}

// collisions remembers the first name seen for each key and reports later, different names
// with the same key, once per pair.
type collisions struct {
	reason   string
	ignore   func(a, b string) bool // pairs not to report; nil reports all
	first    map[string]string
	reported map[[2]string]bool
}

func newCollisions(reason string) *collisions {
	return &collisions{reason: reason, first: map[string]string{}, reported: map[[2]string]bool{}}
}

func (c *collisions) add(errs []error, key, name string) []error {
	prev, ok := c.first[key]
	if !ok {
		c.first[key] = name
		return errs
	}
	if prev == name || c.reported[[2]string{prev, name}] || (c.ignore != nil && c.ignore(prev, name)) {
		return errs
	}
	c.reported[[2]string{prev, name}] = true
	return append(errs, problem(c.reason, prev, name))
}

// foldKey maps s to a string that is equal for all strings equal under Unicode simple case
// folding (as strings.EqualFold compares): each rune becomes the smallest rune of its
// folding orbit.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// windowsForbidden are the printable characters Windows refuses in file names (control
// characters and backslash are refused for every target by apppath.Validate).
const windowsForbidden = `<>:"|?*`

// windowsReserved are device names that Windows opens instead of a file of that name, also
// with any extension ("con.txt") and with trailing spaces before the extension.
var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
	"COM0": true, "COM1": true, "COM2": true, "COM3": true, "COM4": true,
	"COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"COM\u00b9": true, "COM\u00b2": true, "COM\u00b3": true,
	"LPT0": true, "LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true,
	"LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
	"LPT\u00b9": true, "LPT\u00b2": true, "LPT\u00b3": true,
}

// windowsComponentProblems checks each component of a valid app path against Windows'
// naming rules.
func windowsComponentProblems(p string) []error {
	var errs []error
	for _, comp := range strings.Split(p, "/") {
		if i := strings.IndexAny(comp, windowsForbidden); i >= 0 {
			r, _ := utf8.DecodeRuneInString(comp[i:])
			errs = append(errs, problem(fmt.Sprintf("component %q contains %q, which Windows does not allow in names", comp, r), p))
		}
		if last := comp[len(comp)-1]; last == '.' || last == ' ' {
			errs = append(errs, problem(fmt.Sprintf("component %q ends with %q, which Windows strips", comp, last), p))
		}
		base, _, _ := strings.Cut(comp, ".")
		if windowsReserved[strings.ToUpper(strings.TrimRight(base, " "))] {
			errs = append(errs, problem(fmt.Sprintf("component %q is the Windows device name %s", comp, strings.ToUpper(strings.TrimRight(base, " "))), p))
		}
	}
	return errs
}
