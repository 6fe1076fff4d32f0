// Package loader is the loader stub's main logic: the order of the start-up checks, the
// messages a refused user sees, and the exit codes (see docs/design.md, "Start-up sequence").
//
// The loader takes no options of its own: every command-line argument belongs to the sealed
// application, so nothing given at run time can switch a check off or change what is checked.
// It is part of the stub, so it imports only the standard library and other stub packages,
// and does no work at package initialisation.
package loader

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/signet-dev/signet/signet/internal/auditlog"
	"github.com/signet-dev/signet/signet/internal/interp"
	"github.com/signet-dev/signet/signet/internal/launch"
	"github.com/signet-dev/signet/signet/internal/manifest"
	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/treecheck"
	"github.com/signet-dev/signet/signet/internal/verifycache"
)

// Exit codes of the loader. Any other status is the application's own.
const (
	ExitTampered    = 101                // an app file is MODIFIED, MISSING or UNEXPECTED
	ExitInterpreter = 102                // the interpreter failed its rule
	ExitPayload     = 103                // the loader's own payload is missing or damaged
	ExitEnvironment = 104                // the environment tried to change the loader's behaviour
	ExitLaunch      = 105                // the interpreter could not be started
	ExitRefused     = launch.ExitRefused // refused at import time by the bootstrap (106)
	ExitSignature   = 107                // the loader's own signature is invalid or not the pinned vendor's
)

// Main runs the start-up sequence for the process arguments args (args[0] is the loader's
// own name as invoked; args[1:] all go to the application) and environment environ, and
// returns the exit status. On Linux a successful launch replaces the process and Main does
// not return.
func Main(args []string, environ []string) int {
	ManageMemory()
	return run(args, environ, os.Stderr, auditlog.Refusal)
}

// run is Main with its outputs made explicit: problems go to stderr, and every refusal also
// goes to audit (the system log in production).
func run(args []string, environ []string, stderr io.Writer, audit func(app string, lines []string)) int {
	// 1. The environment must not steer the Go runtime that runs these checks.
	if name := runtimeSteeringVar(environ, envNamesFoldCase); name != "" {
		lines := []string{environmentMessage(name)}
		report(stderr, lines)
		audit(selfName(), lines)
		return ExitEnvironment
	}

	// 2. The payload, from the loader's own executable.
	self, raw, rawDigest, err := readSelf(selfPayloadPath())
	if err != nil {
		lines := []string{payloadMessage(err)}
		report(stderr, lines)
		audit(selfName(), lines)
		return ExitPayload
	}
	allowMemory(len(raw), 0)
	m, err := manifest.Decode(raw)
	if err != nil {
		self.Close()
		lines := []string{payloadMessage(err)}
		report(stderr, lines)
		audit(selfName(), lines)
		return ExitPayload
	}

	// 2b. A loader sealed with require-signer starts only with its vendor's valid signature,
	// checked on the same open file the payload came from.
	if m.RequireSigner != nil {
		if err := verifySelf(self, *m.RequireSigner); err != nil {
			self.Close()
			lines := []string{signatureMessage(err)}
			report(stderr, lines)
			audit(selfName(), lines)
			return ExitSignature
		}
	}
	self.Close()

	// 3. The app root is the directory of the loader's real path.
	loaderPath, err := realExecutable()
	if err != nil {
		lines := []string{"signet: refused: cannot find this loader's own file: " + err.Error() +
			". Start the application from its installed location, or reinstall it from the vendor's delivery."}
		report(stderr, lines)
		audit(selfName(), lines)
		return ExitPayload
	}
	appRoot := filepath.Dir(loaderPath)
	loaderName := filepath.Base(loaderPath)
	app := appName(loaderName)
	warn := m.Level == manifest.LevelWarn

	// 4. Every sealed app file, and nothing importable that is not sealed.
	tree, runtimeFiles := splitFiles(m.Files, m.VerifyAtImport)
	// The sealed module bytecode is read once, here, and handed to the interpreter.
	// Files found exactly as they were when this user's loader last hashed them are not
	// read again (signet/internal/verifycache); then the bootstrap reads each module's sealed
	// bytecode when it is imported, hashing the very bytes it loads.
	cache := verifycache.Open(rawDigest, appRoot, len(tree))
	preload := launch.NewPreload(raw)
	if cache != nil || m.VerifyAtImport {
		preload = launch.NewBootstrapPreload(raw)
	}
	allowMemory(len(raw), preload.Len())
	problems, err := treecheck.Check(appRoot, tree, treecheck.Options{
		Ignore: []string{loaderName}, Capture: preload.Slot, Verified: preload.Verified,
		Known: cache.Known, Remember: cache.Remember,
	})
	if err != nil {
		lines := []string{"signet: refused: cannot verify the application's files (" + err.Error() + "). " +
			adviceReinstall}
		report(stderr, lines)
		audit(app, lines)
		return ExitTampered
	}
	if len(problems) == 0 {
		cache.Save()
	}
	if len(problems) > 0 {
		if !warn {
			lines := tamperedMessage(problemStrings(problems))
			report(stderr, lines)
			audit(app, lines)
			return ExitTampered
		}
		// A slot whose file failed is not verified, so launch reads the bytecode from disk
		// again rather than hand those bytes on (launch.Preload, treecheck.Options.Verified).
		report(stderr, warningMessage(problemStrings(problems)))
	}

	// 5. The interpreter: its rule, and its own files when the runtime is sealed.
	rule := InterpreterRule(m, appRoot)
	interpreter := filepath.FromSlash(rule.Path)
	interpProblems := problemStrings(interp.Check(rule))
	if m.SealRuntime {
		interpProblems = append(interpProblems, checkRuntimeFiles(runtimeFiles)...)
	}
	if len(interpProblems) > 0 {
		if !warn {
			lines := interpreterMessage(interpreter, interpProblems, rule.Bundled)
			report(stderr, lines)
			audit(app, lines)
			return ExitInterpreter
		}
		report(stderr, warningMessage(interpProblems))
	}

	// 6. Launch. On Linux this replaces the process; on Windows it waits for the child.
	code, err := launch.Start(launch.Config{
		Interpreter: interpreter,
		AppRoot:     appRoot,
		Loader:      loaderPath,
		AppName:     app,
		Manifest:    raw,
		Args:        appArgs(args),
		Environ:     environ,
		Preload:     preload,
		HandedOver:  releaseMemory,
	})
	if err != nil {
		report(stderr, []string{launchMessage(interpreter, err)})
		return ExitLaunch
	}
	return code
}

// InterpreterRule is the interpreter rule of the manifest of a loader in appRoot, as the
// loader applies it (and `signet verify`). A bundled interpreter (a relative python-path: the
// vendor's own runtime inside the delivery, every file of it hashed with the app) has its
// path and trust paths taken inside the app root, and only files sealed there may steer its
// start-up; with --seal-runtime, only sealed runtime files may.
func InterpreterRule(m *manifest.Manifest, appRoot string) interp.Rule {
	inRoot := func(p string) string {
		if !m.Bundled() {
			return p
		}
		return filepath.ToSlash(filepath.Join(appRoot, filepath.FromSlash(p)))
	}
	rule := interp.Rule{
		Path:    inRoot(m.PythonPath),
		Version: m.PythonVersion,
		SHA256:  m.PythonSHA256,
		Trust:   m.PythonTrust,
		Bundled: m.Bundled(),
	}
	switch {
	case rule.Bundled:
		rule.Trust = make([]string, len(m.PythonTrust))
		for i, t := range m.PythonTrust {
			rule.Trust[i] = inRoot(t)
		}
		root := filepath.ToSlash(appRoot) + "/"
		rule.Sealed = func(p string) bool {
			rel, ok := strings.CutPrefix(p, root)
			if !ok {
				return false
			}
			_, sealed := m.Lookup(rel)
			return sealed
		}
	case m.SealRuntime:
		rule.Sealed = func(path string) bool {
			f, ok := m.Lookup(path)
			return ok && f.Role == manifest.RoleRuntime
		}
	}
	return rule
}

// adviceReinstall is what a user should do about files that no longer match the seal.
const adviceReinstall = "Reinstall the application from the vendor's delivery " +
	"(if you are its developer, re-seal it with `signet seal`)."

// steeringVars are the environment variables that the Go runtime reads, before main runs, to
// change its own behaviour (see docs/design.md, "Start-up sequence", step 1).
func steeringVars() [5]string {
	return [5]string{"GODEBUG", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GOTRACEBACK"}
}

// runtimeSteeringVar returns the name (as spelled in steeringVars) of the first variable of
// environ that would steer the Go runtime, or "". A variable counts when it is present at
// all, even with an empty value. foldCase matches names ignoring ASCII case, as Windows and
// the Go runtime on Windows do.
func runtimeSteeringVar(environ []string, foldCase bool) string {
	for _, kv := range environ {
		// On Windows, names of per-drive variables start with '=' ("=C:=C:\\").
		eq := strings.IndexByte(kv, '=')
		if eq == 0 {
			eq = strings.IndexByte(kv[1:], '=') + 1
		}
		name := kv
		if eq > 0 {
			name = kv[:eq]
		}
		for _, v := range steeringVars() {
			if name == v || (foldCase && strings.EqualFold(name, v)) {
				return v
			}
		}
	}
	return ""
}

// splitFiles separates the app's own files, checked in the app root, from the runtime files
// (absolute paths) that are checked with the interpreter. With atImport, modules, their
// sealed bytecode and extensions are left to the bootstrap, which verifies each where it is
// used (the bootstrap's own bytecode, which the loader hands over, is checked here).
func splitFiles(files []manifest.File, atImport bool) (tree []treecheck.Sealed, runtime []manifest.File) {
	tree = make([]treecheck.Sealed, 0, len(files))
	for _, f := range files {
		if f.Role == manifest.RoleRuntime {
			runtime = append(runtime, f)
			continue
		}
		lazy := false
		if atImport {
			switch f.Role {
			case manifest.RoleModule, manifest.RoleExtension:
				lazy = true
			case manifest.RoleBytecode:
				lazy = !launch.IsBootstrapBytecode(f.Path)
			}
		}
		tree = append(tree, treecheck.Sealed{Path: f.Path, Size: f.Size, SHA256: f.SHA256, AtImport: lazy})
	}
	return tree, runtime
}

// appArgs returns the arguments that belong to the application: all but the loader's name.
func appArgs(args []string) []string {
	if len(args) <= 1 {
		return nil
	}
	return args[1:]
}

// selfName names the application for a refusal that happens before the loader has found its
// own real path: the executable's file name, never args[0], which the caller chooses freely.
func selfName() string {
	p, err := realExecutable()
	if err != nil {
		return "signet-loader"
	}
	return appName(filepath.Base(p))
}

// realExecutable returns the real (symlink-free, absolute) path of the running executable.
func realExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	resolved, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(resolved) {
		return "", errors.New("not an absolute path: " + resolved)
	}
	return resolved, nil
}

func problemStrings[P interface{ String() string }](ps []P) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func environmentMessage(name string) string {
	return "signet: refused: " + name + " is set; it could change how this loader behaves. Unset it."
}

func payloadMessage(err error) string {
	if errors.Is(err, payload.ErrNoPayload) {
		return "signet: refused: this loader carries no sealed manifest (" + err.Error() +
			"): it is an unsealed stub, or its end was cut off. Reinstall the application from " +
			"the vendor's delivery (if you are its developer, seal it with `signet seal`)."
	}
	return "signet: refused: this loader's sealed manifest is damaged (" + err.Error() + "). " +
		"Reinstall the application from the vendor's delivery."
}

// tamperedMessage is what the loader prints when app files differ from the seal: one line per
// problem (each already "KIND path: detail"), then what to do.
func tamperedMessage(problems []string) []string {
	lines := make([]string, 0, len(problems)+1)
	for _, p := range problems {
		lines = append(lines, "signet: "+p)
	}
	return append(lines, "signet: refused to start: "+countFiles(len(problems))+
		" not as sealed. "+adviceReinstall)
}

// warningMessage is what a warn-level loader prints before it starts anyway.
func warningMessage(problems []string) []string {
	lines := make([]string, 0, len(problems)+1)
	for _, p := range problems {
		lines = append(lines, "signet: WARNING (warn-level seal): "+p)
	}
	return append(lines, "signet: WARNING (warn-level seal): starting anyway; "+
		"a warn-level seal is for development only, seal with --level enforce for delivery.")
}

func interpreterMessage(interpreter string, problems []string, bundled bool) []string {
	lines := make([]string, 0, len(problems)+1)
	for _, p := range problems {
		lines = append(lines, "signet: INTERPRETER "+p)
	}
	if bundled {
		return append(lines, "signet: refused to start: the application's own Python "+interpreter+
			" failed its check. Install the application where only you (or an administrator) can "+
			"change it: every directory from the file system root to the interpreter owned by you "+
			"or root and not writable by group or others.")
	}
	return append(lines, "signet: refused to start: the Python interpreter "+interpreter+
		" failed its check. Repair or reinstall that Python (it must be owned and writable only by "+
		"an administrator), or ask the vendor for a delivery sealed for the Python you have.")
}

func signatureMessage(err error) string {
	return "signet: refused: " + err.Error() + ". Reinstall the application from the vendor's " +
		"delivery (if you are its developer, sign the sealed loader with the certificate it was sealed for)."
}

func launchMessage(interpreter string, err error) string {
	return "signet: cannot start the Python interpreter " + interpreter + ": " + err.Error() +
		". Check that it is installed, or reinstall the application from the vendor's delivery."
}

func countFiles(n int) string {
	if n == 1 {
		return "1 file is"
	}
	return strconv.Itoa(n) + " files are"
}

func report(w io.Writer, lines []string) {
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	b := make([]byte, 0, n)
	for _, l := range lines {
		b = append(b, l...)
		b = append(b, '\n')
	}
	_, _ = w.Write(b)
}
