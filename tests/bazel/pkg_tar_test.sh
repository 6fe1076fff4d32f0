#!/usr/bin/env bash
# A user's pkg_tar of a signet_loader target holds the installed tree: the loader (0755)
# and the sealed app files (0644) at their app paths.
set -euo pipefail
tarball=$1
listing=$(tar -tvf "$tarball")
echo "$listing"
fail=0
expect() { # expect MODE PATH
  if ! grep -Eq "^$1 .* (\./)?$2\$" <<<"$listing"; then
    echo "FAIL: no entry $2 with mode $1 in $tarball" >&2
    fail=1
  fi
}
expect '-rwxr-xr-x' greeter
expect '-rw-r--r--' greeter.py
expect '-rw-r--r--' greet/__init__.py
expect '-rw-r--r--' greet/style.py
expect '-rw-r--r--' greet/words.txt
expect '-rw-r--r--' config/style.txt
if ((fail)); then
  echo "1 failed" >&2
  exit 1
fi
echo "pkg_tar holds the installed tree"
