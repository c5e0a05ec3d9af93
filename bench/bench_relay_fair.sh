#!/usr/bin/env bash
# bench_relay_fair.sh [BUILD] - one bulk flow must not delay the frames to
# another peer through the relay (issue 13 item 4, "a fair queue per
# peer"). Needs root.
#
#        ns relay: pqlan relay 192.168.243.1:7443
#            +------------------- br0 (bridge) -------------------+
#   ns n1: eth0 .11 (tbf)      ns n2: eth0 .12           ns n3: eth0 .13
#          pq0 10.83.0.1              pq0 10.83.0.2             pq0 10.83.0.3
#
# Every node takes the relay only (path = relay). n1's underlay egress is
#   tc qdisc add dev eth0 root tbf rate $RATE burst $BURST latency $TBF_LATENCY
# (defaults 20mbit, 32kbit, 400ms): n1's uplink is the bottleneck, as a
# home uplink would be. Per round (RUNS, default 2): one iperf3 TCP
# stream n1 -> n2 for WARM + SECS + 1 s (defaults 2, 8); after WARM s,
# SECS*10 pings every 0.1 s from n1 to n3 of SIZE bytes (default 1200:
# larger than a "small" message, so it cannot take the conn's small-
# message lane; conn.h "Latency") and, at the same time, as many to n2.
# The same pings go to n3's underlay address, outside the tunnel: they
# share n1's tbf queue with the tunnel and show what the bottleneck
# itself adds (p50/bare). Printed: the pings' p50/p90 idle and under
# load, lost, the ratio to the bare pings' loaded p50, iperf3's Mbit/s.
# SS=1 also prints n1's status, `ss -tmi` and its qdisc half-way through.
# Everything (processes by PID, namespaces, temp dir) is removed on exit,
# also on failure; every wait is bounded.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-${PQ_BUILD:-$top/build}}" && pwd)
PQLAN=$build/pqlan
RATE=${RATE:-20mbit}
BURST=${BURST:-32kbit}
TBF_LATENCY=${TBF_LATENCY:-400ms}
SECS=${SECS:-8}
WARM=${WARM:-2}
RUNS=${RUNS:-2}
SIZE=${SIZE:-1200}
IDLE_N=${IDLE_N:-20}
. "$top/tests/e2e/lib.sh"
E2E_PREFIX=pqbf$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || e2e_die "needs root (network namespaces, TAP devices, tc)"
[ -x "$PQLAN" ] || e2e_die "$PQLAN not built (make BUILD=$build all)"
for tool in ip tc ping iperf3 python3 ss; do
	command -v "$tool" >/dev/null || e2e_die "$tool not installed"
done
[ -c /dev/net/tun ] || e2e_die "/dev/net/tun missing (modprobe tun)"

e2e_tmpdir
dir=$E2E_TMP
relay_ip=192.168.243.1 relay_port=7443
e2e_underlay 192.168.243 vf 1 2 3
if [ "$RATE" != off ]; then
	ip netns exec "${ns[1]}" tc qdisc add dev eth0 root tbf rate "$RATE" burst "$BURST" latency "$TBF_LATENCY" ||
		e2e_die "tc tbf on n1 eth0 failed"
fi
e2e_keys 1 2 3
for i in 1 2 3; do
	peers=$(for j in 1 2 3; do [ "$j" = "$i" ] || printf '%s ' "$j"; done)
	e2e_node_conf "$i" 10.83.0 "192.168.243.1$i:0" "$peers"
	awk '/^\[/ { sec = $0 } { print } sec == "[peer]" && /^key = / { print "path = relay" }' "$dir/n$i.conf" >"$dir/n$i.tmp"
	mv "$dir/n$i.tmp" "$dir/n$i.conf"
	chmod 600 "$dir/n$i.conf"
done
e2e_start_relay
relay_listening() { ip netns exec "$ns_relay" ss -Hltn "sport = :$relay_port" | grep -q "$relay_port"; }
e2e_until 10 relay_listening || e2e_die "the relay did not start listening"
for i in 1 2 3; do e2e_start_node "$i"; done
reach() { ip netns exec "${ns[1]}" ping -q -c 1 -W 1 "$1"; }
e2e_until 40 reach 10.83.0.2 || e2e_die "no ping n1 -> n2 within 40 s"
e2e_until 40 reach 10.83.0.3 || e2e_die "no ping n1 -> n3 within 40 s"
e2e_bg "${ns[2]}" "$dir/iperf-server.log" iperf3 -s
iperf_listening() { ip netns exec "${ns[2]}" ss -Hltn 'sport = :5201' | grep -q 5201; }
e2e_until 5 iperf_listening || e2e_die "iperf3 server did not start"

echo "== pings n1 -> n3 and n1 -> n2 ($SIZE bytes) while one iperf3 TCP stream n1 -> n2 fills n1's uplink, all through the relay"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: pqlan (git $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown), work tree); $(iperf3 --version | head -n 1)"
echo "made by: $0 $build   (RATE=$RATE BURST=$BURST TBF_LATENCY=$TBF_LATENCY SECS=$SECS WARM=$WARM RUNS=$RUNS SIZE=$SIZE)"
n=$((SECS * 10))
dest() { [ "$1" = u ] && echo 192.168.243.13 || echo "10.83.0.$1"; }
for ((r = 1; r <= RUNS; r++)); do
	sleep 1
	for j in 2 3 u; do
		timeout 30 ip netns exec "${ns[1]}" ping -n -c "$IDLE_N" -i 0.1 -W 2 -s "$SIZE" "$(dest $j)" >"$dir/idle-$j-$r.txt" 2>&1 || true
	done
	echo "command: ip netns exec ${ns[1]} iperf3 -c 10.83.0.2 -t $((WARM + SECS + 1)) -J &  sleep $WARM; ping -n -c $n -i 0.1 -W 2 -s $SIZE 10.83.0.3 & (the same to 10.83.0.2 and to n3's underlay address 192.168.243.13)"
	timeout $((WARM + SECS + 30)) ip netns exec "${ns[1]}" iperf3 -c 10.83.0.2 -t $((WARM + SECS + 1)) -J \
		>"$dir/iperf-$r.json" 2>&1 &
	ipid=$!
	E2E_PIDS+=("$ipid")
	sleep "$WARM"
	pids=()
	for j in 2 3 u; do
		timeout $((SECS + 20)) ip netns exec "${ns[1]}" ping -n -c "$n" -i 0.1 -W 2 -s "$SIZE" "$(dest $j)" >"$dir/load-$j-$r.txt" 2>&1 &
		pids+=($!)
		E2E_PIDS+=($!)
	done
	if [ -n "${SS:-}" ]; then # where the bytes wait, half-way through
		sleep $((SECS / 2))
		ip netns exec "${ns[1]}" "$PQLAN" status -c "$dir/n1.conf" | sed 's/^/    /'
		ip netns exec "${ns[1]}" ss -Htmi state established | sed 's/^/    /'
		ip netns exec "${ns[1]}" tc -s qdisc show dev eth0 | sed 's/^/    /'
	fi
	wait "${pids[@]}" || true
	wait "$ipid" || e2e_die "iperf3 failed: $(tail -n 3 "$dir/iperf-$r.json")"
done
PYTHONPATH="$top/bench" python3 - "$dir" "$RUNS" "$SECS" <<'PY'
import json, statistics, sys
from pings import pct, pings
d, runs, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rate = statistics.median(json.load(open("%s/iperf-%d.json" % (d, r)))["end"]["sum_received"]["bits_per_second"] / 1e6
                         for r in range(1, runs + 1))
print("%-24s %9s %9s %9s %9s %8s %8s" % ("pings", "idle p50", "idle p90", "load p50", "load p90", "lost", "p50/bare"))
rows = []
for j, what in (("u", "n1 -> n3 bare underlay"), ("3", "n1 -> n3 (other peer)"), ("2", "n1 -> n2 (bulk's peer)")):
    idle = sum((pings("%s/idle-%s-%d.txt" % (d, j, r)) for r in range(1, runs + 1)), [])
    load = sum((pings("%s/load-%s-%d.txt" % (d, j, r)) for r in range(1, runs + 1)), [])
    rows.append(pct(load, .5))
    print("%-24s %9.2f %9.2f %9.2f %9.2f %4d/%-3d %8.2f" % (what, pct(idle, .5), pct(idle, .9), pct(load, .5),
          pct(load, .9), runs * secs * 10 - len(load), runs * secs * 10, rows[-1] / rows[0]))
print("(ms, rounds pooled) iperf3 n1 -> n2 receiver: %.1f Mbit/s (median of the rounds)" % rate)
PY
