//go:build linux && signet_emulators

package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/testtool"
	"github.com/signet-dev/signet/signet/internal/authenticode/authenticodetest"
)

// wineRunner runs Windows programs under wine (see foreign_test.go for the variables).
type wineRunner struct {
	wine      string // wine's path where it runs
	rootfsRun string // "" or the program that runs wine inside its root file system
}

func newWineRunner(t *testing.T) wineRunner {
	t.Helper()
	return wineRunner{wine: requireTool(t, "SIGNET_TEST_WINE"), rootfsRun: os.Getenv("SIGNET_TEST_ROOTFS_RUN")}
}

// run runs the Windows program prog (a Linux path) with args under wine, in a working
// directory of /tmp, with env as its whole environment on top of what wine itself provides
// (the Unix environment of wine becomes the Windows one; env(1) sets it inside the root
// file system, whose runner passes on only part of the caller's environment).
func (w wineRunner) run(t *testing.T, env []string, prog string, args ...string) result {
	t.Helper()
	argv := []string{"/usr/bin/env"}
	argv = append(argv, env...)
	argv = append(argv, w.wine, prog)
	argv = append(argv, args...)
	if w.rootfsRun != "" {
		argv = append([]string{w.rootfsRun}, argv...)
	}
	// The runner itself needs the caller's PATH (chroot, nsenter); it sets its own inside.
	var extra []string
	for _, k := range []string{"PATH", "SIGNET_CACHE", "WINEPREFIX", "WINEDEBUG"} {
		if v, ok := os.LookupEnv(k); ok {
			extra = append(extra, k+"="+v)
		}
	}
	return run(t, os.TempDir(), extra, "", argv[0], argv[1:]...)
}

// winPath is the Windows path of a Linux path under wine (drive Z: is the Unix root), with
// forward slashes as the manifest spells Windows paths.
func winPath(p string) string { return "Z:" + p }

// winNative is winPath in native form (backslashes), as Windows programs see paths.
func winNative(p string) string { return "Z:" + strings.ReplaceAll(p, "/", `\`) }

// standInRecord is what testdata/fakepython writes into record.json.
type standInRecord struct {
	Argv       []string `json:"argv"`
	Environ    []string `json:"environ"`
	Handle     string   `json:"handle"`
	Payload    []byte   `json:"payload"`
	PayloadErr string   `json:"payload_err"`
}

// readStandInRecord reads the stand-in's record in dir; ok is false when it never ran.
func readStandInRecord(t *testing.T, dir string) (standInRecord, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "record.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return standInRecord{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var r standInRecord
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("record.json: %v\n%s", err, b)
	}
	return r, true
}

// envMap turns NAME=value entries into a map keyed by upper-cased name (Windows names are
// case-insensitive).
func envMap(environ []string) map[string]string {
	m := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[strings.ToUpper(k)] = v
	}
	return m
}

// windowsAllowedEnv is the Windows allow-list of docs/design.md ("Launch"), upper-cased.
var windowsAllowedEnv = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`TERM COLORTERM NO_COLOR COLUMNS LINES LANG LANGUAGE LC_ALL
		LC_CTYPE LC_COLLATE LC_MESSAGES LC_MONETARY LC_NUMERIC LC_TIME LC_ADDRESS LC_IDENTIFICATION
		LC_MEASUREMENT LC_NAME LC_PAPER LC_TELEPHONE TZ HOME USER LOGNAME TMPDIR TMP TEMP PATH
		DISPLAY WAYLAND_DISPLAY XDG_RUNTIME_DIR SYSTEMROOT SYSTEMDRIVE WINDIR COMSPEC PATHEXT
		USERPROFILE USERNAME USERDOMAIN HOMEDRIVE HOMEPATH APPDATA LOCALAPPDATA PROGRAMDATA
		ALLUSERSPROFILE PUBLIC PROGRAMFILES PROGRAMFILES(X86) PROGRAMW6432 COMMONPROGRAMFILES
		COMMONPROGRAMFILES(X86) COMMONPROGRAMW6432 COMPUTERNAME NUMBER_OF_PROCESSORS OS
		PROCESSOR_ARCHITECTURE PROCESSOR_IDENTIFIER PROCESSOR_LEVEL PROCESSOR_REVISION`) {
		m[k] = true
	}
	return m
}()

// hostileWindowsEnv are variables that must not reach the interpreter, set for the loader.
var hostileWindowsEnv = []string{
	`PYTHONPATH=C:\evil`, `PYTHONHOME=C:\evil`, `PYTHONSTARTUP=C:\evil\startup.py`, "PYTHONINSPECT=1",
	`__PYVENV_LAUNCHER__=C:\evil\python.exe`, `OPENSSL_CONF=C:\evil\openssl.cnf`, "SIGNET_E2E_NOT_ALLOWED=1",
}

// windowsApp is one sealed Windows delivery under test.
type windowsApp struct {
	app, loader string // the app root and hello.exe in it
	python      string // the stand-in interpreter (python.exe), in a directory of its own
}

// sealWindowsApp copies testdata/<name> into a new app root, puts the stand-in interpreter
// into a directory of its own, and seals the app for windows/amd64 with the Windows loader
// stub, naming the stand-in by its wine path; extra are further seal flags.
func sealWindowsApp(t *testing.T, name, level string, extra ...string) windowsApp {
	t.Helper()
	a := windowsApp{app: t.TempDir()}
	copyApp(t, name, a.app, t.TempDir())
	a.python = filepath.Join(t.TempDir(), "python.exe")
	writeFile(t, a.python, readFile(t, built(t, "./signet/internal/e2e/testdata/fakepython", "windows", "amd64")))
	a.loader = filepath.Join(a.app, "hello")
	args := []string{"seal", "--target", "windows/amd64", "--python", winPath(a.python), "--python-version", "3.11",
		"--stub", built(t, "./signet/cmd/loader", "windows", "amd64"), "--root", a.app, "--main", "app.py",
		"-o", a.loader, "--level", level}
	args = append(args, extra...)
	r := run(t, a.app, nil, "", bin.signet, args...)
	if r.code != 0 {
		t.Fatalf("signet %s: %s", strings.Join(args, " "), r)
	}
	a.loader += ".exe"
	if _, err := os.Stat(a.loader); err != nil {
		t.Fatalf("seal for windows/amd64 wrote no %s: %v", a.loader, err)
	}
	return a
}

// TestWindowsLoaderUnderWine runs the real windows/amd64 loader under wine. No Windows
// CPython exists here, so the interpreter is a stand-in (testdata/fakepython) that records
// its argv, environment and the bytes it reads from the inherited pipe handle. Wine gives
// every file a security descriptor owned by the current user (or Anonymous Logon), never by
// SYSTEM or Administrators, so the interpreter rule refuses every interpreter there: an
// enforce-level seal proves that refusal (102), and a warn-level seal, which reports the
// rule's problems and starts anyway, drives the launch path for real.
func TestWindowsLoaderUnderWine(t *testing.T) {
	w := newWineRunner(t)
	// Build before the parallel subtests so that they do not queue on the build lock.
	built(t, "./signet/cmd/loader", "windows", "amd64")
	built(t, "./signet/internal/e2e/testdata/fakepython", "windows", "amd64")

	t.Run("launch passes argv, allowed environment, payload and exit code", func(t *testing.T) {
		t.Parallel()
		a := sealWindowsApp(t, "victim", "warn")
		env := append([]string{"TZ=UTC"}, hostileWindowsEnv...)
		r := w.run(t, env, a.loader, "--exit=7", "two words", "--")
		t.Logf("loader: %s", r)
		if r.code != 7 {
			t.Errorf("exit status %d, want 7 (the stand-in's, passed through)", r.code)
		}
		if r.stdout != "fakepython ran\n" {
			t.Errorf("stdout %q, want the stand-in's \"fakepython ran\\n\"", r.stdout)
		}
		if !hasLine(r.stderr, "signet: WARNING (warn-level seal): "+winPath(a.python)+": is owned by ") {
			t.Errorf("stderr does not warn that the interpreter fails the ownership rule:\n%s", r.stderr)
		}
		rec, ok := readStandInRecord(t, filepath.Dir(a.python))
		if !ok {
			t.Fatalf("the stand-in interpreter did not run")
		}

		// argv: the interpreter's own absolute path, the hardening flags, the reader, the
		// handle, the payload's form and part lengths, app root, loader, app name, then the
		// app's arguments after "--", untouched.
		boot := readFile(t, filepath.Join(repo, "signet", "internal", "launch", "bootstrap.py"))
		lazy := readFile(t, filepath.Join(repo, "signet", "internal", "launch", "bootstrap_lazy.py"))
		manifest := sealedManifest(t, a.loader)
		wantHead := []string{winNative(a.python), "-I", "-S", "-B", "-X", "frozen_modules=on", "-c", "<reader>",
			rec.Handle, "py", strconv.Itoa(len(boot)), strconv.Itoa(len(lazy))}
		wantTail := []string{winNative(a.app), winNative(a.loader), "hello", "--", "--exit=7", "two words", "--"}
		argv := rec.Argv
		if len(argv) < len(wantHead)+len(wantTail) {
			t.Fatalf("stand-in argv %q is too short", argv)
		}
		for i, want := range wantHead {
			switch {
			case i == 7:
				if !strings.Contains(argv[i], "open_osfhandle") {
					t.Errorf("argv[7] (the reader) does not open the inherited handle with msvcrt: %q", argv[i])
				}
			case argv[i] != want:
				t.Errorf("argv[%d] = %q, want %q\nargv: %q", i, argv[i], want, argv)
			}
		}
		tail := argv[len(argv)-len(wantTail):]
		if strings.Join(tail, "\x00") != strings.Join(wantTail, "\x00") {
			t.Errorf("argv ends %q, want %q", tail, wantTail)
		}
		// Further payload parts (sealed bytecode) sit between the lazy bootstrap and the
		// manifest; their lengths are the numbers between the lazy length and the app root.
		extra := 0
		for _, f := range argv[len(wantHead) : len(argv)-len(wantTail)] {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 {
				t.Errorf("argv field %q between the payload lengths and the app root is not a length", f)
			}
			extra += n
		}
		if _, err := strconv.ParseUint(rec.Handle, 10, 64); err != nil || rec.Handle == "0" {
			t.Errorf("the handle argument %q is not a handle value", rec.Handle)
		}

		// The payload arrived through the pipe, whole: bootstrap, lazy bootstrap, any further
		// parts, then the manifest.
		if rec.PayloadErr != "" {
			t.Errorf("the stand-in could not read the payload handle: %s", rec.PayloadErr)
		}
		p := rec.Payload
		if len(p) != len(boot)+len(lazy)+extra+len(manifest) || !bytes.HasPrefix(p, []byte(boot+lazy)) || !bytes.HasSuffix(p, manifest) {
			t.Errorf("payload through the pipe: %d bytes, want bootstrap.py (%d) + bootstrap_lazy.py (%d) + %d + the sealed manifest (%d)",
				len(p), len(boot), len(lazy), extra, len(manifest))
		}

		// The environment: allow-listed names only (plus the WINE* variables wine itself
		// adds to every process), SystemRoot and the caller's TZ kept, the hostile ones gone.
		got := envMap(rec.Environ)
		for k := range got {
			if !windowsAllowedEnv[k] && !strings.HasPrefix(k, "WINE") {
				t.Errorf("%s reached the interpreter; it is not allow-listed", k)
			}
		}
		for _, kv := range hostileWindowsEnv {
			k, _, _ := strings.Cut(kv, "=")
			if _, ok := got[strings.ToUpper(k)]; ok {
				t.Errorf("%s reached the interpreter", k)
			}
		}
		if got["SYSTEMROOT"] == "" {
			t.Errorf("SystemRoot was dropped (CPython needs it): %q", rec.Environ)
		}
		if got["TZ"] != "UTC" {
			t.Errorf("TZ = %q, want the caller's UTC", got["TZ"])
		}

		// Control: the same environment reaches a program wine starts directly, so the
		// variables above were dropped by the loader, not by wine.
		ctl := filepath.Join(t.TempDir(), "python.exe")
		writeFile(t, ctl, readFile(t, a.python))
		if c := w.run(t, env, ctl); c.code != 0 {
			t.Fatalf("control run of the stand-in: %s", c)
		}
		ctlRec, ok := readStandInRecord(t, filepath.Dir(ctl))
		if !ok {
			t.Fatalf("control: the stand-in did not run")
		}
		ctlEnv := envMap(ctlRec.Environ)
		for _, kv := range hostileWindowsEnv {
			k, v, _ := strings.Cut(kv, "=")
			if ctlEnv[strings.ToUpper(k)] != v {
				t.Errorf("control: %s does not reach a program wine starts directly, so this case proves nothing", kv)
			}
		}
		for k := range got {
			if strings.HasPrefix(k, "WINE") && ctlEnv[k] == "" {
				t.Errorf("%s reached the interpreter but wine does not provide it", k)
			}
		}
	})

	t.Run("exit status 0 passes through", func(t *testing.T) {
		t.Parallel()
		a := sealWindowsApp(t, "victim", "warn")
		r := w.run(t, nil, a.loader)
		if r.code != 0 || r.stdout != "fakepython ran\n" {
			t.Errorf("loader: %s\nwant exit 0 and the stand-in's output", r)
		}
		if _, ok := readStandInRecord(t, filepath.Dir(a.python)); !ok {
			t.Errorf("the stand-in interpreter did not run")
		}
	})

	t.Run("signed loaders", func(t *testing.T) {
		t.Parallel()
		signedLoadersUnderWine(t, w)
	})

	refusals := []struct {
		name   string
		level  string
		env    []string
		tamper func(t *testing.T, a windowsApp)
		code   int
		lines  []string // wanted prefixes of stderr lines
	}{
		{
			name:  "interpreter rule refuses wine's file ownership",
			level: "enforce",
			code:  102,
			lines: []string{
				"signet: INTERPRETER " + "{python}" + ": is owned by S-1-5-21-",
				"signet: refused to start: the Python interpreter ",
			},
		},
		{
			// Step 4 refuses before the interpreter's turn (step 5) at enforce level.
			name:  "modified, missing and unexpected files",
			level: "enforce",
			tamper: func(t *testing.T, a windowsApp) {
				replaceInFile(t, filepath.Join(a.app, "mod.py"), "if 0 else", "if 1 else")
				removeFile(t, filepath.Join(a.app, "pkg", "sub.py"))
				writeFile(t, filepath.Join(a.app, "json.py"), "raise SystemExit('shadowed')\n")
				writeFile(t, filepath.Join(a.app, "pkg", "Evil.PYD"), "MZ not really an extension\n")
			},
			code: 101,
			lines: []string{
				"signet: MODIFIED mod.py: content differs from the sealed digest",
				"signet: MISSING pkg/sub.py",
				"signet: UNEXPECTED json.py: ",
				"signet: UNEXPECTED pkg/Evil.PYD: ",
			},
		},
		{
			name:   "damaged payload",
			level:  "warn",
			tamper: func(t *testing.T, a windowsApp) { flipManifestByte(t, a.loader) },
			code:   103,
			lines:  []string{"signet: refused: this loader's sealed manifest is damaged"},
		},
		{
			name:  "GODEBUG set",
			level: "warn",
			env:   []string{"GODEBUG=cpu.sha=off"},
			code:  104,
			lines: []string{"signet: refused: GODEBUG is set; it could change how this loader behaves. Unset it."},
		},
		{
			// Windows and the Go runtime there match environment names ignoring case.
			name:  "godebug set in lower case",
			level: "warn",
			env:   []string{"godebug=cpu.sha=off"},
			code:  104,
			lines: []string{"signet: refused: GODEBUG is set; it could change how this loader behaves. Unset it."},
		},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The payload and environment refusals hold at every level: a warn-level seal,
			// which would start the stand-in despite wine's ownership, shows that.
			a := sealWindowsApp(t, "victim", tc.level)
			if tc.tamper != nil {
				tc.tamper(t, a)
			}
			r := w.run(t, tc.env, a.loader)
			t.Logf("loader: %s", r)
			if r.code != tc.code {
				t.Errorf("exit status %d, want %d", r.code, tc.code)
			}
			for _, l := range tc.lines {
				l = strings.ReplaceAll(l, "{python}", winPath(a.python))
				if !hasLine(r.stderr, l) {
					t.Errorf("stderr has no line starting %q", l)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing (the interpreter must not start)", r.stdout)
			}
			if _, ok := readStandInRecord(t, filepath.Dir(a.python)); ok {
				t.Errorf("the stand-in interpreter was started")
			}
		})
	}
}

// signedLoadersUnderWine (part of TestWindowsLoaderUnderWine, which tools/test-rootfs runs)
// signs sealed Windows loaders with test PKIs made by
// openssl (authenticodetest) and runs them under wine. The interpreter rule refuses every
// interpreter there (see TestWindowsLoaderUnderWine), and signet sign refuses warn-level
// loaders, so the furthest a signed loader gets is that refusal (102): reaching it shows that
// the signature left the payload readable and every app file verifying. A loader sealed with
// --require-signer checks its own signature first (107).
func signedLoadersUnderWine(t *testing.T, w wineRunner) {
	osslsigncode := testtool.Need(t, "osslsigncode")
	vendor := authenticodetest.NewPKI(t)
	other := authenticodetest.NewPKI(t)

	signetSign := func(t *testing.T, p *authenticodetest.PKI, loader string) {
		t.Helper()
		args := []string{"sign", "--pfx", p.Path("modern.pfx"), "--password-file", p.Path("password.txt"), loader, "-o", loader}
		if r := run(t, os.TempDir(), nil, "", bin.signet, args...); r.code != 0 {
			t.Fatalf("signet %s: %s", strings.Join(args, " "), r)
		}
	}
	// osslsigncode signs where signet sign refuses (a key other than the pinned one).
	osslSign := func(t *testing.T, p *authenticodetest.PKI, loader string) {
		t.Helper()
		out := loader + ".signed"
		authenticodetest.Run(t, os.TempDir(), osslsigncode, "sign", "-certs", p.Path("chain.pem"), "-key", p.Path("leaf.key"),
			"-h", "sha256", "-in", loader, "-out", out)
		if err := os.Rename(out, loader); err != nil {
			t.Fatal(err)
		}
	}
	const (
		interpreterLine = "signet: refused to start: the Python interpreter "
		refusedPrefix   = "signet: refused: "
	)
	tests := []struct {
		name  string
		pin   bool // sealed with --require-signer vendor's leaf.pem
		sign  func(t *testing.T, loader string)
		code  int
		lines []string // wanted prefixes of stderr lines
	}{
		{
			name:  "signed enforce-level loader verifies the app and reaches the interpreter check",
			sign:  func(t *testing.T, l string) { signetSign(t, vendor, l) },
			code:  102,
			lines: []string{"signet: INTERPRETER {python}: is owned by S-1-5-21-", interpreterLine},
		},
		{
			name:  "pinned loader, unsigned",
			pin:   true,
			code:  107,
			lines: []string{refusedPrefix + "this loader must carry its vendor's signature, but it is not signed. Reinstall"},
		},
		{
			name:  "pinned loader, signed with another key",
			pin:   true,
			sign:  func(t *testing.T, l string) { osslSign(t, other, l) },
			code:  107,
			lines: []string{refusedPrefix + "this loader is signed with the key {other}, not with the vendor's key {vendor} it was sealed for."},
		},
		{
			// The pin holds, and WinVerifyTrust accepts signet sign's signature: its
			// authenticated attributes are in DER SET OF order (wine's crypt32, like
			// Windows', hashes them re-encoded, and refused an unsorted set with
			// TRUST_E_CERT_SIGNATURE before that was fixed).
			name:  "pinned loader, signed by signet sign with the pinned key, passes both checks",
			pin:   true,
			sign:  func(t *testing.T, l string) { signetSign(t, vendor, l) },
			code:  102,
			lines: []string{"signet: INTERPRETER {python}: is owned by S-1-5-21-", interpreterLine},
		},
		{
			// wine's WinVerifyTrust accepts the signature although the test root is in no
			// trust store of wine's: the untrusted-root refusal cannot be shown here.
			name:  "pinned loader, signed by osslsigncode with the pinned key, passes both checks",
			pin:   true,
			sign:  func(t *testing.T, l string) { osslSign(t, vendor, l) },
			code:  102,
			lines: []string{"signet: INTERPRETER {python}: is owned by S-1-5-21-", interpreterLine},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var extra []string
			if tc.pin {
				extra = []string{"--require-signer", vendor.Path("leaf.pem")}
			}
			a := sealWindowsApp(t, "victim", "enforce", extra...)
			if tc.sign != nil {
				tc.sign(t, a.loader)
			}
			r := w.run(t, nil, a.loader)
			t.Logf("loader: %s", r)
			if r.code != tc.code {
				t.Errorf("exit status %d, want %d", r.code, tc.code)
			}
			for _, l := range tc.lines {
				l = strings.ReplaceAll(l, "{python}", winPath(a.python))
				l = strings.ReplaceAll(l, "{vendor}", keyPrefix(t, vendor))
				l = strings.ReplaceAll(l, "{other}", keyPrefix(t, other))
				if !hasLine(r.stderr, l) {
					t.Errorf("stderr has no line starting %q", l)
				}
			}
			for _, bad := range []string{"MODIFIED", "MISSING", "UNEXPECTED", "damaged"} {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("stderr reports %s: the signature disturbed the payload or the app check", bad)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing (the interpreter must not start)", r.stdout)
			}
			if _, ok := readStandInRecord(t, filepath.Dir(a.python)); ok {
				t.Errorf("the stand-in interpreter was started")
			}
		})
	}
}

// keyPrefix is the first 16 hex digits of the SHA-256 of the leaf's SubjectPublicKeyInfo, as
// the loader names keys.
func keyPrefix(t *testing.T, p *authenticodetest.PKI) string {
	t.Helper()
	block, _ := pem.Decode([]byte(readFile(t, p.Path("leaf.pem"))))
	if block == nil {
		t.Fatalf("%s holds no PEM block", p.Path("leaf.pem"))
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:8])
}
