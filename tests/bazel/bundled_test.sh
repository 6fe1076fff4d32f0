#!/usr/bin/env bash
# Usage: bundled_test.sh PYTHON HELLO_PY FILES... -- BYTECODE_FILES...
# FILES are the outputs of a loader of HELLO_PY that bundles a runtime for Linux (a copy of
# this sandbox's CPython); PYTHON is the interpreter of another copy of that runtime (the
# runfiles). The Linux delivery tar must hold the loader, hello.py and the runtime
# (runtime/bin/python3.X, its standard library) without __pycache__. Unpacked into a private
# temporary directory and moved to another name, its loader must print exactly what PYTHON
# prints for HELLO_PY; it must refuse to start (exit 101, naming the file) once a byte of the
# standard library, or of the bundled interpreter, is changed. BYTECODE_FILES are the outputs
# of the same loader with sealed bytecode: its delivery must also hold sealed bytecode of the
# runtime's modules (os.py's among them), and print the same.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

usage="usage: $0 PYTHON HELLO_PY FILES... -- BYTECODE_FILES..."
(($# >= 5)) || fail "$usage"
python=$1 hello_py=$2
shift 2
[[ -x $python ]] || fail "no interpreter at $python"
version=$("$python" -I -S -B -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# linux_output NAME FILES...: prints the linux_amd64 output NAME among FILES.
linux_output() {
  local name=$1 f
  shift
  for f in "$@"; do
    if [[ $f == */linux_amd64/$name ]]; then
      echo "$f"
      return
    fi
  done
  fail "no linux_amd64/$name among $*"
}

files=()
while (($#)) && [[ $1 != -- ]]; do
  files+=("$1")
  shift
done
(($# >= 2)) || fail "$usage"
shift
tar_file=$(linux_output hello.tar "${files[@]}")
manifest=$(linux_output hello.manifest "${files[@]}")
bytecode_tar=$(linux_output hello.tar "$@")

interp=runtime/bin/python$version
stdlib=runtime/lib/python$version
listing=$(tar -tf "$tar_file")
for want in hello hello.py "$interp" "$stdlib/os.py" "$stdlib/encodings/__init__.py"; do
  grep -qxF "$want" <<<"$listing" || fail "$tar_file has no $want"
done
if grep -q '__pycache__' <<<"$listing"; then
  fail "$tar_file holds __pycache__: $(grep '__pycache__' <<<"$listing" | head -n 3)"
fi
grep -qx "python-path $interp" "$manifest" || fail "$manifest does not name the interpreter $interp"
grep -qx "python-version $version" "$manifest" || fail "$manifest does not name python-version $version"
echo "ok: $tar_file: hello, hello.py, $interp, $stdlib/os.py among $(grep -c "^$stdlib/" <<<"$listing") entries under $stdlib, no __pycache__"

dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/bundled.XXXXXX")
mkdir "$dir/unpacked"
tar -xf "$tar_file" -C "$dir/unpacked" --no-same-owner
mv "$dir/unpacked" "$dir/moved"
app=$dir/moved

want=$("$python" -I -S -B "$hello_py" 2>&1) || fail "$python $hello_py exited $?: $want"
got=$("$app/hello" 2>&1) || fail "the sealed hello (moved) exited $?: $got"
[[ $got == "$want" ]] || fail "the sealed hello printed:
$got
but its runtime, run directly, prints:
$want"
echo "ok: the moved delivery runs with its bundled runtime: $got"

# expect_refusal FILE: the loader must exit 101 and name FILE (an app path).
expect_refusal() {
  local status=0 out
  out=$("$app/hello" 2>&1) || status=$?
  ((status == 101)) || fail "the loader with a changed $1 exited $status (want 101): $out"
  [[ $out == *"$1"* ]] || fail "the loader refused a changed $1 without naming it: $out"
  echo "ok: the loader refuses a changed $1: $(head -n 1 <<<"$out")"
}

# change_byte FILE OFFSET: replaces the byte at OFFSET with a different one.
change_byte() {
  local old new
  old=$(od -An -tx1 -j "$2" -N 1 "$1" | tr -d ' \n')
  new=X
  [[ $old == 58 ]] && new=Y
  printf '%s' "$new" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

cp -p "$app/$stdlib/os.py" "$dir/os.py.orig"
change_byte "$app/$stdlib/os.py" 100
expect_refusal "$stdlib/os.py"
cp -p "$dir/os.py.orig" "$app/$stdlib/os.py"
got=$("$app/hello" 2>&1) || fail "the sealed hello with os.py restored exited $?: $got"
[[ $got == "$want" ]] || fail "the sealed hello with os.py restored printed: $got"
echo "ok: restored, it runs again"

change_byte "$app/$interp" 4096
expect_refusal "$interp"

# Sealed bytecode of the runtime's modules, made by bytecode_interpreter in the seal action.
pyc=__signet_pyc__/$version
listing=$(tar -tf "$bytecode_tar")
grep -qxF "$pyc/$stdlib/os.py.pyc" <<<"$listing" || fail "$bytecode_tar has no $pyc/$stdlib/os.py.pyc"
grep -qxF "$pyc/hello.py.pyc" <<<"$listing" || fail "$bytecode_tar has no $pyc/hello.py.pyc"
mkdir "$dir/bytecode"
tar -xf "$bytecode_tar" -C "$dir/bytecode" --no-same-owner
got=$("$dir/bytecode/hello" 2>&1) || fail "the sealed hello with bytecode exited $?: $got"
[[ $got == "$want" ]] || fail "the sealed hello with bytecode printed: $got"
echo "ok: $bytecode_tar: $(grep -c "^$pyc/$stdlib/.*\.pyc\$" <<<"$listing") bytecode files of the runtime's modules; it runs: $got"
