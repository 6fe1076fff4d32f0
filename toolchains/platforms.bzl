"""The platforms signet builds loaders for: the one list to extend for a new platform."""

load("@rules_go//go:def.bzl", "go_binary")

# One entry per target platform: its name (used for the platform() target in //platforms, the
# stub toolchain, the loader stub binary and the output group), its Go and Bazel names, and
# `uname`: the `uname -s`/`uname -m` of machines where `bazel run` can start its loader (empty:
# none). Every other list of targets in the rules is derived from this table; adding a platform
# is one entry here (and signet/internal/platform must know the os/arch too: a Go test compares
# the two tables, reading each entry on one line in exactly this form).
SIGNET_PLATFORMS = {
    "linux_amd64": struct(goos = "linux", goarch = "amd64", os = "linux", cpu = "x86_64", uname = ["Linux/x86_64"]),
    "linux_arm64": struct(goos = "linux", goarch = "arm64", os = "linux", cpu = "aarch64", uname = ["Linux/aarch64", "Linux/arm64"]),
    "windows_amd64": struct(goos = "windows", goarch = "amd64", os = "windows", cpu = "x86_64", uname = []),
    "windows_arm64": struct(goos = "windows", goarch = "arm64", os = "windows", cpu = "aarch64", uname = []),
}

def target(p):
    """The target name of a platform entry, as the loaders and SignetLoaderInfo name it.

    Args:
      p: an entry of SIGNET_PLATFORMS.

    Returns:
      "<goos>/<goarch>", e.g. "linux/amd64".
    """
    return p.goos + "/" + p.goarch

def targets(goos = None):
    """The target names of SIGNET_PLATFORMS, in table order.

    Args:
      goos: only the targets of this Go OS ("linux", "windows"); None for all.

    Returns:
      A list of "<goos>/<goarch>" strings.
    """
    return [target(p) for p in SIGNET_PLATFORMS.values() if goos == None or p.goos == goos]

def run_hosts():
    """The machines `bazel run` can start a loader on, by target.

    Returns:
      A dict: "<goos>/<goarch>" to the list of `uname -s`/`uname -m` strings of that platform's
      machines, for the platforms that have any.
    """
    return {target(p): p.uname for p in SIGNET_PLATFORMS.values() if p.uname}

def constraints(p):
    """The constraint labels of a platform entry.

    Args:
      p: an entry of SIGNET_PLATFORMS.

    Returns:
      The @platforms os and cpu constraint values, as strings.
    """
    return ["@platforms//os:" + p.os, "@platforms//cpu:" + p.cpu]

def loader_stubs(name = "loader"):
    """Declares one loader stub binary per platform: `<name>_<os>_<arch>`.

    Cross-compiled by rules_go for each goos/goarch: pure Go (no cgo), with trimmed paths.

    Args:
      name: prefix of the binaries; the library embedded is `:<name>_lib`.
    """
    for key, p in SIGNET_PLATFORMS.items():
        go_binary(
            name = name + "_" + key,
            embed = [":" + name + "_lib"],
            goos = p.goos,
            goarch = p.goarch,
            pure = "on",
            visibility = ["//toolchains:__pkg__"],
        )

def platform_targets(name = ""):
    """Declares a platform() target per entry of SIGNET_PLATFORMS: `<name><key>`.

    Args:
      name: prefix of the target names ("" gives linux_amd64, ...).
    """
    for key, p in SIGNET_PLATFORMS.items():
        native.platform(
            name = name + key,
            constraint_values = constraints(p),
            visibility = ["//visibility:public"],
        )
