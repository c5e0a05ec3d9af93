#!/usr/bin/env bash
# check_relay_outage.sh - a session on the direct path outlives the relay:
# with the relay gone, rekeys (new hybrid handshakes) run over the direct
# connection itself, so traffic goes on past the keys' 180 s limit
# (DESIGN §4, §5). Network namespaces, needs root.
#
#                 ns relay: pqlan relay on 192.168.244.1:7443
#              +----------------- br0 -----------------+
#              |                                       |
#   vo1 (veth) |                            vo2 (veth) |
#  ns n1: eth0 192.168.244.11               ns n2: eth0 192.168.244.12
#         listen :7444                             listen :7444
#         pq0 10.79.0.1/24  <== direct TLS ==>     pq0 10.79.0.2/24
#
# The nodes run with the test-only PQLAN_TEST_REKEY_MS=4000 (a rekey every
# 4 s instead of 120 s, so several fit in the test). Checks:
#  - PQLAN_TEST_REKEY_MS without PQLAN_TEST=1 is refused before anything
#    starts;
#  - the peers reach the direct path; the relay is killed;
#  - over the next 14 s, under a 10/s ping: new handshakes complete on
#    both nodes (more "handshake done" lines, handshake_age_s below the
#    rekey interval plus slack), each followed by a re-handshake of the
#    direct path (rehandshakes grows), the path stays direct and no ping
#    is lost;
#  - the relay returns: both reconnect, still direct; clean exits.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3

net=192.168.244
relay_ip=$net.1
relay_port=7443
direct_port=7444
rekey_ms=4000
watch_s=14

e2e_underlay "$net" vo 1 2
e2e_keys 1 2
for i in 1 2; do
	e2e_node_conf "$i" 10.79.0 "$net.1$i:$direct_port" $((3 - i)) "retry_interval = 1" "log_level = debug"
done

hs_done() { cat "$dir/n$1.log" | grep -c "handshake done" || true; }
relay_is() { status_json "$1" && e2e_json "$dir/status$1.json" "j['node']['relay'] == '$2'"; }

# ---- the knob is for tests only ------------------------------------------------
if out=$(PQLAN_TEST_REKEY_MS=$rekey_ms "$PQLAN" up -c "$dir/n1.conf" 2>&1); then
	e2e_bad "PQLAN_TEST_REKEY_MS without PQLAN_TEST=1 was accepted"
elif echo "$out" | grep -q "PQLAN_TEST_REKEY_MS is for tests only"; then
	e2e_ok "PQLAN_TEST_REKEY_MS without PQLAN_TEST=1 refused: $out"
else
	e2e_bad "PQLAN_TEST_REKEY_MS without PQLAN_TEST=1: unexpected: $out"
fi

# ---- on the direct path, then no relay -----------------------------------------
e2e_start_relay
for i in 1 2; do e2e_start_node "$i" "" env PQLAN_TEST=1 PQLAN_TEST_REKEY_MS=$rekey_ms; done
e2e_until 30 both_are "p['state'] == 'established'" || e2e_die "no session within 30 s"
e2e_until 15 on_path direct || e2e_die "the peers did not move to the direct path within 15 s"
e2e_ok "n1 and n2 on the direct path"
kill -KILL "$relay_pid"
wait "$relay_pid" 2>/dev/null || true
e2e_until 10 relay_is 1 connecting && e2e_until 10 relay_is 2 connecting ||
	e2e_die "the nodes did not notice the relay was gone"
hs1=$(hs_done 1); hs2=$(hs_done 2)
status_json 1; rehs1=$(field 1 rehandshakes)
status_json 2; rehs2=$(field 2 rehandshakes)

count=$((watch_s * 10))
ip netns exec "${ns[1]}" ping -n -i 0.1 -W 1 -c "$count" 10.79.0.2 >"$dir/outage.ping" 2>&1 || true
got=$(grep -c "icmp_seq=.* ttl" "$dir/outage.ping" || true)
if [ "$got" -eq "$count" ]; then
	e2e_ok "relay gone: $got of $count pings answered over $watch_s s"
else
	e2e_bad "relay gone: $got of $count pings answered: $(tail -n 2 "$dir/outage.ping")"
fi
e1=$(hs_done 1); e2=$(hs_done 2)
age_max=$(((rekey_ms + 999) / 1000 + 6))
if [ "$((e1 + e2))" -ge "$((hs1 + hs2 + 2))" ] &&
	peer_is 1 "p['handshake_age_s'] <= $age_max and p['path'] == 'direct' and p['rehandshakes'] > $rehs1" &&
	peer_is 2 "p['handshake_age_s'] <= $age_max and p['path'] == 'direct' and p['rehandshakes'] > $rehs2"; then
	e2e_ok "relay gone: rekeyed over the direct path ('handshake done' n1 $hs1 -> $e1, n2 $hs2 -> $e2; handshake_age_s $(field 1 handshake_age_s)/$(field 2 handshake_age_s) <= $age_max; re-handshakes n1 $rehs1 -> $(status_json 1 && field 1 rehandshakes), n2 $rehs2 -> $(field 2 rehandshakes)), still direct"
else
	e2e_bad "relay gone: no rekey over the direct path: handshake lines n1 $hs1 -> $e1, n2 $hs2 -> $e2; $(cat "$dir/status1.json") $(cat "$dir/status2.json")"
fi
relay_log=$(grep -h "relay" "$dir/n1.log" | tail -n 1)
grep -q "HS_INIT not sent" "$dir/n1.log" "$dir/n2.log" &&
	e2e_bad "a handshake could not be sent: $(grep -h "HS_INIT not sent" "$dir"/n[12].log | head -n 2)"

# ---- the relay returns ------------------------------------------------------------
e2e_start_relay -b
# The nodes back off while the relay is away (0.5 s doubling, ±25 %):
# after ~15 s down the next try may be 20 s away.
if e2e_until 40 relay_is 1 connected && e2e_until 40 relay_is 2 connected && on_path direct; then
	e2e_ok "relay back: both reconnected, still direct"
else
	e2e_bad "relay back: $(cat "$dir/status1.json") $(cat "$dir/status2.json"); $relay_log"
fi
ip netns exec "${ns[1]}" ping -q -c 3 -W 2 10.79.0.2 >"$dir/ping.out" 2>&1 &&
	e2e_ok "relay back: pings work" || e2e_bad "relay back: ping failed: $(tail -n 2 "$dir/ping.out")"

e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "$relay_pid"
[ "$stopped" -eq 3 ] && e2e_ok "SIGTERM: both nodes and the relay exited 0"

[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_relay_outage: $E2E_CHECKED checks passed"
