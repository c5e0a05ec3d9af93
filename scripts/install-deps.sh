#!/usr/bin/env bash
# Installs with apt-get what building, testing and the demo need.
# Safe to run twice: packages already present are left alone, and the
# npm test dependency is only installed when missing.
set -euo pipefail

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: run as root (apt-get needs it)" >&2
		exit 1
	fi
}

# Build and test toolchain, libraries, and the tools the tests drive.
PKGS=(
	build-essential pkg-config clang llvm libclang-rt-14-dev
	libssl-dev libcmocka-dev libinih-dev libseccomp-dev libnats-dev
	valgrind
	iproute2 iputils-ping iperf3 procps tshark faketime
	python3 python3-websockets python3-cryptography
	coturn nftables conntrack nats-server
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js runs the differential ML-KEM test against @noble/post-quantum.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
	need_root
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# coturn is here for its STUN client (turnutils_stunclient); its server
# must not run on a machine that only tests (systemd enables it on install).
if [ -d /run/systemd/system ] && systemctl -q is-enabled coturn.service 2>/dev/null; then
	systemctl disable --now coturn.service >/dev/null 2>&1 || true
fi

# The independent ML-KEM implementation for the differential test lives in
# tests/crypto/noble (its package.json pins the version).
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$here/tests/crypto/noble/package.json" ] &&
	[ ! -d "$here/tests/crypto/noble/node_modules/@noble/post-quantum" ]; then
	(cd "$here/tests/crypto/noble" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "install-deps: all dependencies present"
