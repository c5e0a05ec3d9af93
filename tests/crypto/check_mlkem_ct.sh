#!/usr/bin/env bash
# pq-no-sanitizer: valgrind cannot run ASan binaries
# Constant-time check of ML-KEM-1024: runs tests/crypto/tool_ct_mlkem (built
# -O2 like the library, so branches the compiler adds are caught too) under
# valgrind memcheck with every secret input marked undefined. Any
# secret-dependent branch or memory index is a memcheck error and fails.
# Environment: PQ_BUILD (build dir), PQ_TOP (repo root).
set -euo pipefail
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PQ_BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
tool=$build/tests/crypto/tool_ct_mlkem
# The one declassification the library cannot make itself: rho in KeyGen.
supp=$top/tests/crypto/mlkem_ct.supp

die() { echo "check_mlkem_ct: FAIL: $*" >&2; exit 1; }

[ -x "$tool" ] || die "$tool not built (make BUILD=... tests)"
[ -f "$supp" ] || die "$supp missing"
command -v valgrind >/dev/null 2>&1 || die "valgrind not found (scripts/install-deps.sh installs it)"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
valgrind --tool=memcheck --error-exitcode=1 --track-origins=yes --suppressions="$supp" \
	--log-file="$log" "$tool" || status=$?
summary=$(grep -m1 'ERROR SUMMARY' "$log" || true)
if [ "$status" -ne 0 ]; then
	cat "$log" >&2
	die "exit status $status under valgrind (${summary:-no summary})"
fi
case $summary in
*"ERROR SUMMARY: 0 errors"*) ;;
*) cat "$log" >&2; die "valgrind did not report 0 errors: ${summary:-no summary}" ;;
esac
# Memcheck does not see variable-time instructions. The one such on x86-64
# a C compiler emits from plain arithmetic is div/idiv (a division by q not
# turned into a multiplication, e.g. at -Os), so none may be in the tool.
command -v objdump >/dev/null 2>&1 || die "objdump not found (binutils)"
divs=$(objdump -d --no-show-raw-insn "$tool" |
	awk '/^[0-9a-f]+ <.*>:$/ { fn = $2 } /\t(i?div[bwlq]?) / { print fn, $0 }')
[ -z "$divs" ] || die "division instructions in $tool (variable time): $divs"

suppressed=$(sed -n 's/.*(suppressed: \([0-9]*\) from.*/\1/p' <<<"$summary")
echo "checked: ct keygen/encaps/decaps under valgrind, 0 errors"
echo "checked: no div/idiv instruction in $(basename "$tool")"
echo "(${suppressed:-0} reports suppressed: SampleNTT on the public rho in KeyGen, see $(basename "$supp"))"
