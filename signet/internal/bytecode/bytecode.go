// Package bytecode compiles sealed Python sources to bytecode with a given interpreter, and
// checks that sealed bytecode is what its sealed source compiles to (docs/design.md, "Sealed
// bytecode"). `signet seal` uses Compile; `signet verify --recompile` uses Check.
//
// One interpreter process serves a whole app: the sources go to its standard input and the
// results come back on its standard output, framed by lengths, so no temporary file is
// involved and the sources compiled are exactly the bytes the caller hashed. The interpreter
// runs isolated (-I -S) with an empty environment. Each source is compiled with
// compile(source, filename, "exec", dont_inherit=True, optimize=0) and written as a standard
// hash-based, unchecked pyc (PEP 552): magic number, flags 1, the source's SipHash as CPython
// computes it, then marshal data. Nothing in it depends on time or on the machine, and
// marshal output of 3.11+ does not depend on hash randomization (frozensets are sorted), so
// compiling the same source with the same interpreter gives the same bytes.
package bytecode

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// HeaderSize is the size of a pyc header (magic, flags, source hash or mtime and size).
const HeaderSize = 16

// timeout bounds one interpreter run.
const timeout = 10 * time.Minute

// waitDelay bounds the wait for the interpreter's output after it was killed (cancelled or
// over timeout), should a process it started hold the pipes open.
const waitDelay = 5 * time.Second

// Source is one Python source to compile.
type Source struct {
	Filename string // compile-time file name (co_filename), e.g. the app path "pkg/mod.py"
	Data     []byte // the source bytes
}

// Compiled is the outcome for one Source: the pyc bytes, or why it does not compile.
type Compiled struct {
	Pyc []byte // nil when Err is set
	Err string // the compiler's message (a SyntaxError, a NUL byte, ...); "" on success
}

// Pair is sealed bytecode and the sealed source it claims to be compiled from.
type Pair struct {
	Source
	Pyc []byte
}

// Mismatch is a Pair whose bytecode is not what the source compiles to.
type Mismatch struct {
	Filename string
	Reason   string
}

// program runs in the interpreter. Argument: "compile" or "check". Input records: u32 name
// length, name (UTF-8), u64 source length, source, and for "check" u64 pyc length, pyc.
// Output records, one per input record in order: a status byte ("o" ok, "e" the source does
// not compile, "m" check: the bytecode differs), u64 length, then the pyc ("compile", "o") or
// a message.
const program = `import sys, marshal, _imp
from _frozen_importlib_external import MAGIC_NUMBER
# The magic number as an int (_RAW_MAGIC_NUMBER before 3.14, which removed it).
RAW_MAGIC = int.from_bytes(MAGIC_NUMBER, "little")
inp = sys.stdin.buffer.read()
out = sys.stdout.buffer
check = sys.argv[1] == "check"
pos = 0
def take(width):
    global pos
    n = int.from_bytes(inp[pos:pos + width], "little")
    pos += width
    data = inp[pos:pos + n]
    if len(data) != n:
        raise SystemExit("truncated input")
    pos += n
    return data
def emit(status, data):
    out.write(status + len(data).to_bytes(8, "little") + data)
def header(source):
    return MAGIC_NUMBER + (1).to_bytes(4, "little") + _imp.source_hash(RAW_MAGIC, source)
def same(a, b):
    if a != b or a.co_filename != b.co_filename or a.co_qualname != b.co_qualname:
        return False
    ca = [c for c in a.co_consts if type(c) is type(a)]
    cb = [c for c in b.co_consts if type(c) is type(b)]
    return len(ca) == len(cb) and all(same(x, y) for x, y in zip(ca, cb))
while pos < len(inp):
    name = take(4).decode("utf-8")
    source = take(8)
    sealed = take(8) if check else None
    try:
        code = compile(source, name, "exec", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError) as err:
        emit(b"e", ("%s: %s" % (type(err).__name__, err)).encode("utf-8", "backslashreplace"))
        continue
    pyc = header(source) + marshal.dumps(code)
    del code
    if not check:
        emit(b"o", pyc)
    elif sealed == pyc:
        emit(b"o", b"")
    elif sealed[:4] != MAGIC_NUMBER:
        emit(b"m", b"compiled for another Python (magic number %s, this interpreter's is %s)" % (sealed[:4].hex().encode(), MAGIC_NUMBER.hex().encode()))
    elif sealed[:16] != pyc[:16]:
        emit(b"m", b"its header does not fit the sealed source (flags or source hash differ)")
    else:
        try:
            other = marshal.loads(sealed[16:])
        except (ValueError, EOFError, TypeError) as err:
            emit(b"m", ("it does not load: %s" % err).encode())
            continue
        if type(other) is not type(compile("", "", "exec")) or not same(marshal.loads(pyc[16:]), other):
            emit(b"m", b"its code differs from what the sealed source compiles to")
        else:
            emit(b"o", b"")
out.flush()
`

// Compile compiles every source with python and returns one result per source, in order.
// An error means the interpreter could not be run or answered nonsense; a source that does
// not compile is a Compiled with Err set.
func Compile(ctx context.Context, python string, sources []Source) ([]Compiled, error) {
	var in bytes.Buffer
	for _, s := range sources {
		if err := appendSource(&in, s); err != nil {
			return nil, err
		}
	}
	recs, err := run(ctx, python, "compile", in.Bytes(), len(sources))
	if err != nil {
		return nil, err
	}
	out := make([]Compiled, len(recs))
	for i, r := range recs {
		switch r.status {
		case 'o':
			if len(r.data) < HeaderSize {
				return nil, fmt.Errorf("compiling %s: the interpreter returned %d bytes, not a pyc", sources[i].Filename, len(r.data))
			}
			out[i] = Compiled{Pyc: r.data}
		case 'e':
			out[i] = Compiled{Err: string(r.data)}
		default:
			return nil, fmt.Errorf("compiling %s: unexpected answer %q from the interpreter", sources[i].Filename, r.status)
		}
	}
	return out, nil
}

// Check recompiles the source of every pair with python and returns the pairs whose
// bytecode differs from the result (by bytes, and if the bytes differ, by code objects
// compared recursively, file and qualified names included), or whose source no longer
// compiles. An error means the interpreter could not be run or answered nonsense.
func Check(ctx context.Context, python string, pairs []Pair) ([]Mismatch, error) {
	var in bytes.Buffer
	for _, p := range pairs {
		if err := appendSource(&in, p.Source); err != nil {
			return nil, err
		}
		in.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(p.Pyc))))
		in.Write(p.Pyc)
	}
	recs, err := run(ctx, python, "check", in.Bytes(), len(pairs))
	if err != nil {
		return nil, err
	}
	var out []Mismatch
	for i, r := range recs {
		switch r.status {
		case 'o':
		case 'e':
			out = append(out, Mismatch{Filename: pairs[i].Filename, Reason: "its sealed source does not compile: " + string(r.data)})
		case 'm':
			out = append(out, Mismatch{Filename: pairs[i].Filename, Reason: string(r.data)})
		default:
			return nil, fmt.Errorf("checking %s: unexpected answer %q from the interpreter", pairs[i].Filename, r.status)
		}
	}
	return out, nil
}

func appendSource(b *bytes.Buffer, s Source) error {
	if len(s.Filename) == 0 || len(s.Filename) > 1<<16 {
		return fmt.Errorf("compiling: bad file name %q", s.Filename)
	}
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s.Filename))))
	b.WriteString(s.Filename)
	b.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(s.Data))))
	b.Write(s.Data)
	return nil
}

// record is one answer of the interpreter.
type record struct {
	status byte
	data   []byte
}

// run runs program in python with the given mode and input and parses its answer, which
// must hold exactly want records.
func run(ctx context.Context, python, mode string, input []byte, want int) ([]record, error) {
	if want == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-I", "-S", "-B", "-c", program, mode)
	cmd.Env = []string{}
	if runtime.GOOS == "windows" {
		cmd.Env = windowsEnv()
	}
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = waitDelay
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil { // cancelled, or over the timeout: killed
			return nil, fmt.Errorf("compiling with %s: %w (%v)", python, ctxErr, err)
		}
		return nil, fmt.Errorf("compiling with %s: %w: %s", python, err, strings.TrimSpace(stderr.String()))
	}
	recs, err := parseAnswer(stdout.Bytes())
	if err != nil {
		return nil, fmt.Errorf("compiling with %s: %w", python, err)
	}
	if len(recs) != want {
		return nil, fmt.Errorf("compiling with %s: %d answers for %d sources", python, len(recs), want)
	}
	return recs, nil
}

// maxRecord bounds one answer (a pyc of a huge generated module is a few MiB).
const maxRecord = 1 << 30

// parseAnswer splits the interpreter's output into records.
func parseAnswer(b []byte) ([]record, error) {
	var recs []record
	for len(b) > 0 {
		if len(b) < 9 {
			return nil, errors.New("truncated answer")
		}
		n := binary.LittleEndian.Uint64(b[1:9])
		if n > maxRecord || n > uint64(len(b)-9) {
			return nil, errors.New("truncated answer")
		}
		recs = append(recs, record{status: b[0], data: b[9 : 9+n : 9+n]})
		b = b[9+n:]
	}
	return recs, nil
}

// Magic returns the 4-byte magic number at the start of a pyc, or nil if it is too short.
func Magic(pyc []byte) []byte {
	if len(pyc) < HeaderSize {
		return nil
	}
	return pyc[:4]
}

// windowsEnv is what Windows needs to start a process at all.
func windowsEnv() []string {
	env := []string{}
	for _, k := range []string{"SystemRoot", "SystemDrive"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
