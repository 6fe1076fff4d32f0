# shellcheck shell=bash
# Shared helpers for signet's benchmark scripts (sourced, not run). Bash.
#
# Sets: repo (the repository root; the scripts cd there), python (the interpreter,
# $PYTHON or /usr/bin/python3.11), tmp (a private temporary directory removed on exit),
# bin ($tmp/bin, where build_tools puts the binaries).

set -euo pipefail
export LC_ALL=C

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

python=${PYTHON:-/usr/bin/python3.11}
if [[ ! -x $python ]]; then
	echo "bench: no interpreter at $python (set PYTHON to an absolute python3.11 path)" >&2
	exit 1
fi
if ! command -v go >/dev/null; then
	echo "bench: the go command is needed on PATH" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/signet-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/bin
mkdir "$bin"

# stub_build OUT PACKAGE [GOOS GOARCH]: builds PACKAGE the way signet builds the loader
# stub (docs/design.md, "How signet seal gets stubs").
stub_build() {
	local out=$1 pkg=$2 goos=${3:-$(go env GOHOSTOS)} goarch=${4:-$(go env GOHOSTARCH)}
	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch GOFLAGS='' GOWORK=off GOTOOLCHAIN=local \
		GOEXPERIMENT='' GOAMD64=v1 GOARM64=v8.0 \
		go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o "$out" "$pkg"
}

# build_tools: the signet CLI, the loader stub, and the bench harnesses, into $bin.
build_tools() {
	go build -o "$bin/signet" ./signet/cmd/signet
	go build -o "$bin/startbench" ./signet/internal/bench/cmd/startbench
	go build -o "$bin/mktree" ./signet/internal/bench/cmd/mktree
	stub_build "$bin/loader" ./signet/cmd/loader
	stub_build "$bin/execwrap" ./signet/internal/bench/cmd/execwrap
	stub_build "$bin/bootexec" ./signet/internal/bench/cmd/bootexec
}

# seal ROOT MAIN OUT: seals ROOT with the stub built by build_tools.
seal() {
	"$bin/signet" seal --root "$1" --main "$2" --python "$python" --stub "$bin/loader" -o "$3" >/dev/null
}

# machine: a Markdown description of this machine, to paste above the figures; with
# BENCH_BRIEF=1 (set by bench/all after the first script) only the current load average.
machine() {
	local cpu sha
	if [[ ${BENCH_BRIEF:-} == 1 ]]; then
		echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
		echo
		return
	fi
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
	sha=no
	if grep -qw sha_ni /proc/cpuinfo; then sha=yes; fi
	echo "| machine | |"
	echo "|---|---|"
	echo "| CPU | $cpu (SHA-NI: $sha) |"
	echo "| cores (nproc) | $(nproc) |"
	echo "| kernel | $(uname -sr) |"
	echo "| Python | $("$python" -c 'import sys; print(sys.version.split()[0])') ($python) |"
	echo "| Go | $(go env GOVERSION) |"
	if command -v openssl >/dev/null; then echo "| OpenSSL | $(openssl version) |"; fi
	echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
	echo
}
