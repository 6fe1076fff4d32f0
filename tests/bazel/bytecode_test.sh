#!/usr/bin/env bash
# Usage: bytecode_test.sh PYTHON FILES...
# FILES are the outputs of a Linux loader of hello.py sealed for PYTHON (this sandbox's
# interpreter) with sealed bytecode compiled by it in the seal action. The delivery tar must
# hold the loader, hello.py, its bytecode and the bootstrap's two bytecode files; the manifest
# must seal the bytecode with role bytecode; the bytecode must carry PYTHON's magic number;
# the delivery, unpacked into a private temporary directory, must print "hello from posix",
# and refuse to start once a byte of the sealed bytecode is changed.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

(($# >= 2)) || fail "usage: $0 PYTHON FILES..."
python=$1
shift
[[ -x $python ]] || fail "no interpreter at $python"
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

tar_file='' manifest=''
for f in "$@"; do
  case $f in
    */linux_amd64/hello.tar) tar_file=$f ;;
    */linux_amd64/hello.manifest) manifest=$f ;;
  esac
done
[[ -n $tar_file ]] || fail "no linux_amd64/hello.tar among $*"
[[ -n $manifest ]] || fail "no linux_amd64/hello.manifest among $*"

pyc=__signet_pyc__/$version
hex='[0-9a-f]{64}'
want_re="^-rw-r--r-- 0/0 $pyc/__signet_bootstrap__\.$hex\.pyc
-rw-r--r-- 0/0 $pyc/__signet_bootstrap_lazy__\.$hex\.pyc
-rw-r--r-- 0/0 $pyc/hello\.py\.pyc
-rwxr-xr-x 0/0 hello
-rw-r--r-- 0/0 hello\.py\$"
# Regular files only: the tar may also hold the directories of __signet_pyc__.
got=$(tar -tvf "$tar_file" | awk '$1 !~ /^d/ {print $1, $2, $6}')
[[ $got =~ $want_re ]] || fail "$tar_file lists:
$got
want (regular expression):
$want_re"
echo "ok: $tar_file: $(echo "$got" | tr '\n' ';')"

# file lines: "file SHA256 SIZE ROLE PATH"; every sealed file is in the tar and vice versa.
sealed=$(awk '$1 == "file" {print $4, $5}' "$manifest")
want_sealed=$(echo "$got" | awk '$3 != "hello" {
  role = $3 ~ /^__signet_pyc__\// ? "bytecode" : ($3 == "hello.py" ? "entry" : "?")
  print role, $3
}')
[[ $sealed == "$want_sealed" ]] || fail "$manifest seals:
$sealed
want:
$want_sealed"
grep -qx "python-version $version" "$manifest" || fail "$manifest does not name python-version $version"
echo "ok: $manifest: $(echo "$sealed" | tr '\n' ';')"

dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/run.XXXXXX")
tar -xf "$tar_file" -C "$dir" --no-same-owner
magic=$("$python" -c 'import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())')
for f in "$dir/$pyc"/*.pyc; do
  got_magic=$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')
  [[ $got_magic == "$magic" ]] || fail "${f#"$dir"/}: magic $got_magic, $python has $magic"
done
echo "ok: the sealed bytecode has $python's magic number $magic"

out=$("$dir/hello" 2>&1) || fail "the sealed hello exited $?: $out"
[[ $out == "hello from posix" ]] || fail "the sealed hello printed: $out"
echo "ok: the Linux loader with sealed bytecode runs: $out"

printf 'X' | dd of="$dir/$pyc/hello.py.pyc" bs=1 seek=20 conv=notrunc status=none
if out=$("$dir/hello" 2>&1); then
  fail "the loader ran with changed bytecode: $out"
fi
[[ $out == *"$pyc/hello.py.pyc"* ]] || fail "the loader refused changed bytecode without naming it: $out"
echo "ok: the loader refuses changed bytecode: $out"
