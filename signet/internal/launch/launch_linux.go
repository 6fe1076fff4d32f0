package launch

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"unsafe"
)

// memfd_create flags and fcntl commands (linux/memfd.h, linux/fcntl.h).
const (
	mfdCloexec       = 0x1
	mfdAllowSealing  = 0x2
	mfdNoexecSeal    = 0x8 // Linux 6.3+; older kernels answer EINVAL
	fAddSeals        = 1033
	fSealSeal        = 0x1
	fSealShrink      = 0x2
	fSealGrow        = 0x4
	fSealWrite       = 0x8
	memfdName        = "signet-bootstrap"
	allPayloadSealed = fSealSeal | fSealShrink | fSealGrow | fSealWrite
)

// Start replaces the loader with the interpreter (execve). The bootstrap and the manifest
// are written into a memfd that is then sealed against any change and inherited by the
// interpreter as a descriptor; no temporary file exists. Start returns only on error.
func Start(cfg Config) (int, error) {
	if err := cfg.check(filepath.IsAbs); err != nil {
		return 0, err
	}
	p := BuildPayload(cfg)
	fd, err := sealedMemfd(p.Data)
	if err != nil {
		return 0, err
	}
	// The descriptor must survive execve: clear FD_CLOEXEC as the very last step.
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, 0); errno != 0 {
		syscall.Close(fd)
		return 0, fmt.Errorf("launch: clear close-on-exec on the payload memfd: %w", errno)
	}
	argv := Argv(cfg, fd, p)
	err = syscall.Exec(cfg.Interpreter, argv, AllowedEnv(cfg.Environ, "linux"))
	syscall.Close(fd)
	return 0, fmt.Errorf("launch: execute %s: %w", cfg.Interpreter, err)
}

// sealedMemfd returns a close-on-exec memfd holding data, sealed against writes, growing,
// shrinking and further sealing, with its offset at 0.
func sealedMemfd(data []byte) (int, error) {
	fd, err := memfdCreate(memfdName, mfdCloexec|mfdAllowSealing|mfdNoexecSeal)
	if errors.Is(err, syscall.EINVAL) {
		fd, err = memfdCreate(memfdName, mfdCloexec|mfdAllowSealing)
	}
	if err != nil {
		return -1, fmt.Errorf("launch: memfd_create: %w", err)
	}
	if err := writeAll(fd, data); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("launch: write the payload memfd: %w", err)
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), fAddSeals, allPayloadSealed); errno != 0 {
		syscall.Close(fd)
		return -1, fmt.Errorf("launch: seal the payload memfd: %w", errno)
	}
	if _, err := syscall.Seek(fd, 0, 0); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("launch: rewind the payload memfd: %w", err)
	}
	return fd, nil
}

func memfdCreate(name string, flags uintptr) (int, error) {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return -1, err
	}
	r, _, errno := syscall.Syscall(sysMemfdCreate, uintptr(unsafe.Pointer(p)), flags, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return syscall.EIO
		}
		data = data[n:]
	}
	return nil
}

// platformReader returns the reader for a payload whose bootstrap is in form ("pyc" or "py").
func platformReader(form string) string {
	if form == "pyc" {
		return readerPyc
	}
	return readerPy
}
