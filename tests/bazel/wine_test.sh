#!/usr/bin/env bash
# Usage: wine_test.sh HELLO_FILES...
# Runs the Windows loader of //examples/hello:hello_loader under wine, from its delivery
# unpacked into a private directory. There is no Windows CPython here, so the loader verifies
# the app, then refuses at its interpreter check: exit 102 with a message naming
# C:/Python311/python.exe.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

wine=$(command -v wine || true)
[[ -n $wine ]] || wine=/usr/lib/x86_64-linux-gnu/wine/wine
[[ -x $wine ]] || fail "wine is not installed (Debian: apt-get install wine64; sid's wine 10 runs Go 1.26 programs)"

tar=
for f in "$@"; do
  [[ $f == */windows_amd64/hello.tar ]] && tar=$f
done
[[ -n $tar ]] || fail "no windows_amd64/hello.tar among $*"

dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/wine.XXXXXX")
mkdir "$dir/app"
tar -xf "$tar" -C "$dir/app" --no-same-owner
status=0
# A clean environment: wine aborts ("free(): invalid pointer") under Bazel's test environment.
out=$(cd "$dir/app" && env -i PATH=/usr/bin:/bin HOME="$dir" WINEPREFIX="$dir/prefix" WINEDEBUG=-all \
  "$wine" ./hello.exe 2>&1) || status=$?
echo "$out"
((status == 102)) || fail "hello.exe exited $status, want 102 (interpreter refused)"
[[ $out == *"INTERPRETER C:/Python311/python.exe: does not exist"* ]] ||
  fail "hello.exe did not name the missing interpreter"
[[ $out != *MODIFIED* && $out != *MISSING* && $out != *UNEXPECTED* ]] ||
  fail "hello.exe reported a problem with the app itself"
echo "ok: hello.exe verified the app, then refused the missing interpreter with exit 102"
