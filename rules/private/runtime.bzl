"""How signet_loader reads a bundled runtime (a py_runtime): pure functions, unit-tested."""

def _dirname(path):
    i = path.rfind("/")
    return path[:i] if i >= 0 else ""

def runtime_top(interpreter):
    """The top directory of a runtime, from its interpreter's path.

    The interpreter's directory, or its parent when that directory is `bin`: the POSIX layout
    has `bin/python3.X` under the top, the Windows embeddable layout `python.exe` at the top.

    Args:
      interpreter: the interpreter's '/'-separated path (workspace_path() of its File).

    Returns:
      The top directory ("" for the root).
    """
    directory = _dirname(interpreter)
    if directory.split("/")[-1] == "bin":
        return _dirname(directory)
    return directory

def runtime_version(version_info, python_version, runtime):
    """The Python version `X.Y` of a bundled runtime.

    Args:
      version_info: the PyRuntimeInfo's `interpreter_version_info` (a struct with `major` and
        `minor`), or None where rules_python has no such field or the py_runtime leaves it out.
      python_version: signet_loader's `python_version` ("" when not given).
      runtime: the runtime's label, for the messages.

    Returns:
      (version, None), or (None, the error: what is wrong and what to do).
    """
    known = None
    if version_info != None:
        major = getattr(version_info, "major", None)
        minor = getattr(version_info, "minor", None)
        if major != None and minor != None:
            known = "%s.%s" % (major, minor)
    if known == None:
        if not python_version:
            return None, "required with runtime %s: its PyRuntimeInfo has no interpreter_version_info (older rules_python, or a py_runtime without it), so give the runtime's version, e.g. python_version = \"3.11\"" % runtime
        return python_version, None
    if python_version and python_version != known:
        return None, "%r, but the runtime %s is Python %s (its interpreter_version_info): give python_version = %r, or leave python_version out" % (python_version, runtime, known, known)
    return known, None
