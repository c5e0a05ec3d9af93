#!/usr/bin/env bash
# bench_relay_load.sh [BUILD] - relay capacity (issue 10): how many idle
# authenticated nodes one `pqlan relay` holds and in how much memory, how
# fast it accepts them, and how much it forwards. Needs root (a network
# namespace holding only lo; no traffic leaves it).
#
# Runs bench/bench_relay_load (see the .c file) against one relay on
# 127.0.0.1 twice: N idle nodes (RSS per node, logins per second), then a
# fresh relay with PAIRS forwarding pairs (+ a few idle nodes) for SECS
# seconds with BYTES-byte payloads (messages/s, Mbit/s of payload).
# Environment: N (10000), PAIRS (4), SECS (5), BYTES (65000: a DATA_GSO
# super-frame's size), CONC (16 logins at a time).
# Both processes' fd limits are raised to the hard limit (the relay does
# it itself; the tool too). Everything is removed on exit, also on failure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-${PQ_BUILD:-$top/build}}" && pwd)
PQLAN=$build/pqlan
tool=$build/bench/bench_relay_load
N=${N:-10000}
PAIRS=${PAIRS:-4}
SECS=${SECS:-5}
BYTES=${BYTES:-65000}
CONC=${CONC:-16}
. "$top/tests/e2e/lib.sh"
E2E_PREFIX=pqbl$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM
[ "$(id -u)" -eq 0 ] || e2e_die "needs root (network namespace)"
[ -x "$PQLAN" ] && [ -x "$tool" ] || e2e_die "build first: make BUILD=$build all tests"
e2e_tmpdir
dir=$E2E_TMP
e2e_netns lo; ns=$REPLY
e2e_genkey "$dir/relay.key"; relay_pub=$REPLY
printf '[relay]\nprivate_key = %s\nlisten = 127.0.0.1:7443\nstun = off\nmax_nodes = 1000000\nmax_nodes_per_source = 1000000\n' \
	"$dir/relay.key" >"$dir/relay.conf"
ulimit -n "$(ulimit -Hn)"

run() { # run TAG ARGS...: a fresh relay, the tool with ARGS
	local tag=$1 pid
	shift
	e2e_bg "$ns" "$dir/relay-$tag.log" "$PQLAN" relay -c "$dir/relay.conf"; pid=$REPLY
	e2e_until 10 sh -c "ip netns exec $ns ss -Hltn 'sport = :7443' | grep -q 7443" || e2e_die "relay did not listen"
	cmd="$tool $* -c $CONC -p $pid -t 600 127.0.0.1:7443 $relay_pub"
	echo "== $tag: ip netns exec $ns $cmd"
	ip netns exec "$ns" $cmd || e2e_die "bench_relay_load failed ($tag)"
	e2e_stop "$pid" || true
}
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "made by: $0 $build   (N=$N PAIRS=$PAIRS SECS=$SECS BYTES=$BYTES CONC=$CONC)"
run idle -n "$N" -k 0
run forward -n $((2 * PAIRS + 8)) -k "$PAIRS" -s "$SECS" -b "$BYTES"
