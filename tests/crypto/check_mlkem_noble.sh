#!/usr/bin/env bash
# Differential test: pqlan's ML-KEM-1024 against @noble/post-quantum (an
# independent implementation, version pinned in tests/crypto/noble). The
# C side is tests/crypto/tool_mlkem_cli, driven by noble/diff.mjs as one
# long-lived child. Missing node or a missing npm package is a FAILURE.
# Environment: PQ_BUILD (build dir), PQ_TOP (repo root), PQ_DIFF_SEEDS
# (seed count, default 128).
set -euo pipefail
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PQ_BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
tool=$build/tests/crypto/tool_mlkem_cli
noble=$top/tests/crypto/noble

die() { echo "check_mlkem_noble: FAIL: $*" >&2; exit 1; }

[ -x "$tool" ] || die "driver $tool not built (make BUILD=... tests)"
command -v node >/dev/null 2>&1 || die "node not found (scripts/install-deps.sh installs nodejs)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || die "node $(node --version) is too old, need >= 18"

if [ ! -d "$noble/node_modules/@noble/post-quantum" ]; then
	# What scripts/install-deps.sh does, but `npm ci`: it installs exactly
	# what package-lock.json pins and never rewrites the lock file.
	command -v npm >/dev/null 2>&1 || die "npm not found and $noble/node_modules is missing"
	echo "check_mlkem_noble: installing the pinned @noble/post-quantum"
	(cd "$noble" && npm ci --no-audit --no-fund --loglevel=error) ||
		die "npm ci in $noble failed"
fi
[ -d "$noble/node_modules/@noble/post-quantum" ] || die "@noble/post-quantum still missing in $noble"

want=$(node -p "require('$noble/package.json').dependencies['@noble/post-quantum']")
have=$(node -p "require('$noble/node_modules/@noble/post-quantum/package.json').version")
[ "$want" = "$have" ] || die "installed @noble/post-quantum $have, package.json pins $want"
echo "node $(node --version), @noble/post-quantum $have"

cd "$noble"
node diff.mjs "$tool" "${PQ_DIFF_SEEDS:-128}" || die "differential test found mismatches (see above)"
