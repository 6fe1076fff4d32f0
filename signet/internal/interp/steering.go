package interp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// SteeringFileNames returns the names of the files that change how CPython
// starts when they sit beside its executable exe (or, for pyvenv.cfg and the
// rest, one directory up) for version "X.Y": pyvenv.cfg, python._pth,
// <exe name>._pth (getpath.py appends "._pth" to the executable's name
// without ".exe"), pythonXY._pth (named after the DLL) and pythonXY.zip.
// The list is sorted and has no duplicates.
func SteeringFileNames(exe, version string) []string {
	xy := strings.ReplaceAll(version, ".", "")
	exeName := path.Base(strings.ReplaceAll(exe, `\`, "/"))
	if strings.HasSuffix(strings.ToLower(exeName), ".exe") {
		exeName = exeName[:len(exeName)-len(".exe")]
	}
	names := []string{"pyvenv.cfg", "python._pth", "python" + xy + "._pth", "python" + xy + ".zip"}
	if exeName != "" && exeName != "." && exeName != "/" {
		names = append(names, exeName+"._pth")
	}
	return sortedUnique(names)
}

// CheckSteeringFiles reports every steering file (see SteeringFileNames)
// that exists beside exe or one directory up and is not sealed. sealed may
// be nil (nothing sealed). A dangling symlink counts as existing; a path
// that cannot be examined is a problem too.
func CheckSteeringFiles(exe, version string, sealed func(path string) bool) []Problem {
	return checkSteeringFiles(exe, version, sealed, func(p string) error {
		_, err := os.Lstat(nativePath(p))
		return err
	})
}

func checkSteeringFiles(exe, version string, sealed func(string) bool, lstat func(string) error) []Problem {
	exe = strings.ReplaceAll(exe, `\`, "/")
	dir := path.Dir(exe)
	dirs := []string{dir}
	if up := path.Dir(dir); up != dir {
		dirs = append(dirs, up)
	}
	var problems []Problem
	for _, d := range dirs {
		for _, name := range SteeringFileNames(exe, version) {
			p := path.Join(d, name)
			err := lstat(p)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				continue
			case err != nil:
				problems = append(problems, Problem{Path: p, Reason: fmt.Sprintf("cannot check for a steering file: %v", err), Fix: fixCannotCheck})
			case sealed == nil || !sealed(p):
				problems = append(problems, Problem{Path: p, Reason: "unsealed file that steers the interpreter's start-up", Fix: fixSteering})
			}
		}
	}
	return problems
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
