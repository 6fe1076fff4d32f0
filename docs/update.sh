#!/bin/bash
# Copies generated docs over their checked-in copies; run by `tools/bazel run //docs:update`.
# Arguments: pairs of GENERATED (relative to the runfiles directory) and DEST (relative to the
# workspace). Each DEST is replaced atomically (a temp file in its directory, then a rename).
set -euo pipefail

if [[ -z "${BUILD_WORKSPACE_DIRECTORY:-}" ]]; then
  echo "update.sh: run it with 'tools/bazel run //docs:update'" >&2
  exit 2
fi
if (($# % 2)); then
  echo "update.sh: expected pairs of GENERATED DEST, got $# arguments" >&2
  exit 2
fi
while (($#)); do
  src=$1 dest=$BUILD_WORKSPACE_DIRECTORY/$2
  shift 2
  [[ -f "$src" ]] || { echo "update.sh: $src is missing" >&2; exit 1; }
  tmp=$(mktemp "${dest%/*}/.${dest##*/}.XXXXXX")
  cat "$src" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$dest"
  echo "updated ${dest#"$BUILD_WORKSPACE_DIRECTORY"/}"
done
