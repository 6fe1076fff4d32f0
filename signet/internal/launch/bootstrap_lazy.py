# signet bootstrap, the part compiled on demand: importlib.resources over sealed files, and
# the multiprocessing child command lines. It runs in the namespace of bootstrap.py (see
# _load_lazy there) and uses its names. Same rules: built-in and frozen modules only until
# the app runs.

class SealedResources:
    """importlib.resources reader over the sealed files of one directory."""

    def __init__(self, app, dir_rel):
        self._app = app
        self._dir = dir_rel

    def files(self):
        return SealedPath(self._app, self._dir)

    def open_resource(self, resource):
        return self.files().joinpath(resource).open("rb")

    def resource_path(self, resource):
        raise FileNotFoundError(2, "sealed resources have no file system path", resource)

    def is_resource(self, path):
        return self.files().joinpath(path).is_file()

    def contents(self):
        return iter(self._app.tree().get(self._dir, ()))


class SealedPath:
    """An importlib.resources Traversable over sealed files; reads return verified bytes."""

    def __init__(self, app, rel):
        self._app = app
        self._rel = rel

    def __repr__(self):
        return "SealedPath(%r)" % (self._rel,)

    def __eq__(self, other):
        return isinstance(other, SealedPath) and other._rel == self._rel

    def __hash__(self):
        return hash(self._rel)

    @property
    def name(self):
        return self._rel.rpartition("/")[2]

    def is_dir(self):
        return self._rel in self._app.tree()

    def is_file(self):
        return self._rel in self._app.files

    def exists(self):
        return self.is_dir() or self.is_file()

    def iterdir(self):
        if not self.is_dir():
            raise NotADirectoryError(20, "not a sealed directory", self._rel)
        prefix = self._rel + "/" if self._rel else ""
        return iter([SealedPath(self._app, prefix + c) for c in self._app.tree()[self._rel]])

    def joinpath(self, *descendants):
        parts = self._rel.split("/") if self._rel else []
        for descendant in descendants:
            for part in _os.fspath(descendant).replace("\\", "/").split("/"):
                if part in ("", "."):
                    continue
                if part == "..":
                    raise ValueError("'..' leaves the sealed resource tree")
                parts.append(part)
        return SealedPath(self._app, "/".join(parts))

    __truediv__ = joinpath

    def read_bytes(self):
        if not self.is_file():
            raise FileNotFoundError(2, "not a sealed file of this app", self._rel)
        return self._app.read_verified(self._rel)

    def read_text(self, encoding=None, errors=None):
        return self.read_bytes().decode(encoding or "utf-8", errors or "strict")

    def open(self, mode="r", *args, **kwargs):
        import io
        if mode not in ("r", "rb"):
            raise ValueError("sealed resources open read-only, not with mode %r" % mode)
        stream = io.BytesIO(self.read_bytes())
        if mode == "rb":
            return stream
        if not args:
            kwargs.setdefault("encoding", "utf-8")
        return io.TextIOWrapper(stream, *args, **kwargs)


# --- multiprocessing -----------------------------------------------------------------------

_MP_SPAWN = "from multiprocessing.spawn import spawn_main; spawn_main("
_MP_FORKSERVER = "from multiprocessing.forkserver import main; main("
# Python 3.14 passes the parent's argv after the code and reads it back as sys.argv[1:].
_MP_FORKSERVER_ARGV = "import sys; " + _MP_FORKSERVER
_MP_TRACKER = "from multiprocessing.resource_tracker import main;main("
_FLAG_LETTERS = "dBSvbqOIEsPu"


def _is_interpreter_flag(arg):
    return (len(arg) > 1 and arg[0] == "-" and arg != "-c"
            and (arg[1] in "WX" or not arg[1:].strip(_FLAG_LETTERS)))


def _multiprocessing_command(args):
    """Recognises exactly the command lines multiprocessing builds for sys.executable.

    Returns (kind, arguments) or None; anything else is an ordinary app argument list.
    """
    i = 0
    while i < len(args) and args[i] != "-c":
        if not _is_interpreter_flag(args[i]):
            return None
        i += 2 if args[i] in ("-X", "-W") else 1
    if i + 1 >= len(args):
        return None
    code, rest = args[i + 1], args[i + 2:]
    if not code.endswith(")"):
        return None
    if code.startswith(_MP_SPAWN) and rest == ["--multiprocessing-fork"]:
        kwargs = {}
        for item in code[len(_MP_SPAWN):-1].split(", "):
            name, _, value = item.partition("=")
            number = _small_int(value)
            if (name not in ("pipe_handle", "parent_pid", "tracker_fd") or name in kwargs
                    or (number is None and value != "None")):
                return None
            kwargs[name] = number
        if kwargs.get("pipe_handle") is None:
            return None
        return "spawn", kwargs
    if code.startswith(_MP_TRACKER) and not rest:
        fd = _small_int(code[len(_MP_TRACKER):-1])
        return None if fd is None else ("resource_tracker", fd)
    if code.startswith(_MP_FORKSERVER) and not rest:
        return _forkserver_arguments(code[len(_MP_FORKSERVER):-1], None)
    if code.startswith(_MP_FORKSERVER_ARGV):
        return _forkserver_arguments(code[len(_MP_FORKSERVER_ARGV):-1], rest)
    if "multiprocessing" in code:
        # A multiprocessing command line of a form this bootstrap does not know (a newer
        # Python?). Running the app's main instead would make every child start the app
        # again, which starts another child: refuse rather than recurse.
        _refuse("unrecognised multiprocessing command line for this Python (%r); "
                "multiprocessing is not supported with this interpreter version" % (code[:200],))
    return None


def _forkserver_arguments(text, argv):
    """Parses 'LISTENER, ALIVE, PRELOAD, **KWARGS' from multiprocessing.forkserver.

    argv is None for the form of Python <= 3.13; for 3.14's form it is the argument list that
    follows the code, which the call reads back through 'sys_argv=sys.argv[1:]'.
    """
    import ast
    try:
        call = ast.parse("f(" + text + ")", mode="eval").body
    except (SyntaxError, ValueError):
        return None
    if not isinstance(call, ast.Call) or len(call.args) != 3:
        return None
    keywords = call.keywords
    if argv is not None:
        if (len(keywords) != 2 or keywords[0].arg != "sys_argv"
                or ast.dump(keywords[0].value) != ast.dump(ast.parse("sys.argv[1:]", mode="eval").body)):
            return None
        keywords = keywords[1:]
    if len(keywords) != 1 or keywords[0].arg is not None:
        return None
    try:
        listener, alive, preload = [ast.literal_eval(a) for a in call.args]
        kwargs = ast.literal_eval(keywords[0].value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if (type(listener) is not int or type(alive) is not int or type(preload) is not list
            or any(type(m) is not str for m in preload) or type(kwargs) is not dict):
        return None
    for key, value in kwargs.items():
        if key == "sys_path":
            if type(value) is not list or any(type(p) is not str for p in value):
                return None
        elif key == "authkey_r":
            if type(value) is not int:
                return None
        elif key != "main_path" or (value is not None and type(value) is not str):
            return None
    # The main module is never run from a path: forkserver children import it by name.
    kwargs.pop("main_path", None)
    if argv is not None:
        kwargs["sys_argv"] = list(argv)
    return "forkserver", (listener, alive, preload, kwargs)


def _refuse_main_from_path(main_path):
    _refuse("multiprocessing asked to run the main module from the path %r; a sealed app's "
            "main module is imported by name only" % (main_path,))


def _run_multiprocessing(kind, arguments, loader):
    from multiprocessing import spawn
    spawn._fixup_main_from_path = _refuse_main_from_path
    if kind == "spawn":
        sys.argv = [loader, "--multiprocessing-fork"]
        spawn.spawn_main(**arguments)
    elif kind == "forkserver":
        from multiprocessing import forkserver
        sys.argv = [loader]
        listener, alive, preload, kwargs = arguments
        forkserver.main(listener, alive, preload, **kwargs)
    else:
        from multiprocessing import resource_tracker
        sys.argv = [loader]
        resource_tracker.main(arguments)
