#!/usr/bin/env bash
# bench_direct_fallback.sh [BUILD] - fallback time: from cutting the direct
# path to traffic flowing through the relay again (issue 5). Needs root.
#
#        ns relay: pqlan relay 192.168.241.1:7443 on bridge br0
#   ns n1: eth0 192.168.241.11, listen :7444, pq0 10.77.0.1/24
#   ns n2: eth0 192.168.241.12, listen :7444, pq0 10.77.0.2/24
#   (the layout of bench_relay_throughput.sh / tests/e2e/check_direct.sh)
#
# A numbered UDP stream (python3, RATE datagrams/s, default 1000; each
# datagram carries its sequence number and its send time) runs n1 -> n2
# across pq0 for the whole test. CUTS times (default 5): wait until both
# nodes are on the direct path, then "cut" = a blackhole route to the
# other node's underlay address in n1 and n2 (as check_direct.sh: the relay
# stays reachable, the direct TCP connection goes silent, no FIN, so only
# the liveness probe can notice), wait until n1 is on the relay, lift
# the cut and wait for direct again (retry_interval 2 s).
# Figures per cut (wall clock, CLOCK_REALTIME on both ends, same host):
#   fallback = arrival of the first datagram sent after the cut - cut time
#   gap      = the longest silence in the received stream around the cut
# and the p50 / min / max over the cuts. Everything (processes by PID,
# namespaces, temp dir) is removed on exit, also on failure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-${PQ_BUILD:-$top/build}}" && pwd)
PQLAN=$build/pqlan
CUTS=${CUTS:-5}
RATE=${RATE:-1000}
. "$top/tests/e2e/lib.sh"
E2E_PREFIX=pqdf$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || e2e_die "needs root (network namespaces, TAP devices)"
[ -x "$PQLAN" ] || e2e_die "$PQLAN not built (make BUILD=$build all)"
[ "$CUTS" -ge 1 ] && [ "$CUTS" -le 50 ] || e2e_die "CUTS must be 1..50"
for tool in ip python3; do command -v "$tool" >/dev/null || e2e_die "$tool not installed"; done

e2e_tmpdir
dir=$E2E_TMP
e2e_underlay 192.168.241 vn 1 2
declare -A pub
relay_ip=192.168.241.1 relay_port=7443
e2e_keys 1 2
for i in 1 2; do e2e_node_conf "$i" 10.77.0 "192.168.241.1$i:7444" $((3 - i)) "retry_interval = 2"; done
e2e_bg "$ns_relay" "$dir/relay.log" "$PQLAN" relay -c "$dir/relay.conf"
relay_listening() { ip netns exec "$ns_relay" ss -Hltn 'sport = :7443' | grep -q 7443; }
e2e_until 10 relay_listening || e2e_die "the relay did not start listening"
for i in 1 2; do e2e_bg "${ns[$i]}" "$dir/n$i.log" "$PQLAN" up -c "$dir/n$i.conf"; done

peer_on() { # peer_on I PATH
	ip netns exec "${ns[$1]}" "$PQLAN" status -c "$dir/n$1.conf" --json >"$dir/st$1.json" &&
		e2e_json "$dir/st$1.json" "j['peers'][0]['state'] == 'established' and j['peers'][0]['path'] == '$2'"
}
both_on() { peer_on 1 "$1" && peer_on 2 "$1"; }
e2e_until 30 both_on direct || e2e_die "not on the direct path within 30 s"

# send: datagrams "!Qd" (sequence, send time) at RATE/s until killed.
# recv: appends "seq send_time arrival_time" lines to OUT, flushed often.
cat >"$dir/udp.py" <<'PY'
import signal, socket, struct, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
if sys.argv[1] == "send":
    host, port, rate = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.monotonic(); n = 0; pad = b"x" * 48
    while True:
        el = time.monotonic() - t0
        while n < int(el * rate) + 1:
            try:
                s.sendto(struct.pack("!Qd", n, time.time()) + pad, (host, port))
            except OSError:
                pass
            n += 1
        time.sleep(0.0005)
else:
    port, out = int(sys.argv[2]), open(sys.argv[3], "w", buffering=1 << 16)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind(("0.0.0.0", port))
    try:
        while True:
            d, _ = s.recvfrom(2048)
            q, ts = struct.unpack("!Qd", d[:16])
            out.write("%d %.6f %.6f\n" % (q, ts, time.time()))
    finally:
        out.close()
PY
e2e_bg "${ns[2]}" "$dir/recv.log" python3 "$dir/udp.py" recv 9000 "$dir/arrivals.txt"
recv_pid=$REPLY
sleep 0.5
e2e_bg "${ns[1]}" "$dir/send.log" python3 "$dir/udp.py" send 10.77.0.2 9000 "$RATE"
send_pid=$REPLY

cut_cmd="ip -n ${ns[1]} route add blackhole 192.168.241.12/32; ip -n ${ns[2]} route add blackhole 192.168.241.11/32"
echo "== fallback time: direct path cut -> traffic through the relay, pqlan, $CUTS cuts, UDP stream $RATE/s over pq0"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "made by: $0 $build   (CUTS=$CUTS RATE=$RATE)"
echo "cut: $cut_cmd"
echo "stream: ip netns exec ${ns[1]} python3 udp.py send 10.77.0.2 9000 $RATE  (receiver in ${ns[2]}, script in this file)"
: >"$dir/cuts.txt"
for ((c = 1; c <= CUTS; c++)); do
	e2e_until 20 both_on direct || e2e_die "cut $c: not on the direct path within 20 s"
	sleep 1
	date +%s.%N >>"$dir/cuts.txt"
	ip -n "${ns[1]}" route add blackhole 192.168.241.12/32
	ip -n "${ns[2]}" route add blackhole 192.168.241.11/32
	# The sender's side (n1) must fall back; n2 only receives, so it sends
	# no probe and may stay on its stale direct conn until its next
	# keepalive (data from n1 through the relay is accepted meanwhile).
	e2e_until 10 peer_on 1 relay || e2e_die "cut $c: n1 not back on the relay within 10 s: $(cat "$dir/st1.json")"
	sleep 1
	ip -n "${ns[1]}" route del blackhole 192.168.241.12/32
	ip -n "${ns[2]}" route del blackhole 192.168.241.11/32
	echo "cut $c: back on the relay; cut lifted"
done
sleep 0.5
e2e_stop "$send_pid" 30 || true
sleep 0.5
e2e_stop "$recv_pid" 30 || true
peer_on 1 relay || peer_on 1 direct || e2e_die "n1 lost the session: $(cat "$dir/st1.json")"
python3 - "$dir/cuts.txt" "$dir/arrivals.txt" <<'PY'
import statistics, sys
cuts = [float(x) for x in open(sys.argv[1])]
arr = [tuple(float(v) for v in l.split()) for l in open(sys.argv[2]) if l.count(" ") == 2]
arr.sort(key=lambda a: a[2])
fb, gaps, lost = [], [], []
for i, tc in enumerate(cuts):
    # The outage: the longest silence in the arrivals from just before the
    # cut to 5 s after it; fallback = its end - the cut.
    win = [a for a in arr if tc - 0.1 <= a[2] <= tc + 5.0]
    if len(win) < 2:
        sys.exit("cut %d: no datagrams around the cut" % (i + 1))
    g, k = max((b[2] - a[2], j) for j, (a, b) in enumerate(zip(win, win[1:])))
    gaps.append(g * 1000); fb.append((win[k + 1][2] - tc) * 1000)
    lost.append(int(win[k + 1][0] - win[k][0] - 1))
    print("cut %d: longest silence %.0f ms, from %+.0f ms to %+.0f ms after the cut; %d datagrams lost in it" % (
        i + 1, gaps[-1], (win[k][2] - tc) * 1000, fb[-1], lost[-1]))
print("fallback (cut -> first datagram after the silence), ms over %d cuts: p50 %.0f  min %.0f  max %.0f" % (len(fb), statistics.median(fb), min(fb), max(fb)))
print("longest silence, ms over %d cuts: p50 %.0f  min %.0f  max %.0f" % (len(gaps), statistics.median(gaps), min(gaps), max(gaps)))
print("datagrams received: %d" % len(arr))
PY
grep -h "fallback\|-> relay" "$dir/n1.log" | head -n "$CUTS" | sed 's/^/  n1 log: /'
