// Package keystoretest runs tests against a real Secret Service. A test calls
// Run, which re-runs that same test in a child test binary inside
// `dbus-run-session`, with a scratch HOME and XDG_RUNTIME_DIR, where
// gnome-keyring-daemon has been started with an unlocked login keyring (or,
// with NoSecretService, a session bus on which no Secret Service exists or can
// be activated). Inside reports whether the current process is that child.
//
// Needs dbus-run-session, gnome-keyring-daemon and secret-tool (Debian:
// dbus-daemon, dbus, gnome-keyring, libsecret-tools). A missing tool fails the
// test when CI=true and skips it otherwise.
package keystoretest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/signet-dev/signet/internal/testtool"
)

// KeyringPassword unlocks the scratch login keyring. It differs from any
// secret a test stores, so finding a stored secret on disk means it was not
// encrypted.
const KeyringPassword = "signet-test-keyring-unlock"

const (
	envInside = "SIGNET_TEST_INSIDE_SECRET_SERVICE"
	envHome   = "SIGNET_TEST_SECRET_SERVICE_HOME"
)

// Options shape the session Run starts.
type Options struct {
	// NoSecretService starts a session bus that has no Secret Service and no
	// service directories to activate one from.
	NoSecretService bool
	// ActivationOnly starts no gnome-keyring-daemon: the bus starts one on
	// the first call (D-Bus activation), with no keyring unlocked and no
	// desktop to show an unlock prompt.
	ActivationOnly bool
	// Env is added to the child's environment (e.g. paths of fixtures made
	// by the parent, so the child need not make them again).
	Env map[string]string
}

// Inside reports whether this process is the child that Run started.
func Inside() bool { return os.Getenv(envInside) == "1" }

// Home returns the scratch HOME of the session (inside only).
func Home(t testing.TB) string {
	t.Helper()
	h := os.Getenv(envHome)
	if !Inside() || h == "" {
		t.Fatal("keystoretest.Home called outside a session started by keystoretest.Run")
	}
	return h
}

const sessionScript = `set -e
printf '%s' "$SIGNET_TEST_KEYRING_PASSWORD" | "$SIGNET_TEST_GNOME_KEYRING" --foreground --unlock --components=secrets >/dev/null 2>&1 &
keyring=$!
set +e
"$@"
rc=$?
kill "$keyring" 2>/dev/null
wait "$keyring" 2>/dev/null
exit $rc
`

// noServiceScript starts no keyring daemon.
const noServiceScript = `exec "$@"`

// A session bus with no <servicedir>: nothing can be activated on it.
const bareBusConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// Run re-runs the top-level test t inside a new D-Bus session and fails t
// unless the child reports that test as passed. It returns the child's
// output.
func Run(t *testing.T, opts Options) string {
	t.Helper()
	if Inside() {
		t.Fatal("keystoretest.Run called inside a session")
	}
	if strings.Contains(t.Name(), "/") {
		t.Fatal("keystoretest.Run must be called from a top-level test")
	}
	runSession := testtool.Need(t, "dbus-run-session")
	var gnomeKeyring string
	if !opts.NoSecretService {
		gnomeKeyring = testtool.Need(t, "gnome-keyring-daemon")
		testtool.Need(t, "secret-tool")
	}
	scratch := t.TempDir()
	home := filepath.Join(scratch, "home")
	runtimeDir := filepath.Join(scratch, "run")
	for _, d := range []string{home, runtimeDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{}
	script := sessionScript
	if opts.ActivationOnly {
		script = noServiceScript
	}
	if opts.NoSecretService {
		cfg := filepath.Join(scratch, "bus.conf")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(bareBusConfig, runtimeDir)), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config-file="+cfg)
		script = noServiceScript
	}
	args = append(args, "--", "sh", "-c", script, "sh",
		os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, runSession, args...)
	cmd.Env = childEnv(home, runtimeDir, gnomeKeyring, opts.Env)
	cmd.Dir = scratch
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	output := out.String()
	if err != nil {
		t.Fatalf("%s inside dbus-run-session: %v\n%s", t.Name(), err, output)
	}
	if !strings.Contains(output, "--- PASS: "+t.Name()+" ") || strings.Contains(output, "--- SKIP") {
		t.Fatalf("%s did not pass inside dbus-run-session:\n%s", t.Name(), output)
	}
	t.Logf("inside dbus-run-session:\n%s", output)
	return output
}

// childEnv is this process's environment without anything that points at
// the user's real session, plus the scratch session's settings.
func childEnv(home, runtimeDir, gnomeKeyring string, extra map[string]string) []string {
	drop := map[string]bool{
		"HOME": true, "XDG_RUNTIME_DIR": true, "XDG_DATA_HOME": true, "XDG_CONFIG_HOME": true,
		"XDG_CACHE_HOME": true, "DBUS_SESSION_BUS_ADDRESS": true, "GNOME_KEYRING_CONTROL": true,
		"SSH_AUTH_SOCK": true, "DISPLAY": true, "WAYLAND_DISPLAY": true,
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	env = append(env,
		"HOME="+home,
		"XDG_RUNTIME_DIR="+runtimeDir,
		envInside+"=1",
		envHome+"="+home,
		"SIGNET_TEST_KEYRING_PASSWORD="+KeyringPassword,
		"SIGNET_TEST_GNOME_KEYRING="+gnomeKeyring,
	)
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// WaitReady waits (inside) until the Secret Service owns its name on the
// session bus, so that no test call starts a second one by activation.
func WaitReady(t testing.TB) {
	t.Helper()
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		t.Fatalf("connecting to the test session bus: %v", err)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		t.Fatalf("authenticating to the test session bus: %v", err)
	}
	if err := conn.Hello(); err != nil {
		t.Fatalf("hello to the test session bus: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var owned bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&owned); err != nil {
			t.Fatalf("asking the test session bus: %v", err)
		}
		if owned {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("gnome-keyring-daemon did not take org.freedesktop.secrets within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SecretTool runs secret-tool (libsecret's client, an independent reader of
// the Secret Service) and returns its stdout and error.
func SecretTool(t testing.TB, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(testtool.Need(t, "secret-tool"), args...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("secret-tool %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), err
}

// KeyringFiles returns the names and contents of gnome-keyring's files
// under the session's HOME (inside only).
func KeyringFiles(t testing.TB) map[string][]byte {
	t.Helper()
	dir := filepath.Join(Home(t), ".local", "share", "keyrings")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading the keyring directory: %v", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}
