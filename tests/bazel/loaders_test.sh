#!/usr/bin/env bash
# Usage: loaders_test.sh HELLO_FILES... -- SANDBOX_FILES...
# HELLO_FILES are the outputs of //examples/hello:hello_loader (one build, both platforms):
# checks that there is an ELF x86-64 loader and a PE32+ loader, each with its manifest and a
# delivery tar holding exactly the loader and hello.py. SANDBOX_FILES are the outputs of a
# Linux loader of hello.py sealed for the interpreter in this sandbox: its delivery, unpacked into a private temporary
# directory, its loader must print "hello from posix".
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
(($# >= 2)) || fail "usage: $0 HELLO_FILES... -- SANDBOX_FILES..."
shift
runnable=
for f in "$@"; do
  [[ $f == */linux_amd64/hello.tar ]] && runnable=$f
done
[[ -n $runnable ]] || fail "no linux_amd64/hello.tar among $*"

linux='' windows=''
for f in "${files[@]}"; do
  case $f in
    */linux_amd64/hello) linux=$f ;;
    */windows_amd64/hello.exe) windows=$f ;;
  esac
done
[[ -n $linux ]] || fail "no linux_amd64/hello among ${files[*]}"
[[ -n $windows ]] || fail "no windows_amd64/hello.exe among ${files[*]}"

check_type() {
  local actual
  actual=$(file -b -L "$1")
  [[ $actual == *"$2"* ]] || fail "$1: want \"$2\", file says: $actual"
  echo "ok: $1: $actual"
}
check_type "$linux" "ELF 64-bit LSB executable, x86-64"
check_type "$windows" "PE32+ executable"

check_delivery() {
  local tar=$1 want=$2 got
  got=$(tar -tvf "$tar" | awk '{print $1, $2, $6}')
  [[ $got == "$want" ]] || fail "$tar lists:
$got
want:
$want"
  echo "ok: $tar: $(echo "$got" | tr '\n' ';')"
}
check_delivery "${linux%/hello}/hello.tar" $'-rwxr-xr-x 0/0 hello\n-rw-r--r-- 0/0 hello.py'
check_delivery "${windows%/hello.exe}/hello.tar" $'-rwxr-xr-x 0/0 hello.exe\n-rw-r--r-- 0/0 hello.py'
for m in "${linux%/hello}/hello.manifest" "${windows%/hello.exe}/hello.manifest"; do
  head -n 1 "$m" | grep -qx 'signet-manifest 1' || fail "$m is not a signet manifest"
  grep -q ' entry hello.py$' "$m" || fail "$m does not seal hello.py as the entry"
done
grep -qx 'python-path C:/Python311/python.exe' "${windows%/hello.exe}/hello.manifest" ||
  fail "the Windows manifest does not name C:/Python311/python.exe"

dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/run.XXXXXX")
tar -xf "$runnable" -C "$dir" --no-same-owner
out=$("$dir/hello" 2>&1) || fail "the sealed hello exited $?: $out"
[[ $out == "hello from posix" ]] || fail "the sealed hello printed: $out"
echo "ok: the Linux loader runs: $out"
