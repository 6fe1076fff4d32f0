"""A bundled runtime for the tests: the CPython of Bazel's sandbox, copied into a relocatable tree.

Only for this repository's own tests (a dev dependency in MODULE.bazel). The repository holds
bin/pythonX.Y and lib/pythonX.Y, copied from the machine's /usr/bin/pythonX.Y and
/usr/lib/pythonX.Y (in the offline root filesystem: Debian sid's CPython 3.14), and declares
`py_runtime(name = "runtime")` over them, the layout of a relocatable CPython installation.
"""

# Left out of the copy: test suites, GUI and packaging tools the tests never import, installed
# packages, the build configuration, bytecode caches (created on use: they would change the
# repository's files), and Debian's sitecustomize.py (a link to /etc).
_LEAVE_OUT_DIRS = [
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "site-packages",
    "dist-packages",
    "__pycache__",
]

# Run by the machine's interpreter: python -I -S -B -c _COPY PYTHON STDLIB VERSION LEAVE_OUT...
# Copies PYTHON to bin/pythonVERSION and the tree STDLIB to lib/pythonVERSION: regular files,
# and symlinks to files as copies of those files; dangling symlinks, symlinks to directories,
# config-* directories, LEAVE_OUT directories and sitecustomize.py are left out.
_COPY = """
import os, shutil, sys
python, stdlib, version, leave_out = sys.argv[1], sys.argv[2], sys.argv[3], set(sys.argv[4:])
os.makedirs("bin", exist_ok=True)
shutil.copyfile(python, "bin/python" + version)
os.chmod("bin/python" + version, 0o755)
dest = "lib/python" + version
for top, dirs, files in os.walk(stdlib):
    rel = os.path.relpath(top, stdlib)
    dirs[:] = sorted(
        d for d in dirs
        if d not in leave_out and not d.startswith("config-") and not os.path.islink(os.path.join(top, d))
    )
    os.makedirs(os.path.join(dest, rel), exist_ok=True)
    for f in sorted(files):
        path = os.path.join(top, f)
        if f == "sitecustomize.py" or not os.path.isfile(path):
            continue  # os.path.isfile: False for a dangling symlink or one to a directory
        out = os.path.join(dest, rel, f)
        shutil.copyfile(path, out)
        os.chmod(out, 0o755 if os.stat(path).st_mode & 0o111 else 0o644)
"""

_BUILD = """\
load("@rules_python//python:py_runtime.bzl", "py_runtime")

package(default_visibility = ["//visibility:public"])

# A copy of {python} and {stdlib}, made by {rule}.
py_runtime(
    name = "runtime",
    files = glob(["lib/**"]),
    interpreter = "bin/python{version}",
    python_version = "PY3",
)

# The same files, for tests that run the interpreter directly.
filegroup(
    name = "files",
    srcs = ["bin/python{version}"] + glob(["lib/**"]),
)
"""

def _runtime_repo_impl(rctx):
    version = rctx.attr.python_version
    python = "/usr/bin/python" + version
    stdlib = "/usr/lib/python" + version
    for path in (python, stdlib + "/os.py"):
        if not rctx.path(path).exists:
            fail("%s: %s does not exist: the tests' bundled runtime is a copy of this machine's CPython %s (%s and %s); install it (Debian: python%s), or run Bazel through tools/bazel, whose root filesystem has it" % (
                rctx.attr.name,
                path,
                version,
                python,
                stdlib,
                version,
            ))

    # A changed interpreter or standard library fetches the repository again (Bazel 7.1+).
    if hasattr(rctx, "watch"):
        rctx.watch(python)
    if hasattr(rctx, "watch_tree"):
        rctx.watch_tree(stdlib)
    result = rctx.execute(
        [python, "-I", "-S", "-B", "-c", _COPY, python, stdlib, version] + _LEAVE_OUT_DIRS,
        quiet = True,
    )
    if result.return_code != 0:
        fail("%s: copying %s and %s failed (exit %d): %s" % (rctx.attr.name, python, stdlib, result.return_code, result.stderr))
    rctx.file("BUILD.bazel", _BUILD.format(
        python = python,
        rule = "tests/bazel/runtime_repo.bzl",
        stdlib = stdlib,
        version = version,
    ))

runtime_repo = repository_rule(
    implementation = _runtime_repo_impl,
    doc = "A relocatable copy of this machine's CPython (bin/pythonX.Y, lib/pythonX.Y) with a py_runtime.",
    attrs = {
        "python_version": attr.string(default = "3.14", doc = "X.Y of /usr/bin/pythonX.Y."),
    },
)

def _test_runtime_impl(_mctx):
    runtime_repo(name = "signet_test_runtime")

test_runtime = module_extension(
    implementation = _test_runtime_impl,
    doc = "The tests' bundled runtime: @signet_test_runtime//:runtime (CPython 3.14 of the sandbox).",
)
