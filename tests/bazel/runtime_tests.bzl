"""Unit tests of rules/private/runtime.bzl: a bundled runtime's top directory and version."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")

# Unit tests of private code: they load it directly.
# buildifier: disable=bzl-visibility
load("//rules/private:runtime.bzl", "runtime_top", "runtime_version")

def _runtime_top_test_impl(ctx):
    env = unittest.begin(ctx)

    # POSIX layout: bin/python3.X under the top directory.
    asserts.equals(env, "python_3_11/x", runtime_top("python_3_11/x/bin/python3.11"))
    asserts.equals(env, "rt", runtime_top("rt/bin/python3"))

    # Windows embeddable layout: python.exe at the top.
    asserts.equals(env, "python_3_11_win", runtime_top("python_3_11_win/python.exe"))

    # Only a directory named exactly bin is stepped out of.
    asserts.equals(env, "rt/sbin", runtime_top("rt/sbin/python3"))
    asserts.equals(env, "rt/bin2", runtime_top("rt/bin2/python3"))

    # At the root of the workspace.
    asserts.equals(env, "", runtime_top("bin/python3"))
    asserts.equals(env, "", runtime_top("python.exe"))
    return unittest.end(env)

_runtime_top_test = unittest.make(_runtime_top_test_impl)

def _runtime_version_test_impl(ctx):
    env = unittest.begin(ctx)
    info = struct(major = 3, minor = 12, micro = 1)

    # interpreter_version_info known: python_version may be left out, or must agree.
    asserts.equals(env, ("3.12", None), runtime_version(info, "", "@rt//:py3_runtime"))
    asserts.equals(env, ("3.12", None), runtime_version(info, "3.12", "@rt//:py3_runtime"))
    asserts.equals(
        env,
        (None, "\"3.11\", but the runtime @rt//:py3_runtime is Python 3.12 (its interpreter_version_info): give python_version = \"3.12\", or leave python_version out"),
        runtime_version(info, "3.11", "@rt//:py3_runtime"),
    )

    # Not known (no such field, or a py_runtime that leaves it out): python_version decides.
    for unknown in [None, struct(), struct(major = None, minor = None), struct(major = 3, minor = None)]:
        asserts.equals(env, ("3.11", None), runtime_version(unknown, "3.11", "@rt//:py3_runtime"))
        version, error = runtime_version(unknown, "", "@rt//:py3_runtime")
        asserts.equals(env, None, version)
        asserts.true(
            env,
            error.startswith("required with runtime @rt//:py3_runtime: its PyRuntimeInfo has no interpreter_version_info"),
            "unexpected error for %r: %s" % (unknown, error),
        )
    return unittest.end(env)

_runtime_version_test = unittest.make(_runtime_version_test_impl)

def runtime_test_suite(name):
    """The unit tests of runtime.bzl, one test target each, in a test_suite.

    Args:
      name: the name of the test_suite.
    """
    unittest.suite(
        name,
        _runtime_top_test,
        _runtime_version_test,
    )
