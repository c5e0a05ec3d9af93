#!/usr/bin/env bash
# install-deps.sh [--runtime] - install with apt-get what pqlan needs.
#
#   (no argument)  everything building, testing, packaging and the demo
#                  need: the entry point of `make check`, `make demo` and
#                  .ci/run. Developers add the packages their tests need to
#                  TEST_PKGS below.
#   --runtime      only what a machine running pqlan needs (the libraries
#                  the binary links against, and iproute2 for bridging).
#                  A production host wants the .deb (docs/install.md),
#                  which pulls these in itself.
#
# Safe to run twice: packages already present are left alone, and the npm
# test dependency is only installed when missing.
set -euo pipefail

# What the pqlan binary needs at run time (the .deb's Depends).
RUNTIME_PKGS=(libssl3 libinih1 libseccomp2 libnats3.4)

# Build, test and packaging: compilers and headers, the test frameworks and
# the tools the tests drive.
TEST_PKGS=(
	build-essential pkg-config clang llvm libclang-rt-14-dev
	libssl-dev libcmocka-dev libinih-dev libseccomp-dev libnats-dev
	valgrind
	iproute2 iputils-ping iperf3 procps tshark faketime
	python3 python3-websockets python3-cryptography
	coturn nftables conntrack nats-server
	# packaging checks (tests/dist/run.sh): .deb, lintian, unit scores, man pages
	debhelper dpkg-dev lintian systemd man-db
)

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: run as root (apt-get needs it)" >&2
		exit 1
	fi
}

runtime_only=0
case ${1:-} in
--runtime) runtime_only=1 ;;
'') ;;
*) echo "usage: scripts/install-deps.sh [--runtime]" >&2; exit 2 ;;
esac

pkgs=("${RUNTIME_PKGS[@]}")
[ "$runtime_only" -eq 1 ] || pkgs+=("${TEST_PKGS[@]}")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "$runtime_only" -eq 0 ]; then
	# Node.js runs the differential ML-KEM test against @noble/post-quantum.
	command -v node >/dev/null 2>&1 || missing+=(nodejs)
	command -v npm >/dev/null 2>&1 || missing+=(npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
	need_root
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$runtime_only" -eq 0 ]; then
	# coturn is here for its STUN client (turnutils_stunclient); its server
	# must not run on a machine that only tests (systemd enables it on install).
	if [ -d /run/systemd/system ] && systemctl -q is-enabled coturn.service 2>/dev/null; then
		systemctl disable --now coturn.service >/dev/null 2>&1 || true
	fi
	# The independent ML-KEM implementation for the differential test lives
	# in tests/crypto/noble (its package.json pins the version).
	here=$(cd "$(dirname "$0")/.." && pwd)
	if [ -f "$here/tests/crypto/noble/package.json" ] &&
		[ ! -d "$here/tests/crypto/noble/node_modules/@noble/post-quantum" ]; then
		(cd "$here/tests/crypto/noble" && npm ci --no-audit --no-fund --loglevel=error)
	fi
fi
[ "$runtime_only" -eq 1 ] && echo "install-deps: runtime dependencies present" || echo "install-deps: all dependencies present"
