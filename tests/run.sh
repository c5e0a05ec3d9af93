#!/usr/bin/env bash
# Runs every test binary and scripted test of one build directory and ends
# with the plain "N passed, N failed" line. A test that cannot set up its
# real parts fails; nothing is skipped quietly.
#   tests/run.sh BUILD_DIR
# Environment: PQ_VECTORS (vector directory), PQ_SANITIZER=1 for the
# sanitizer pass (scripted tests marked "# pq-no-sanitizer" say so and are
# listed as not run in that pass, with the reason they give).
set -u
build=${1:?usage: tests/run.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PQ_BUILD=$build PQ_TOP=$top
pass=0 fail=0 failed=()
log_dir=$build/test-logs
mkdir -p "$log_dir"

run_one() {
	local name=$1; shift
	local log=$log_dir/$(echo "$name" | tr '/' '_').log
	local t0=$(date +%s%N)
	if timeout 900 "$@" >"$log" 2>&1; then
		pass=$((pass + 1))
		printf 'PASS %-45s %6dms  %s\n' "$name" "$((($(date +%s%N) - t0) / 1000000))" \
			"$(grep -h '^checked:' "$log" | tr '\n' ' ')"
	else
		fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL %s (log: %s)\n' "$name" "$log"
		# The failed checks first: the log's tail may be daemon output.
		grep -h '^FAIL:' "$log" | head -n 10 | sed 's/^/    /'
		tail -n 30 "$log" | sed 's/^/    /'
	fi
}

for t in $(find "$build/tests" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort); do
	run_one "${t#$build/tests/}" "$t"
done
for s in $(find tests -name 'check_*.sh' | sort); do
	if [ "${PQ_SANITIZER:-0}" = 1 ] && grep -q '^# pq-no-sanitizer' "$s"; then
		echo "NOT RUN in sanitizer pass: $s ($(grep -m1 '^# pq-no-sanitizer' "$s" | cut -d: -f2-))"
		continue
	fi
	run_one "$s" bash "$s"
done

echo
[ "$fail" -eq 0 ] || printf 'failed: %s\n' "${failed[*]}"
echo "$pass passed, $fail failed"
[ -z "${PQ_COUNTS:-}" ] || echo "$pass $fail" >>"$PQ_COUNTS"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
