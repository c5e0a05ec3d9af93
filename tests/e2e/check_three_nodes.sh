#!/usr/bin/env bash
# check_three_nodes.sh - `pqlan relay` and `pqlan up` end to end, in
# network namespaces (in the manner of WireGuard's netns.sh). Needs root.
#
#                     ns relay: pqlan relay on 192.168.241.1:7443
#                  +---------------- br0 ----------------+----------+
#                  |                  |                  |          |
#       vn1 (veth) |       vn2 (veth) |       vn3 (veth) | vn4      |
#  ns n1: eth0 .11 |  ns n2: eth0 .12 |  ns n3: eth0 .13 |  ns n4: eth0 .14
#         pq0 10.77.0.1/24    pq0 10.77.0.2/24    pq0 10.77.0.3/24    pq0 10.77.0.4/24
#
#  underlay 192.168.241.0/24; the TAPs pq0 form one virtual Ethernet
#  segment 10.77.0.0/24 carried through the relay, sealed end to end.
#  n1, n2, n3 list each other as peers. n4 lists n1 and n2, but only n2
#  lists n4: n4 reaches n2, never n1 (the relay never tells either about
#  the other, and n1 refuses n4's key anyway) and never n3
#  (only n2 forwarding n4's frames could get them there, and a node never
#  forwards one peer's frames to another, DESIGN §6).
#
# Checks: every pair of n1-n3 pings both ways; ARP resolves across the tunnel;
# iperf3 TCP both ways (figures printed); `pqlan status --json` shows the
# peers established on path relay; n4 reaches n2 and nobody else; after the
# relay is killed and restarted the nodes reconnect by themselves; a relay
# that replays or corrupts sealed messages gets them dropped and counted;
# SIGTERM stops a node cleanly (exit 0, TAP and control socket gone).
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping iperf3 python3

nodes=(1 2 3 4)
relay_ip=192.168.241.1
relay_port=7443

# ---- the underlay, keys and configuration -----------------------------------
e2e_underlay 192.168.241 vn "${nodes[@]}"
e2e_keys "${nodes[@]}"

# write_node_conf I PEER...: node I's config, listing the given peers.
write_node_conf() {
	local i=$1
	shift
	e2e_node_conf "$i" 10.77.0 "192.168.241.1$i:0" "$*"
}
write_node_conf 1 2 3
write_node_conf 2 1 3 4
write_node_conf 3 1 2
write_node_conf 4 1 2

# established I J...: node I sees every J established on path relay.
established() {
	local i=$1 j expr="True"
	shift
	status_json "$i" || return 1
	for j in "$@"; do
		expr="$expr and any(p['key'] == '${pub[$j]}' and p['state'] == 'established' and p['path'] == 'relay' for p in j['peers'])"
	done
	e2e_json "$dir/status$i.json" "j['node']['relay'] == 'connected' and $expr"
}

all_established() {
	established 1 2 3 && established 2 1 3 4 && established 3 1 2 && established 4 2
}

# ---- bring everything up -----------------------------------------------------
e2e_start_relay
for i in "${nodes[@]}"; do e2e_start_node "$i"; done
e2e_until 30 all_established || e2e_die "the nodes did not all establish sessions within 30 s"
e2e_ok "n1, n2, n3 established with each other, and n4 with n2, through the relay"

# A second daemon for the same TAP and control socket must not start.
if out=$(timeout 10 ip netns exec "${ns[1]}" "$PQLAN" up -c "$dir/n1.conf" 2>&1); then
	e2e_bad "a second pqlan up on n1's configuration started"
elif printf '%s' "$out" | grep -q "pq0" && kill -0 "${node_pid[1]}" && established 1 2 3; then
	e2e_ok "a second pqlan up for the same TAP exits with an error, the first runs on"
else
	e2e_bad "second pqlan up on n1: $out"
fi

# ---- ping, ARP -------------------------------------------------------------
pings=0
for i in 1 2 3; do
	for j in 1 2 3; do
		[ "$i" = "$j" ] && continue
		if ip netns exec "${ns[$i]}" ping -q -c 3 -W 2 "10.77.0.$j" >"$dir/ping.out" 2>&1; then
			pings=$((pings + 1))
		else
			e2e_bad "ping n$i -> n$j: $(tail -n 2 "$dir/ping.out" | head -n 1)"
		fi
	done
done
[ "$pings" -eq 6 ] && e2e_ok "ping -c 3 across the TAPs, all 6 directed pairs"

arp=0
for i in 1 2 3; do
	for j in 1 2 3; do
		[ "$i" = "$j" ] && continue
		mac=$(ip -n "${ns[$j]}" -o link show pq0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
		if ip -n "${ns[$i]}" neigh show 10.77.0.$j dev pq0 | grep -qi "lladdr $mac"; then
			arp=$((arp + 1))
		else
			e2e_bad "n$i has no ARP entry 10.77.0.$j -> $mac: $(ip -n "${ns[$i]}" neigh show dev pq0 | tr '\n' ';')"
		fi
	done
done
[ "$arp" -eq 6 ] && e2e_ok "ARP resolved across the tunnel to the peers' TAP MACs, 6 pairs"

# ---- iperf3 ------------------------------------------------------------------
# iperf_run DESC ARGS...: a 3 s TCP test n1 -> n2 (or reverse), Mbit/s out.
iperf_run() {
	local desc=$1 srv out rate
	shift
	e2e_bg "${ns[2]}" "$dir/iperf-server.log" iperf3 -s -1 -B 10.77.0.2
	srv=$REPLY
	iperf_listening() { ip netns exec "${ns[2]}" ss -Hltn 'sport = :5201' | grep -q 5201; }
	e2e_until 5 iperf_listening || e2e_bad "iperf3 server did not start"
	if ! out=$(timeout 30 ip netns exec "${ns[1]}" iperf3 -c 10.77.0.2 -t 3 -J "$@" 2>&1); then
		e2e_bad "iperf3 $desc failed: $(printf '%s' "$out" | tail -n 3)"
		e2e_stop "$srv" 20 || true
		return
	fi
	e2e_stop "$srv" 20 || true
	rate=$(printf '%s' "$out" | python3 -c 'import json,sys
j = json.load(sys.stdin)
print("%.1f" % (j["end"]["sum_received"]["bits_per_second"] / 1e6))')
	echo "iperf3 $desc: $rate Mbit/s"
	python3 -c "import sys; sys.exit(0 if float('$rate') > 0 else 1)" &&
		e2e_ok "iperf3 TCP $desc for 3 s through the relay: $rate Mbit/s" ||
		e2e_bad "iperf3 $desc moved nothing"
}
iperf_run "n1 -> n2"
iperf_run "n2 -> n1" -R

# ---- status --json -------------------------------------------------------------
st=0
established 1 2 3 && st=$((st + 1)) || e2e_bad "n1 status: $(cat "$dir/status1.json")"
established 2 1 3 && st=$((st + 1)) || e2e_bad "n2 status: $(cat "$dir/status2.json")"
established 3 1 2 && st=$((st + 1)) || e2e_bad "n3 status: $(cat "$dir/status3.json")"
if [ "$st" -eq 3 ] && e2e_json "$dir/status1.json" \
	"len(j['peers']) == 2 and all(p['rx_frames'] > 0 and p['tx_frames'] > 0 and p['handshake_age_s'] is not None and p['name'] in ('n2', 'n3') for p in j['peers'])"; then
	e2e_ok "pqlan status --json: each node has both others established on path relay, counters moving"
else
	e2e_bad "status JSON not as expected: $(cat "$dir/status1.json")"
fi
# TAP offloads (net/tap.h): the iperf3 runs went as TSO super-frames
# (DATA_GSO) both ways between n1 and n2, through the relay.
if e2e_json "$dir/status1.json" \
	"any(p['name'] == 'n2' and p['tx_gso_frames'] > 0 and p['rx_gso_frames'] > 0 for p in j['peers'])" &&
	e2e_json "$dir/status2.json" \
	"any(p['name'] == 'n1' and p['tx_gso_frames'] > 0 and p['rx_gso_frames'] > 0 for p in j['peers'])"; then
	e2e_ok "TSO through the relay: n1 -> n2 $(python3 -c 'import json,sys; print([p["tx_gso_frames"] for p in json.load(open(sys.argv[1]))["peers"] if p["name"] == "n2"][0])' "$dir/status1.json") DATA_GSO frames sent, counted both ways"
else
	e2e_bad "no DATA_GSO frames after iperf3: $(cat "$dir/status1.json") $(cat "$dir/status2.json")"
fi
ip netns exec "${ns[1]}" "$PQLAN" status -c "$dir/n1.conf" >"$dir/status1.txt" &&
	grep -q "state: established" "$dir/status1.txt" && e2e_ok "pqlan status (text) shows established peers" ||
	e2e_bad "pqlan status text: $(cat "$dir/status1.txt")"

# ---- n4: allowed by n2 only ----------------------------------------------------
ip netns exec "${ns[4]}" ping -q -c 2 -W 2 10.77.0.2 >/dev/null 2>&1 &&
	ip netns exec "${ns[2]}" ping -q -c 2 -W 2 10.77.0.4 >/dev/null 2>&1 &&
	e2e_ok "n4 and n2 (which list each other) ping both ways" || e2e_bad "n4 <-> n2 ping failed"
reached=
for pair in "4 1" "4 3" "1 4" "3 4"; do
	set -- $pair
	if ip netns exec "${ns[$1]}" ping -q -c 2 -i 0.5 -W 1 "10.77.0.$2" >/dev/null 2>&1; then
		reached="$reached n$1->n$2"
	fi
done
[ -z "$reached" ] &&
	e2e_ok "no ping between n4 and n1 (not in n1's [peer] list) or n3 (only via n2, which never forwards), either way" ||
	e2e_bad "pings that must fail went through:$reached"
status_json 1 || e2e_bad "n1 status failed"
status_json 3 || e2e_bad "n3 status failed"
status_json 4 || e2e_bad "n4 status failed"
# n4 is alive: connected to the relay, n2 established. n1 stays offline for
# it: the relay announces only nodes that list each other (mutual watch,
# PROTOCOL §3.4), and n1 does not list n4. n1 and n3 do not know n4 at all.
if e2e_json "$dir/status4.json" "j['node']['relay'] == 'connected' and [(p['name'], p['state']) for p in j['peers']] == [('n1', 'offline'), ('n2', 'established')]" &&
	e2e_json "$dir/status1.json" "all(p['key'] != '${pub[4]}' for p in j['peers'])" &&
	e2e_json "$dir/status3.json" "all(p['key'] != '${pub[4]}' for p in j['peers'])"; then
	e2e_ok "nothing established between n4 and n1 (n1 stays offline for n4) or n3"
else
	e2e_bad "n4's status: $(cat "$dir/status4.json")"
fi
# The relay told neither side about the other: n1 logs a PEER_ONLINE about
# a key outside its [peer] list (it would name n4's key), n4 logs "peer n1:
# online" when told n1 is online. Neither line may exist.
if ! grep -qF -- "${pub[4]}" "$dir/n1.log" && ! grep -q "peer n1: online" "$dir/n4.log" &&
	grep -q "peer n2: online" "$dir/n4.log"; then
	e2e_ok "no PEER_ONLINE between n1 and n4 (n4 lists n1, n1 does not list n4): the relay kept each out of the other's view"
else
	e2e_bad "a PEER_ONLINE crossed between n1 and n4: $(grep -F -e "${pub[4]}" "$dir/n1.log"; grep "peer n1: online" "$dir/n4.log")"
fi

# ---- relay restart ---------------------------------------------------------------
kill -KILL "$relay_pid"
wait "$relay_pid" 2>/dev/null || true
relay_down() { status_json 1 && e2e_json "$dir/status1.json" "j['node']['relay'] == 'connecting'"; }
e2e_until 10 relay_down || e2e_bad "n1 did not notice the relay was gone within 10 s"
t0=$SECONDS
e2e_start_relay
pair_pings() {
	ip netns exec "${ns[1]}" ping -q -c 1 -W 1 10.77.0.2 &&
		ip netns exec "${ns[2]}" ping -q -c 1 -W 1 10.77.0.3 &&
		ip netns exec "${ns[3]}" ping -q -c 1 -W 1 10.77.0.1
}
if e2e_until 45 pair_pings; then
	e2e_ok "relay killed and restarted: nodes reconnected by themselves, pings work again after $((SECONDS - t0)) s"
else
	e2e_bad "no pings within 45 s of the relay's restart"
fi

# ---- a hostile relay: replays and flipped bits are dropped, and counted -----
# The relay's test-only mangling (PQLAN_TEST=1 PQLAN_RELAY_TEST_MANGLE)
# touches sealed payloads only, so handshakes still complete.
restart_relay() { # restart_relay [MANGLE]
	kill -KILL "$relay_pid"
	wait "$relay_pid" 2>/dev/null || true
	if [ -n "${1:-}" ]; then
		e2e_bg "$ns_relay" "$dir/relay-$1.log" env PQLAN_TEST=1 PQLAN_RELAY_TEST_MANGLE="$1" \
			"$PQLAN" relay -c "$dir/relay.conf"
		relay_pid=$REPLY
	else
		e2e_start_relay
	fi
}
# dropped_from I J: node I's dropped_frames for peer J.
dropped_from() {
	status_json "$1" >/dev/null &&
		python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
print([p["dropped_frames"] for p in j["peers"] if p["key"] == sys.argv[2]][0])' "$dir/status$1.json" "${pub[$2]}"
}
ping12() { ip netns exec "${ns[1]}" ping -q -c 1 -W 1 10.77.0.2; }

restart_relay replay
if e2e_until 30 ping12; then
	d0=$(dropped_from 1 2)
	ip netns exec "${ns[1]}" ping -q -c 5 -i 0.2 -W 1 10.77.0.2 >"$dir/ping.out" 2>&1 && pinged=1 || pinged=0
	d1=$(dropped_from 1 2)
	if [ "$pinged" = 1 ] && [ "$d1" -ge $((d0 + 5)) ]; then
		e2e_ok "relay replaying every sealed message: pings work, n1 dropped $((d1 - d0)) replays from n2"
	else
		e2e_bad "replaying relay: ping ok=$pinged, n1's dropped_frames for n2 $d0 -> $d1"
	fi
else
	e2e_bad "no ping through a replaying relay within 30 s"
fi

restart_relay flip
if e2e_until 30 established 1 2; then
	d0=$(dropped_from 2 1)
	if ip netns exec "${ns[1]}" ping -q -c 3 -i 0.2 -W 1 10.77.0.2 >/dev/null 2>&1; then
		e2e_bad "a ping went through a relay that flips a bit of every sealed message"
	else
		d1=$(dropped_from 2 1)
		[ "$d1" -ge $((d0 + 3)) ] &&
			e2e_ok "relay flipping a bit of every sealed message: no frame accepted, n2 dropped $((d1 - d0)) forgeries from n1" ||
			e2e_bad "flipping relay: n2's dropped_frames for n1 $d0 -> $d1"
	fi
else
	e2e_bad "no handshake through a flipping relay within 30 s"
fi

restart_relay
e2e_until 30 pair_pings && e2e_ok "back on an honest relay: pings work" ||
	e2e_bad "no pings within 30 s after the honest relay returned"

# ---- orderly shutdown ----------------------------------------------------------
stopped=0
for i in "${nodes[@]}"; do
	if e2e_stop "${node_pid[$i]}" 50 && [ "$REPLY" -eq 0 ] &&
		! ip -n "${ns[$i]}" link show pq0 >/dev/null 2>&1 && [ ! -e "$dir/n$i.sock" ]; then
		stopped=$((stopped + 1))
	else
		e2e_bad "n$i: SIGTERM did not give exit 0 with the TAP and control socket gone (status $REPLY)"
	fi
done
[ "$stopped" -eq 4 ] && e2e_ok "SIGTERM: 4 nodes exited 0, TAP and control socket removed"

[ "$E2E_FAILS" -eq 0 ] || e2e_die "$E2E_FAILS check(s) failed"
echo "checked: $E2E_CHECKED end-to-end checks passed"
