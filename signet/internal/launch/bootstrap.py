# signet bootstrap: runs inside CPython before any app code.
#
# The loader starts the interpreter as
#   python -I -S -B -X frozen_modules=on -c <reader> FD FORM BOOTLEN LAZYLEN PYCLEN APPROOT
#          LOADER APPNAME -- ARGS...
# The reader reads the payload from FD (a sealed memfd on Linux, an inherited pipe on
# Windows): this file (BOOTLEN bytes), bootstrap_lazy.py (LAZYLEN bytes), the sealed module
# bytecode the loader read and verified (PYCLEN bytes; see _App.preloaded), then the manifest.
# FORM is "py" when both parts are source, "pyc" when they are the bytecode `signet seal`
# compiled from exactly this source (a 16-byte pyc header, then marshal data). The reader
# closes FD and runs this file with the whole payload in the global `_signet_payload`.
# bootstrap_lazy.py (importlib.resources, multiprocessing) is loaded only when needed:
# compiling is most of what the bootstrap costs when it comes as source.
#
# This file may use only built-in and frozen modules until the app runs: no os (the built-in
# posix or nt module serves), hashlib, json, re, typing. It checks that the interpreter is in
# the hardened state, installs the sealed finder, and runs the entry script (or a
# multiprocessing child) from verified bytes. Any refusal writes one "signet: ..." line to
# stderr and ends the process with exit code 106 (_exit: not an exception the app could
# catch).
#
# Keep the manifest parser in step with the Go package signet/internal/manifest and docs/design.md.

import sys
import _imp
import marshal
import _frozen_importlib as _bootstrap
import _frozen_importlib_external as _bootstrap_external

_WINDOWS = sys.platform == "win32"
if _WINDOWS:
    import nt as _os
else:
    import posix as _os

_EXIT_REFUSED = 106
_SEP = "\\" if _WINDOWS else "/"
_S_IFMT = 0o170000
_S_IFREG = 0o100000
_OPEN_FLAGS = (_os.O_RDONLY | getattr(_os, "O_NOFOLLOW", 0) | getattr(_os, "O_NONBLOCK", 0)
               | getattr(_os, "O_CLOEXEC", 0) | getattr(_os, "O_BINARY", 0))
_APP_ROLES = ("entry", "module", "extension", "bytecode", "data")
_HEADER_KEYS = ("entry", "level", "python-path", "python-version", "python-sha256",
                "seal-runtime")
_OPTIONAL_HEADER_KEYS = ("require-signer", "verify-at-import")  # applied by the loader
_MAIN_NAME = "__signet_main__"
_BYTECODE_DIR = "__signet_pyc__"
_MAGIC = _bootstrap_external.MAGIC_NUMBER
_PYC_HEADER = 16


_sha256 = None  # the built-in SHA-256 constructor, imported when first needed (_hexdigest)


def _hexdigest(data):
    """The SHA-256 hex digest of data. The built-in module is imported on first use: with
    sealed bytecode most starts hash nothing here, and importing it costs ~60 us."""
    global _sha256
    if _sha256 is None:
        if sys.version_info >= (3, 12):
            from _sha2 import sha256 as _sha256
        else:
            from _sha256 import sha256 as _sha256
    return _sha256(data).hexdigest()


def _flush_std():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _exit_refused(line):
    """Writes one line to stderr and ends the process with exit code 106."""
    _flush_std()
    try:
        _os.write(2, (line + "\n").encode("utf-8", "backslashreplace"))
    finally:
        _os._exit(_EXIT_REFUSED)


def _refuse(reason):
    _exit_refused("signet: refused: " + reason)


def _die(kind, rel, reason):
    """Refuses because of one app file: kind is MODIFIED, MISSING or UNEXPECTED."""
    _exit_refused("signet: %s %s: %s" % (kind, rel, reason))


# --- the manifest -------------------------------------------------------------------------

def _parse_manifest(text):
    """Parses canonical manifest text (docs/design.md "The manifest").

    The loader has already decoded these bytes strictly; this parser only needs to be
    correct on canonical input and to refuse anything else. Returns (header, trust, files),
    files a _Files over the file records, which are parsed only when looked up: start-up
    costs the same for 100 and for 100,000 sealed files.
    """
    lines = text.split("\n")
    if not lines or lines[-1] != "":
        raise ValueError("manifest does not end with a newline")
    lines.pop()
    if not lines or lines[0] != "signet-manifest 1":
        raise ValueError("line 1: want 'signet-manifest 1'")
    header = {}
    trust = []
    number = 1
    for number, line in enumerate(lines[1:], 2):
        key, _, rest = line.partition(" ")
        if key == "file":
            break
        if key == "python-trust":
            trust.append(rest)
        elif (key in _HEADER_KEYS or key in _OPTIONAL_HEADER_KEYS) and key not in header:
            header[key] = rest
        else:
            raise ValueError("line %d: unexpected record %r" % (number, key))
    else:
        number = len(lines) + 1
    for key in _HEADER_KEYS:
        if key not in header:
            raise ValueError("missing %r record" % key)
    files = _Files(lines[number - 1:], number)
    if files.get(header["entry"], ("", 0, ""))[2] != "entry":
        raise ValueError("entry %r is not a file with role entry" % header["entry"])
    return header, trust, files


class _Files:
    """The file records of a manifest, sorted by path (byte order, which for UTF-8 text is
    code point order): looked up by binary search and parsed when looked up."""

    def __init__(self, lines, first):
        self._lines = lines
        self._first = first  # line number of the first record, for messages

    def _record(self, i):
        """(path, (sha256 hex, size, role)) of record i; refuses a malformed one."""
        line = self._lines[i]
        parts = line.split(" ", 4)
        if len(parts) != 5 or parts[0] != "file":
            _refuse("the sealed manifest is damaged: line %d: malformed file record" % (self._first + i))
        _, digest, size, role, path = parts
        if (len(digest) != 64 or digest.strip("0123456789abcdef") or not size.isdigit()
                or not size.isascii() or role not in _APP_ROLES + ("runtime",)):
            _refuse("the sealed manifest is damaged: line %d: malformed file record" % (self._first + i))
        return path, (digest, int(size), role)

    def _path(self, i):
        return self._lines[i].split(" ", 4)[-1]

    def _search(self, path):
        """The index of the first record whose path is >= path."""
        lo, hi = 0, len(self._lines)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._path(mid) < path:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def get(self, path, default=None):
        i = self._search(path)
        if i < len(self._lines) and self._path(i) == path:
            return self._record(i)[1]
        return default

    def __contains__(self, path):
        return self.get(path) is not None

    def __len__(self):
        return len(self._lines)

    def has_dir(self, path):
        """Whether any sealed file lies below the directory path."""
        prefix = path + "/"
        i = self._search(prefix)
        return i < len(self._lines) and self._path(i).startswith(prefix)

    def items(self):
        """Every record in manifest order (this costs what the manifest is long)."""
        for i in range(len(self._lines)):
            yield self._record(i)

    def __iter__(self):
        for path, _ in self.items():
            yield path


# --- the hardened state -------------------------------------------------------------------

def _norm(path):
    """A path in the form used to compare sys.path entries (Windows: '/' and case-folded)."""
    if _WINDOWS:
        return path.replace("\\", "/").rstrip("/").casefold()
    return path.rstrip("/") or "/"


def _is_absolute(path):
    return path.startswith("/") or (len(path) >= 3 and path[1] == ":" and path[2] in "/\\")


def _components(path):
    """The components of an absolute path, with '.' and '..' resolved lexically."""
    if _WINDOWS:
        path = path.replace("\\", "/")
    parts = []
    for part in path.split("/"):
        if part == "..":
            if len(parts) > (1 if _WINDOWS else 0):
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return parts


def _fold_parts(parts):
    return [p.casefold() for p in parts] if _WINDOWS else parts


_HARDENING_FLAGS = ("isolated", "no_site", "dont_write_bytecode", "ignore_environment",
                    "no_user_site", "safe_path")


def _check_interpreter(header, trust, app_root):
    want = header["python-version"]
    have = "%d.%d" % sys.version_info[:2]
    if want != have:
        _refuse("the app was sealed for python%s, but python%s was replaced by %s: re-seal "
                "the app for the new interpreter" % (want, want, have))
    for name in _HARDENING_FLAGS:
        if not getattr(sys.flags, name, 0):
            _refuse("the interpreter does not run hardened (sys.flags.%s is off)" % name)
    if sys.flags.inspect or sys.flags.interactive:
        _refuse("the interpreter would start an interactive prompt")
    if sys.pycache_prefix is not None:
        _refuse("the interpreter reads bytecode from a pycache prefix")
    if sys._xoptions.get("frozen_modules", "on") != "on":
        _refuse("the interpreter does not use its frozen modules")
    trusted = set()
    for path in trust:
        if not _is_absolute(path):  # an interpreter inside the app tree
            path = app_root + _SEP + path.replace("/", _SEP)
        trusted.add(_norm(path))
    root = _norm(app_root)
    for entry in sys.path:
        if not isinstance(entry, str) or _norm(entry) not in trusted:
            _refuse("sys.path entry %r is not one of the sealed interpreter's paths" % (entry,))
        if _norm(entry) == root:
            _refuse("the app root is on sys.path")
    stock = [_bootstrap.BuiltinImporter, _bootstrap.FrozenImporter,
             _bootstrap_external.PathFinder]
    if len(sys.meta_path) != len(stock) or any(a is not b for a, b in zip(sys.meta_path, stock)):
        _refuse("sys.meta_path is not the interpreter's stock one: %r" % (sys.meta_path,))


# --- the sealed app -------------------------------------------------------------------------

class _App:
    """The sealed file set and how Python module names map onto it."""

    def __init__(self, app_root, header, files, pyc_blob):
        self.root = app_root
        self._root_parts = _fold_parts(_components(app_root))
        self.header = header
        self.files = files  # a _Files; "runtime" records have absolute paths and never match
        self._pyc_prefix = _BYTECODE_DIR + "/" + header["python-version"] + "/"
        # Sealed bytecode the loader read and verified, back to back in manifest order:
        # every bytecode record under the prefix ending in .pyc, except the bootstrap's own
        # (signet/internal/launch preloadBytecode). app path -> its bytes; empty when the
        # loader sent none (the files are then read and hashed here at import).
        self.preloaded = {}
        if pyc_blob:
            offset = 0
            prefix = self._pyc_prefix
            for rel, (_, size, role) in files.items():
                if (role == "bytecode" and rel.startswith(prefix) and rel.endswith(".pyc")
                        and not rel.startswith(prefix + "__signet_bootstrap")):
                    self.preloaded[rel] = (offset, size)
                    offset += size
            if offset != len(pyc_blob):
                _refuse("the loader passed a malformed payload (preloaded bytecode)")
        self._pyc_blob = pyc_blob
        self._tree = None
        # How a file that fails here is described: checked at start-up already, or first here.
        if header.get("verify-at-import") == "on":
            self._since, self._gone, self._changed = "", "not found", "content differs from the sealed digest"
        else:
            self._since = " since the start-up check"
            self._gone, self._changed = "gone" + self._since, "changed" + self._since
        # Where modules are found by name, in sys.path order: the app root first (like the
        # script directory), then every sys.path entry inside the app root (a bundled
        # interpreter's standard library, or a directory the app adds).
        self._roots = [""]
        self._extra_roots = []
        for entry in sys.path:
            self.add_root(entry)

    def add_root(self, entry):
        """Makes the sealed modules below a sys.path entry inside the app root importable
        under their names relative to it (after those already there)."""
        rel = self.relpath(entry) if isinstance(entry, str) else None
        if rel and rel not in self._roots:
            self._roots.append(rel)

    def bytecode_of(self, rel):
        """The app path of the sealed bytecode of module or entry rel, or None."""
        pyc = self._pyc_prefix + rel + ".pyc"
        record = self.files.get(pyc)
        if record is None or record[2] != "bytecode":
            return None
        return pyc

    def _probe(self, dir_rel, name):
        """(kind, rel) of name in sealed directory dir_rel ('' is the app root), or None:
        a package (extension or source __init__), a module (an extension wins over source),
        or a namespace directory, in the order CPython's FileFinder looks."""
        base = (dir_rel + "/" if dir_rel else "") + name
        files = self.files
        if files.has_dir(base):
            for kind, suffixes, roles in self._kinds():
                for suffix in suffixes:
                    record = files.get(base + "/__init__" + suffix)
                    if record is not None and record[2] in roles:
                        return ("package-" + kind, base + "/__init__" + suffix)
        for kind, suffixes, roles in self._kinds():
            for suffix in suffixes:
                record = files.get(base + suffix)
                if record is not None and record[2] in roles:
                    return (kind, base + suffix)
        if files.has_dir(base):
            return ("namespace", base)
        return None

    @staticmethod
    def _kinds():
        return (("extension", _bootstrap_external.EXTENSION_SUFFIXES, ("extension",)),
                ("module", _bootstrap_external.SOURCE_SUFFIXES, ("module", "entry")))

    def find(self, fullname, parent_dir):
        """(kind, rel) of a module the sealed files hold, or None. parent_dir is the sealed
        directory of the parent package (None for a top-level name)."""
        if fullname == _MAIN_NAME:
            return ("module", self.header["entry"])
        parent, _, tail = fullname.rpartition(".")
        if parent:
            return self._probe(parent_dir, tail) if parent_dir is not None else None
        namespace = None
        for root in self._roots:
            found = self._probe(root, tail)
            if found is None:
                continue
            if found[0] != "namespace":
                return found
            if namespace is None:
                namespace = found
        return namespace

    def abspath(self, rel):
        if not rel:
            return self.root
        return self.root + _SEP + rel.replace("/", _SEP)

    def relpath(self, path):
        """The app path of an absolute path strictly inside the app root, else None.

        '.' and '..' components are resolved lexically, as os.path.normpath does.
        """
        path = _os.fspath(path)
        if not isinstance(path, str) or not _is_absolute(path):
            return None
        parts = _components(path)
        n = len(self._root_parts)
        if len(parts) <= n or _fold_parts(parts[:n]) != self._root_parts:
            return None
        return "/".join(parts[n:])

    def read_verified(self, rel):
        """Reads a sealed file once and returns its bytes if they match the manifest."""
        span = self.preloaded.get(rel)
        if span is not None:  # verified by the loader, sealed in the payload
            return self._pyc_blob[span[0]:span[0] + span[1]].tobytes()
        record = self.files.get(rel)
        if record is None:
            _die("UNEXPECTED", rel, "not sealed")
        digest, size, _ = record
        try:
            fd = _os.open(self.abspath(rel), _OPEN_FLAGS)
        except FileNotFoundError:
            _die("MISSING", rel, self._gone)
        except OSError as err:
            _die("MODIFIED", rel, "cannot be opened%s (%s)" % (self._since, err.strerror))
        try:
            if _os.fstat(fd).st_mode & _S_IFMT != _S_IFREG:
                _die("MODIFIED", rel, "no longer a regular file")
            chunks = []
            left = size + 1  # one byte more tells a grown file
            while left > 0:
                chunk = _os.read(fd, left)
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
        except OSError as err:
            _die("MODIFIED", rel, "cannot be read (%s)" % err.strerror)
        finally:
            _os.close(fd)
        data = b"".join(chunks)
        if len(data) != size or _hexdigest(data) != digest:
            _die("MODIFIED", rel, self._changed)
        return data

    def refuse_if_on_disk(self, fullname, dir_rel):
        """Refuses (exit 106) if the app tree holds something importable as fullname."""
        tail = fullname.rpartition(".")[2]
        base = self.abspath(dir_rel) + _SEP + tail
        candidates = [""]
        candidates += _bootstrap_external.SOURCE_SUFFIXES
        candidates += _bootstrap_external.BYTECODE_SUFFIXES
        candidates += _bootstrap_external.EXTENSION_SUFFIXES
        for suffix in candidates:
            try:
                _os.lstat(base + suffix)
            except (OSError, ValueError):
                continue
            rel = (dir_rel + "/" if dir_rel else "") + tail + suffix
            _die("UNEXPECTED", rel, "not sealed (import of %r refused)" % fullname)

    def tree(self):
        """Maps every sealed directory ('' is the app root) to its sorted child names."""
        if self._tree is None:
            tree = {"": set()}
            for rel, record in self.files.items():
                if record[2] == "runtime":
                    continue
                parts = rel.split("/")
                for i in range(len(parts)):
                    tree.setdefault("/".join(parts[:i]), set()).add(parts[i])
            self._tree = {d: sorted(c) for d, c in tree.items()}
        return self._tree


def _under_root(app, spec):
    locations = []
    if spec.origin:
        locations.append(spec.origin)
    locations.extend(spec.submodule_search_locations or ())
    for location in locations:
        try:
            rel = app.relpath(location)
        except (TypeError, ValueError):
            continue
        if rel is not None:
            return rel
    return None


class SealedFinder:
    """Serves the app's modules from sealed, verified bytes; refuses unsealed ones.

    Order, mirroring CPython: built-in and frozen modules stay with their own finders;
    sealed regular modules and packages come next (like the script directory being first on
    sys.path); the interpreter's own path finder serves the standard library; a sealed
    directory without __init__ is a namespace package only if nothing else has the name.
    """

    def __init__(self, app):
        self._app = app

    def find_spec(self, fullname, path=None, target=None):
        app = self._app
        if _imp.is_builtin(fullname) or _imp.is_frozen(fullname) or fullname == _BYTECODE_DIR:
            return None  # (the sealed bytecode directory is no package)
        parent = fullname.rpartition(".")[0]
        parent_dir = _sealed_dir_of(parent) if parent else None
        found = app.find(fullname, parent_dir)
        if found is not None:
            kind, rel = found
            if kind != "namespace" or parent:
                return _spec(app, fullname, kind, rel)
            spec = _bootstrap_external.PathFinder.find_spec(fullname, path)
            if spec is not None and not _is_namespace(spec):
                return self._checked(spec, fullname)
            return _spec(app, fullname, kind, rel)
        if parent_dir is not None:
            # the parent is a sealed package: nothing else may serve its children
            app.refuse_if_on_disk(fullname, parent_dir)
            raise ModuleNotFoundError("No module named %r" % fullname, name=fullname)
        spec = _bootstrap_external.PathFinder.find_spec(fullname, path)
        if spec is not None:
            return self._checked(spec, fullname)
        if not parent:
            app.refuse_if_on_disk(fullname, "")
        return None

    def _checked(self, spec, fullname):
        """The spec the path finder found, if it is outside the app root; a sealed module
        inside it (a directory the app or a bundled interpreter put on sys.path) is served
        from verified bytes instead; anything else there is refused."""
        app = self._app
        rel = _under_root(app, spec)
        if rel is None:
            return spec
        role = app.files.get(rel, ("", 0, ""))[2]
        if spec.origin and app.relpath(spec.origin) == rel and role in ("module", "entry",
                                                                          "extension"):
            package = rel.rpartition("/")[2].startswith("__init__.")
            kind = "extension" if role == "extension" else "module"
            return _spec(app, fullname, "package-" + kind if package else kind, rel)
        _die("UNEXPECTED", rel, "not sealed (import of %r refused)" % fullname)

    def invalidate_caches(self):
        pass


_NAMESPACE_LOADERS = tuple(getattr(_bootstrap_external, n) for n in
                           ("NamespaceLoader", "_NamespaceLoader") if hasattr(_bootstrap_external, n))


def _is_namespace(spec):
    return spec.loader is None or isinstance(spec.loader, _NAMESPACE_LOADERS)


def _sealed_dir_of(name):
    """The app directory of module name if the sealed finder served it as a package."""
    module = sys.modules.get(name)
    loader = getattr(getattr(module, "__spec__", None), "loader", None)
    if isinstance(loader, SealedLoader) and loader.is_package(name):
        return loader.dir_rel
    return None


def _spec(app, fullname, kind, rel):
    is_package = kind.startswith("package") or kind == "namespace"
    loader = SealedLoader(app, fullname, kind, rel)
    if kind == "namespace":
        spec = _bootstrap.ModuleSpec(fullname, loader, origin=None, is_package=True)
    else:
        spec = _bootstrap.ModuleSpec(fullname, loader, origin=app.abspath(rel),
                                     is_package=is_package)
        spec.has_location = True
        if loader.pyc_rel is not None and fullname != _MAIN_NAME:
            spec.cached = app.abspath(loader.pyc_rel)
    if is_package:
        spec.submodule_search_locations = [app.abspath(loader.dir_rel)]
    return spec


class SealedLoader:
    """Loads one sealed module from the bytes it verified; serves sealed data files."""

    def __init__(self, app, name, kind, rel):
        self._app = app
        self.name = name
        self.kind = kind
        self.rel = rel
        if kind == "namespace":
            self.dir_rel = rel
        else:
            self.dir_rel = rel.rpartition("/")[0]
        self.path = app.abspath(rel)
        self.pyc_rel = app.bytecode_of(rel) if kind in ("module", "package-module") else None

    def __repr__(self):
        return "<SealedLoader %r from %r>" % (self.name, self.rel)

    def create_module(self, spec):
        if self.kind.endswith("extension"):
            if _NATIVE_FROM_MEMFD:
                return _native(self._app).load_extension(spec, self.rel, self.path)
            # Elsewhere (Windows) verified here, then loaded by path: the dynamic loader
            # opens the file again (docs/threat-model.md, "Native code").
            self._app.read_verified(self.rel)
            return _imp.create_dynamic(spec)
        return None

    def exec_module(self, module):
        if self.kind == "namespace":
            return
        if self.kind.endswith("extension"):
            _imp.exec_dynamic(module)
            return
        exec(self.get_code(module.__name__), module.__dict__)

    def get_code(self, fullname):
        if self.kind == "namespace" or self.kind.endswith("extension"):
            return None
        if self.pyc_rel is not None:
            # sealed bytecode: loaded from the verified bytes, never from __pycache__
            code = _load_pyc(self._app.read_verified(self.pyc_rel), self.pyc_rel)
            _imp._fix_co_filename(code, self.path)
            return code
        source = self._app.read_verified(self.rel)
        return compile(source, self.path, "exec", dont_inherit=True)

    def get_source(self, fullname):
        if self.kind == "namespace" or self.kind.endswith("extension"):
            return None
        return _bootstrap_external.decode_source(self._app.read_verified(self.rel))

    def is_package(self, fullname):
        return self.kind.startswith("package") or self.kind == "namespace"

    def get_filename(self, fullname):
        if self.kind == "namespace":
            raise ImportError("namespace package %r has no file" % fullname, name=fullname)
        return self.path

    def get_data(self, path):
        """Returns the verified bytes of a sealed file given by its absolute path."""
        rel = self._app.relpath(path)
        if rel is None or rel not in self._app.files:
            raise FileNotFoundError(2, "not a sealed file of this app", path)
        return self._app.read_verified(rel)

    def get_resource_reader(self, fullname):
        _load_lazy()
        return SealedResources(self._app, self.dir_rel)


# --- native code from verified bytes (Linux) -------------------------------------------

# On Linux every extension module of the app, and every library of the delivery it needs, is
# mapped from a copy of its verified bytes in a memfd sealed against any change, loaded
# through /proc/self/fd/N: patching, replacing or renaming the file on disk after the check
# changes nothing that runs.
_NATIVE_FROM_MEMFD = sys.platform.startswith("linux") and hasattr(_os, "memfd_create")
_native_state = None


def _native(app):
    global _native_state
    if _native_state is None:
        _native_state = _Native(app)
    return _native_state


class _Native:
    """Loads sealed native code from sealed memfds; libraries before the objects needing them.

    The dynamic loader satisfies a DT_NEEDED name with an object already loaded whose
    DT_SONAME is that name; so each library of the delivery that an object needs (found
    through the object's RUNPATH/RPATH, $ORIGIN being the object's directory in the delivery)
    is loaded first, from its own sealed memfd. A needed library of the delivery without a
    matching SONAME could only be opened by path: that is refused.
    """

    _PT_LOAD, _PT_DYNAMIC = 1, 2
    _DT_NEEDED, _DT_STRTAB, _DT_SONAME, _DT_RPATH, _DT_RUNPATH = 1, 5, 14, 15, 29

    def __init__(self, app):
        self._app = app
        self._libraries = {}  # app path of a library -> its SONAME, once loaded
        import fcntl  # built in on Linux CPython builds that signet supports
        self._seal = getattr(fcntl, "F_ADD_SEALS", 1033)
        self._seals = (getattr(fcntl, "F_SEAL_SEAL", 1) | getattr(fcntl, "F_SEAL_SHRINK", 2)
                       | getattr(fcntl, "F_SEAL_GROW", 4) | getattr(fcntl, "F_SEAL_WRITE", 8))
        self._fcntl = fcntl.fcntl
        self._count = 0

    def _fd_path(self, fd):
        """A name for /proc/self/fd/<fd> that no earlier load used: the dynamic loader
        takes an object whose name it has seen as already loaded, and descriptor numbers
        come back once closed. Each load gets its number in binary spelled with the
        prefix-free "./" (1) and "/" (0), which the kernel resolves to the same file."""
        self._count += 1
        bits = bin(self._count)[2:]
        return "/proc/self/fd/" + "".join("./" if b == "1" else "/" for b in bits) + str(fd)

    def _memfd(self, rel, data):
        """A descriptor of a new memfd holding data, sealed against any change."""
        try:
            fd = _os.memfd_create("signet:" + rel.rpartition("/")[2],
                                  _os.MFD_CLOEXEC | _os.MFD_ALLOW_SEALING)
        except OSError as err:
            _refuse("cannot load %s from its verified bytes: memfd_create failed (%s)"
                    % (rel, err.strerror))
        try:
            view = memoryview(data)
            while view:
                view = view[_os.write(fd, view):]
            self._fcntl(fd, self._seal, self._seals)
        except OSError as err:
            _os.close(fd)
            _refuse("cannot load %s from its verified bytes: %s" % (rel, err.strerror))
        return fd

    def load_extension(self, spec, rel, path):
        data = self._app.read_verified(rel)
        self._needed(rel, data, ())
        fd = self._memfd(rel, data)
        try:
            memfd_spec = _bootstrap.ModuleSpec(spec.name, spec.loader,
                                               origin=self._fd_path(fd))
            module = _imp.create_dynamic(memfd_spec)
        finally:
            _os.close(fd)  # the mapping keeps the sealed copy alive
        try:
            module.__file__ = path
        except (AttributeError, TypeError):
            pass
        return module

    def _load_library(self, rel, soname):
        data = self._app.read_verified(rel)
        own, _, _, _ = self._dynamic(rel, data)
        if own != soname:
            _refuse("%s is needed as %r, but %s: signet maps the delivery's native code "
                    "only from verified copies, which the dynamic loader matches by SONAME; "
                    "give the library the SONAME it is needed by (patchelf --set-soname) and "
                    "seal again" % (rel, soname, "its SONAME is %r" % own if own else "has no SONAME"))
        self._needed(rel, data, ())
        fd = self._memfd(rel, data)
        try:
            # create_dynamic maps the library, then finds no module init function in it:
            # the library stays loaded, which is all that is wanted.
            _imp.create_dynamic(_bootstrap.ModuleSpec("_signet_native_library", None,
                                                      origin=self._fd_path(fd)))
        except ImportError:
            pass
        finally:
            _os.close(fd)
        self._libraries[rel] = soname

    def _needed(self, rel, data, inherited_rpath):
        """Loads the libraries of the delivery that the object rel (bytes data) needs."""
        _, needed, rpath, runpath = self._dynamic(rel, data)
        if not needed:
            return
        origin = self._app.abspath(rel.rpartition("/")[0])
        # The dynamic loader's order: DT_RPATH (the object's, then its loaders') unless
        # the object has DT_RUNPATH; then the system's directories (outside the delivery).
        dirs = runpath if runpath else rpath + list(inherited_rpath)
        for name in needed:
            if "/" in name:
                continue
            for d in dirs:
                d = d.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
                lib = self._app.relpath(d + "/" + name) if d.startswith("/") else None
                if lib is None or lib not in self._app.files:
                    continue
                if lib not in self._libraries:
                    self._load_library(lib, name)
                break

    def _dynamic(self, rel, data):
        """(SONAME, NEEDED names, RPATH dirs, RUNPATH dirs) of an ELF object."""
        try:
            if data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
                return None, [], [], []
            wide = data[4] == 2
            order = "little" if data[5] == 1 else "big"

            def word(off, size):
                if off < 0 or off + size > len(data):
                    raise ValueError("out of bounds")
                return int.from_bytes(data[off:off + size], order)

            n = 8 if wide else 4
            phoff = word(0x20 if wide else 0x1C, n)
            phentsize = word(0x36 if wide else 0x2A, 2)
            phnum = word(0x38 if wide else 0x2C, 2)
            loads, dynamic = [], None
            for i in range(phnum):
                ph = phoff + i * phentsize
                kind = word(ph, 4)
                if wide:
                    offset, vaddr, filesz = word(ph + 8, 8), word(ph + 16, 8), word(ph + 32, 8)
                else:
                    offset, vaddr, filesz = word(ph + 4, 4), word(ph + 8, 4), word(ph + 16, 4)
                if kind == self._PT_LOAD:
                    loads.append((vaddr, offset, filesz))
                elif kind == self._PT_DYNAMIC:
                    dynamic = (offset, filesz)
            if dynamic is None:
                return None, [], [], []
            entries, strtab = [], None
            for off in range(dynamic[0], dynamic[0] + dynamic[1] - 2 * n + 1, 2 * n):
                tag, value = word(off, n), word(off + n, n)
                if tag == 0:
                    break
                if tag == self._DT_STRTAB:
                    strtab = value
                entries.append((tag, value))
            base = None
            for vaddr, offset, filesz in loads:
                if strtab is not None and vaddr <= strtab < vaddr + filesz:
                    base = strtab - vaddr + offset
            if base is None:
                return None, [], [], []

            def string(value):
                start = base + value
                end = data.index(b"\0", start)
                return data[start:end].decode("utf-8", "surrogateescape")

            soname, needed, rpath, runpath = None, [], [], []
            for tag, value in entries:
                if tag == self._DT_NEEDED:
                    needed.append(string(value))
                elif tag == self._DT_SONAME:
                    soname = string(value)
                elif tag == self._DT_RPATH:
                    rpath += [d for d in string(value).split(":") if d]
                elif tag == self._DT_RUNPATH:
                    runpath += [d for d in string(value).split(":") if d]
            return soname, needed, rpath, runpath
        except (ValueError, IndexError):
            _refuse("%s is not an ELF object that signet can read (its dynamic section is "
                    "damaged)" % rel)


def _load_pyc(data, rel):
    """The code object of verified sealed bytecode (a pyc file); refuses (exit 106) bytecode
    compiled for another interpreter, never falling back to anything else."""
    if data[:4] != _MAGIC:
        _refuse("the sealed bytecode %s was compiled for another Python (magic number %s, this "
                "interpreter's is %s): re-seal the app for the interpreter it runs with"
                % (rel, data[:4].hex(), _MAGIC.hex()))
    try:
        code = marshal.loads(memoryview(data)[_PYC_HEADER:])
    except (ValueError, EOFError, TypeError) as err:
        _refuse("the sealed bytecode %s cannot be loaded (%s): re-seal the app" % (rel, err))
    if type(code) is not type(_load_pyc.__code__):
        _refuse("the sealed bytecode %s holds no code object: re-seal the app" % rel)
    return code


# --- start --------------------------------------------------------------------------------

def _set_process_name(name):
    if not sys.platform.startswith("linux") or not name:
        return
    raw = name.encode("utf-8", "replace")[:15].decode("utf-8", "ignore").encode("utf-8")
    try:
        fd = _os.open("/proc/self/comm", _os.O_WRONLY | _os.O_CLOEXEC)
    except OSError:
        return
    try:
        _os.write(fd, raw)
    except OSError:
        pass
    finally:
        _os.close(fd)


def _runtime_module(app, loader, app_name):
    runtime = type(sys)("signet_runtime")
    runtime.__doc__ = "Present when the app runs sealed under a signet loader."
    runtime.sealed = True
    runtime.app_root = app.root
    runtime.loader = loader
    runtime.app_name = app_name
    runtime.entry = app.header["entry"]
    runtime.level = app.header["level"]
    def __getattr__(name):
        if name == "manifest_files":  # every sealed app path: built when first asked for
            value = tuple(sorted(p for p, r in app.files.items() if r[2] != "runtime"))
            runtime.manifest_files = value
            return value
        raise AttributeError("module 'signet_runtime' has no attribute %r" % name)
    runtime.__getattr__ = __getattr__
    runtime.read_sealed = app.read_verified
    return runtime


def _strip_bootstrap_frames(tb, entry_path):
    first = tb
    while tb is not None and tb.tb_frame.f_code.co_filename != entry_path:
        tb = tb.tb_next
    return tb if tb is not None else first


def _run_main(app, finder):
    spec = finder.find_spec(_MAIN_NAME)
    code = spec.loader.get_code(_MAIN_NAME)
    main = type(sys)("__main__")
    main.__file__ = spec.origin
    main.__spec__ = spec
    main.__loader__ = spec.loader
    main.__package__ = None
    main.__cached__ = None
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    try:
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except KeyboardInterrupt as err:
        # re-raised so that CPython exits the way it does on Ctrl-C (by SIGINT)
        raise err.with_traceback(_strip_bootstrap_frames(err.__traceback__, spec.origin))
    except BaseException as err:
        # the printed traceback starts in the entry script, as with `python script.py`
        err.with_traceback(_strip_bootstrap_frames(err.__traceback__, spec.origin))
        sys.excepthook(type(err), err, err.__traceback__)
        raise SystemExit(1)


_lazy_part = None  # (form, bytes) of bootstrap_lazy.py until it is loaded


def _load_lazy():
    """Runs bootstrap_lazy.py in this module's namespace, once: its sealed bytecode when the
    loader sent bytecode, else compiled from source."""
    global _lazy_part
    if _lazy_part is not None:
        (form, data), _lazy_part = _lazy_part, None
        if form == "pyc":
            code = _load_pyc(data, "of the bootstrap")
        else:
            code = compile(data, "<signet-bootstrap-lazy>", "exec", dont_inherit=True)
        exec(code, globals())


def _small_int(text):
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _main():
    global _lazy_part
    argv = sys.argv
    if len(argv) < 10 or argv[9] != "--" or argv[2] not in ("py", "pyc"):
        _refuse("the loader passed malformed launch arguments")
    form, boot_len, lazy_len, pyc_len = (argv[2], _small_int(argv[3]), _small_int(argv[4]),
                                         _small_int(argv[5]))
    app_root, loader, app_name, args = argv[6], argv[7], argv[8], argv[10:]
    payload = globals().pop("_signet_payload", None)
    if (boot_len is None or lazy_len is None or pyc_len is None or type(payload) is not bytes
            or boot_len + lazy_len + pyc_len > len(payload)):
        _refuse("the loader passed a malformed payload")
    _lazy_part = (form, payload[boot_len:boot_len + lazy_len])
    start = boot_len + lazy_len
    try:
        header, trust, files = _parse_manifest(payload[start + pyc_len:].decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        _refuse("the sealed manifest is damaged: %s" % err)
    pyc_blob = memoryview(payload)[start:start + pyc_len]
    del payload
    _check_interpreter(header, trust, app_root)
    app = _App(app_root, header, files, pyc_blob)
    finder = SealedFinder(app)
    sys.meta_path.insert(0, finder)
    sys.modules["signet_runtime"] = _runtime_module(app, loader, app_name)
    _set_process_name(app_name)
    sys.executable = loader
    sys._base_executable = loader
    # multiprocessing's command lines start with interpreter flags or -c (bootstrap_lazy.py)
    if args and args[0][:1] == "-" and args[0] != "--":
        _load_lazy()
        command = _multiprocessing_command(args)
        if command is not None:
            _run_multiprocessing(command[0], command[1], loader)
            return
    sys.argv = [loader] + args
    _run_main(app, finder)


_main()
