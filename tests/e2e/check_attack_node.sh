#!/usr/bin/env bash
# check_attack_node.sh - a node's direct listener under a connection flood,
# and a black-holed relay link (issue 11, DESIGN §7), in network namespaces
# (root).
#
#   ns relay: pqlan relay 192.168.246.1:7443, bridge br0 (veth vq1, vq2, vq3)
#   ns n1: pqlan up, listen 192.168.246.11:7444, metrics 127.0.0.1:9464,
#          open-file limit 1024 (soft and hard: a common default)
#   ns n2: pqlan up, no listener (it dials n1)
#   ns n3: the attacker, 192.168.246.13
#
# 1. n3 holds 2000 idle TCP connections to n1's direct listener,
#    re-opening the ones n1 closes. Meanwhile `pqlan status` on n1 answers
#    and says the relay is connected, and n2, started during the flood, gets
#    the direct path to n1. Before, 1024 pending slots took n1's every fd: status and
#    relay reconnects failed with "limit reached".
# 2. n1's link to the bridge is detached (both directions dropped, no FIN
#    or reset). Within 15 s n1's status and metrics say the relay is not
#    connected, and within 20 s n2 sees n1 offline (the relay's ping
#    deadline: 5 s of silence + 5 s without a pong, and 10 s of slack
#    for a sanitizer build on a loaded machine); both
#    recover when the link returns. Before, n1 said "relay: connected" for
#    minutes and n2 saw it online.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3 prlimit timeout

relay_ip=192.168.246.1
relay_port=7443
attack=$top/tests/e2e/tools/attack_conns.py
e2e_underlay 192.168.246 vq 1 2 3
e2e_keys 1 2
e2e_node_conf 1 10.80.0 "192.168.246.11:7444" 2 "metrics = 127.0.0.1:9464"
e2e_node_conf 2 10.80.0 "192.168.246.12:0" 1
relay_is() { status_json "$1" && e2e_json "$dir/status$1.json" "j['node']['relay'] == '$2'"; }
metric() {
	ip netns exec "${ns[1]}" timeout 5 python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:9464/metrics", timeout=4).read().decode())' |
		awk -v m="$1" '$1 == m { print $2 }'
}

# ---- 1. the direct listener flooded ----------------------------------------
# n1 comes up, the flood starts at once; n2 comes up during it and must get
# the direct path to n1 (it dials n1's listener from another source).
e2e_start_relay
e2e_start_node 1 "" prlimit --nofile=1024:1024
e2e_until 10 relay_is 1 connected || e2e_die "n1 did not reach the relay"
ip netns exec "${ns[3]}" python3 "$attack" 192.168.246.11 7444 2000 30 300 >"$dir/attack.out" 2>&1 &
attacker=$!
E2E_PIDS+=("$attacker")
sleep 5
t0=$SECONDS
e2e_start_node 2
answers=0
for k in 1 2 3; do
	if timeout 5 ip netns exec "${ns[1]}" "$PQLAN" status -c "$dir/n1.conf" --json >"$dir/status1.json" 2>"$dir/st.err" &&
		e2e_json "$dir/status1.json" "j['node']['relay'] == 'connected'"; then
		answers=$((answers + 1))
	else
		e2e_bad "n1 status under the flood: $(cat "$dir/st.err" "$dir/status1.json" 2>/dev/null | tail -n 2)"
	fi
	sleep 1
done
[ "$answers" -eq 3 ] && e2e_ok "n1 answers status and keeps its relay conn under 2000 conns at its listener"
if e2e_until 20 on_path direct; then
	e2e_ok "n2, started during the flood, got the direct path to n1 ($((SECONDS - t0)) s)"
else
	e2e_bad "no direct path for n2 under the flood: $(cat "$dir/status1.json" "$dir/status2.json" 2>/dev/null)"
fi
kill -0 "$attacker" 2>/dev/null || e2e_bad "the attack ended before the checks did"
wait "$attacker" 2>/dev/null || true
echo "figure: $(cat "$dir/attack.out")"
grep -q "closed by the listener [1-9]" "$dir/attack.out" || e2e_bad "n1 closed none of the idle conns"

# ---- 2. the relay link black-holed -----------------------------------------
e2e_until 20 on_path direct || e2e_die "not on the direct path before the black hole"
ip -n "$ns_relay" link set vq1 nomaster
t0=$SECONDS
n1_down() { relay_is 1 connecting && [ "$(metric pqlan_relay_connected)" = 0 ]; }
n2_sees_offline() { peer_is 2 "p['state'] == 'offline'"; }
if e2e_until 15 n1_down; then
	e2e_ok "black hole: n1 status and metrics say the relay is not connected after $((SECONDS - t0)) s"
else
	e2e_bad "n1 still claims the relay after 15 s: $(cat "$dir/status1.json")"
fi
if e2e_until $((20 - (SECONDS - t0) > 1 ? 20 - (SECONDS - t0) : 1)) n2_sees_offline; then
	e2e_ok "black hole: the relay told n2 that n1 is offline ($((SECONDS - t0)) s after the cut)"
else
	e2e_bad "n2 still sees n1 after 20 s: $(cat "$dir/status2.json")"
fi
ip -n "$ns_relay" link set vq1 master br0
t0=$SECONDS
if e2e_until 40 relay_is 1 connected && e2e_until 20 both_are "p['state'] == 'established'"; then
	e2e_ok "link back: n1 reconnected and both peers established again ($((SECONDS - t0)) s)"
else
	e2e_bad "no recovery after the link returned"
fi
e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "$relay_pid"
[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_attack_node: $E2E_CHECKED checks passed"
