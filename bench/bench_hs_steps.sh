#!/usr/bin/env bash
# bench_hs_steps.sh [BUILD] - the hybrid handshake's time, call by call and
# step by step, in one process (bench/bench_hs_steps.c). No network, no
# root. Environment: N (default 200), PACE_MS (default 260, as
# bench_relay_handshake.sh: cold caches; 0 = back to back, hot).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-${PQ_BUILD:-$top/build}}" && pwd)
N=${N:-200}
PACE_MS=${PACE_MS:-260}
tool=$build/bench/bench_hs_steps
# Built by the Makefile with the daemon's flags (make bench-tools).
make -s -C "$top" BUILD="$build" "$tool" >&2 || { echo "FAIL: could not build $tool" >&2; exit 1; }
echo "== hybrid handshake, call by call and step by step, in memory"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $tool $N $PACE_MS"
echo "  (made by: $0 $build   with N=$N PACE_MS=$PACE_MS)"
"$tool" "$N" "$PACE_MS"
