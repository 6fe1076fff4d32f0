package interp

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"
)

// checkOwnership applies the Windows rule to the interpreter and the trust
// paths. A path reached through a symlink or junction is checked both as
// written and as resolved. A bundled interpreter is held to the same rule
// (see Rule.Bundled).
func checkOwnership(exe string, trust []string, _ bool) []Problem {
	c := newWindowsChecker(namedSDDL)
	for _, p := range withRealPath(exe) {
		c.checkExe(p)
	}
	for _, t := range trust {
		for _, p := range withRealPath(t) {
			c.checkTrust(p)
		}
	}
	return c.problems
}

func withRealPath(p string) []string {
	real, err := filepath.EvalSymlinks(filepath.FromSlash(p))
	if err != nil {
		return []string{p}
	}
	r := filepath.ToSlash(real)
	if strings.EqualFold(r, p) {
		return []string{p}
	}
	return []string{p, r}
}

const (
	seFileObject             = 1
	ownerSecurityInformation = 0x1
	groupSecurityInformation = 0x2
	daclSecurityInformation  = 0x4
	sddlRevision1            = 1
	errorFileNotFound        = 2
	errorPathNotFound        = 3
)

// namedSDDL reads the owner, group and DACL of a path as SDDL with
// GetNamedSecurityInfoW and ConvertSecurityDescriptorToStringSecurityDescriptorW.
// advapi32.dll is loaded from the system directory (the syscall package
// lists it as a system DLL), never from the app's directory.
func namedSDDL(p string) (string, error) {
	advapi := syscall.NewLazyDLL("advapi32.dll")
	getInfo := advapi.NewProc("GetNamedSecurityInfoW")
	toString := advapi.NewProc("ConvertSecurityDescriptorToStringSecurityDescriptorW")
	if err := getInfo.Find(); err != nil {
		return "", fmt.Errorf("GetNamedSecurityInfoW: %w", err)
	}
	if err := toString.Find(); err != nil {
		return "", fmt.Errorf("ConvertSecurityDescriptorToStringSecurityDescriptorW: %w", err)
	}
	name, err := syscall.UTF16PtrFromString(filepath.FromSlash(p))
	if err != nil {
		return "", fmt.Errorf("path %q: %w", p, err)
	}
	const info = ownerSecurityInformation | groupSecurityInformation | daclSecurityInformation
	var sd uintptr
	r, _, _ := getInfo.Call(uintptr(unsafe.Pointer(name)), seFileObject, info, 0, 0, 0, 0, uintptr(unsafe.Pointer(&sd)))
	if r != 0 {
		errno := syscall.Errno(r)
		if errno == errorFileNotFound || errno == errorPathNotFound {
			return "", fmt.Errorf("GetNamedSecurityInfoW %s: %w", p, fs.ErrNotExist)
		}
		return "", fmt.Errorf("GetNamedSecurityInfoW %s: %w", p, errno)
	}
	defer syscall.LocalFree(syscall.Handle(sd))
	var str *uint16
	var n uint32
	ok, _, callErr := toString.Call(sd, sddlRevision1, info, uintptr(unsafe.Pointer(&str)), uintptr(unsafe.Pointer(&n)))
	if ok == 0 || str == nil {
		if callErr == nil {
			callErr = errors.New("no string returned")
		}
		return "", fmt.Errorf("ConvertSecurityDescriptorToStringSecurityDescriptorW %s: %w", p, callErr)
	}
	defer syscall.LocalFree(syscall.Handle(uintptr(unsafe.Pointer(str))))
	return syscall.UTF16ToString(unsafe.Slice(str, n)), nil
}
