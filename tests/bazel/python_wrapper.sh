#!/usr/bin/env bash
# The interpreter of Bazel's sandbox (the offline root filesystem's python3.14), as an
# executable target for signet_loader's bytecode_interpreter.
exec /usr/bin/python3.14 "$@"
