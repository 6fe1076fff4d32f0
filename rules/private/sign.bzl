"""signet_sign: Authenticode-signs a Windows loader of a signet_loader target, with `bazel run`."""

load("//toolchains:platforms.bzl", "targets")
load(":providers.bzl", "SignetLoaderInfo")
load(":seal.bzl", "label_text")

# Path components of a package that may hold test keys checked into the repository.
TEST_KEY_DIRS = ("testdata", "test_keys")

def _fail(ctx, attr, message):
    fail("signet_sign %s: %s: %s" % (label_text(ctx.label), attr, message))

def _runfiles_path(ctx, f):
    return ctx.workspace_name + "/" + f.short_path if not f.short_path.startswith("../") else f.short_path[3:]

def _check_test_key(ctx):
    """Build-time signing is for test keys checked into the repository only."""
    f = ctx.file.test_pfx
    label = ctx.attr.test_pfx.label
    parts = label.package.split("/")
    if not f.is_source or label.workspace_name != "" or not [p for p in parts if p in TEST_KEY_DIRS]:
        _fail(ctx, "test_pfx", "%s is not a test key checked into this repository: build-time signing takes only a source file of the main repository in a package with a %s directory in its path. Sign with real keys by `bazel run %s -- --pfx ...`, so that they never enter actions, caches or build event uploads" % (
            label_text(label),
            " or ".join(["`%s`" % d for d in TEST_KEY_DIRS]),
            label_text(ctx.label),
        ))
    if not ctx.attr.testonly:
        _fail(ctx, "test_pfx", "%s: a target that signs with a test key must be testonly = True" % label_text(label))

def _sign_impl(ctx):
    info = ctx.attr.loader[SignetLoaderInfo]
    s = info.loaders.get(ctx.attr.target)
    if s == None:
        _fail(ctx, "target", "%s built no loader for %s (it has %s): add the platform to its platforms" % (
            label_text(ctx.attr.loader.label),
            ctx.attr.target,
            ", ".join(sorted(info.loaders.keys())),
        ))
    if not ctx.attr.target.startswith("windows/"):
        _fail(ctx, "target", "%s: only Windows loaders are signed (Authenticode)" % ctx.attr.target)
    if s.level != "enforce":
        _fail(ctx, "loader", "refusing to sign a warn-level loader (%s has level = %r): a signature would vouch for a loader that starts the app whatever its checks find; seal with level = \"enforce\"" % (label_text(ctx.attr.loader.label), s.level))

    signet = ctx.attr._signet[DefaultInfo].files_to_run.executable
    script = ctx.actions.declare_file(ctx.label.name + ".sign.sh")
    ctx.actions.expand_template(
        template = ctx.file._run_template,
        output = script,
        substitutions = {
            "%{LABEL}": label_text(ctx.label),
            "%{LOADER}": s.loader.basename,
            "%{LOADER_LABEL}": label_text(ctx.attr.loader.label),
            "%{LOADER_PATH}": _runfiles_path(ctx, s.loader),
            "%{SIGNET}": _runfiles_path(ctx, signet),
        },
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [s.loader]).merge(ctx.attr._signet[DefaultInfo].default_runfiles)

    files = []
    if ctx.attr.test_pfx:
        _check_test_key(ctx)
        signed = ctx.actions.declare_file(ctx.label.name + "/" + s.loader.basename)
        args = ctx.actions.args()
        args.add("sign")
        args.add("--pfx", ctx.file.test_pfx)
        args.add("--password-env", "SIGNET_TEST_KEY_PASSWORD")
        args.add(s.loader)
        args.add("-o", signed)
        ctx.actions.run(
            executable = ctx.executable._signet_exec,
            arguments = [args],
            inputs = [s.loader, ctx.file.test_pfx],
            outputs = [signed],
            env = {"SIGNET_TEST_KEY_PASSWORD": ctx.attr.test_password},
            mnemonic = "SignetTestSign",
            progress_message = "Signing %%{label} with the test key %s" % label_text(ctx.attr.test_pfx.label),
        )
        files.append(signed)
    return [DefaultInfo(
        files = depset(files),
        executable = script,
        runfiles = runfiles,
    )]

signet_sign = rule(
    implementation = _sign_impl,
    doc = """Signs a Windows loader of a signet_loader target (Authenticode), with `bazel run`.

Follows rules_oci's `cosign_sign`: an executable rule, so that real keys never enter actions,
the cache, runfiles or build event uploads (a `.pfx` given as a label would be uploaded with
the runfiles). The key and its password come only from the command line of the run:

```
bazel run //examples/hello:hello_sign -- --pfx ~/vendor.pfx --password-file ~/pw \\
    --timestamp http://timestamp.example -o dist/hello.exe
```

runs `signet sign ARGS... LOADER` (the built loader is added as the last argument; paths are
relative to where `bazel run` was typed; see docs/signing.md for the flags, `--saved-password`
and the HSM path `--digest-out` / `--signature-in`). `signet` is `//signet/cmd/signet` built
for the target configuration, which for `bazel run` is the machine it is typed on. Without
arguments the script prints its usage and exits 2.

A warn-level loader is refused at analysis (as `signet sign` refuses one).

`test_pfx` (with `test_password`) also signs at build time, for tests only: the key must be a
source file of the main repository in a package with a `testdata` or `test_keys` directory
in its path, and the target must be `testonly`; anything else fails analysis. The signed
loader is then the target's output. Without a time stamp signing is deterministic, so the
build-time output is cacheable.

Example:

```starlark
load("@signet//rules:defs.bzl", "signet_loader", "signet_sign")

signet_sign(
    name = "hello_sign",
    loader = ":hello_loader",
    target = "windows/amd64",
)
```
""",
    attrs = {
        "loader": attr.label(
            mandatory = True,
            providers = [SignetLoaderInfo],
            doc = "The signet_loader target whose loader is signed.",
        ),
        "target": attr.string(
            default = "windows/amd64",
            doc = "Which of its loaders: " + " or ".join(["`\"%s\"`" % t for t in targets("windows")]) + ".",
        ),
        "test_password": attr.string(doc = "The password of test_pfx (a test key's password, not a secret)."),
        "test_pfx": attr.label(
            allow_single_file = [".pfx", ".p12"],
            doc = "Test key checked into the repository: signs at build time (tests only).",
        ),
        "_run_template": attr.label(
            default = Label("//rules/private:sign_run.sh.tpl"),
            allow_single_file = True,
        ),
        "_signet": attr.label(
            default = "//signet/cmd/signet",
            executable = True,
            # `bazel run` starts the script on the machine it was typed on: the target
            # configuration (the host, unless --platforms says otherwise).
            cfg = "target",
        ),
        "_signet_exec": attr.label(
            default = "//signet/cmd/signet",
            executable = True,
            cfg = "exec",
        ),
    },
    executable = True,
)
