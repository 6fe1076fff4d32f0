"""How signet_loader maps a file to its path in the app tree (pure functions, unit-tested)."""

def normalize(path):
    """Normalizes a '/'-separated relative path: drops "." and empty parts, resolves "..".

    Args:
      path: the path.

    Returns:
      The normalized path ("" for the root), or None if it leaves the root.
    """
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)

def workspace_path(file):
    """The path of a file relative to the root of its repository's runfiles tree.

    A file of the main repository: its path in the workspace ("examples/app/main.py"). A file of
    another repository: "<repository>/<path>".

    Args:
      file: a File.

    Returns:
      The path.
    """
    if file.short_path.startswith("../"):
        return file.short_path[3:]
    return file.short_path

def import_root(imp, workspace_name):
    """Turns an entry of PyInfo.imports ("<repository>/<dir>") into the form of workspace_path.

    Args:
      imp: the PyInfo import entry.
      workspace_name: ctx.workspace_name (the main repository's runfiles name).

    Returns:
      The directory, comparable with workspace_path() results ("" for the main workspace root).
    """
    if imp == workspace_name:
        return ""
    if imp.startswith(workspace_name + "/"):
        return imp[len(workspace_name) + 1:]
    return imp

def strip_dir(path, directory):
    """Returns path relative to directory, or None if it is not under it.

    Args:
      path: a normalized path.
      directory: a normalized directory ("" is the root).

    Returns:
      The relative path, or None.
    """
    if directory == "":
        return path
    if path.startswith(directory + "/"):
        return path[len(directory) + 1:]
    return None

def app_path(path, roots, strip_prefix, prefix):
    """The app path of a file.

    1. If the file lies under one of `roots` (import roots of its py_library), the path
       relative to the longest such root.
    2. Otherwise, if it lies under `strip_prefix`, the path relative to it, under `prefix`.
    3. Otherwise its workspace path, under `prefix`.

    Args:
      path: workspace_path() of the file.
      roots: import roots (normalized directories) that apply to the file.
      strip_prefix: normalized directory stripped from files not under an import root.
      prefix: normalized app directory to put those files in ("" for the app root).

    Returns:
      The app path.
    """
    best = None
    for root in roots:
        rel = strip_dir(path, root)
        if rel != None and (best == None or len(rel) < len(best)):
            best = rel
    if best != None:
        return best
    rel = strip_dir(path, strip_prefix)
    if rel == None:
        rel = path
    return prefix + "/" + rel if prefix else rel
