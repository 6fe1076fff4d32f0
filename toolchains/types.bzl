"""The two toolchain types of signet, each named by one Label constant."""

# Exec-type: the helper that runs inside seal actions (built for the execution platform).
SIGNET_TOOLCHAIN_TYPE = Label("//toolchains:signet_toolchain_type")

# Target-type: the loader stub for the target platform.
STUB_TOOLCHAIN_TYPE = Label("//toolchains:stub_toolchain_type")
