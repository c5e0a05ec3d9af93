#!/usr/bin/env bash
# ML-KEM-1024 on the portable path, in a build whose default on this CPU
# is the AVX2 path (src/crypto/mlkem/x86): the other tests run the default,
# this runs the same vector files and the constant-time check again with
# PQLAN_MLKEM_PORTABLE=1, after checking that the override takes effect.
# test_mlkem_paths compares the two paths with each other in one process.
# Environment: PQ_BUILD (build dir), PQ_TOP (repo root), PQ_VECTORS,
# PQ_SANITIZER=1 in the ASan pass (the valgrind step is left out there).
set -euo pipefail
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PQ_BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac

die() { echo "check_mlkem_paths: FAIL: $*" >&2; exit 1; }

paths=$build/tests/crypto/test_mlkem_paths
vectors=$build/tests/crypto/test_mlkem_vectors
for t in "$paths" "$vectors"; do
	[ -x "$t" ] || die "$t not built (make BUILD=... tests)"
done

export PQLAN_MLKEM_PORTABLE=1
"$paths" env-portable || die "PQLAN_MLKEM_PORTABLE=1 did not select the portable path"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$vectors" >"$log" 2>&1 || { cat "$log" >&2; die "vector tests failed on the portable path"; }
grep '^checked:' "$log" | sed 's/^checked: /checked: portable path: /'

if [ "${PQ_SANITIZER:-0}" != 1 ]; then
	bash "$top/tests/crypto/check_mlkem_ct.sh" >"$log" 2>&1 ||
		{ cat "$log" >&2; die "constant-time check failed on the portable path"; }
	grep '^checked:' "$log" | sed 's/^checked: /checked: portable path: /'
fi
