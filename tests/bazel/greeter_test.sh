#!/usr/bin/env bash
# Usage: greeter_test.sh GREETER_FILES... -- SANDBOX_FILES...
# GREETER_FILES are the linux_amd64 outputs of //examples/greeter:greeter_loader: an app with
# a py_library of another package (//examples/libs/greet, `imports = ["."]`) and a data file.
# Its delivery tar must hold exactly the loader and the app tree (with its directories), the
# library under greet/, and its manifest must seal the same files with their roles. SANDBOX_FILES are the
# outputs of the same app sealed for the interpreter in this sandbox: its delivery, unpacked
# into a private temporary directory, must greet the names given.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

files=()
while (($#)) && [[ $1 != -- ]]; do
  files+=("$1")
  shift
done
(($# >= 2)) || fail "usage: $0 GREETER_FILES... -- SANDBOX_FILES..."
shift

find_file() { # SUFFIX FILES...: the one file ending in SUFFIX
  local suffix=$1 f
  shift
  for f in "$@"; do
    [[ $f == *"$suffix" ]] && echo "$f" && return
  done
  fail "no $suffix among $*"
}
tar_file=$(find_file /linux_amd64/greeter.tar "${files[@]}")
manifest=$(find_file /linux_amd64/greeter.manifest "${files[@]}")
runnable=$(find_file /linux_amd64/greeter.tar "$@")

want_tar=$'drwxr-xr-x 0/0 config/
-rw-r--r-- 0/0 config/style.txt
drwxr-xr-x 0/0 greet/
-rw-r--r-- 0/0 greet/__init__.py
-rw-r--r-- 0/0 greet/style.py
-rw-r--r-- 0/0 greet/words.txt
-rwxr-xr-x 0/0 greeter
-rw-r--r-- 0/0 greeter.py'
got=$(tar -tvf "$tar_file" | awk '{print $1, $2, $6}')
[[ $got == "$want_tar" ]] || fail "$tar_file lists:
$got
want:
$want_tar"
echo "ok: $tar_file: $(echo "$got" | tr '\n' ';')"

head -n 1 "$manifest" | grep -qx 'signet-manifest 1' || fail "$manifest is not a signet manifest"
grep -qx 'entry greeter.py' "$manifest" || fail "$manifest does not name greeter.py as the entry"
want_files=$'data config/style.txt
module greet/__init__.py
module greet/style.py
data greet/words.txt
entry greeter.py'
# file lines: "file SHA256 SIZE ROLE PATH"
got=$(awk '$1 == "file" {print $4, $5}' "$manifest")
[[ $got == "$want_files" ]] || fail "$manifest seals:
$got
want:
$want_files"
echo "ok: $manifest: $(echo "$got" | tr '\n' ';')"

dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/run.XXXXXX")
tar -xf "$runnable" -C "$dir" --no-same-owner
out=$("$dir/greeter" Ada Grace 2>&1) || fail "the sealed greeter exited $?: $out"
[[ $out == $'HELLO, ADA!\nHELLO, GRACE!' ]] || fail "the sealed greeter printed: $out"
echo "ok: the Linux loader runs: $(echo "$out" | tr '\n' ';')"
