// Package launch starts CPython hardened for a sealed app: it builds the interpreter's
// argument vector and allow-listed environment, hands the Python bootstrap and the manifest
// to the interpreter without a temporary file, and replaces the loader with the interpreter
// (Linux: execve of a sealed memfd reader) or spawns it and waits (Windows: an inherited
// pipe, a kill-on-close job object).
//
// The bootstrap (bootstrap.py, embedded) runs before any app code: it checks the hardened
// interpreter state, installs the sealed import finder that re-verifies every module it
// loads, and runs the entry script from verified bytes. See docs/design.md, "Launch" and
// "The bootstrap".
//
// It imports only the standard library: it is part of the loader stub.
package launch

import (
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ExitRefused is the exit code of the bootstrap when it refuses at import time: a module
// changed since the start-up check, a name is not sealed, or the interpreter is not in the
// hardened state. bootstrap.py uses the same number.
const ExitRefused = 106

// bootstrapSource is the Python bootstrap, run by the reader (see reader) before any app code.
//
//go:embed bootstrap.py
var bootstrapSource string

// bootstrapLazySource is the part of the bootstrap that it compiles only when needed
// (importlib.resources, multiprocessing children).
//
//go:embed bootstrap_lazy.py
var bootstrapLazySource string

// The reader is the program given to the interpreter with -c. It reads the payload
// (bootstrap, lazy bootstrap, preloaded bytecode, manifest) from the inherited descriptor
// argv[1] (on Windows a handle value, turned into a descriptor with msvcrt) to its end,
// closes it, and runs the first argv[3] bytes as the bootstrap, passing the whole payload in
// the global _signet_payload. argv[2] says what those bytes are: "py" (source, compiled
// here) or "pyc" (sealed bytecode: a 16-byte pyc header, whose magic number must be the
// running interpreter's, then marshal data). A wrong magic number is a refusal (exit 106):
// the app was sealed for another interpreter. It uses only the built-in modules sys, marshal
// and posix (Windows: nt and msvcrt) and the already loaded frozen importlib; importing os
// would cost as much as a third of the bootstrap.
//
// CPython compiles the reader at every start, so on Linux each form gets its own reader with
// nothing else in it (readerPyc, readerPy: half the compile time of the general one). The
// general reader serves Windows, where the payload comes through a pipe of unknown length.

// reader is the general reader: both forms, Linux and Windows.
const reader = "import sys,marshal;w=sys.platform=='win32';o=__import__('nt' if w else 'posix');" +
	"a=sys.argv;f=int(a[1]);f=__import__('msvcrt').open_osfhandle(f,o.O_RDONLY|o.O_BINARY) if w else f;" +
	"z=0 if w else o.fstat(f).st_size;b=o.read(f,z) if z else b'';b+=b''.join(iter(lambda:o.read(f,1<<20),b''));o.close(f);" +
	"g={'__name__':'__signet_bootstrap__','__builtins__':__builtins__,'_signet_payload':b};n=int(a[3]);" +
	"c=compile(b[:n],'" + BootstrapFilename + "','exec',dont_inherit=True) if a[2]=='py' else " +
	"marshal.loads(b[16:n]) if a[2]=='pyc' and n>16 and b[:4]==sys.modules['_frozen_importlib_external'].MAGIC_NUMBER else " +
	"o.write(2,b'" + readerRefusal + "\\n') and o._exit(106);" +
	"del w,o,a,f,b,n,z;exec(c,g)"

// readerHead reads the payload from a sealed memfd of known size, in one read(2) (the kernel
// copies a shared-memory file whole); anything shorter is refused.
const readerHead = "import sys,marshal,posix as o\n" +
	"a=sys.argv;f=int(a[1]);z=o.fstat(f).st_size;b=o.read(f,z);o.close(f);n=int(a[3])\n" +
	"if len(b)!=z:o.write(2,b'" + readerShortRead + "\\n');o._exit(106)\n" +
	"g={'__name__':'__signet_bootstrap__','__builtins__':__builtins__,'_signet_payload':b}\n"

// readerPyc is the Linux reader for sealed bootstrap bytecode.
const readerPyc = readerHead +
	"if n<17 or b[:4]!=sys.modules['_frozen_importlib_external'].MAGIC_NUMBER:o.write(2,b'" + readerRefusal + "\\n');o._exit(106)\n" +
	"c=marshal.loads(b[16:n]);del a,f,z,b,n,o\nexec(c,g)"

// readerPy is the Linux reader for bootstrap source.
const readerPy = readerHead +
	"c=compile(b[:n],'" + BootstrapFilename + "','exec',dont_inherit=True);del a,f,z,b,n,o\nexec(c,g)"

// readerShortRead is what the Linux reader prints when the payload memfd reads short.
// Like readerRefusal, it goes into a Python bytes literal in single quotes.
const readerShortRead = "signet: refused: the payload from the loader could not be read whole: start the application again"

// readerRefusal is what the reader prints when the sealed bootstrap bytecode does not fit
// the running interpreter.
// It goes into a Python bytes literal in single quotes: no quote, backslash or non-ASCII.
const readerRefusal = "signet: refused: the sealed bytecode of the bootstrap was compiled for another Python " +
	"(its magic number is not the one of this interpreter): re-seal the app for the interpreter it runs with"

// interpreterFlags harden CPython: -I (isolated: no PYTHON* variables, no script or current
// directory and no user site on sys.path), -S (no site module, no .pth files), -B (write no
// bytecode), and frozen start-up modules.
var interpreterFlags = []string{"-I", "-S", "-B", "-X", "frozen_modules=on"}

// Config is what the loader knows when it hands over to the interpreter.
type Config struct {
	Interpreter string   // absolute path of the python executable, native form
	AppRoot     string   // absolute real path of the app root
	Loader      string   // absolute real path of the loader executable (becomes sys.executable and sys.argv[0])
	AppName     string   // e.g. "hello" (Linux: written to /proc/self/comm by the bootstrap)
	Manifest    []byte   // canonical manifest bytes (docs/design.md "The manifest")
	Args        []string // app arguments (os.Args[1:])
	Environ     []string // os.Environ(); filtered through AllowedEnv
	// Preload, when not nil, holds the module bytecode that the start-up check already read
	// and verified (every slot checked with no problem): it is sent as is instead of being
	// read and hashed again. Nil: Start reads and verifies the bytecode itself.
	Preload *Preload
	// HandedOver, when not nil, is called once the whole payload has been written to the
	// interpreter and nothing of it is needed any more: on Windows, where the loader then
	// waits for the app to end (it may free memory). On Linux a successful Start replaces
	// the process and never calls it.
	HandedOver func()
}

// Argv returns the interpreter's exact argument vector:
//
//	[Interpreter, -I, -S, -B, -X, frozen_modules=on, -c, <reader>,
//	 <fd>, <form>, <bootLen>, <lazyLen>, <pycLen>, <AppRoot>, <Loader>, <AppName>, --, Args...]
//
// fd is the inherited descriptor (Windows: handle value) holding the payload p: the
// bootstrap (bootLen bytes), the lazy bootstrap (lazyLen bytes), the preloaded module
// bytecode (pycLen bytes), then the manifest; form is "pyc" when both bootstrap parts are
// sealed bytecode, else "py" (source).
// argv[0] is the interpreter's own path, so that neither sys.executable nor the pyvenv.cfg
// search can be steered by the loader's name.
func Argv(cfg Config, fd int, p Payload) []string {
	argv := make([]string, 0, len(interpreterFlags)+11+len(cfg.Args))
	argv = append(argv, cfg.Interpreter)
	argv = append(argv, interpreterFlags...)
	argv = append(argv, "-c", platformReader(p.Form), strconv.Itoa(fd), p.Form, strconv.Itoa(p.BootLen),
		strconv.Itoa(p.LazyLen), strconv.Itoa(p.PycLen), cfg.AppRoot, cfg.Loader, cfg.AppName, "--")
	return append(argv, cfg.Args...)
}

// check refuses a Config the loader should never produce.
func (cfg Config) check(isAbs func(string) bool) error {
	for _, f := range []struct{ name, value string }{
		{"interpreter", cfg.Interpreter}, {"app root", cfg.AppRoot}, {"loader", cfg.Loader},
	} {
		if !isAbs(f.value) {
			return fmt.Errorf("launch: %s path %q is not absolute", f.name, f.value)
		}
	}
	if len(cfg.Manifest) == 0 {
		return errors.New("launch: empty manifest")
	}
	for _, s := range append([]string{cfg.Interpreter, cfg.AppRoot, cfg.Loader, cfg.AppName}, cfg.Args...) {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("launch: argument %q contains a NUL byte", s)
		}
	}
	return nil
}
