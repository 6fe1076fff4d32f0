"""Toolchain rules: the seal helper (exec) and the loader stub (target)."""

load(":platforms.bzl", "SIGNET_PLATFORMS", "target")

def _signet_toolchain_impl(ctx):
    return [platform_common.ToolchainInfo(
        helper = ctx.attr.helper[DefaultInfo].files_to_run,
    )]

signet_toolchain = rule(
    implementation = _signet_toolchain_impl,
    doc = "The helper that seals an app inside a Bazel action (runs on the execution platform).",
    attrs = {
        "helper": attr.label(
            doc = "The seal helper binary (//signet/cmd/bazelseal).",
            executable = True,
            cfg = "exec",
            mandatory = True,
        ),
    },
)

def _signet_stub_toolchain_impl(ctx):
    p = SIGNET_PLATFORMS[ctx.attr.platform_key]
    return [platform_common.ToolchainInfo(
        stub = ctx.file.stub,
        goos = p.goos,
        goarch = p.goarch,
        target = target(p),
        platform_key = ctx.attr.platform_key,
    )]

signet_stub_toolchain = rule(
    implementation = _signet_stub_toolchain_impl,
    doc = "The loader stub executable for one target platform.",
    attrs = {
        "platform_key": attr.string(
            doc = "The key of the platform in SIGNET_PLATFORMS, e.g. `linux_amd64`.",
            values = SIGNET_PLATFORMS.keys(),
            mandatory = True,
        ),
        "stub": attr.label(
            doc = "The loader stub binary for that platform.",
            allow_single_file = True,
            mandatory = True,
        ),
    },
)
