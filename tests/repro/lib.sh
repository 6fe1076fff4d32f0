# shellcheck shell=bash
# Shared helpers of the tests/repro scripts (sourced, not run).
# Each script: runs from anywhere, works in the repository root, counts checks, prints
# "N passed, N failed" and its wall time last, and exits non-zero on any failure.

# shellcheck disable=SC2034 # used by the scripts that source this file
repro_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
repro_start=$SECONDS
repro_passed=0
repro_failed=0

# The targets whose outputs the reproducibility tests compare.
repro_targets=(//examples/hello:all //examples/greeter:all)

pass() {
  repro_passed=$((repro_passed + 1))
  printf 'PASS  %s\n' "$*"
}

fail() {
  repro_failed=$((repro_failed + 1))
  printf 'FAIL  %s\n' "$*"
}

# check DESCRIPTION CMD...: PASS if CMD succeeds, FAIL otherwise.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

step() {
  printf '\n== %s (%ds)\n' "$*" "$((SECONDS - repro_start))"
}

# finish: prints the summary and the wall time; exit status 1 on any failure.
finish() {
  printf '\n%d passed, %d failed (wall time %ds)\n' "$repro_passed" "$repro_failed" \
    "$((SECONDS - repro_start))"
  ((repro_failed == 0))
}

# output_files WORKSPACE [BAZEL FLAGS...]: absolute paths of the built default outputs of
# the targets, one a line, sorted. Bazel prints them relative to the execution root.
output_files() {
  local workspace=$1 execroot
  shift
  execroot=$(cd "$workspace" && tools/bazel info "$@" execution_root 2>/dev/null)
  local expression
  expression=$(printf ' + %s' "${repro_targets[@]}")
  (cd "$workspace" && tools/bazel cquery "$@" --output=files "${expression:3}" 2>/dev/null) |
    sed "s|^|$execroot/|" | LC_ALL=C sort | while read -r file; do
    # cquery also lists the files of configured targets the build did not request
    # (the inner rule in the top-level configuration): keep the built ones.
    [[ -f "$file" ]] && printf '%s\n' "$file"
  done
}

# hash_outputs FILE...: "sha256  path-below-bazel-out" lines, so that trees at different
# absolute paths compare equal.
hash_outputs() {
  local file
  for file in "$@"; do
    printf '%s  %s\n' "$(sha256sum <"$file" | cut -d' ' -f1)" "${file#*/bazel-out/}"
  done
}
