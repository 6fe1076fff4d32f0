"""signet_seal: seals an app for the target platform of its configuration (one loader)."""

load("@rules_pkg//pkg:providers.bzl", "PackageFilegroupInfo", "PackageFilesInfo")
load("@rules_python//python:py_info.bzl", "PyInfo")
load("@rules_python//python:py_runtime_info.bzl", "PyRuntimeInfo")
load("//toolchains:platforms.bzl", "targets")
load("//toolchains:types.bzl", "SIGNET_TOOLCHAIN_TYPE", "STUB_TOOLCHAIN_TYPE")
load(":paths.bzl", "app_path", "import_root", "normalize", "strip_dir", "workspace_path")
load(":runtime.bzl", "runtime_top", "runtime_version")

SealedInfo = provider(
    doc = "Private: what signet_seal made for one platform.",
    fields = ["loader", "manifest", "delivery", "target", "platform_key", "app_files", "entry", "package_files", "level"],
)

# Keys of signet_loader's windows_resources, and the bazelseal flag of each.
WINDOWS_RESOURCE_KEYS = {
    "comments": "--comments",
    "company": "--company",
    "copyright": "--copyright",
    "description": "--description",
    "file_version": "--file-version",
    "internal_name": "--internal-name",
    "original_filename": "--original-filename",
    "product": "--product",
    "product_version": "--product-version",
}

# The keys of signet_loader's per-OS dicts (python, python_trust).
OS_KEYS = ("linux", "windows", "default")

KNOWN_TARGETS = ", ".join(targets()) + " (platforms in //platforms)"

def _is_python_source(path):
    return path.lower().endswith((".py", ".pyw"))

def label_text(label):
    """A label as users write it: "//pkg:name" for the main repository."""
    text = str(label)
    return text[2:] if text.startswith("@@//") else text

def _fail(ctx, attr, message):
    # The user's target is this one's name without ".sealed" (see signet_loader).
    name = label_text(ctx.label).removesuffix(".sealed")
    fail("signet_loader %s: %s: %s" % (name, attr, message))

def _dir_attr(ctx, attr, value):
    """Normalizes a directory attribute; fails if it leaves the root."""
    norm = normalize(value)
    if norm == None:
        _fail(ctx, attr, "%r leaves the app root (it has more \"..\" than directories): give a path inside the workspace" % value)
    return norm

def _pick_python(ctx, goos, bundled):
    """The interpreter path for the target OS from the `python` dict ("linux", "windows", "default").

    None when the loader bundles a runtime (`bundled`), which is then the only interpreter.
    """
    paths = ctx.attr.python
    path = paths.get(goos, paths.get("default"))
    if bundled:
        if path != None:
            _fail(ctx, "python", "give either python (an interpreter installed on the target) or runtime (one bundled into the delivery), not both: %s targets get python %r and runtime %s; leave %s out of python (or select() no runtime for %s)" % (goos, path, label_text(ctx.attr.runtime.label), goos, goos))
        return None
    if path == None:
        _fail(ctx, "python", "no interpreter path for %s targets (got keys %s): add %r to the dict, e.g. python = {\"linux\": \"/usr/bin/python3.11\", \"windows\": \"C:/Python311/python.exe\"}, or bundle an interpreter with runtime" % (goos, sorted(paths.keys()), goos))
    windows_style = len(path) >= 3 and path[1] == ":" and path[2] in ("/", "\\")
    if goos == "windows" and not windows_style:
        _fail(ctx, "python", "%r is not a Windows path, but this loader is for Windows: give the interpreter's path on the Windows machine per OS, e.g. python = {\"linux\": %r, \"windows\": \"C:/Python311/python.exe\"}" % (path, path))
    if goos != "windows" and not path.startswith("/"):
        _fail(ctx, "python", "%r is not an absolute %s path: give the interpreter's absolute path on the target machine, e.g. \"/usr/bin/python3.11\"" % (path, goos))
    if not ctx.attr.python_version:
        _fail(ctx, "python_version", "required with python: give the version X.Y of the interpreter %s, e.g. python_version = \"3.11\"" % path)
    return path

def _bundled_runtime(ctx, app_files):
    """The runtime of `runtime` for this target platform, or None.

    Returns struct(python, version, files, dir): the interpreter's path in the delivery, the
    Python version X.Y, the runtime's files as a list of (File, path relative to its top
    directory) sorted by that path, and the runtime's directory in the delivery.
    """
    target = ctx.attr.runtime
    if target == None:
        return None
    what = label_text(target.label)
    info = target[PyRuntimeInfo]
    if info.interpreter == None:
        _fail(ctx, "runtime", "%s is a py_runtime with interpreter_path %r, an interpreter installed on the target machine, with no files to bundle: give that path as python instead, or point runtime at a py_runtime with interpreter and files" % (what, info.interpreter_path))
    runtime_dir = normalize(ctx.attr.runtime_dir)
    if not runtime_dir:
        _fail(ctx, "runtime_dir", "%r is not a directory inside the delivery (the loader and the app are at its top): give the runtime a directory of its own, e.g. runtime_dir = \"runtime\"" % ctx.attr.runtime_dir)
    for f, path in app_files:
        if path.lower() == runtime_dir.lower() or path.lower().startswith(runtime_dir.lower() + "/"):
            _fail(ctx, "runtime_dir", "the app file %s has the app path %r, inside %r, where the runtime goes in the delivery: choose another runtime_dir, or move the file (prefix, strip_prefix)" % (f.short_path, path, runtime_dir))
    interpreter = workspace_path(info.interpreter)
    top = runtime_top(interpreter)
    files = []
    for f in depset([info.interpreter], transitive = [info.files]).to_list():
        rel = strip_dir(workspace_path(f), top)
        if rel == None:
            _fail(ctx, "runtime", "%s (a file of %s) is not under the runtime's top directory %s (the directory of its interpreter %s, or its parent when that is bin): a bundled runtime is one directory tree; move the file into it, or leave it out of the py_runtime's files" % (f.short_path, what, top or "(the workspace root)", info.interpreter.short_path))
        files.append((f, rel))
    version, error = runtime_version(getattr(info, "interpreter_version_info", None), ctx.attr.python_version, what)
    if error:
        _fail(ctx, "python_version", error)
    return struct(
        python = runtime_dir + "/" + strip_dir(interpreter, top),
        version = version,
        files = sorted(files, key = lambda entry: entry[1]),
        dir = runtime_dir,
    )

def _check_attrs(ctx):
    """Checks the attribute values that do not depend on the target platform."""
    for attr in ("python", "python_trust"):
        for key in getattr(ctx.attr, attr):
            if key not in OS_KEYS:
                _fail(ctx, attr, "unknown OS %r in the dict: use \"linux\", \"windows\" or \"default\"" % key)
    for key in sorted(ctx.attr.windows_resources.keys()):
        if key not in WINDOWS_RESOURCE_KEYS:
            _fail(ctx, "windows_resources", "unknown key %r: use %s" % (key, ", ".join(sorted(WINDOWS_RESOURCE_KEYS.keys()))))
    if ctx.attr.stamp not in (-1, 0, 1):
        _fail(ctx, "stamp", "%r: use 1 (always), 0 (never) or -1 (with --stamp)" % ctx.attr.stamp)

def _collect(ctx):
    """Returns (list of (File, app path, what)), checked for clashes."""
    strip_prefix = ctx.label.package
    if ctx.attr.strip_prefix != "__package__":
        strip_prefix = _dir_attr(ctx, "strip_prefix", ctx.attr.strip_prefix)
    prefix = _dir_attr(ctx, "prefix", ctx.attr.prefix)

    entries = []  # (File, app path, attribute it came from)
    for f in ctx.files.srcs:
        entries.append((f, app_path(workspace_path(f), [], strip_prefix, prefix), "srcs"))
    for target in ctx.attr.data:
        for f in target[DefaultInfo].files.to_list():
            if _is_python_source(f.path):
                _fail(ctx, "data", "%s (from %s) is a Python source: put it in srcs, or in a py_library in deps, so that it is sealed as a module" % (f.short_path, label_text(target.label)))
            entries.append((f, app_path(workspace_path(f), [], strip_prefix, prefix), "data"))
    for dep in ctx.attr.deps:
        if PyInfo in dep:
            info = dep[PyInfo]
            roots = [import_root(i, ctx.workspace_name) for i in info.imports.to_list()]
            files = depset(transitive = [info.transitive_sources, dep[DefaultInfo].default_runfiles.files]).to_list()
        else:
            roots = []
            files = dep[DefaultInfo].files.to_list()
        if not [f for f in files if _is_python_source(f.path)]:
            _fail(ctx, "deps", "%s provides no Python sources (no PyInfo and no .py file): use a py_library or a filegroup of .py files, and put other files in data" % label_text(dep.label))
        for f in files:
            entries.append((f, app_path(workspace_path(f), roots, strip_prefix, prefix), "deps (%s)" % label_text(dep.label)))

    # The same file reached twice (e.g. a source of two deps) is sealed once.
    by_app = {}
    result = []
    for f, path, what in entries:
        if path in by_app:
            other, other_what = by_app[path]
            if other == f:
                continue
            _fail(ctx, what, "%s and %s (from %s) both map to the app path %r: give one of them another place (strip_prefix, prefix, or the imports of its py_library)" % (f.short_path, other.short_path, other_what, path))
        by_app[path] = (f, what)
        result.append((f, path))
    return result

def _seal_impl(ctx):
    _check_attrs(ctx)
    stub = ctx.toolchains[STUB_TOOLCHAIN_TYPE]
    if stub == None:
        _fail(ctx, "platforms", "signet has no loader stub for the target platform %s: it builds loaders for %s" % (
            label_text(ctx.fragments.platform.platform),
            KNOWN_TARGETS,
        ))
    helper = ctx.toolchains[SIGNET_TOOLCHAIN_TYPE].helper
    files = _collect(ctx)
    main_file = ctx.file.main
    main_app = None
    for f, path in files:
        if f == main_file:
            main_app = path
    if main_app == None:
        _fail(ctx, "main", "%s is not among the sealed files: add it to srcs (or to a py_library in deps)" % main_file.short_path)
    if not _is_python_source(main_file.path):
        _fail(ctx, "main", "%s is not a Python script (.py or .pyw)" % main_file.short_path)

    python = _pick_python(ctx, stub.goos, bundled = ctx.attr.runtime != None)
    runtime = _bundled_runtime(ctx, files)
    trust = ctx.attr.python_trust.get(stub.goos, ctx.attr.python_trust.get("default", []))
    if runtime:
        python = runtime.python
        if trust:
            _fail(ctx, "python_trust", "%s targets bundle runtime %s, whose search path lies inside the delivery and follows from its layout: leave %s out of python_trust" % (stub.goos, label_text(ctx.attr.runtime.label), stub.goos))
        if ctx.attr.python_sha256:
            _fail(ctx, "python_sha256", "%s targets bundle runtime %s, whose interpreter is sealed with every file of it: leave python_sha256 out (or select() it per platform)" % (stub.goos, label_text(ctx.attr.runtime.label)))
    loader_name = ctx.attr.loader_name
    exe = loader_name + ".exe" if stub.goos == "windows" else loader_name
    outdir = ctx.label.name + "/" + stub.platform_key + "/"
    loader = ctx.actions.declare_file(outdir + exe)
    manifest = ctx.actions.declare_file(outdir + loader_name + ".manifest")
    delivery = ctx.actions.declare_file(outdir + loader_name + ".tar")

    args = ctx.actions.args()
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add("--target", stub.target)
    args.add("--stub", stub.stub)
    args.add("--python", python)
    args.add("--python-version", runtime.version if runtime else ctx.attr.python_version)
    args.add_all(trust, before_each = "--python-trust")
    if ctx.attr.python_sha256:
        args.add("--python-sha256", ctx.attr.python_sha256)
    args.add("--level", ctx.attr.level)
    args.add("--main", main_app)
    args.add("--loader-name", loader_name)
    inputs = [stub.stub] + [f for f, _ in files]
    if runtime:
        # The runtime's files, each with its path under the runtime's top directory; in the
        # delivery they go under runtime_dir, and --python names the interpreter there.
        args.add("--runtime-dir", runtime.dir)
        for f, path in runtime.files:
            args.add("--runtime-src", f)
            args.add("--runtime-path", path)
        inputs += [f for f, _ in runtime.files]
    if stub.goos == "windows":
        # Every Windows loader gets the application manifest; these add version information
        # and the icon. {KEY} in a value takes the workspace status value when stamping.
        for key in sorted(ctx.attr.windows_resources.keys()):
            args.add(WINDOWS_RESOURCE_KEYS[key], ctx.attr.windows_resources[key])
        if ctx.file.windows_icon:
            args.add("--icon", ctx.file.windows_icon)
            inputs.append(ctx.file.windows_icon)
        if ctx.attr.stamp == 1 or (ctx.attr.stamp == -1 and ctx.attr.stamp_detected):
            # Stable first: a key in both files takes its stable value.
            args.add("--status-file", ctx.info_file)
            args.add("--status-file", ctx.version_file)
            inputs += [ctx.info_file, ctx.version_file]
    tools = [helper]
    bytecode = ctx.attr.bytecode_interpreter
    with_bytecode = bool(bytecode) and stub.goos == ctx.attr.bytecode_os
    if with_bytecode:
        args.add("--bytecode-python", bytecode[DefaultInfo].files_to_run.executable)
        tools.append(bytecode[DefaultInfo].files_to_run)
    for f, path in files:
        args.add("--src", f)
        args.add("--app", path)
    args.add("--out-loader", loader)
    args.add("--out-manifest", manifest)
    args.add("--out-delivery", delivery)
    ctx.actions.run(
        executable = helper,
        arguments = [args],
        inputs = inputs,
        tools = tools,
        outputs = [loader, manifest, delivery],
        mnemonic = "SignetSeal",
        progress_message = "Sealing %%{label} for %s" % stub.target,
        toolchain = SIGNET_TOOLCHAIN_TYPE,
    )
    app_files = {path: f for f, path in files}

    # The installed tree for the user's own pkg_tar / pkg_zip: the loader and the app files at
    # their app paths. Sealed bytecode exists only inside the delivery tar, and a tree without
    # it would be refused (MISSING), so with bytecode the tree is offered only as that tar; so
    # is a tree with a bundled runtime (the tar holds it, as sealed).
    package_files = None if with_bytecode or runtime else PackageFilegroupInfo(
        pkg_files = [
            (PackageFilesInfo(dest_src_map = {exe: loader}, attributes = {"mode": "0755"}), ctx.label),
            (PackageFilesInfo(dest_src_map = app_files, attributes = {"mode": "0644"}), ctx.label),
        ],
        pkg_dirs = [],
        pkg_symlinks = [],
    )
    providers = [package_files] if package_files else []
    return providers + [
        DefaultInfo(files = depset([loader, manifest, delivery])),
        OutputGroupInfo(**{stub.platform_key: depset([loader, manifest, delivery])}),
        SealedInfo(
            loader = loader,
            manifest = manifest,
            delivery = delivery,
            target = stub.target,
            platform_key = stub.platform_key,
            app_files = app_files,
            entry = main_app,
            package_files = package_files,
            level = ctx.attr.level,
        ),
    ]

SEAL_ATTRS = {
    "bytecode_interpreter": attr.label(
        doc = "Opt-in: an interpreter that runs inside the seal action to compile sealed bytecode.",
        executable = True,
        cfg = "exec",
    ),
    "bytecode_os": attr.string(
        doc = "The target OS whose loaders get bytecode from bytecode_interpreter.",
        default = "linux",
    ),
    "data": attr.label_list(allow_files = True, doc = "Data files."),
    "deps": attr.label_list(doc = "py_library targets and filegroups of Python sources."),
    "level": attr.string(default = "enforce", values = ["enforce", "warn"], doc = "Enforcement level."),
    "loader_name": attr.string(mandatory = True, doc = "File name of the loader."),
    "main": attr.label(allow_single_file = True, mandatory = True, doc = "The entry script."),
    "prefix": attr.string(doc = "App directory for srcs and data."),
    "python": attr.string_dict(doc = "Interpreter path per target OS."),
    "python_sha256": attr.string(doc = "Pin of the interpreter's digest."),
    "python_trust": attr.string_list_dict(doc = "Trusted interpreter paths per target OS."),
    "python_version": attr.string(doc = "X.Y (optional with a runtime that knows its version)."),
    "runtime": attr.label(
        doc = "A py_runtime (PyRuntimeInfo) whose interpreter and files are bundled into the delivery.",
        providers = [PyRuntimeInfo],
    ),
    "runtime_dir": attr.string(default = "runtime", doc = "The bundled runtime's directory in the delivery."),
    "srcs": attr.label_list(allow_files = [".py", ".pyw"], doc = "Python sources."),
    "stamp": attr.int(
        default = -1,
        doc = "Whether {KEY} in windows_resources takes workspace status values: 1 always, 0 never, -1 with --stamp.",
    ),
    "stamp_detected": attr.bool(doc = "The build runs with --stamp (for stamp = -1)."),
    "strip_prefix": attr.string(default = "__package__", doc = "Directory stripped from paths."),
    "windows_icon": attr.label(allow_single_file = [".ico", ".png"], doc = "Icon of Windows loaders."),
    "windows_resources": attr.string_dict(doc = "Version information of Windows loaders."),
}

signet_seal = rule(
    implementation = _seal_impl,
    doc = "Private: seals an app for the target platform of this configuration. Use signet_loader.",
    attrs = SEAL_ATTRS,
    fragments = ["platform"],
    toolchains = [
        config_common.toolchain_type(SIGNET_TOOLCHAIN_TYPE, mandatory = True),
        config_common.toolchain_type(STUB_TOOLCHAIN_TYPE, mandatory = False),
    ],
)
