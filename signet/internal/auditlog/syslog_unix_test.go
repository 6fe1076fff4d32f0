//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package auditlog

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// useSocket points the package at path for the duration of the test.
func useSocket(t *testing.T, path string) {
	old := socketPaths
	socketPaths = []string{path}
	t.Cleanup(func() { socketPaths = old })
}

// socketPath returns a short socket path (sun_path is ~104 bytes).
func socketPath(t *testing.T) string {
	dir, err := os.MkdirTemp("", "al")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "log")
}

func TestRefusalDatagram(t *testing.T) {
	path := socketPath(t)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	useSocket(t, path)

	Refusal("hello app", []string{"MODIFIED pkg/mod.py: content differs from the sealed digest", "UNEXPECTED \"a\\nb.py\": x\ny"})

	wantBodies := []string{
		"refused to start: MODIFIED pkg/mod.py: content differs from the sealed digest",
		`refused to start: UNEXPECTED "a\nb.py": x?y`,
	}
	head := fmt.Sprintf("hello_app[%d]: ", os.Getpid())
	buf := make([]byte, 4096)
	for _, body := range wantBodies {
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("reading the datagram: %v", err)
		}
		msg := string(buf[:n])
		if !strings.HasPrefix(msg, "<36>") || !strings.HasSuffix(msg, head+body) {
			t.Errorf("datagram %q, want <36>... %s%s", msg, head, body)
		}
		// "<36>Jan _2 15:04:05 " comes before the tag.
		if len(msg) < 4+len(time.Stamp) {
			t.Errorf("no timestamp in %q", msg)
		} else if _, err := time.Parse(time.Stamp, msg[4:4+len(time.Stamp)]); err != nil {
			t.Errorf("timestamp in %q: %v", msg, err)
		}
	}
}

func TestRefusalStream(t *testing.T) {
	path := socketPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	useSocket(t, path)
	got := make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		var lines []string
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		got <- lines
	}()
	Refusal("hello", []string{"MISSING a", "MISSING b"})
	select {
	case lines := <-got:
		if len(lines) != 2 || !strings.HasSuffix(lines[0], "]: refused to start: MISSING a") || !strings.HasSuffix(lines[1], "]: refused to start: MISSING b") {
			t.Errorf("stream got %q", lines)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no lines arrived on the stream socket")
	}
}

func TestRefusalWithoutSyslogReturnsQuickly(t *testing.T) {
	useSocket(t, filepath.Join(t.TempDir(), "absent"))
	start := time.Now()
	Refusal("hello", []string{"MISSING a"})
	if d := time.Since(start); d > time.Second {
		t.Errorf("Refusal took %v without a syslog socket", d)
	}
}

func TestRefusalGivesUpOnAStuckLog(t *testing.T) {
	// A datagram socket nobody reads fills up; Refusal must still return
	// within its budget.
	path := socketPath(t)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	useSocket(t, path)
	lines := make([]string, maxRecords)
	for i := range lines {
		lines[i] = strings.Repeat("x", maxLineBytes)
	}
	start := time.Now()
	Refusal("hello", lines)
	Refusal("hello", lines) // the queue is certainly full by now
	if d := time.Since(start); d > 2*budget+time.Second {
		t.Errorf("two refusals into a full socket took %v, budget %v each", d, budget)
	}
}
