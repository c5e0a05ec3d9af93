#!/usr/bin/env bash
# check_attack_mac.sh - MAC ownership between peers (issue 11, DESIGN §7
# "layer-2 trust", node/l2.h), in network namespaces (root).
#
#   ns relay: pqlan relay 192.168.247.1:7443
#   ns n1, n2, n3: pqlan up, TAP pq0 at 10.81.0.I/24, every one the others' peer
#
# 1. n1 has learned n2's MAC (pings). n3 then sends frames from its TAP
#    with n2's MAC as the source (a raw socket). n1 drops and counts them,
#    logs the refusal, and while n3 keeps claiming the MAC (a frame every
#    50 ms) n1's unicast to n2 still goes to n2: 20 of 20 pings answered.
#    Before, one spoofed frame moved the MAC to n3 and n1's unicast for n2
#    was sealed to n3 (pings lost; checked against main's pqlan).
# 2. n1 restarted with `allowed_mac = <n3's MAC>` in n3's [peer]: frames
#    from n3 with any other source (a made-up MAC, n2's) are dropped and
#    counted; n3's own MAC still works.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3

relay_ip=192.168.247.1
relay_port=7443
e2e_underlay 192.168.247 vm 1 2 3
e2e_keys 1 2 3
e2e_node_conf 1 10.81.0 "192.168.247.11:7444" "2 3"
e2e_node_conf 2 10.81.0 "192.168.247.12:7444" "1 3"
e2e_node_conf 3 10.81.0 "192.168.247.13:7444" "1 2"
e2e_start_relay
for i in 1 2 3; do e2e_start_node "$i"; done
pings() { ip netns exec "${ns[$1]}" ping -q -c "$3" -i 0.1 -W 1 "10.81.0.$2" >/dev/null 2>&1; }
e2e_until 30 pings 1 2 1 || e2e_die "n1 cannot reach n2"
e2e_until 30 pings 1 3 1 || e2e_die "n1 cannot reach n3"
mac() { ip -n "${ns[$1]}" -o link show pq0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
mac1=$(mac 1) mac2=$(mac 2) mac3=$(mac 3)
[ -n "$mac1" ] && [ -n "$mac2" ] && [ -n "$mac3" ] || e2e_die "cannot read the TAP MACs"

# spoof N SRC [GAP]: n3 sends N frames to n1's MAC from source MAC SRC,
# GAP seconds apart (default 0)
spoof() {
	ip netns exec "${ns[3]}" python3 -c 'import socket, sys, time
n, dst, src = int(sys.argv[1]), bytes.fromhex(sys.argv[2].replace(":", "")), bytes.fromhex(sys.argv[3].replace(":", ""))
gap = float(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("pq0", 0))
for i in range(n):
    s.send(dst + src + b"\x88\xb5" + bytes(46))
    time.sleep(gap)' "$1" "$mac1" "$2" "${3:-0}"
}
# strict_pings FROM TO N: all N answered
strict_pings() {
	ip netns exec "${ns[$1]}" ping -c "$3" -i 0.1 -W 1 "10.81.0.$2" 2>&1 | grep -q " $3 received"
}
# peer_field I NAME FIELD: FIELD of node I's peer called NAME
peer_field() {
	status_json "$1" && python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print([p for p in j["peers"] if p["name"] == sys.argv[2]][0][sys.argv[3]])' "$dir/status$1.json" "$2" "$3"
}

# ---- 1. n3 claims n2's MAC -------------------------------------------------
drop0=$(peer_field 1 n3 dropped_frames)
spoof 20 "$mac2"
sleep 1
drop1=$(peer_field 1 n3 dropped_frames)
[ $((drop1 - drop0)) -ge 20 ] && e2e_ok "n1 dropped and counted n3's 20 frames from n2's MAC ($drop0 -> $drop1)" ||
	e2e_bad "n1 did not drop n3's spoofed frames (dropped $drop0 -> $drop1)"
grep -q "dropped: that MAC belongs to another peer" "$dir/n1.log" && e2e_ok "n1 logged the refusal" ||
	e2e_bad "no refusal in n1's log"
# n3 keeps claiming n2's MAC (a frame every 50 ms) while n1 pings n2
spoof 60 "$mac2" 0.05 &
spoofer=$!
E2E_PIDS+=("$spoofer")
strict_pings 1 2 20 && e2e_ok "n1 -> n2: 20 of 20 pings answered while n3 claims n2's MAC" ||
	e2e_bad "n1's pings to n2 lost while n3 claims n2's MAC (redirected to n3)"
wait "$spoofer" 2>/dev/null || true

# ---- 2. n3 pinned to its own MAC ---------------------------------------------
e2e_stop "${node_pid[1]}" || e2e_bad "n1 did not stop"
echo "allowed_mac = $mac3" >>"$dir/n1.conf" # the last [peer] is n3
e2e_start_node 1 -pinned
e2e_until 30 pings 1 3 1 || e2e_die "n1 (pinned) cannot reach n3"
grep -q "peer n3: may send from 1 MAC address(es) only" "$dir/n1-pinned.log" || e2e_bad "n1 did not log the pin"
drop0=$(peer_field 1 n3 dropped_frames)
spoof 10 02:00:00:00:00:99
spoof 10 "$mac2"
sleep 1
drop1=$(peer_field 1 n3 dropped_frames)
[ $((drop1 - drop0)) -ge 20 ] && e2e_ok "allowed_mac: n3's 20 frames from other MACs dropped and counted ($drop0 -> $drop1)" ||
	e2e_bad "allowed_mac: n3's frames from other MACs not dropped ($drop0 -> $drop1)"
grep -q "not in its allowed_mac list" "$dir/n1-pinned.log" && e2e_ok "n1 logged the allowed_mac refusal" ||
	e2e_bad "no allowed_mac refusal in n1's log"
pings 1 3 5 && e2e_ok "allowed_mac: n3's own MAC still works (5 pings)" || e2e_bad "n3 pinned to its own MAC cannot be reached"
pings 1 2 5 && e2e_ok "n2 unaffected (5 pings)" || e2e_bad "n2 unreachable after the pin"
e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "${node_pid[3]}" "$relay_pid"
[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_attack_mac: $E2E_CHECKED checks passed"
