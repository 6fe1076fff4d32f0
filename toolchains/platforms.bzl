"""The platforms signet builds loaders for: the one list to extend for a new platform."""

load("@rules_go//go:def.bzl", "go_binary")

# One entry per target platform: its name (used for the platform() target in //platforms, the
# stub toolchain, the loader stub binary and the output group), and its Go and Bazel names.
# Adding a platform is one entry here (and signet/internal/stubs must know the os/arch too).
SIGNET_PLATFORMS = {
    "linux_amd64": struct(goos = "linux", goarch = "amd64", os = "linux", cpu = "x86_64"),
    "linux_arm64": struct(goos = "linux", goarch = "arm64", os = "linux", cpu = "aarch64"),
    "windows_amd64": struct(goos = "windows", goarch = "amd64", os = "windows", cpu = "x86_64"),
    "windows_arm64": struct(goos = "windows", goarch = "arm64", os = "windows", cpu = "aarch64"),
}

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
