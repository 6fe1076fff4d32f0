# shellcheck shell=bash
#
# The Debian/Ubuntu host packages signet's commands need: the one list, a reason per package.
# Sourced by tools/bazel, tools/rootfs-run and tools/test, which install what is missing before
# they do their job (as root, with apt-get). Each package belongs to a profile:
#
#   bazel  what provisioning the offline Bazel root filesystem needs (tools/bazel, tools/rootfs-run)
#   test   what the whole test suite needs on top (tools/test)
#
# Anything else (not root, not Debian/Ubuntu, no apt-get) gets one message naming what to install.

# "profile package  # reason" lines. Add a package here, with its reason, and nowhere else.
SIGNET_HOST_PACKAGES=(
  "bazel debootstrap      # builds the Debian sid root filesystem that holds Bazel 7.7.1"
  "bazel util-linux       # unshare, nsenter, setpriv, flock, findmnt: entering that root filesystem"
  "bazel ca-certificates  # TLS to the Go module proxy (rules_go, gazelle, Go modules)"
  "bazel git              # Bazel and go mod read repository state with it"
  "test file              # tests: file types of built binaries"
  "test time              # tests: /usr/bin/time for resource measurements"
  "test python3.11        # the host CPython that sealed apps run under in the end-to-end tests"
  "test gcc               # tests: builds the end-to-end tests' own C extension and the library it needs"
  "test openssl           # tests: test certificates, CMS, RFC 3161 time-stamp authority"
  "test osslsigncode      # tests: independent Authenticode verifier"
  "test icoutils          # tests: wrestool, an independent reader of Windows resources"
  "test dbus              # tests: dbus-run-session, a private session bus for keystore tests"
  "test dbus-daemon       # tests: the bus daemon dbus-run-session starts"
  "test gnome-keyring     # tests: Secret Service provider for keystore tests"
  "test libsecret-tools   # tests: secret-tool, an independent Secret Service client"
  "test libimage-exiftool-perl # tests: exiftool, an independent reader of version resources"
  "test qemu-user-static  # tests: qemu-aarch64 runs the linux/arm64 loader"
  "test nginx-light       # tests: a real HTTP remote cache for Bazel (tests/repro/remote_cache)"
  "test shellcheck        # tests: lint of every shell script and shell template"
)

# signet_host_packages PROFILE...: prints the packages of the given profiles, one a line.
signet_host_packages() {
  local line profile package want
  for line in "${SIGNET_HOST_PACKAGES[@]}"; do
    read -r profile package _ <<<"$line"
    for want in "$@"; do
      [[ "$profile" == "$want" ]] && echo "$package"
    done
  done
}

# signet_host_missing PROFILE...: prints the packages of the profiles that are not installed.
signet_host_missing() {
  local package
  while read -r package; do
    if [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]]; then
      echo "$package"
    fi
  done < <(signet_host_packages "$@")
}

# signet_host_setup PROFILE...: installs the missing packages of the profiles with apt-get, or
# exits with one message naming them when this machine or user cannot.
signet_host_setup() {
  local missing problems=()
  command -v dpkg-query >/dev/null 2>&1 || problems+=("this is not a Debian or Ubuntu system (no dpkg)")
  if ((${#problems[@]} == 0)); then
    mapfile -t missing < <(signet_host_missing "$@")
    ((${#missing[@]})) || return 0
    [[ "$(id -u)" == 0 ]] || problems+=("it is not running as root, so it cannot install them")
    command -v apt-get >/dev/null 2>&1 || problems+=("apt-get is missing")
  else
    mapfile -t missing < <(signet_host_packages "$@")
  fi
  if ((${#problems[@]})); then
    {
      echo "${0##*/}: needs these packages: ${missing[*]}"
      printf '  but %s\n' "${problems[@]}"
      echo "Install them yourself (Debian/Ubuntu: apt-get install ${missing[*]}), then run it again."
    } >&2
    exit 1
  fi
  echo "${0##*/}: installing host packages: ${missing[*]}" >&2
  # A stale package list knows no packages: update once, quietly, before installing.
  if ! DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
    ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    echo "${0##*/}: apt-get could not install: ${missing[*]} (see its messages above)" >&2
    exit 1
  fi
}
