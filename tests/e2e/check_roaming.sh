#!/usr/bin/env bash
# check_roaming.sh - roaming / resumption (DESIGN §5, issue 5 item 6), and
# an unreachable listener that must not make the path flap. Network
# namespaces, needs root.
#
#                 ns relay: pqlan relay on 192.168.243.1:7443
#              +----------------- br0 -----------------+
#              |                                       |
#   vr1 (veth) |                            vr2 (veth) |
#  ns n1: eth0 192.168.243.11               ns n2: eth0 192.168.243.12
#         (moves to .21)                           listen 0.0.0.0:7444
#         listen 0.0.0.0:7444
#         pq0 10.78.0.1/24  <== direct TLS ==>     pq0 10.78.0.2/24
#
# 1. Roaming: n1 and n2 on the direct path; n1's underlay address changes
#    (ip addr del .11, add .21) while n1 pings n2 every 0.1 s. Checks: n1
#    notices and reconnects to the relay from .21; the direct path comes
#    back (path direct, migrations up on both, n2's endpoint for n1 is
#    .21); NO new hybrid handshake (the count of "handshake done" lines
#    in both logs is unchanged and handshake_age_s kept growing past the
#    change: the session and its keys survived); the ping outage is
#    bounded (longest run of lost replies, measured).
# 1b. The relay is killed: the direct path goes on carrying pings (the
#    peers stay established, path direct); once it is back, both nodes
#    reconnect and still no new handshake.
# 2. Node restart: n2 is killed and started again (it lost its keys): it
#    handshakes anew and pings work again within a bounded time.
# 3. Unreachable listener: a blackhole route in n1 to n2's address, from
#    the start (the relay stays reachable). For >= 3 retry intervals the
#    path never becomes direct, fallbacks and migrations stay 0, dials go
#    on being retried (`direct dials: N started` in the text status
#    grows), and pings work through the relay.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3

net=192.168.243
relay_ip=$net.1
relay_port=7443
direct_port=7444
retry=1          # retry_interval, seconds
outage_max=6     # seconds of lost pings allowed across the address change
[ -n "${PQ_SANITIZER:-}" ] && outage_max=8

# ---- the underlay, keys, configuration --------------------------------------
e2e_underlay "$net" vr 1 2
e2e_keys 1 2
for i in 1 2; do
	# A wildcard listen address: it survives the address change.
	e2e_node_conf "$i" 10.78.0 "0.0.0.0:$direct_port" $((3 - i)) "retry_interval = $retry" "log_level = debug"
done

# ---- helpers -----------------------------------------------------------------
# dials_started I: "direct dials: N started" from node I's text status.
dials_started() {
	ip netns exec "${ns[$1]}" "$PQLAN" status -c "$dir/n$1.conf" >"$dir/text$1.out" || return 1
	sed -n 's/^  direct dials: \([0-9]*\) started$/\1/p' "$dir/text$1.out"
}
hs_done() { cat "$dir"/n[12]*.log | grep -c "handshake done" || true; }
# ping_run SECONDS TAG: n1 -> n2 every 0.1 s in the background ($ping_pid).
ping_run() {
	ip netns exec "${ns[1]}" ping -n -i 0.1 -W 1 -w "$1" 10.78.0.2 >"$dir/$2.ping" 2>&1 &
	ping_pid=$!
}
# ping_outage TAG: "SENT RECEIVED OUTAGE_MS", the outage being the longest
# run of consecutive lost replies (times the 0.1 s interval) between the
# first and the last reply.
ping_outage() {
	python3 - "$dir/$1.ping" <<'PY'
import re, sys
seqs = sorted({int(m.group(1)) for m in re.finditer(r"icmp_seq=(\d+) ttl", open(sys.argv[1]).read())})
sent = re.search(r"(\d+) packets transmitted", open(sys.argv[1]).read())
gap = max([b - a - 1 for a, b in zip(seqs, seqs[1:])] or [0])
print(sent.group(1) if sent else 0, len(seqs), gap * 100)
PY
}

# ---- 1. roaming: n1's address changes, the session survives -----------------
e2e_start_relay
for i in 1 2; do e2e_start_node "$i" ""; done
e2e_until 30 both_are "p['state'] == 'established'" || e2e_die "no session within 30 s"
e2e_until 15 on_path direct || e2e_die "the peers did not move to the direct path within 15 s"
e2e_ok "n1 and n2 on the direct path"
sleep 2 # so that handshake_age_s is clearly above 0
hs_before=$(hs_done)
status_json 1; mig1=$(field 1 migrations); age1=$(field 1 handshake_age_s)
status_json 2; mig2=$(field 2 migrations); age2=$(field 2 handshake_age_s)
t_move=$SECONDS
ping_run 16 roam
sleep 2
ip -n "${ns[1]}" addr del "$net.11/24" dev eth0
ip -n "${ns[1]}" addr add "$net.21/24" dev eth0
e2e_log "n1 moved from $net.11 to $net.21"
if e2e_until 15 grep -q "relay: our underlay addresses changed" "$dir/n1.log" &&
	e2e_until 15 grep -q "sees us at $net.21:" "$dir/n1.log"; then
	e2e_ok "n1 noticed its new address and reconnected to the relay from $net.21"
else
	e2e_bad "n1 did not reconnect to the relay from its new address"
fi
# The path may come back through the relay (migrations grow) or go from
# one direct conn to another (UDP to the TLS stand-by and back) without
# touching it: what counts is that n2 reaches n1 at its new address.
if e2e_until 20 both_are "p['state'] == 'established' and p['path'] == 'direct'" &&
	e2e_until 10 peer_is 2 "p['path'] == 'direct' and p['endpoint'].startswith('$net.21:')"; then
	e2e_ok "the direct path came back after the move ($((SECONDS - t_move - 2)) s): migrations n1 $mig1 -> $(status_json 1 && field 1 migrations), n2 $mig2 -> $(field 2 migrations), n2 reaches n1 at $(field 2 endpoint)"
else
	e2e_bad "no direct path after the move: $(cat "$dir/status1.json") $(cat "$dir/status2.json")"
fi
hs_after=$(hs_done)
elapsed=$((SECONDS - t_move))
if [ "$hs_after" -eq "$hs_before" ] &&
	peer_is 1 "p['handshake_age_s'] >= $age1 + $elapsed - 2" && peer_is 2 "p['handshake_age_s'] >= $age2 + $elapsed - 2"; then
	e2e_ok "no new hybrid handshake: $hs_before 'handshake done' lines before and after, handshake_age_s n1 $age1 -> $(field 1 handshake_age_s), n2 $age2 -> $(field 2 handshake_age_s) over $elapsed s"
else
	e2e_bad "a new handshake happened: lines $hs_before -> $hs_after, $(cat "$dir/status1.json") $(cat "$dir/status2.json")"
fi
grep -q "online (session resumed)" "$dir/n1.log" && e2e_ok "n1 logged: peer n2 online (session resumed)" ||
	e2e_bad "n1 did not log a resumed session"
e2e_wait_pid "$ping_pid" 250 || e2e_die "ping did not finish"
wait "$ping_pid" || true
read -r sent got outage_ms < <(ping_outage roam)
if [ "$got" -gt 0 ] && [ "$outage_ms" -le $((outage_max * 1000)) ] && tail -n 20 "$dir/roam.ping" | grep -q "icmp_seq=.* ttl"; then
	e2e_ok "pings n1 -> n2 across the move: $got of $sent answered, longest outage $outage_ms ms (bound ${outage_max} s)"
else
	e2e_bad "pings across the move: $got of $sent answered, longest outage $outage_ms ms"
fi

# ---- 1b. the relay goes away: the direct path keeps carrying frames -------------
e2e_until 10 on_path direct || e2e_die "not on the direct path before the relay test"
kill -KILL "$relay_pid"
wait "$relay_pid" 2>/dev/null || true
relay_down() { status_json "$1" && e2e_json "$dir/status$1.json" "j['node']['relay'] == 'connecting'"; }
e2e_until 10 relay_down 1 && e2e_until 10 relay_down 2 || e2e_bad "the nodes did not notice the relay was gone"
ip netns exec "${ns[1]}" ping -n -c 30 -i 0.1 -W 1 10.78.0.2 >"$dir/norelay.ping" 2>&1 || true
read -r sent got outage_ms < <(ping_outage norelay)
if [ "$got" -ge 29 ] && on_path direct; then
	e2e_ok "relay killed: still established on the direct path, $got of $sent pings answered"
else
	e2e_bad "relay killed: $got of $sent pings answered; $(cat "$dir/status1.json") $(cat "$dir/status2.json")"
fi
e2e_start_relay -b
relay_up() { status_json "$1" && e2e_json "$dir/status$1.json" "j['node']['relay'] == 'connected'"; }
if e2e_until 15 relay_up 1 && e2e_until 15 relay_up 2 && on_path direct && [ "$(hs_done)" -eq "$hs_before" ]; then
	e2e_ok "relay back: both reconnected, still direct, still no new handshake ($hs_before lines)"
else
	e2e_bad "relay back: $(hs_done) handshake lines (was $hs_before); $(cat "$dir/status1.json")"
fi
hs_after=$(hs_done)

# ---- 2. n2 restarts (new keys in memory): a fresh handshake, quickly ----------
e2e_stop "${node_pid[2]}" || e2e_bad "n2 did not stop on SIGTERM"
t_restart=$SECONDS
e2e_start_node 2 -b
# n2's TAP has a new MAC: forget n1's ARP entry for it, so the time
# measured is the VPN's, not the neighbour cache's.
ip -n "${ns[1]}" neigh flush dev pq0
ping12() { ip netns exec "${ns[1]}" ping -q -c 1 -W 1 10.78.0.2; }
if e2e_until 20 both_are "p['state'] == 'established'" && e2e_until 10 ping12 &&
	[ "$(hs_done)" -gt "$hs_after" ]; then
	e2e_ok "n2 restarted (keys lost): a new handshake, pings work again after $((SECONDS - t_restart)) s"
else
	e2e_bad "no new session and ping within 30 s of n2's restart"
fi
e2e_until 15 on_path direct && e2e_ok "n2 restarted: back on the direct path" ||
	e2e_bad "n2 restarted: no direct path: $(cat "$dir/status1.json") $(cat "$dir/status2.json")"

# ---- 3. unreachable listener: no flapping -----------------------------------------
for i in 1 2; do
	e2e_stop "${node_pid[$i]}" || e2e_bad "n$i did not stop on SIGTERM"
done
ip -n "${ns[1]}" route add blackhole "$net.12/32"
for i in 1 2; do e2e_start_node "$i" -c; done
e2e_until 30 on_path relay || e2e_die "unreachable listener: no session within 30 s"
d1=$(dials_started 1); d2=$(dials_started 2)
[ -n "$d1" ] && [ -n "$d2" ] || e2e_die "no 'direct dials' line in the text status: $(cat "$dir/text1.out")"
# The higher key waits PQ_DIRECT_HIGH_KEY_DELAY_MS (1.5 s) more per retry,
# so n1 (whichever key it has) starts a dial at least every 1.125 + 1.5 s:
# two or more within the window however the keys fall. n2's dials hang
# until PQ_DIRECT_OPEN_TIMEOUT_MS (5 s), so the window holds one more
# of them too.
watch_s=$((retry * 6 + 4))
flapped=0 samples=0 missed=0
stays_relay="len(j['peers']) == 1 and (lambda p: p['state'] == 'established' and p['path'] == 'relay' and p['migrations'] == 0 and p['fallbacks'] == 0)(j['peers'][0])"
deadline=$((SECONDS + watch_s))
while [ "$SECONDS" -lt "$deadline" ]; do
	# A status call that times out under load is not a flap; a sample
	# that shows the wrong path is.
	if status_json 1 && status_json 2; then
		samples=$((samples + 1))
		e2e_json "$dir/status1.json" "$stays_relay" && e2e_json "$dir/status2.json" "$stays_relay" || flapped=1
	else
		missed=$((missed + 1))
	fi
	sleep 0.5
done
e1=$(dials_started 1); e2=$(dials_started 2)
if [ "$flapped" -eq 0 ] && [ "$samples" -ge 5 ]; then
	e2e_ok "unreachable listener: both stayed on the relay for $watch_s s (retry_interval $retry s, $samples status samples, $missed unanswered), never direct, 0 migrations, 0 fallbacks"
else
	e2e_bad "unreachable listener: flapped=$flapped over $samples samples ($missed unanswered): $(cat "$dir/status1.json") $(cat "$dir/status2.json")"
fi
if [ "$e1" -ge $((d1 + 2)) ] && [ "$e2" -gt "$d2" ]; then
	e2e_ok "dials retried meanwhile: n1 $d1 -> $e1, n2 $d2 -> $e2 started"
else
	e2e_bad "dials not retried: n1 $d1 -> $e1, n2 $d2 -> $e2"
fi
ip netns exec "${ns[1]}" ping -q -c 3 -W 2 10.78.0.2 >"$dir/ping.out" 2>&1 &&
	e2e_ok "unreachable listener: pings work through the relay" ||
	e2e_bad "unreachable listener: ping failed: $(tail -n 2 "$dir/ping.out")"

# ---- clean stop (under ASan, a leak or error makes the exit status non-zero)
e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "$relay_pid"
[ "$stopped" -eq 3 ] && e2e_ok "SIGTERM: both nodes and the relay exited 0"

[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_roaming: $E2E_CHECKED checks passed"
