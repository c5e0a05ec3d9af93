#!/usr/bin/env bash
# bench_rehandshake_direct.sh [BUILD] - re-handshake latency over an open
# direct connection (issue 5). Needs root (a network namespace).
#
# Builds bench/bench_rehandshake_direct.c with the Makefile's rule (the
# daemon's flags) into BUILD/bench/, then runs it in a
# throw-away namespace that holds only lo: one mutual-TLS pq_conn pair on
# 127.0.0.1, N re-handshakes back to back (see the .c file for what is
# timed and for the fake protocol clock). Environment: N (default 1000),
# WARMUP (default 20). Namespace and temp files are removed on exit.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-${PQ_BUILD:-$top/build}}" && pwd)
PQLAN=$build/pqlan
N=${N:-1000}
WARMUP=${WARMUP:-20}
. "$top/tests/e2e/lib.sh"
E2E_PREFIX=pqrd$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || e2e_die "needs root (network namespace)"
tool=$build/bench/bench_rehandshake_direct
# Built by the Makefile with the daemon's flags (make bench-tools).
make -s -C "$top" BUILD="$build" "$tool" >&2 || e2e_die "could not build $tool"

e2e_netns lo; ns=$REPLY
cmd="ip netns exec $ns $tool $N $WARMUP"
echo "== re-handshake over an open direct connection (mutual TLS 1.3 + WebSocket, 127.0.0.1 in netns $ns)"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $cmd"
echo "  (made by: $0 $build   with N=$N WARMUP=$WARMUP)"
echo "method: t0 just before the initiator sets up its run and builds REQUEST; the sample ends when"
echo "  the responder has verified COMPLETE (both COMPLETED). Real clock for the timing; the"
echo "  protocol's now_ms is a fake Unix time advancing 2 s per run, so the 64-slot challenge"
echo "  caches (one per side, as per session in the node) never fill."
timeout 120 $cmd &
tool_pid=$!
E2E_PIDS+=("$tool_pid")
wait "$tool_pid" || e2e_die "bench_rehandshake_direct failed (exit $?)"
