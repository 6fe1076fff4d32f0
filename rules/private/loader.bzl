"""signet_loader: one target, a loader per target platform (a one-to-many platform transition)."""

load("//toolchains:platforms.bzl", "run_hosts")
load(":providers.bzl", "SignetLoaderInfo")
load(":seal.bzl", "SealedInfo", "label_text", "signet_seal")

_PLATFORMS = "//command_line_option:platforms"

def _platforms_transition_impl(settings, attr):
    if not attr.platforms:
        # No platforms given: the loader for the target platform of the build (--platforms).
        return {"default": {_PLATFORMS: settings[_PLATFORMS]}}
    return {str(p): {_PLATFORMS: str(p)} for p in attr.platforms}

_platforms_transition = transition(
    implementation = _platforms_transition_impl,
    inputs = [_PLATFORMS],
    outputs = [_PLATFORMS],
)

# `uname -s`/`uname -m` of the machines a `bazel run` can start a loader on, by target.
_RUN_HOSTS = run_hosts()

def _loader_impl(ctx):
    sealed = [dep[SealedInfo] for dep in ctx.attr.sealed]
    loaders = {}
    for s in sealed:
        if s.target in loaders:
            fail("signet_loader %s: platforms: two entries are both %s: list each target platform once" % (label_text(ctx.label), s.target))
        loaders[s.target] = struct(
            loader = s.loader,
            manifest = s.manifest,
            delivery = s.delivery,
            target = s.target,
            app_files = s.app_files,
            level = s.level,
        )
    groups = {s.platform_key: depset([s.loader, s.manifest, s.delivery]) for s in sealed}
    all_files = depset(transitive = groups.values())

    cases = []
    runfiles = []
    for target, hosts in _RUN_HOSTS.items():
        s = loaders.get(target)
        if s == None:
            continue
        cases.append("%s)\n  delivery=%s\n  ;;" % ("|".join(hosts), ctx.workspace_name + "/" + s.delivery.short_path))
        runfiles.append(s.delivery)
    script = ctx.actions.declare_file(ctx.label.name + ".run.sh")
    ctx.actions.expand_template(
        template = ctx.file._run_template,
        output = script,
        substitutions = {
            "%{CASES}": "\n".join(cases),
            "%{LABEL}": str(ctx.label),
            "%{LOADER}": ctx.attr.loader_name,
            "%{TARGETS}": ", ".join(sorted(loaders.keys())),
        },
        is_executable = True,
    )
    if len(sealed) == 1:
        # rules_pkg takes a package's inputs from DefaultInfo: the app files must be there
        # for a pkg_tar / pkg_zip of this target to read them.
        all_files = depset(sealed[0].app_files.values(), transitive = [all_files])
    providers = [
        DefaultInfo(
            files = all_files,
            executable = script,
            runfiles = ctx.runfiles(files = runfiles),
        ),
        OutputGroupInfo(**groups),
        SignetLoaderInfo(loaders = loaders, entry = sealed[0].entry),
    ]
    if len(sealed) == 1 and sealed[0].package_files:
        providers.append(sealed[0].package_files)
    return providers

signet_loader_rule = rule(
    implementation = _loader_impl,
    doc = "Private: the public face of signet_loader (a macro creates it).",
    attrs = {
        "loader_name": attr.string(mandatory = True),
        "platforms": attr.label_list(providers = [platform_common.PlatformInfo]),
        "sealed": attr.label(cfg = _platforms_transition, mandatory = True, providers = [SealedInfo]),
        "_run_template": attr.label(
            default = Label("//rules/private:loader_run.sh.tpl"),
            allow_single_file = True,
        ),
    },
    executable = True,
)

def _per_os(value):
    """A value for all target OSes, or a dict keyed by OS, as a dict keyed by OS ("default").

    signet_seal checks the keys at analysis, where a mistake fails only this target.
    """
    if value == None:
        return {}
    if type(value) == "dict":
        return value
    return {"default": value}

def signet_loader(
        name,
        main,
        python = None,
        python_version = None,
        runtime = None,
        runtime_dir = "runtime",
        srcs = [],
        deps = [],
        data = [],
        platforms = [],
        python_trust = None,
        python_sha256 = None,
        loader_name = None,
        strip_prefix = "__package__",
        prefix = "",
        level = "enforce",
        bytecode_interpreter = None,
        windows_resources = {},
        windows_icon = None,
        stamp = -1,
        **kwargs):
    """Seals a Python app into a loader for each target platform.

    A loader (`hello` on Linux, `hello.exe` on Windows) verifies every sealed file of the app
    at each start, then runs the entry script with the target machine's interpreter (`python`)
    or with a CPython bundled into the delivery (`runtime`), hardened.
    For each platform the target builds the loader, its canonical manifest
    (`hello.manifest`) and the delivery (`hello.tar`: the loader and the app tree exactly as
    installed, with sorted entries, fixed mtimes, owner 0:0, modes 0755/0644). Output group
    per platform: `linux_amd64`, `windows_amd64`, ... Providers: `SignetLoaderInfo`, and with
    one platform, no `bytecode_interpreter` and no `runtime` rules_pkg's `PackageFilegroupInfo`
    (the installed tree for your own `pkg_tar` / `pkg_zip`; with sealed bytecode, whose files
    exist only inside the delivery tar, or a bundled runtime, use that tar instead).

    `bazel run` on it (Linux hosts) unpacks the delivery for this machine into a private
    temporary directory and runs the loader with the arguments given.

    How a file gets its path in the app tree (its "app path"):

    1. A file of a `deps` entry that lies under one of the import roots of that py_library
       (its `imports`, transitively) gets its path relative to the longest such root:
       `py_library(name = "greet", srcs = ["greet/__init__.py"], imports = ["."])` in package
       `libs` gives `greet/__init__.py`.
    2. Otherwise, a file under `strip_prefix` (default: this target's package) gets its path
       relative to it, under `prefix`: `srcs = ["hello.py"]` in package `examples/hello` gives
       `hello.py`.
    3. Otherwise the file's workspace path (`libs/util.py`), under `prefix`; a file of another
       repository: `<repository>/<path>`.

    Example:

    ```starlark
    load("@signet//rules:defs.bzl", "signet_loader")

    signet_loader(
        name = "hello_loader",
        main = "hello.py",
        srcs = ["hello.py"],
        deps = ["//libs/greet"],
        data = ["config/greeting.txt"],
        python = {
            "linux": "/usr/bin/python3.11",
            "windows": "C:/Python311/python.exe",
        },
        python_version = "3.11",
        platforms = [
            "@signet//platforms:linux_amd64",
            "@signet//platforms:windows_amd64",
        ],
    )
    ```

    A bundled runtime: `runtime` names a rules_python `py_runtime` with `interpreter` and
    `files` (a relocatable CPython, such as the hermetic interpreters of rules_python's `python`
    extension). Its files are sealed and shipped in the delivery under `runtime_dir`, and the
    loader runs that interpreter, wherever the delivery's directory is moved. The seal is
    analysed once per target platform (a platform transition), so a `select()` on the platform
    (or an `alias` with one) picks each platform's runtime; a platform that gets no runtime
    (`None`) uses `python`:

    ```starlark
    signet_loader(
        name = "hello_loader",
        main = "hello.py",
        srcs = ["hello.py"],
        runtime = select({
            "@platforms//os:linux": "@python_3_11_x86_64-unknown-linux-gnu//:py3_runtime",
            "//conditions:default": None,
        }),
        python = {"windows": "C:/Python311/python.exe"},
        python_version = "3.11",
        platforms = [
            "@signet//platforms:linux_amd64",
            "@signet//platforms:windows_amd64",
        ],
    )
    ```

    macOS is not supported: signet has no loader stub for it.

    Args:
      name: the target name. `bazel build :name` builds the loader of every platform.
      main: the entry script (a label); it must be among the sealed files (in `srcs`, or a
        source of a py_library in `deps`). Example: `main = "hello.py"`.
      python: the interpreter's absolute path on the target machine (never run at build
        time), or a dict by target OS (`"linux"`, `"windows"`, `"default"`). Windows paths use
        `/`. Example: `{"linux": "/usr/bin/python3.11", "windows": "C:/Python311/python.exe"}`.
        Give either `python` or `runtime` for an OS, not both.
      python_version: the interpreter's version `X.Y`, checked at every start. Example:
        `"3.11"`. With `runtime` it may be left out when the runtime's `PyRuntimeInfo` has
        `interpreter_version_info` (newer rules_python), which it must then agree with.
      runtime: a label with rules_python's `PyRuntimeInfo` (a `py_runtime` with `interpreter`
        and `files`; one with `interpreter_path` is refused: give that path as `python`)
        whose interpreter and files are bundled into the delivery. The runtime's top
        directory is the interpreter's directory, or its parent when that is `bin`
        (`bin/python3.11`; the Windows embeddable layout has `python.exe` at the top); every
        file must lie under it. Files in `__pycache__` are left out (neither sealed nor
        shipped). Use `select()` on the platform for a runtime per platform (see above).
        Example: `"@python_3_11_x86_64-unknown-linux-gnu//:py3_runtime"`.
      runtime_dir: the bundled runtime's directory in the delivery; the loader then runs the
        interpreter at its path under the top directory there (`runtime/bin/python3.11`,
        `runtime/python.exe`). No app file may lie in it.
      srcs: Python sources of the app (`.py`, `.pyw`). Example: `glob(["**/*.py"])`.
      deps: `py_library` targets (their transitive sources and data, placed by their
        `imports`) and filegroups of Python sources. A dep without Python sources is an error.
        Example: `["//libs/greet"]`.
      data: data files of the app (not `.py`: those belong in `srcs`). Example:
        `["config/greeting.txt"]`.
      platforms: `platform` targets to build loaders for, in one build (a one-to-many
        transition); empty means the build's own `--platforms`. Known:
        `@signet//platforms:linux_amd64`, `linux_arm64`, `windows_amd64`, `windows_arm64`.
      python_trust: absolute paths on the target whose ownership the loader checks (the
        interpreter's `sys.path` and libpython), a list or a dict by OS; not for an OS with a
        bundled `runtime`. Default: the standard
        installation's (Linux: `<prefix>/lib/pythonX.Y`, its `lib-dynload`,
        `<prefix>/lib/pythonXY.zip`; Windows: the interpreter's directory, `DLLs`, `Lib`,
        `pythonXY.zip`). Example: `{"linux": ["/usr/lib/python3.11",
        "/usr/lib/python3.11/lib-dynload"]}`.
      python_sha256: pins the interpreter executable's SHA-256 (64 lower-case hex digits); a
        loader then refuses any other interpreter. Not with `runtime` (a bundled interpreter is
        sealed anyway).
      loader_name: the loader's file name without `.exe`. Default: `main`'s name without
        `.py` (`hello.py` gives `hello` and `hello.exe`).
      strip_prefix: workspace directory stripped from app paths (rule 2 above); default
        `"__package__"`, this target's package. `""` keeps workspace paths. Example:
        `"examples/hello/src"`.
      prefix: app directory to put `srcs` and `data` in (rule 2 and 3 above). Example:
        `"app"` puts `hello.py` at `app/hello.py`.
      level: `"enforce"` (refuse to start on any problem) or `"warn"` (report, then start:
        development only).
      bytecode_interpreter: opt-in sealed bytecode (faster starts): an executable label of an
        interpreter of exactly `python_version` that runs inside the seal action (for example
        a hermetic rules_python interpreter, `"@python_3_11_host//:python"`). The target
        machine's interpreter is not available in the build, so without this the loaders seal
        no bytecode and modules are compiled from their verified source at each import. Only
        Linux loaders get it. With `runtime`, the runtime's standard library gets sealed
        bytecode too.
      windows_resources: version information of the Windows loaders (Explorer's Properties >
        Details), a dict with any of `company`, `product`, `description`, `file_version`,
        `product_version` (`1.2.3` or `1.2.3.4`), `copyright`, `original_filename`,
        `internal_name`, `comments`. `{KEY}` in a value is replaced by the workspace status
        value of KEY (`--workspace_status_command`) when the build is stamped; unstamped, a
        version with a `{KEY}` is `0.0.0.0` and a `{KEY}` elsewhere is dropped, so unstamped
        builds are reproducible. Every Windows loader also gets the application manifest
        (asInvoker, long paths, UTF-8), with or without this. Example:
        `{"company": "Example Ltd", "file_version": "{STABLE_VERSION}"}`.
      windows_icon: the Windows loaders' icon, a `.ico` or a `.png` of at most 256x256.
      stamp: whether `{KEY}` in `windows_resources` takes workspace status values: `1`
        always, `0` never, `-1` (default) when the build runs with `--stamp`.
      **kwargs: `tags`, `visibility`, `testonly`, ... of the target.
    """
    if loader_name == None:
        base = main.split(":")[-1].split("/")[-1]
        loader_name = base[:-3] if base.endswith(".py") else base
    visibility = kwargs.pop("visibility", None)
    tags = kwargs.pop("tags", [])
    testonly = kwargs.pop("testonly", None)

    # The attribute values are checked by signet_seal at analysis (not here, in the loading
    # phase, where a fail() would break every target of the package).
    signet_seal(
        name = name + ".sealed",
        main = main,
        srcs = srcs,
        deps = deps,
        data = data,
        python = _per_os(python),
        python_version = "" if python_version == None else python_version,
        runtime = runtime,
        runtime_dir = runtime_dir,
        python_trust = _per_os(python_trust),
        python_sha256 = python_sha256,
        loader_name = loader_name,
        strip_prefix = strip_prefix,
        prefix = prefix,
        level = level,
        bytecode_interpreter = bytecode_interpreter,
        windows_resources = windows_resources,
        windows_icon = windows_icon,
        stamp = stamp,
        stamp_detected = select({
            Label("//rules/private:stamp_detect"): True,
            "//conditions:default": False,
        }),
        # Built through `name` (one configuration per platform), not on its own.
        tags = ["manual"] + tags,
        testonly = testonly,
        visibility = ["//visibility:private"],
    )
    signet_loader_rule(
        name = name,
        sealed = ":" + name + ".sealed",
        platforms = platforms,
        loader_name = loader_name,
        tags = tags,
        testonly = testonly,
        visibility = visibility,
        **kwargs
    )
