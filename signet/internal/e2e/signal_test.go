//go:build linux

package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCtrlCReachesTheApp sends SIGINT, as a terminal's Ctrl-C does, to a running sealed app:
// the app must see KeyboardInterrupt (the loader exec'd the interpreter, so the signal goes
// straight to it), and an uncaught one ends the process as plain Python does (exit 130).
func TestCtrlCReachesTheApp(t *testing.T) {
	// "ready" is printed inside the try, so the signal cannot land before the handler is set.
	const app = `import sys, time
try:
    print("ready", flush=True)
    time.sleep(60)
except KeyboardInterrupt:
    print("KeyboardInterrupt caught", flush=True)
    if sys.argv[1:] == ["reraise"]:
        raise
    sys.exit(42)
`
	forEachPython(t, func(t *testing.T, py python) {
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, "wait.py"), []byte(app), 0o644); err != nil {
			t.Fatal(err)
		}
		loader := seal(t, root, sealOpts{main: "wait.py", python: py.path})
		tests := []struct {
			name string
			args []string
			code int
		}{
			{"caught by the app", nil, 42},
			{"uncaught", []string{"reraise"}, 130},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				code, out := interruptWhenReady(t, loader, tc.args...)
				if code != tc.code || !strings.Contains(out, "KeyboardInterrupt caught") {
					t.Errorf("after SIGINT: exit %d, stdout %q; want exit %d and the app's KeyboardInterrupt handler", code, out, tc.code)
				}
			})
		}
	})
}

// interruptWhenReady starts loader, waits for its "ready" line, sends SIGINT and returns the
// exit status (128+signal when killed by one, as a shell reports it) and the whole stdout.
func interruptWhenReady(t *testing.T, loader string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, loader, args...)
	cmd.Env = baseEnv()
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var out strings.Builder
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the sealed app never said ready; stdout %q, stderr:\n%s", lines.Text(), stderr.String())
	}
	out.WriteString("ready\n")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), out.String()
		}
		return exitErr.ExitCode(), out.String()
	default:
		t.Fatalf("waiting for the sealed app: %v\nstderr:\n%s", err, stderr.String())
		return 0, ""
	}
}
