#!/usr/bin/env bash
# check_relay_load.sh - the relay load generator's short form (issue 10;
# the 10,000-node figure is a benchmark: bench/README.md): a namespace
# holding only lo, `pqlan relay` on 127.0.0.1, bench_relay_load opens
# 500 authenticated idle conns (16 logins at a time), then 2 pairs forward
# 16 KiB messages for 2 s. Checks: every client authenticated, both pairs
# came online and delivered messages, the relay dropped nothing it was
# not allowed to (it reports its counters at exit), and its RSS per idle
# node is under 100 KiB (1 GiB / 10,000 nodes; not checked under the
# sanitizers, whose shadow memory counts too). Prints the figures.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
e2e_begin
tool=$(cd "$PQ_BUILD" && pwd)/bench/bench_relay_load
[ -x "$tool" ] || e2e_die "$tool not built (make tests)"
N=${N:-500}

e2e_netns load; ns=$REPLY
e2e_genkey "$dir/relay.key"; relay_pub=$REPLY
printf '[relay]\nprivate_key = %s\nlisten = 127.0.0.1:7443\nstun = off\nmax_nodes_per_source = 100000\n' \
	"$dir/relay.key" >"$dir/relay.conf"
e2e_bg "$ns" "$dir/relay.log" "$PQLAN" relay -c "$dir/relay.conf"; relay_pid=$REPLY
listening() { ip netns exec "$ns" ss -Hltn 'sport = :7443' | grep -q 7443; }
e2e_until 10 listening || e2e_die "the relay did not start listening"

cmd="$tool -n $N -k 2 -s 2 -b 16384 -c 16 -p $relay_pid -t 60 127.0.0.1:7443 $relay_pub"
echo "command: ip netns exec $ns $cmd"
ip netns exec "$ns" timeout 120 $cmd >"$dir/load.out" 2>&1 || { cat "$dir/load.out"; e2e_die "bench_relay_load failed"; }
cat "$dir/load.out"
val() { sed -n "s/^$1=//p" "$dir/load.out"; }
[ "$(val nodes)" = "$N" ] && e2e_ok "$N clients authenticated ($(val logins_per_s) logins/s)" ||
	e2e_bad "only $(val nodes) of $N authenticated"
[ "$(val pairs_online)" = 2 ] && e2e_ok "2 pairs online" || e2e_bad "pairs online: $(val pairs_online)"
msgs=$(val messages)
[ "${msgs:-0}" -gt 0 ] && e2e_ok "forwarded $msgs messages, $(val mbit_per_s) Mbit/s" || e2e_bad "nothing forwarded"
per=$(val relay_kib_per_node)
if [ "${PQ_SANITIZER:-0}" = 1 ]; then
	echo "relay RSS per idle node: $per KiB (not checked under the sanitizers)"
elif awk -v p="${per:-999}" 'BEGIN { exit !(p < 100) }'; then
	e2e_ok "relay RSS per idle node $per KiB (< 100)"
else
	e2e_bad "relay RSS per idle node ${per:-?} KiB, expected < 100"
fi
e2e_stop "$relay_pid" && [ "$REPLY" -eq 0 ] || e2e_bad "the relay did not stop cleanly on SIGTERM (exit $REPLY)"
grep -q "authenticated $N, refused 0" "$dir/relay.log" && e2e_ok "relay: $N authenticated, none refused" ||
	e2e_bad "relay counters: $(grep 'relay: stopped' "$dir/relay.log")"
[ "$E2E_FAILS" -eq 0 ] || exit 1
