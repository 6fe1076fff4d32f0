//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package auditlog

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// priority is facility LOG_AUTH (4) with severity LOG_WARNING (4).
const priority = 4<<3 | 4

// send writes one RFC 3164 message per record to the first of sockets
// that accepts a connection. Datagram sockets are preferred; a stream socket
// gets newline-terminated messages. Every write is bounded by deadline.
func send(sockets []string, tag string, records []string, deadline time.Time) {
	fd, stream, err := dial(sockets, deadline)
	if err != nil {
		return
	}
	defer syscall.Close(fd)
	pid := os.Getpid()
	for _, r := range records {
		if time.Now().After(deadline) {
			return
		}
		msg := fmt.Sprintf("<%d>%s %s[%d]: %s", priority, time.Now().Format(time.Stamp), tag, pid, r)
		if stream {
			msg += "\n"
		}
		if _, err := syscall.Write(fd, []byte(msg)); err != nil {
			return
		}
	}
}

func dial(sockets []string, deadline time.Time) (fd int, stream bool, err error) {
	err = errors.New("no syslog socket")
	for _, path := range sockets {
		for _, typ := range []int{syscall.SOCK_DGRAM, syscall.SOCK_STREAM} {
			fd, err = connect(path, typ, deadline)
			if err == nil {
				return fd, typ == syscall.SOCK_STREAM, nil
			}
		}
	}
	return -1, false, err
}

func connect(path string, typ int, deadline time.Time) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(syscall.AF_UNIX, typ, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	left := time.Until(deadline)
	if left < time.Millisecond {
		left = time.Millisecond
	}
	timeout := syscall.NsecToTimeval(int64(left))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &timeout); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}
