#!/usr/bin/env bash
# Usage: signed_test.sh SIGNET CA_PEM SIGNED_FILES... -- HELLO_FILES...
# Checks the hello.exe that //tests/windows:hello_test_signed signed at build time with the
# TEST ONLY key: `signet verify --ca` accepts the installed delivery with it and names the
# signer, the signature covers the loader unchanged otherwise, and under wine the signed
# loader still verifies the app, then refuses the missing interpreter (exit 102), exactly as
# the unsigned one does.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

signet=$1 ca=$2
shift 2
signed=
while (($#)) && [[ $1 != -- ]]; do
  [[ $1 == */hello_test_signed/hello.exe ]] && signed=$1
  shift
done
(($#)) && shift
[[ -n $signed ]] || fail "no hello_test_signed/hello.exe among the signed outputs"
tar='' unsigned=''
for f in "$@"; do
  [[ $f == */windows_amd64/hello.tar ]] && tar=$f
  [[ $f == */windows_amd64/hello.exe ]] && unsigned=$f
done
[[ -n $tar && -n $unsigned ]] || fail "no windows_amd64/hello.tar and hello.exe among $*"

dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/signed.XXXXXX")
mkdir "$dir/app"
tar -xf "$tar" -C "$dir/app" --no-same-owner
cmp -s "$dir/app/hello.exe" "$unsigned" || fail "the delivery's hello.exe is not the loader"

# Signing appends the certificate table (after up to 7 bytes of padding) and patches the
# PE checksum and the security directory in the headers; everything else stays.
size=$(stat -L -c %s "$unsigned")
(($(stat -L -c %s "$signed") > size + 1000)) || fail "the signed loader is not larger than the unsigned one by a certificate table"
cmp -s <(tail -c +1025 "$unsigned") <(head -c "$size" "$signed" | tail -c +1025) ||
  fail "the signed loader changed the unsigned loader's bytes beyond its headers"

# The unsigned delivery: signet verify warns that it is unsigned.
out=$("$signet" verify --ca "$ca" "$dir/app/hello.exe" 2>&1) || fail "signet verify (unsigned): $out"
[[ $out == *WARNING*"not signed"* || $out == *WARNING*unsigned* ]] || fail "signet verify did not warn about the unsigned loader: $out"

cp "$signed" "$dir/app/hello.exe"
out=$("$signet" verify --ca "$ca" "$dir/app/hello.exe" 2>&1) || fail "signet verify --ca (signed): $out"
echo "$out"
[[ $out == *"signet TEST ONLY code signing"* ]] || fail "signet verify does not name the signer"

status=0
out=$("$signet" verify --require-signature "$dir/app/hello.exe" 2>&1) || status=$?
((status != 0)) || fail "signet verify without --ca accepted a signature it did not check: $out"

wine=$(command -v wine || true)
[[ -n $wine ]] || wine=/usr/lib/x86_64-linux-gnu/wine/wine
[[ -x $wine ]] || fail "wine is not installed (Debian: apt-get install wine64)"
status=0
# A clean environment: wine aborts ("free(): invalid pointer") under Bazel's test environment.
out=$(cd "$dir/app" && env -i PATH=/usr/bin:/bin HOME="$dir" WINEPREFIX="$dir/prefix" WINEDEBUG=-all \
  "$wine" ./hello.exe 2>&1) || status=$?
echo "$out"
((status == 102)) || fail "the signed hello.exe exited $status under wine, want 102 (interpreter refused)"
[[ $out == *"INTERPRETER C:/Python311/python.exe: does not exist"* ]] ||
  fail "the signed hello.exe did not name the missing interpreter"
[[ $out != *MODIFIED* && $out != *MISSING* && $out != *UNEXPECTED* && $out != *damaged* ]] ||
  fail "the signed hello.exe reported a problem with the app or its payload"
echo "ok: the test-signed hello.exe verifies (signer named) and under wine reaches the interpreter check (102)"
