package signcmd

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/testtool"
)

const envTTYChild = "SIGNET_TEST_TTY_CHILD"

// TestSaveReadsTerminalWithoutEcho runs `password save` (without
// --password-stdin) in a child on a pseudo-terminal made by util-linux
// `script`, types the password after the prompt and checks that the terminal
// never shows it. No keystore is reachable, so reaching "no OS keystore
// available" proves the typed password opened the .pfx.
func TestSaveReadsTerminalWithoutEcho(t *testing.T) {
	if os.Getenv(envTTYChild) == "1" {
		var msg bytes.Buffer
		pfxPath := filepath.Join(os.Getenv(envPKIDir), "modern.pfx")
		code := runPassword([]string{"save", pfxPath}, os.Stdin, os.Stdout, io.MultiWriter(os.Stderr, &msg))
		if code != 1 || !strings.Contains(msg.String(), "Password for "+pfxPath+": ") ||
			!strings.Contains(msg.String(), "no OS keystore available") {
			t.Fatalf("exit %d, %q; want 1, the prompt and no keystore", code, msg.String())
		}
		return
	}
	scriptTool := testtool.Need(t, "script")
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	child := strings.Join([]string{os.Args[0], "-test.run='^TestSaveReadsTerminalWithoutEcho$'", "-test.count=1", "-test.v"}, " ")
	cmd := exec.CommandContext(ctx, scriptTool, "-q", "-e", "-c", child, "/dev/null")
	cmd.Env = append(os.Environ(), envTTYChild+"=1", envPKIDir+"="+f.pki.Dir,
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var transcript bytes.Buffer
	r := bufio.NewReader(io.TeeReader(stdout, &transcript))
	prompted := false
	for !prompted {
		line, err := r.ReadString(':')
		if strings.HasSuffix(line, "Password for "+f.pki.Path("modern.pfx")+":") {
			prompted = true
			break
		}
		if err != nil {
			break
		}
	}
	if prompted {
		// Let ReadPassword turn echo off (it does so just after the prompt).
		time.Sleep(300 * time.Millisecond)
		io.WriteString(stdin, f.pki.Password+"\n")
	}
	io.Copy(io.Discard, r) // into transcript, until the child ends
	err = cmd.Wait()
	stdin.Close()
	out := transcript.String()
	if !prompted {
		t.Fatalf("no password prompt on the terminal:\n%s", out)
	}
	if err != nil || !strings.Contains(out, "--- PASS: TestSaveReadsTerminalWithoutEcho") {
		t.Fatalf("child on the terminal: %v\n%s", err, out)
	}
	if strings.Contains(out, f.pki.Password) {
		t.Fatalf("the terminal echoed the password:\n%s", out)
	}
}
