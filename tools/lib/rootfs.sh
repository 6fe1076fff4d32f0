# shellcheck shell=bash
#
# Shared code of tools/bazel and tools/rootfs-run: provisions a Debian "sid" root filesystem
# with Bazel 7.7.1 in it (for machines that have no Bazel >= 7 and no internet) and runs
# commands inside it. Sourced, not executed. See docs/bazel.md.
#
# Everything lives under $SIGNET_CACHE (default /var/cache/signet), outside the checkout:
#   rootfs/            the sid root filesystem, stamped with .signet-recipe
#   rootfs.tmp.*       a root filesystem under construction (removed when stale)
#   offline/           generated offline.bazelrc, rules_go/gazelle copies, stand-in modules
#                      and repositories
#   bazel/             Bazel's --output_user_root (the output base of each workspace)
#   repos/             Bazel's --repository_cache (pre-seeded with the Go SDK)
#   wine/              the shared WINEPREFIX of tools/rootfs-run
#   lock               flock(1) lock held while provisioning

SIGNET_CACHE=${SIGNET_CACHE:-/var/cache/signet}

# shellcheck source=tools/lib/versions.sh
source "$SIGNET_LIB_DIR/versions.sh"
# shellcheck source=tools/lib/host-packages.sh
source "$SIGNET_LIB_DIR/host-packages.sh"

# Bump a recipe number whenever its recipe changes in a way the stamps below do not capture:
# the next launch then rebuilds what it describes (the root filesystem, or the offline modules
# and bazelrc, which are cheap).
SIGNET_ROOTFS_RECIPE=1
SIGNET_OFFLINE_RECIPE=5
SIGNET_SUITE=sid
SIGNET_PACKAGES=(
  bazel-bootstrap   # Bazel 7.7.1 and distro copies of platforms, skylib, rules_cc, ...
  bazel-rules-shell # rules_shell (sh_test)
  golang-go         # only for tools run by rules inside the root filesystem
  git
  ca-certificates
  file              # tests/bazel: file type of built binaries
  python3           # CPython 3.14, for tests (python3.14)
  wine64            # wine 10: runs Windows builds of signet in tests
)
# Packages added to an existing root filesystem with apt-get (no rebuild, and running Bazel
# servers keep going): a change here only installs what is new. Each one's module is passed to
# Bazel with --override_module (signet_write_bazelrc).
SIGNET_ADDON_PACKAGES=(
  bazel-rules-pkg  # rules_pkg: PackageFilesInfo of //rules (pkg_tar/pkg_zip for users)
  bazel-stardoc    # stardoc: docs/rules.md
  bazel-java-tools # rules_java's java tools (singlejar, ...) offline: stardoc's renderer is Java
)
SIGNET_RULES_GO_VERSION=v0.59.0
SIGNET_GAZELLE_VERSION=v0.47.0
SIGNET_BAZEL_VERSION=7.7.1

signet_die() {
  echo "${0##*/}: $*" >&2
  exit 1
}

signet_log() {
  echo "${0##*/}: $*" >&2
}

# signet_rootfs_stamp and signet_offline_stamp print hashes of everything the provisioned
# root filesystem and offline modules depend on.
signet_rootfs_stamp() {
  printf '%s\n' "$SIGNET_ROOTFS_RECIPE" "$SIGNET_SUITE" "${SIGNET_PACKAGES[@]}" | sha256sum | cut -c1-16
}

signet_addons_stamp() {
  printf '%s\n' "$(signet_rootfs_stamp)" "${SIGNET_ADDON_PACKAGES[@]}" | sha256sum | cut -c1-16
}

signet_offline_stamp() {
  printf '%s\n' "$(signet_addons_stamp)" "$SIGNET_OFFLINE_RECIPE" "$SIGNET_RULES_GO_VERSION" \
    "$SIGNET_GAZELLE_VERSION" "$SIGNET_BUILDTOOLS_VERSION" "$SIGNET_CACHE" | sha256sum | cut -c1-16
}

# signet_host_go prints the host's Go command, or nothing.
signet_host_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  fi
}

# signet_check_host exits with one clear message when this machine cannot provision the
# offline root filesystem.
signet_check_host() {
  local problems=() cmd
  # On a Debian/Ubuntu amd64 machine as root, first install the host packages provisioning
  # needs (tools/lib/host-packages.sh); anywhere else the checks below say what is wrong.
  if [[ -r /etc/debian_version && "$(uname -m)" == x86_64 && "$(id -u)" == 0 ]]; then
    signet_host_setup bazel
  fi
  [[ -r /etc/debian_version ]] || problems+=("this is not a Debian system")
  [[ "$(uname -m)" == x86_64 ]] || problems+=("the CPU is $(uname -m), not x86_64 (amd64)")
  [[ "$(id -u)" == 0 ]] || problems+=("it must run as root (debootstrap, chroot and mount need it)")
  for cmd in debootstrap unshare setpriv nsenter chroot mount flock sha256sum; do
    command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 ||
      problems+=("'$cmd' is missing")
  done
  [[ -n "$(signet_host_go)" ]] || problems+=("'go' is missing (rules_go and gazelle come from the Go module proxy)")
  if ((${#problems[@]})); then
    {
      echo "${0##*/}: ${SIGNET_WHY:-this command needs the offline Bazel root filesystem}, and this machine cannot provision it:"
      printf '  - %s\n' "${problems[@]}"
      echo "Either install Bazel ${SIGNET_BAZEL_VERSION} (or bazelisk, which reads .bazelversion) and put it on"
      echo "PATH (this needs internet access to the Bazel Central Registry), or run on Debian amd64 as"
      echo "root with Go >= 1.21 (it installs debootstrap and util-linux itself), where tools/bazel builds a"
      echo "Debian sid root filesystem with Bazel ${SIGNET_BAZEL_VERSION} that works without internet. See docs/bazel.md."
    } >&2
    exit 1
  fi
  export PATH=$PATH:/usr/sbin:/sbin
}

# signet_debian_mirror prints the host's own Debian mirror URI (the one serving the host's
# release), read from apt's sources. SIGNET_DEBIAN_MIRROR overrides it.
signet_debian_mirror() {
  if [[ -n "${SIGNET_DEBIAN_MIRROR:-}" ]]; then
    echo "$SIGNET_DEBIAN_MIRROR"
    return
  fi
  local codename uri
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  # deb822 .sources files: the first URI of a "deb" stanza that lists the host's codename.
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v cn="$codename" '
    function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " cn " ") && uris != "" && !found) { split(uris, u, " "); print u[1]; found = 1 } types = suites = uris = "" }
    /^[ \t]*$/ { flush(); next }
    /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
    /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
    /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
    END { flush() }')
  if [[ -z "$uri" ]]; then
    # One-line format: "deb [options] URI SUITE COMPONENTS...".
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -e 's/#.*//' -e 's/\[[^]]*\]//' | awk -v cn="$codename" '$1 == "deb" && $3 == cn { print $2; exit }')
  fi
  [[ -n "$uri" ]] || signet_die "cannot find the Debian mirror in /etc/apt/sources.list{,.d/}; set SIGNET_DEBIAN_MIRROR=http://.../debian"
  echo "$uri"
}

# signet_enter ROOTFS CWD ENV... -- CMD ARGS...
# Runs CMD inside ROOTFS, in a private mount namespace (all mounts vanish with its last
# process), with the workspace, $SIGNET_CACHE and /tmp mounted at the same absolute paths as
# on the host. The environment is exactly ENV. Replaces the calling shell (exec), so the exit
# status and signals pass through.
# If SIGNET_JOIN_PID names a live process chrooted into ROOTFS (a Bazel server), CMD joins its
# mount namespace instead: the Bazel client must see the server's working directory at the
# same path as its own, or it restarts the server.
signet_enter() {
  local rootfs=$1 cwd=$2 pid=${SIGNET_JOIN_PID:-}
  shift 2
  if [[ -n "$pid" && "$(readlink "/proc/$pid/root" 2>/dev/null)" == "$rootfs" ]] &&
    nsenter --target "$pid" --mount --root -- /bin/true 2>/dev/null; then
    local env=()
    while (($#)) && [[ "$1" != -- ]]; do
      env+=("$1")
      shift
    done
    shift
    exec nsenter --target "$pid" --mount --root -- /usr/bin/env -i -C "$cwd" "${env[@]}" "$@"
  fi
  exec unshare --mount --propagation private -- "$SIGNET_LIB_DIR/enter-rootfs" \
    "$rootfs" "$cwd" "$SIGNET_WORKSPACE" "$SIGNET_CACHE" "$@"
}

# signet_chroot_env prints NAME=VALUE lines for the environment inside the root filesystem:
# a fixed base plus the host's proxy and Go module settings.
signet_chroot_env() {
  local name
  echo "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  echo "HOME=/root"
  echo "USER=root"
  echo "LANG=C.UTF-8"
  echo "TERM=${TERM:-dumb}"
  for name in GOPROXY GOSUMDB GONOSUMDB GOPRIVATE GONOPROXY GOINSECURE GOFLAGS \
    http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY CI TZ; do
    if [[ -n "${!name+x}" ]]; then
      echo "$name=${!name}"
    fi
  done
}

# signet_seed_go_sdk puts the Go SDK archives that MODULE.bazel downloads from the Go module
# proxy into Bazel's repository cache, fetched on the host with the host's Go (the host trusts
# the proxy's TLS chain; Bazel's Java inside the root filesystem may not). Bazel finds them by
# sha256 and never goes to the network for them.
signet_seed_go_sdk() {
  local go zip name sum dir
  go=$(signet_host_go)
  mkdir -p "$SIGNET_CACHE/repos/seeded"
  while read -r name; do
    [[ -e "$SIGNET_CACHE/repos/seeded/$name" ]] && continue
    zip=$("$go" mod download -json "golang.org/toolchain@${name%.zip}" | sed -n 's/^[[:space:]]*"Zip": "\(.*\)",$/\1/p')
    [[ -f "$zip" ]] || signet_die "cannot download golang.org/toolchain@${name%.zip} from the Go module proxy"
    sum=$(sha256sum "$zip" | cut -d' ' -f1)
    dir=$SIGNET_CACHE/repos/content_addressable/sha256/$sum
    mkdir -p "$dir"
    cp "$zip" "$dir/file.tmp.$$"
    mv -f "$dir/file.tmp.$$" "$dir/file"
    echo "$sum" >"$SIGNET_CACHE/repos/seeded/$name"
  done < <(grep -oE 'v0\.0\.1-go[0-9][0-9a-z.]*\.linux-amd64\.zip' "$SIGNET_WORKSPACE/MODULE.bazel" | sort -u)
}

# signet_ensure_rootfs provisions $SIGNET_CACHE/rootfs and $SIGNET_CACHE/offline unless they
# are complete and carry the current stamp. Safe against concurrent launches (flock) and
# against a launch killed half-way (work happens in temp dirs renamed into place at the end;
# stale temp dirs are removed).
signet_ensure_rootfs() {
  SIGNET_ROOTFS=$SIGNET_CACHE/rootfs
  SIGNET_OFFLINE=$SIGNET_CACHE/offline
  local rootfs_stamp addons_stamp offline_stamp
  rootfs_stamp=$(signet_rootfs_stamp)
  addons_stamp=$(signet_addons_stamp)
  offline_stamp=$(signet_offline_stamp)
  if [[ "$(cat "$SIGNET_ROOTFS/.signet-recipe" 2>/dev/null)" == "$rootfs_stamp" &&
    "$(cat "$SIGNET_ROOTFS/.signet-addons" 2>/dev/null)" == "$addons_stamp" &&
    "$(cat "$SIGNET_OFFLINE/.signet-recipe" 2>/dev/null)" == "$offline_stamp" ]]; then
    return
  fi
  signet_check_host
  mkdir -p "$SIGNET_CACHE"
  # The lock is held by fd 9 of this shell and of the provisioning commands only; it is
  # closed before Bazel starts, so a Bazel server never holds it.
  exec 9>"$SIGNET_CACHE/lock"
  if ! flock -n 9; then
    signet_log "waiting for another launch to finish provisioning $SIGNET_CACHE ..."
    flock 9
  fi
  if [[ "$(cat "$SIGNET_ROOTFS/.signet-recipe" 2>/dev/null)" != "$rootfs_stamp" ]]; then
    signet_build_rootfs "$rootfs_stamp"
  fi
  if [[ "$(cat "$SIGNET_ROOTFS/.signet-addons" 2>/dev/null)" != "$addons_stamp" ]]; then
    signet_install_addons "$addons_stamp"
  fi
  if [[ "$(cat "$SIGNET_OFFLINE/.signet-recipe" 2>/dev/null)" != "$offline_stamp" ]]; then
    signet_build_offline "$offline_stamp"
  fi
  exec 9>&-
}

# signet_replace_dir NEW DEST: moves the complete directory NEW to DEST, removing the old DEST.
signet_replace_dir() {
  local new=$1 dest=$2
  if [[ -e "$dest" ]]; then
    mv "$dest" "$dest.old.$$"
  fi
  mv "$new" "$dest"
  rm -rf --one-file-system "$dest.old.$$"
}

# signet_isolated CMD...: runs CMD in private mount and PID namespaces that die with this
# shell: if the launcher is killed, no provisioning process lingers and no mount stays behind.
signet_isolated() {
  setpriv --pdeathsig KILL -- unshare --mount --propagation private --pid --fork --kill-child \
    --mount-proc -- "$@"
}

signet_build_rootfs() {
  local stamp=$1 tmp mirror start pid
  start=$SECONDS
  # Stale leftovers of killed launches. We hold the lock, so nobody is working in them; their
  # mounts lived in private namespaces and are invisible here, so rm cannot cross into them.
  rm -rf --one-file-system "$SIGNET_CACHE"/rootfs.tmp.* "$SIGNET_CACHE"/rootfs.old.*
  # Bazel servers still running in an old root filesystem would serve stale tools.
  if [[ -d "$SIGNET_ROOTFS" ]]; then
    for pid in /proc/[0-9]*; do
      if [[ "$(readlink "$pid/root" 2>/dev/null)" == "$SIGNET_ROOTFS" ]]; then
        kill -TERM "${pid#/proc/}" 2>/dev/null || true
      fi
    done
  fi
  mirror=$(signet_debian_mirror)
  tmp=$SIGNET_CACHE/rootfs.tmp.$$
  signet_log "provisioning a Debian $SIGNET_SUITE root filesystem with Bazel $SIGNET_BAZEL_VERSION in $SIGNET_ROOTFS"
  signet_log "(one time, a few minutes; from $mirror; log: $SIGNET_CACHE/provision.log)"
  : >"$SIGNET_CACHE/provision.log"
  if ! signet_isolated debootstrap --variant=minbase "$SIGNET_SUITE" "$tmp" "$mirror" >>"$SIGNET_CACHE/provision.log" 2>&1; then
    tail -n 20 "$SIGNET_CACHE/provision.log" >&2
    signet_die "debootstrap failed (full log: $SIGNET_CACHE/provision.log)"
  fi
  # The mirror may be a frozen snapshot whose Release file has "expired".
  echo 'Acquire::Check-Valid-Until "false";' >"$tmp/etc/apt/apt.conf.d/99signet-snapshot"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
  signet_apt_install "$tmp" "${SIGNET_PACKAGES[@]}"
  # The host's CA bundle: only it trusts the TLS chain of the Go module proxy here.
  cp /etc/ssl/certs/ca-certificates.crt "$tmp/etc/ssl/certs/ca-certificates.crt"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
  # sid's wine has no "wine" on PATH.
  ln -sf /usr/lib/x86_64-linux-gnu/wine/wine "$tmp/usr/local/bin/wine"
  [[ -x "$tmp/usr/bin/bazel" ]] || signet_die "the root filesystem has no /usr/bin/bazel"
  echo "$stamp" >"$tmp/.signet-recipe"
  signet_replace_dir "$tmp" "$SIGNET_ROOTFS"
  signet_log "root filesystem ready ($((SECONDS - start)) s)"
}

# signet_apt_install ROOTFS PACKAGE...: apt-get install inside ROOTFS (in private namespaces).
signet_apt_install() {
  local rootfs=$1
  shift
  # shellcheck disable=SC2016 # expanded by the inner shell
  if ! signet_isolated bash -c '
      set -e
      mount -t proc proc "$1/proc"
      mount --rbind /dev "$1/dev"
      mount --rbind /sys "$1/sys"
      shift
      exec chroot "$0" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive sh -ec "
          apt-get update -q
          apt-get install -y -q --no-install-recommends $*
          apt-get clean"' "$rootfs" "$rootfs" "$@" >>"$SIGNET_CACHE/provision.log" 2>&1; then
    tail -n 20 "$SIGNET_CACHE/provision.log" >&2
    signet_die "apt-get in the $SIGNET_SUITE root filesystem failed (full log: $SIGNET_CACHE/provision.log)"
  fi
}

# signet_install_addons STAMP: installs SIGNET_ADDON_PACKAGES into the existing root filesystem.
signet_install_addons() {
  signet_log "installing ${SIGNET_ADDON_PACKAGES[*]} into $SIGNET_ROOTFS (log: $SIGNET_CACHE/provision.log)"
  signet_apt_install "$SIGNET_ROOTFS" "${SIGNET_ADDON_PACKAGES[@]}"
  # apt may have replaced the CA bundle with sid's: the Go module proxy needs the host's.
  cp /etc/ssl/certs/ca-certificates.crt "$SIGNET_ROOTFS/etc/ssl/certs/ca-certificates.crt"
  echo "$1" >"$SIGNET_ROOTFS/.signet-addons"
}

# signet_standin DIR NAME VERSION: an empty module that satisfies a dependency nothing builds.
signet_standin() {
  mkdir -p "$1/$2"
  printf 'module(name = "%s", version = "%s")\n' "$2" "$3" >"$1/$2/MODULE.bazel"
  : >"$1/$2/BUILD.bazel"
}

signet_build_offline() {
  local stamp=$1 tmp go dir name
  go=$(signet_host_go)
  rm -rf "$SIGNET_CACHE"/offline.tmp.* "$SIGNET_CACHE"/offline.old.*
  tmp=$SIGNET_CACHE/offline.tmp.$$
  mkdir -p "$tmp/modules"
  signet_log "preparing offline Bazel modules in $SIGNET_OFFLINE"
  # rules_go and gazelle from the Go module proxy. Module zips keep no exec bits.
  dir=$("$go" mod download -json "github.com/bazelbuild/rules_go@$SIGNET_RULES_GO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d "$dir" ]] || signet_die "cannot download rules_go $SIGNET_RULES_GO_VERSION from the Go module proxy"
  cp -r "$dir" "$tmp/modules/rules_go"
  dir=$("$go" mod download -json "github.com/bazelbuild/bazel-gazelle@$SIGNET_GAZELLE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d "$dir" ]] || signet_die "cannot download gazelle $SIGNET_GAZELLE_VERSION from the Go module proxy"
  cp -r "$dir" "$tmp/modules/gazelle"
  chmod -R u+w "$tmp/modules"
  find "$tmp/modules" -name '*.sh' -exec chmod +x {} +
  # gazelle's go_repository builds its tools in GOPATH mode from this copy: vendor its
  # dependencies (-e: a test-only import cannot be resolved and must not stop it).
  (cd "$tmp/modules/gazelle" && GOFLAGS=-mod=mod "$go" mod vendor -e) >>"$SIGNET_CACHE/provision.log" 2>&1 ||
    signet_die "go mod vendor in the gazelle copy failed (log: $SIGNET_CACHE/provision.log)"
  # Stand-ins for modules that the resolution asks for but that nothing here builds.
  signet_standin "$tmp/modules" buildozer 7.1.2
  # ... except buildozer, which "bazel mod tidy" runs: built here with the host's Go.
  GOBIN=$tmp/bin CGO_ENABLED=0 "$go" install "github.com/bazelbuild/buildtools/buildozer@$SIGNET_BUILDTOOLS_VERSION" \
    >>"$SIGNET_CACHE/provision.log" 2>&1 || signet_die "cannot build buildozer (log: $SIGNET_CACHE/provision.log)"
  cat >"$tmp/modules/buildozer/buildozer_binary.bzl" <<EOF
"""Offline stand-in: @buildozer_binary//:buildozer.exe is a buildozer built on the host."""

def _buildozer_binary_repo_impl(rctx):
    rctx.symlink("$SIGNET_OFFLINE/bin/buildozer", "buildozer.exe")
    rctx.file("BUILD.bazel", 'exports_files(["buildozer.exe"])\\n')

_buildozer_binary_repo = repository_rule(implementation = _buildozer_binary_repo_impl)

def _buildozer_binary_impl(_mctx):
    _buildozer_binary_repo(name = "buildozer_binary")

buildozer_binary = module_extension(implementation = _buildozer_binary_impl)
EOF
  signet_standin "$tmp/modules" apple_support 1.23.1
  signet_standin "$tmp/modules" protobuf 29.0-rc2.bcr.1
  signet_standin "$tmp/modules" zlib 1.3.1
  signet_standin "$tmp/modules" package_metadata 0.0.5
  # gazelle-generated repositories load this macro; the empty applicable_licenses avoids a
  # dependency cycle.
  mkdir -p "$tmp/modules/package_metadata/rules"
  : >"$tmp/modules/package_metadata/rules/BUILD.bazel"
  cat >"$tmp/modules/package_metadata/rules/package_metadata.bzl" <<'EOF'
"""Offline stand-in: package metadata is not collected."""

def package_metadata(name, visibility = None, **kwargs):
    native.filegroup(name = name, srcs = [], applicable_licenses = [], visibility = visibility)
EOF
  signet_offline_rules_java "$tmp/modules/rules_java"
  signet_write_bazelrc "$tmp" >"$tmp/offline.bazelrc"
  echo "$stamp" >"$tmp/.signet-recipe"
  signet_replace_dir "$tmp" "$SIGNET_OFFLINE"
}

# signet_offline_rules_java DIR: a copy of the distro's rules_java whose toolchains extension
# downloads nothing: the java tools are Debian's prebuilt ones (package bazel-java-tools, see its
# README.Debian), and the JDK 21 that rules_java's java_toolchain names is sid's own JDK (the
# local_jdk repository). This is done inside the module, where the repositories have apparent
# names, rather than by --override_repository of their canonical names, which differ between
# Bazel versions (rules_java~~toolchains~... in Bazel 7, rules_java++toolchains+... in 8).
signet_offline_rules_java() {
  local dir=$1 java_tools=$SIGNET_ROOTFS/usr/lib/x86_64-linux-gnu/bazel/java_tools
  [[ -f "$java_tools/BUILD" ]] || signet_die "$java_tools is missing (package bazel-java-tools)"
  cp -r "$SIGNET_ROOTFS/usr/share/bazel/rules/java" "$dir"
  chmod -R u+w "$dir"
  # rules_java 7.6.5 names local_jdk's runtime (what --java_runtime_version=local_jdk selects)
  # after its canonical repository name split at "~"; with "+" (Bazel 8's separator, set by
  # .bazelrc) the split must take "+" too, as later rules_java releases do.
  local file=$dir/toolchains/local_java_repository.bzl
  sed -i 's/repository_ctx\.name\.split("~")\[-1\]$/repository_ctx.name.split("~")[-1].split("+")[-1]/' "$file"
  grep -qF 'split("~")[-1].split("+")[-1]' "$file" ||
    signet_die "cannot adapt $file to \"+\" in repository names: check the rules_java version"
  cat >"$dir/java/extensions.bzl" <<EOF
"""rules_java's module extension, offline (written by signet's tools/lib/rootfs.sh).

The distro's extension, except for three repositories: remote_java_tools and
remote_java_tools_linux are Debian's prebuilt java tools, and remotejdk21_linux (the JDK of
rules_java's java_toolchain) is an alias of the root filesystem's JDK (local_jdk).
"""

load("@bazel_features//:features.bzl", "bazel_features")
load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")
load("@bazel_tools//tools/build_defs/repo:local.bzl", "local_repository")
load("//java:repositories.bzl", "JAVA_TOOLS_CONFIG", "REMOTE_JDK_CONFIGS", "local_jdk_repo")
load("//toolchains:remote_java_repository.bzl", "remote_java_repository")

_JAVA_TOOLS = "$java_tools"

def _build_file_repo_impl(rctx):
    rctx.file("REPO.bazel", "")
    rctx.file("BUILD.bazel", rctx.attr.content)

# The runtime toolchains of a remote JDK, as rules_java's remote_java_repository declares them
# (java_runtime_version "21" or "remotejdk_21"; @rules_java//toolchains:remotejdk_21 asks for
# the latter).
_TOOLCHAIN_CONFIG = """
config_setting(
    name = "prefix_version_setting",
    values = {{"java_runtime_version": "remotejdk_{version}"}},
)

config_setting(
    name = "version_setting",
    values = {{"java_runtime_version": "{version}"}},
)

alias(
    name = "version_or_prefix_version_setting",
    actual = select({{
        ":version_setting": ":version_setting",
        "//conditions:default": ":prefix_version_setting",
    }}),
)

toolchain(
    name = "toolchain",
    target_compatible_with = {target_compatible_with},
    target_settings = [":version_or_prefix_version_setting"],
    toolchain_type = "@bazel_tools//tools/jdk:runtime_toolchain_type",
    toolchain = "{toolchain}",
)

toolchain(
    name = "bootstrap_runtime_toolchain",
    exec_compatible_with = {target_compatible_with},
    target_settings = [":version_or_prefix_version_setting"],
    toolchain_type = "@bazel_tools//tools/jdk:bootstrap_runtime_toolchain_type",
    toolchain = "{toolchain}",
)
"""

_build_file_repo = repository_rule(
    implementation = _build_file_repo_impl,
    attrs = {"content": attr.string()},
)

def _toolchains_impl(module_ctx):
    for name, config in JAVA_TOOLS_CONFIG["artifacts"].items():
        if name in ("java_tools", "java_tools_linux"):
            local_repository(name = "remote_" + name, path = _JAVA_TOOLS)
        else:
            http_archive(
                name = "remote_" + name,
                sha256 = config["sha"],
                urls = [config["mirror_url"], config["github_url"]],
            )
    local_jdk_repo()
    for version in ("8", "11", "17", "21"):
        for item in REMOTE_JDK_CONFIGS[version]:
            if item.name == "remotejdk21_linux":
                _build_file_repo(
                    name = item.name,
                    content = 'alias(name = "jdk", actual = "@local_jdk//:jdk", visibility = ["//visibility:public"])\\n',
                )
                _build_file_repo(
                    name = item.name + "_toolchain_config_repo",
                    content = _TOOLCHAIN_CONFIG.format(
                        version = item.version,
                        target_compatible_with = item.target_compatible_with,
                        toolchain = "@%s//:jdk" % item.name,
                    ),
                )
                continue
            remote_java_repository(
                name = item.name,
                target_compatible_with = item.target_compatible_with,
                sha256 = item.sha256,
                strip_prefix = item.strip_prefix,
                urls = item.urls,
                version = item.version,
            )
    if bazel_features.external_deps.extension_metadata_has_reproducible:
        return module_ctx.extension_metadata(reproducible = True)
    return None

toolchains = module_extension(_toolchains_impl)
EOF
}

# signet_write_bazelrc DIR prints the offline bazelrc. DIR is where the modules are now; the
# file names them where they will be ($SIGNET_OFFLINE) after the rename.
signet_write_bazelrc() {
  local dir=$1 name m=$SIGNET_OFFLINE/modules
  cat <<EOF
# Generated by tools/lib/rootfs.sh: offline settings for Bazel inside the sid root filesystem.
# Not part of the checkout; regenerated when the recipe changes.
startup --output_user_root=$SIGNET_CACHE/bazel
# The distro's install base, named by a path that is the same inside and outside the root
# filesystem: programs started by "bazel run" on the host find bazel_tools in their runfiles.
startup --install_base=$SIGNET_ROOTFS/usr/share/bazel
common --repository_cache=$SIGNET_CACHE/repos
# The offline module graph differs from the online one: never write MODULE.bazel.lock.
common --lockfile_mode=off
# Otherwise the WORKSPACE suffix downloads rules_cc from GitHub.
common --noenable_workspace
# /etc/bazel/bazelrc turns this on; it bloats the output base.
build --nosandbox_debug
common --override_module=rules_go=$m/rules_go
common --override_module=gazelle=$m/gazelle
# Java (stardoc's renderer is a java_binary) from the root filesystem instead of downloads:
# sid's JDK as the runtime; the java tools come with the rules_java copy (below).
build --java_runtime_version=local_jdk
build --tool_java_runtime_version=local_jdk
EOF
  # The distro's overrides (/etc/bazel/bazelrc), rules_shell and the add-ons, by host-visible
  # paths too.
  {
    sed -n 's|^common --override_module=\([a-z_]*\)=/usr/share/bazel/|\1 |p' "$SIGNET_ROOTFS/etc/bazel/bazelrc"
    echo "rules_shell rules/shell"
    echo "rules_pkg rules/pkg"
    echo "stardoc tools/stardoc"
  } | while read -r name path; do
    # rules_java: the offline copy (signet_offline_rules_java), among the modules below.
    [[ "$name" == rules_java ]] && continue
    echo "common --override_module=$name=$SIGNET_ROOTFS/usr/share/bazel/$path"
  done
  for name in "$dir"/modules/*; do
    name=${name##*/}
    case $name in rules_go | gazelle) continue ;; esac
    echo "common --override_module=$name=$m/$name"
  done
}
