# shellcheck shell=bash
# Pinned versions of the tools that tools/test and tools/bazel fetch through the Go module
# proxy. Sourced.

# shellcheck disable=SC2034 # used by the files that source this one
# github.com/bazelbuild/buildtools (buildifier, buildozer): the proxy serves pseudo-versions only.
SIGNET_BUILDTOOLS_VERSION=v0.0.0-20260904073137-eaa4d125b423
