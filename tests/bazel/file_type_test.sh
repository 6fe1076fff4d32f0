#!/usr/bin/env bash
# Usage: file_type_test.sh FILE EXPECTED [FILE EXPECTED]...
# Fails unless `file -b -L FILE` contains EXPECTED, for every pair.
set -euo pipefail

if ! command -v file >/dev/null 2>&1; then
  echo "FAIL: the 'file' command is not installed (Debian: apt-get install file)" >&2
  exit 1
fi
if (($# == 0 || $# % 2 != 0)); then
  echo "usage: $0 FILE EXPECTED [FILE EXPECTED]..." >&2
  exit 2
fi

failures=0
while (($#)); do
  path=$1 expected=$2
  shift 2
  actual=$(file -b -L "$path")
  if [[ "$actual" == *"$expected"* ]]; then
    echo "ok: $path: $actual"
  else
    echo "FAIL: $path: want \"$expected\", file says: $actual" >&2
    failures=$((failures + 1))
  fi
done
exit $((failures > 0))
