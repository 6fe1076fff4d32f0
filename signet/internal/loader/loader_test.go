package loader

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/signet/internal/payload"
)

func TestRuntimeSteeringVar(t *testing.T) {
	tests := []struct {
		name     string
		environ  []string
		foldCase bool
		want     string
	}{
		{"empty environment", nil, false, ""},
		{"harmless variables", []string{"HOME=/root", "PATH=/usr/bin", "LANG=C.UTF-8"}, false, ""},
		{"GODEBUG", []string{"HOME=/root", "GODEBUG=cpu.sha=off"}, false, "GODEBUG"},
		{"GOMAXPROCS", []string{"GOMAXPROCS=1"}, false, "GOMAXPROCS"},
		{"GOGC", []string{"GOGC=off"}, false, "GOGC"},
		{"GOMEMLIMIT", []string{"GOMEMLIMIT=1KiB"}, false, "GOMEMLIMIT"},
		{"GOTRACEBACK", []string{"GOTRACEBACK=crash"}, false, "GOTRACEBACK"},
		{"present with an empty value", []string{"GODEBUG="}, false, "GODEBUG"},
		{"present without '='", []string{"GOGC"}, false, "GOGC"},
		{"first one wins", []string{"GOGC=50", "GODEBUG=x=1"}, false, "GOGC"},
		{"prefix of a name is not the name", []string{"GODEBUGX=1", "XGODEBUG=1", "GOMAXPROCS_=2"}, false, ""},
		{"value mentioning a name", []string{"NOTES=GODEBUG=1"}, false, ""},
		{"go command variables are not runtime variables", []string{"GOENV=/x", "GOFLAGS=-x", "GOPATH=/x", "GOROOT=/x"}, false, ""},
		{"lower case on a case-sensitive OS", []string{"godebug=1", "Gogc=1"}, false, ""},
		{"lower case on Windows", []string{"godebug=1"}, true, "GODEBUG"},
		{"mixed case on Windows", []string{"GoMaxProcs=1"}, true, "GOMAXPROCS"},
		{"Windows per-drive variable", []string{"=C:=C:\\Users", "=GODEBUG"}, true, ""},
		{"Windows per-drive variable then GOGC", []string{"=C:=C:\\", "gogc=1"}, true, "GOGC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := runtimeSteeringVar(tc.environ, tc.foldCase); got != tc.want {
				t.Errorf("runtimeSteeringVar(%q, %v) = %q, want %q", tc.environ, tc.foldCase, got, tc.want)
			}
		})
	}
}

func TestRunRefusesSteeringEnvironment(t *testing.T) {
	for _, name := range steeringVars() {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			var audit auditRecorder
			code := run([]string{"/opt/app/hello", "--some-app-flag"}, []string{"HOME=/nonexistent", name + "=1"}, &stderr, audit.record)
			if code != ExitEnvironment {
				t.Errorf("exit code = %d, want %d", code, ExitEnvironment)
			}
			want := "signet: refused: " + name + " is set; it could change how this loader behaves. Unset it.\n"
			if stderr.String() != want {
				t.Errorf("stderr = %q, want %q", stderr.String(), want)
			}
			audit.expect(t, testBinaryName(t), stderr.String())
		})
	}
}

// The test binary is an executable without a payload: run must refuse it as an unsealed
// stub, before looking at any app file.
func TestRunRefusesUnsealedExecutable(t *testing.T) {
	var stderr bytes.Buffer
	var audit auditRecorder
	code := run([]string{"hello"}, []string{"HOME=/nonexistent"}, &stderr, audit.record)
	if code != ExitPayload {
		t.Fatalf("exit code = %d, want %d; stderr: %s", code, ExitPayload, stderr.String())
	}
	out := stderr.String()
	if !strings.HasPrefix(out, "signet: refused: this loader carries no sealed manifest (") ||
		!strings.Contains(out, "signet seal") || strings.Count(out, "\n") != 1 {
		t.Errorf("stderr = %q, want one line naming the missing manifest and what to do", out)
	}
	audit.expect(t, testBinaryName(t), out)
}

// testBinaryName is the name refusals are logged under when the test binary runs as the
// loader: its own file name, whatever args[0] says.
func testBinaryName(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := filepath.EvalSymlinks(exe)
	if err != nil {
		t.Fatal(err)
	}
	return appName(filepath.Base(resolved))
}

// auditRecorder stands in for the system log.
type auditRecorder struct {
	calls []string // "app|line\nline"
}

func (a *auditRecorder) record(app string, lines []string) {
	a.calls = append(a.calls, app+"|"+strings.Join(lines, "\n"))
}

// expect checks that exactly one refusal was logged for app, with the lines printed on stderr.
func (a *auditRecorder) expect(t *testing.T, app, stderr string) {
	t.Helper()
	want := app + "|" + strings.TrimSuffix(stderr, "\n")
	if len(a.calls) != 1 || a.calls[0] != want {
		t.Errorf("audit log got %q, want one record %q", a.calls, want)
	}
}

func TestExitCodes(t *testing.T) {
	codes := map[string]int{
		"ExitTampered": ExitTampered, "ExitInterpreter": ExitInterpreter, "ExitPayload": ExitPayload,
		"ExitEnvironment": ExitEnvironment, "ExitLaunch": ExitLaunch, "ExitRefused": ExitRefused,
		"ExitSignature": ExitSignature,
	}
	want := map[string]int{
		"ExitTampered": 101, "ExitInterpreter": 102, "ExitPayload": 103,
		"ExitEnvironment": 104, "ExitLaunch": 105, "ExitRefused": 106, "ExitSignature": 107,
	}
	for name, code := range codes {
		if code != want[name] {
			t.Errorf("%s = %d, want %d (docs/design.md, exit codes)", name, code, want[name])
		}
	}
}

func TestPayloadMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			"missing",
			fmt.Errorf("/proc/self/exe: %w", payload.ErrNoPayload),
			"signet: refused: this loader carries no sealed manifest (/proc/self/exe: " + payload.ErrNoPayload.Error() +
				"): it is an unsealed stub, or its end was cut off. Reinstall the application from the vendor's delivery " +
				"(if you are its developer, seal it with `signet seal`).",
		},
		{
			"damaged",
			fmt.Errorf("/proc/self/exe: %w", payload.ErrDamaged),
			"signet: refused: this loader's sealed manifest is damaged (/proc/self/exe: " + payload.ErrDamaged.Error() +
				"). Reinstall the application from the vendor's delivery.",
		},
		{
			"undecodable manifest",
			errors.New("manifest line 3: unknown level \"lax\""),
			"signet: refused: this loader's sealed manifest is damaged (manifest line 3: unknown level \"lax\"). " +
				"Reinstall the application from the vendor's delivery.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := payloadMessage(tc.err); got != tc.want {
				t.Errorf("payloadMessage() =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestTamperedMessage(t *testing.T) {
	tests := []struct {
		name     string
		problems []string
		want     []string
	}{
		{
			"one problem",
			[]string{"MODIFIED pkg/x.py: sha256 differs"},
			[]string{
				"signet: MODIFIED pkg/x.py: sha256 differs",
				"signet: refused to start: 1 file is not as sealed. " + adviceReinstall,
			},
		},
		{
			"several problems keep their order",
			[]string{"MISSING a.py", "UNEXPECTED json.py: not sealed", "MODIFIED z.txt: size 3, sealed 4"},
			[]string{
				"signet: MISSING a.py",
				"signet: UNEXPECTED json.py: not sealed",
				"signet: MODIFIED z.txt: size 3, sealed 4",
				"signet: refused to start: 3 files are not as sealed. " + adviceReinstall,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tamperedMessage(tc.problems)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("tamperedMessage() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestWarningAndInterpreterMessages(t *testing.T) {
	warn := warningMessage([]string{"MODIFIED a.py: sha256 differs"})
	if len(warn) != 2 || warn[0] != "signet: WARNING (warn-level seal): MODIFIED a.py: sha256 differs" ||
		!strings.HasPrefix(warn[1], "signet: WARNING (warn-level seal): starting anyway;") {
		t.Errorf("warningMessage() = %q", warn)
	}
	in := interpreterMessage("/opt/py/bin/python3", []string{"/opt/py/bin is writable by group 1000"}, false)
	if len(in) != 2 || in[0] != "signet: INTERPRETER /opt/py/bin is writable by group 1000" ||
		!strings.HasPrefix(in[1], "signet: refused to start: the Python interpreter /opt/py/bin/python3 failed its check.") {
		t.Errorf("interpreterMessage() = %q", in)
	}
	in = interpreterMessage("/home/a/app/runtime/bin/python3", []string{"/home/a/app is writable by group or others"}, true)
	if len(in) != 2 || !strings.HasPrefix(in[1], "signet: refused to start: the application's own Python /home/a/app/runtime/bin/python3 failed its check. Install the application where only you") {
		t.Errorf("interpreterMessage(bundled) = %q", in)
	}
	if got, want := launchMessage("/usr/bin/python3.11", errors.New("exec: no such file")),
		"signet: cannot start the Python interpreter /usr/bin/python3.11: exec: no such file. "+
			"Check that it is installed, or reinstall the application from the vendor's delivery."; got != want {
		t.Errorf("launchMessage() = %q, want %q", got, want)
	}
}

func TestReportWritesOneLinePerEntry(t *testing.T) {
	var b bytes.Buffer
	report(&b, []string{"signet: a", "signet: b"})
	if b.String() != "signet: a\nsignet: b\n" {
		t.Errorf("report wrote %q", b.String())
	}
}

func TestAppArgsKeepsEveryArgument(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{nil, nil},
		{[]string{"hello"}, nil},
		// Loader-looking options are the app's too: nothing at run time changes the checks.
		{[]string{"hello", "--signet-level=warn", "-I", "--", "x"}, []string{"--signet-level=warn", "-I", "--", "x"}},
	}
	for _, tc := range tests {
		if got := appArgs(tc.args); strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") || len(got) != len(tc.want) {
			t.Errorf("appArgs(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// FuzzRuntimeSteeringVar feeds hostile environment entries: the scan must not panic, and a
// name it reports must be the name of one of the entries.
func FuzzRuntimeSteeringVar(f *testing.F) {
	for _, seed := range []string{"GODEBUG=1", "=C:=C:\\", "=", "", "gogc", "GOMAXPROCS=", "==GOGC=1", "A=B=GOGC"} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, entry string, foldCase bool) {
		got := runtimeSteeringVar([]string{"HOME=/x", entry}, foldCase)
		if got == "" {
			return
		}
		name, _, _ := strings.Cut(entry, "=")
		if entry != "" && entry[0] == '=' {
			name = "=" + strings.SplitN(entry[1:], "=", 2)[0]
		}
		if name != got && !(foldCase && strings.EqualFold(name, got)) {
			t.Errorf("runtimeSteeringVar(%q, %v) = %q, but the entry's name is %q", entry, foldCase, got, name)
		}
	})
}
