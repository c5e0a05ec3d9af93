#!/usr/bin/env bash
# Runs each libFuzzer target for N seconds from its seed corpus
# (tests/fuzz/corpus/<target>/ when present). Any finding fails the run.
#   tests/fuzz/run.sh FUZZ_BUILD SECONDS TARGET...
set -u
build=${1:?}; secs=${2:?}; shift 2
if [ "$#" -eq 0 ]; then
	echo "fuzz: no targets built"; exit 1
fi
pass=0 fail=0
for bin in "$@"; do
	name=$(basename "$bin")
	work=$build/corpus/$name
	mkdir -p "$work"
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/" "$work" $seeds >"$build/$name.log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS fuzz $name ($secs s, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$build/$name.log" | grep -o '[0-9]*$') runs)"
	else
		fail=$((fail + 1))
		echo "FAIL fuzz $name (log: $build/$name.log)"
		tail -n 40 "$build/$name.log" | sed 's/^/    /'
	fi
done
echo "$pass passed, $fail failed"
[ -z "${PQ_COUNTS:-}" ] || echo "$pass $fail" >>"$PQ_COUNTS"
[ "$fail" -eq 0 ]
