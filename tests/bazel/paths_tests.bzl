"""Unit tests of rules/private/paths.bzl: how signet_loader maps a file to its app path."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")

# Unit tests of private code: they load it directly.
# buildifier: disable=bzl-visibility
load("//rules/private:paths.bzl", "app_path", "import_root", "normalize", "strip_dir", "workspace_path")

def _normalize_test_impl(ctx):
    env = unittest.begin(ctx)
    for path, want in [
        ("", ""),
        (".", ""),
        ("./", ""),
        ("/", ""),
        ("a", "a"),
        ("a/b/c.py", "a/b/c.py"),
        ("a//b", "a/b"),
        ("a/./b/.", "a/b"),
        ("/a/b/", "a/b"),
        ("a/../b", "b"),
        ("a/b/../../c", "c"),
        ("a/..", ""),
        ("a/b/..", "a"),
        ("..a/b..", "..a/b.."),
        ("...", "..."),
        (".hidden/x", ".hidden/x"),
    ]:
        asserts.equals(env, want, normalize(path), "normalize(%r)" % path)
    for path in ["..", "../a", "a/../..", "a/../../b", "./..", "a/b/../../.."]:
        asserts.equals(env, None, normalize(path), "normalize(%r) leaves the root" % path)
    return unittest.end(env)

_normalize_test = unittest.make(_normalize_test_impl)

def _file(short_path):
    # workspace_path reads only File.short_path.
    return struct(short_path = short_path)

def _workspace_path_test_impl(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "examples/app/main.py", workspace_path(_file("examples/app/main.py")))
    asserts.equals(env, "main.py", workspace_path(_file("main.py")))

    # A file of another repository: short_path "../<repository>/<path>".
    asserts.equals(env, "other_repo/lib/x.py", workspace_path(_file("../other_repo/lib/x.py")))
    asserts.equals(env, "rules_python+/python/x.py", workspace_path(_file("../rules_python+/python/x.py")))

    # Only a leading "../" marks another repository.
    asserts.equals(env, "a/../b.py", workspace_path(_file("a/../b.py")))
    return unittest.end(env)

_workspace_path_test = unittest.make(_workspace_path_test_impl)

def _import_root_test_impl(ctx):
    env = unittest.begin(ctx)

    # The main repository's runfiles name: its root, and directories under it.
    asserts.equals(env, "", import_root("_main", "_main"))
    asserts.equals(env, "libs/greet", import_root("_main/libs/greet", "_main"))

    # Another repository's entries are already in workspace_path form.
    asserts.equals(env, "other_repo/lib", import_root("other_repo/lib", "_main"))
    asserts.equals(env, "other_repo", import_root("other_repo", "_main"))

    # A repository whose name starts with the main repository's is not the main repository.
    asserts.equals(env, "_main2/lib", import_root("_main2/lib", "_main"))
    return unittest.end(env)

_import_root_test = unittest.make(_import_root_test_impl)

def _strip_dir_test_impl(ctx):
    env = unittest.begin(ctx)

    # The root strips nothing.
    asserts.equals(env, "a/b.py", strip_dir("a/b.py", ""))
    asserts.equals(env, "b.py", strip_dir("a/b.py", "a"))
    asserts.equals(env, "c.py", strip_dir("a/b/c.py", "a/b"))

    # Not under the directory: a sibling with the same prefix, the directory itself, another one.
    asserts.equals(env, None, strip_dir("ab/c.py", "a"))
    asserts.equals(env, None, strip_dir("a", "a"))
    asserts.equals(env, None, strip_dir("x/b.py", "a"))
    asserts.equals(env, None, strip_dir("a/b.py", "a/b/c"))
    return unittest.end(env)

_strip_dir_test = unittest.make(_strip_dir_test_impl)

def _app_path_test_impl(ctx):
    env = unittest.begin(ctx)

    # Rule 1: under an import root, relative to it; prefix and strip_prefix do not apply.
    asserts.equals(env, "greet/__init__.py", app_path("libs/greet/__init__.py", ["libs"], "examples/app", "app"))

    # ... relative to the longest matching root.
    asserts.equals(env, "c.py", app_path("a/b/c.py", ["a", "a/b"], "", ""))
    asserts.equals(env, "c.py", app_path("a/b/c.py", ["a/b", "a"], "", ""))

    # ... the root "" (the workspace root) matches everything.
    asserts.equals(env, "a/b/c.py", app_path("a/b/c.py", [""], "a", "p"))

    # Roots that do not apply are ignored.
    asserts.equals(env, "b/c.py", app_path("a/b/c.py", ["x", "a/bb"], "a", ""))

    # Rule 2: under strip_prefix, relative to it, under prefix.
    asserts.equals(env, "hello.py", app_path("examples/hello/hello.py", [], "examples/hello", ""))
    asserts.equals(env, "app/hello.py", app_path("examples/hello/hello.py", [], "examples/hello", "app"))
    asserts.equals(env, "app/x/hello/hello.py", app_path("examples/hello/hello.py", [], "examples", "app/x"))

    # Rule 3: neither: the workspace path, under prefix.
    asserts.equals(env, "libs/util.py", app_path("libs/util.py", [], "examples/hello", ""))
    asserts.equals(env, "app/libs/util.py", app_path("libs/util.py", [], "examples/hello", "app"))
    asserts.equals(env, "other_repo/x.py", app_path("other_repo/x.py", ["lib"], "examples", ""))

    # strip_prefix "" keeps workspace paths.
    asserts.equals(env, "examples/hello/hello.py", app_path("examples/hello/hello.py", [], "", ""))
    return unittest.end(env)

_app_path_test = unittest.make(_app_path_test_impl)

def paths_test_suite(name):
    """The unit tests of paths.bzl, one test target each, in a test_suite.

    Args:
      name: the name of the test_suite.
    """
    unittest.suite(
        name,
        _normalize_test,
        _workspace_path_test,
        _import_root_test,
        _strip_dir_test,
        _app_path_test,
    )
