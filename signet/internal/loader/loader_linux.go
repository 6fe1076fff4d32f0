package loader

import (
	"os"
	"syscall"
)

// envNamesFoldCase is false: Linux environment names are case-sensitive.
const envNamesFoldCase = false

// selfPayloadPath is the loader's own executable as the kernel executed it: the inode, not a
// path that someone could swap after the start.
func selfPayloadPath() string { return "/proc/self/exe" }

// appName is the application's name: the loader's file name.
func appName(loaderName string) string { return loaderName }

// openSelf opens the loader's own executable for reading. A plain blocking descriptor made
// into an *os.File with NewFile is never registered with the runtime's poller, so this
// spares the start-up creating an epoll instance that a regular file cannot use anyway.
func openSelf(path string) (*os.File, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
