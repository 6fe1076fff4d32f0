package treecheck

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

const (
	dirFlags  = syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_DIRECTORY | syscall.O_CLOEXEC
	fileFlags = syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC
)

// linuxTree opens everything relative to a descriptor of the root, one path
// component at a time with O_NOFOLLOW.
type linuxTree struct {
	root   string
	rootFD int
	// dirs holds one entry per directory that contains sealed files. The
	// map is filled before any worker starts and only read afterwards.
	dirs map[string]*cachedDir
}

// cachedDir is a directory descriptor shared by the workers hashing the
// files of that directory, closed when its last file has been opened.
type cachedDir struct {
	once      sync.Once
	fd        int
	kind      Kind
	detail    string
	remaining atomic.Int64
}

func openTree(root string, files []Sealed) (tree, error) {
	fd, err := syscall.Open(root, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	t := &linuxTree{root: root, rootFD: fd, dirs: make(map[string]*cachedDir)}
	for _, f := range files {
		dir := path.Dir(f.Path)
		d := t.dirs[dir]
		if d == nil {
			d = &cachedDir{fd: -1}
			t.dirs[dir] = d
		}
		d.remaining.Add(1)
	}
	return t, nil
}

func (t *linuxTree) close() {
	for _, d := range t.dirs {
		if d.fd >= 0 && d.remaining.Load() > 0 {
			// Only reachable if a worker never ran; keeps descriptors from leaking.
			syscall.Close(d.fd)
		}
	}
	syscall.Close(t.rootFD)
}

// walkDir opens the directory rel ("." or "" is the root, which is dup'ed)
// component by component without following symlinks. On failure it returns
// the problem kind and detail for files below it, and the raw error.
func (t *linuxTree) walkDir(rel string) (int, Kind, string, error) {
	fd, err := syscall.Dup(t.rootFD)
	if err != nil {
		return -1, Modified, fmt.Sprintf(detailCannotOpenFmt, err), err
	}
	syscall.CloseOnExec(fd)
	if rel == "" || rel == "." {
		return fd, 0, "", nil
	}
	done := ""
	for _, comp := range strings.Split(rel, "/") {
		if done == "" {
			done = comp
		} else {
			done += "/" + comp
		}
		next, err := openat(fd, comp, dirFlags)
		syscall.Close(fd)
		if err != nil {
			return -1, t.componentKind(err), t.componentProblem(done, err), err
		}
		fd = next
	}
	return fd, 0, "", nil
}

func (t *linuxTree) componentKind(err error) Kind {
	if errors.Is(err, syscall.ENOENT) {
		return Missing
	}
	return Modified
}

// componentProblem words why the directory component done could not be
// opened. The lstat here only picks the words; the verdict is already made.
func (t *linuxTree) componentProblem(done string, err error) string {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return ""
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ELOOP):
		fi, lerr := os.Lstat(filepath.Join(t.root, filepath.FromSlash(done)))
		if lerr != nil {
			return componentDetail(done, 0, false)
		}
		return componentDetail(done, fi.Mode(), true)
	}
	return fmt.Sprintf(detailComponentFmt, printablePath(done), fmt.Sprintf(detailCannotOpenFmt, err))
}

func (t *linuxTree) acquire(dir string) *cachedDir {
	d := t.dirs[dir]
	d.once.Do(func() {
		d.fd, d.kind, d.detail, _ = t.walkDir(dir)
	})
	return d
}

func (t *linuxTree) release(d *cachedDir) {
	if d.remaining.Add(-1) == 0 && d.fd >= 0 {
		syscall.Close(d.fd)
	}
}

func (t *linuxTree) open(rel string, known func(FileID) bool) (io.ReadCloser, int64, *FileID, Kind, string) {
	dir, base := path.Split(rel)
	d := t.acquire(path.Clean(dir))
	defer t.release(d)
	if d.kind != 0 {
		return nil, 0, nil, d.kind, d.detail
	}
	if known != nil {
		// One fstatat instead of open, fstat and close for a file the caller vouches for.
		var st syscall.Stat_t
		if err := fstatat(d.fd, base, &st); err == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG {
			if id := fileID(&st); known(*id) {
				return nil, st.Size, id, 0, ""
			}
		}
	}
	fd, err := openat(d.fd, base, fileFlags)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return nil, 0, nil, Missing, ""
		}
		// ELOOP (a symlink), ENXIO (a socket), EACCES, ...: word it by type.
		if fi, lerr := os.Lstat(filepath.Join(t.root, filepath.FromSlash(rel))); lerr == nil && !fi.Mode().IsRegular() {
			return nil, 0, nil, Modified, typeDetail(fi.Mode())
		}
		if errors.Is(err, syscall.ELOOP) {
			return nil, 0, nil, Modified, typeDetail(fs.ModeSymlink)
		}
		return nil, 0, nil, Modified, fmt.Sprintf(detailCannotOpenFmt, err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, 0, nil, Modified, fmt.Sprintf(detailCannotStatFmt, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, 0, nil, Modified, typeDetail(modeFromStat(st.Mode))
	}
	return rawFile(fd), st.Size, fileID(&st), 0, ""
}

// rawFile reads a file descriptor with plain read(2). An *os.File would try to register
// the (O_NONBLOCK) descriptor with the runtime's poller and fail, costing three system calls
// per sealed file for nothing.
type rawFile int

func (f rawFile) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(f), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f rawFile) Close() error { return syscall.Close(int(f)) }

func (t *linuxTree) readDir(rel string) ([]fs.DirEntry, error) {
	fd, _, _, err := t.walkDir(rel)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), filepath.Join(t.root, filepath.FromSlash(rel)))
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return entries, fmt.Errorf("listing %s: %w", f.Name(), err)
	}
	return entries, nil
}

// openat retries on EINTR, which a FIFO or a slow filesystem can produce.
// fileID is the identity of the file st describes.
func fileID(st *syscall.Stat_t) *FileID {
	return &FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: st.Size,
		MtimeSec: int64(st.Mtim.Sec), MtimeNsec: int64(st.Mtim.Nsec),
		CtimeSec: int64(st.Ctim.Sec), CtimeNsec: int64(st.Ctim.Nsec)}
}

// fstatat describes name in dirfd without following a symlink.
func fstatat(dirfd int, name string, st *syscall.Stat_t) error {
	if sysFstatat == 0 {
		return syscall.ENOSYS // opened and fstat'ed instead
	}
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	for {
		_, _, errno := syscall.Syscall6(sysFstatat, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(st)), atSymlinkNoFollow, 0, 0)
		switch errno {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		}
		return errno
	}
}

// atSymlinkNoFollow is AT_SYMLINK_NOFOLLOW of fcntl.h.
const atSymlinkNoFollow = 0x100

func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := syscall.Openat(dirfd, name, flags, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

func modeFromStat(m uint32) fs.FileMode {
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR, syscall.S_IFBLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}
