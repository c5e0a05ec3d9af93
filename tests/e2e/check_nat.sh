#!/usr/bin/env bash
# check_nat.sh - the direct path through NATs (issue 9): hole punching
# over UDP, STUN on the relay, the TLS path as the fallback, and what
# cannot work staying on the relay without loss or flapping. Network
# namespaces with home-router NATs (tests/e2e/lib_nat.sh), needs root.
#
#                 ns inet: bridge "the internet" 203.0.113.0/24
#     +--------------+-----------------+-----------------+-------------+
#  relay .1        r1 .11 (NAT)      r2 .12 (NAT)      n3 .13         n4 .14
#  pqlan relay,    192.168.11.0/24   192.168.12.0/24   (public)      (public)
#  STUN :3478/9      n1 .2             n2 .2
#
#  Pairs: n1-n2 (NAT-NAT), n1-n3 (NAT-public), n3-n4 (public-public).
#
# Checks, routers with endpoint-independent mappings (nft masquerade):
# all three pairs go direct over UDP within 10 s of the start; status
# shows each node's NAT (n1: endpoint-independent, n3: none) and its
# public mapping; an iperf3 run n1 -> n2 moves less than 10 % of its bytes
# through the relay. Then n1's uplink carries only 1400-byte packets:
# both ends find that path MTU by probing and iperf3 both ways still goes
# direct, and 1500-byte pings (DF) and 1472-byte UDP datagrams cross it
# in DATA_FRAG pieces, not through the relay. Then both routers map per destination (masquerade
# random,fully-random): n1-n2 stays on the relay for 10 s, no ping lost,
# never a direct path; n1-n3 still goes direct (n3 answers where n1's
# datagrams come from). Then both routers drop UDP: n1-n2 on the relay,
# no ping lost; n1-n3 direct over TLS (n3 accepts TCP). Clean exits.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/lib_nat.sh"
e2e_begin ip ping iperf3 python3 nft conntrack

relay_port=7443
e2e_nat_underlay 1:nat 2:nat 3:public 4:public
e2e_keys 1 2 3 4
for i in 1 2 3 4; do
	case $i in 1) peers="2 3" ;; 2) peers="1" ;; 3) peers="1 4" ;; 4) peers="3" ;; esac
	e2e_node_conf "$i" 10.79.0 "0.0.0.0:7444" "$peers" "retry_interval = 2"
done

# The relay's TCP bytes (both ways), for the share of an iperf3 run.
ip netns exec "$ns_relay" nft -f - <<'EOF'
table inet pqcount {
	chain in {
		type filter hook input priority 0;
		tcp dport 7443 counter
	}
	chain out {
		type filter hook output priority 0;
		tcp sport 7443 counter
	}
}
EOF
relay_bytes() {
	ip netns exec "$ns_relay" nft list table inet pqcount | sed -n 's/.*counter packets [0-9]* bytes \([0-9]*\).*/\1/p' |
		awk '{s += $1} END {print s + 0}'
}

# peer_of I J PYEXPR: node I's peer nJ (bound to p) satisfies PYEXPR.
peer_of() {
	status_json "$1" || return 1
	e2e_json "$dir/status$1.json" "any(p['name'] == 'n$2' and ($3) for p in j['peers'])"
}
udp_direct() { peer_of "$1" "$2" "p['path'] == 'direct' and p['transport'] == 'udp'"; }
field_of() { python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
print([p for p in j["peers"] if p["name"] == sys.argv[2]][0][sys.argv[3]])' "$dir/status$1.json" "n$2" "$3"; }
# pings I J COUNT: COUNT pings nI -> nJ 0.1 s apart; received in $REPLY.
pings() {
	REPLY=$(ip netns exec "${ns[$1]}" ping -n -q -i 0.1 -W 1 -c "$3" "10.79.0.$2" 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')
	REPLY=${REPLY:-0}
}
start_nodes() { for i in "$@"; do e2e_start_node "$i" "${tag:-}"; done; }
stop_nodes() {
	for i in "$@"; do
		e2e_stop "${node_pid[$i]}" || e2e_bad "n$i did not stop on SIGTERM"
	done
}

# ---- 1. endpoint-independent NATs: everything goes direct over UDP ----------
e2e_start_relay
t0=$SECONDS
start_nodes 1 2 3 4
if e2e_until 10 udp_direct 1 2 && e2e_until 2 udp_direct 2 1; then
	e2e_ok "NAT-NAT: n1 and n2 direct over UDP $((SECONDS - t0)) s after start (endpoints $(field_of 1 2 endpoint), $(field_of 2 1 endpoint))"
else
	e2e_bad "NAT-NAT: n1-n2 not direct over UDP within 10 s: $(cat "$dir/status1.json")"
fi
if e2e_until 10 udp_direct 1 3 && e2e_until 2 udp_direct 3 1; then
	e2e_ok "NAT-public: n1 and n3 direct over UDP (n3 reaches n1 at $(field_of 3 1 endpoint))"
else
	e2e_bad "NAT-public: n1-n3 not direct over UDP: $(cat "$dir/status3.json")"
fi
if e2e_until 10 udp_direct 3 4 && e2e_until 2 udp_direct 4 3; then
	e2e_ok "public-public: n3 and n4 direct over UDP"
else
	e2e_bad "public-public: n3-n4 not direct over UDP: $(cat "$dir/status4.json")"
fi
status_json 1 && status_json 3
if e2e_json "$dir/status1.json" "j['node']['udp']['nat'] == 'endpoint-independent' and j['node']['udp']['reflexive'] == '${public_ip[1]}:7444'" &&
	e2e_json "$dir/status3.json" "j['node']['udp']['nat'] == 'none'"; then
	e2e_ok "status: n1 sees its NAT as endpoint-independent, mapped at ${public_ip[1]}:7444; n3 has none"
else
	e2e_bad "status NAT fields: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["node"]["udp"], json.load(open(sys.argv[2]))["node"]["udp"])' "$dir/status1.json" "$dir/status3.json")"
fi
pings 1 2 10
[ "$REPLY" -eq 10 ] && e2e_ok "ping n1 -> n2 through both NATs: 10 of 10" || e2e_bad "ping n1 -> n2: $REPLY of 10"

ip netns exec "${ns[2]}" iperf3 -s -1 >"$dir/iperf-s.log" 2>&1 &
E2E_PIDS+=($!)
iperf_listening() { ip netns exec "${ns[2]}" ss -Hltn 'sport = :5201' | grep -q 5201; }
e2e_until 5 iperf_listening || e2e_die "iperf3 server did not start"
before=$(relay_bytes)
if ip netns exec "${ns[1]}" iperf3 -c 10.79.0.2 -t 3 -J >"$dir/iperf.json" 2>"$dir/iperf.err"; then
	moved=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"])' "$dir/iperf.json")
	mbps=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6, 1))' "$dir/iperf.json")
	through=$(($(relay_bytes) - before))
	if [ "$through" -lt $((moved / 10)) ]; then
		e2e_ok "iperf3 n1 -> n2 through both NATs: $mbps Mbit/s, $moved bytes moved, $through bytes through the relay ($((through * 1000 / (moved + 1))) per mille)"
	else
		e2e_bad "iperf3 n1 -> n2: $through relay bytes for $moved moved (>= 10 %)"
	fi
else
	e2e_bad "iperf3 n1 -> n2 failed: $(tail -n 3 "$dir/iperf.err")"
fi

# ---- 1b. a smaller path MTU: n1's uplink carries 1400-byte packets ---------
# Datagrams sized for 1500 from n1 vanish at its router (with a fixed
# 1500-byte assumption n1 -> n2 moved 0 bytes here); the nodes must find
# 1400 by probing and cut TCP to fit, so a transfer goes direct both ways.
stop_nodes 1 2
e2e_nat_mtu 1 1400
tag=-mtu start_nodes 1 2
mtu_of() { peer_of "$1" "$2" "p['transport'] == 'udp' and p['path_mtu'] == $3 and p['path_mtu_confirmed']"; }
if e2e_until 10 mtu_of 1 2 1400 && e2e_until 5 mtu_of 2 1 1400; then
	e2e_ok "path MTU 1400 on n1's uplink: both ends probed it ($(field_of 1 2 path_mtu), frames up to $(field_of 1 2 udp_max_frame) B per datagram)"
else
	e2e_bad "path MTU 1400 not found: $(cat "$dir/status1.json")"
fi
for dir_flag in "" -R; do
	ip netns exec "${ns[2]}" iperf3 -s -1 >"$dir/iperf-s.log" 2>&1 &
	E2E_PIDS+=($!)
	e2e_until 5 iperf_listening || e2e_die "iperf3 server did not start"
	before=$(relay_bytes)
	if ip netns exec "${ns[1]}" timeout 20 iperf3 -c 10.79.0.2 -t 2 $dir_flag -J >"$dir/iperf.json" 2>"$dir/iperf.err"; then
		moved=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"])' "$dir/iperf.json")
		through=$(($(relay_bytes) - before))
		if [ "$moved" -gt 10000000 ] && [ "$through" -lt $((moved / 10)) ]; then
			e2e_ok "iperf3 ${dir_flag:-(n1 -> n2)} over the 1400-byte path: $moved bytes, $through through the relay"
		else
			e2e_bad "iperf3 ${dir_flag:-(n1 -> n2)} over the 1400-byte path: $moved bytes moved, $through through the relay"
		fi
	else
		e2e_bad "iperf3 ${dir_flag:-(n1 -> n2)} over the 1400-byte path failed: $(tail -n 3 "$dir/iperf.err")"
	fi
done
# Frames the datagrams cannot hold and TCP cannot cut: 1500-byte ICMP
# packets, "don't fragment" inside the tunnel too. They cross the UDP path
# in DATA_FRAG pieces (both ways: the echo and its reply), not the relay.
status_json 1; status_json 2
frag_tx1=$(field_of 1 2 tx_frag_frames) frag_rx2=$(field_of 2 1 rx_frag_frames) frag_tx2=$(field_of 2 1 tx_frag_frames)
before=$(relay_bytes)
big=$(ip netns exec "${ns[1]}" ping -n -q -M do -s 1472 -i 0.1 -W 1 -c 10 10.79.0.2 2>/dev/null |
	sed -n 's/.* \([0-9]*\) received.*/\1/p')
through=$(($(relay_bytes) - before))
status_json 1; status_json 2
sent1=$(($(field_of 1 2 tx_frag_frames) - frag_tx1)) got2=$(($(field_of 2 1 rx_frag_frames) - frag_rx2))
sent2=$(($(field_of 2 1 tx_frag_frames) - frag_tx2))
if [ "${big:-0}" -ge 9 ] && [ "$sent1" -ge 9 ] && [ "$got2" -ge 9 ] && [ "$sent2" -ge 9 ] &&
	peer_of 1 2 "p['transport'] == 'udp' and p['udp_max_frame'] < 1514" && [ "$through" -lt 10000 ]; then
	e2e_ok "1500-byte pings (DF) over the 1400-byte path: ${big} of 10 answered, in pieces: n1 sent $sent1, n2 put together $got2 and sent $sent2 replies; $through bytes through the relay"
else
	e2e_bad "1500-byte pings over the 1400-byte path: ${big:-0} of 10 answered, pieces sent $sent1 / put together $got2 / replies $sent2, $through bytes through the relay"
fi
# UDP datagrams of 1472 bytes: the sender's kernel leaves their checksum
# to the TAP (NEEDS_CSUM), so the pieces carry an offload header too.
ip netns exec "${ns[2]}" iperf3 -s -1 >"$dir/iperf-s.log" 2>&1 &
E2E_PIDS+=($!)
e2e_until 5 iperf_listening || e2e_die "iperf3 server did not start"
status_json 2; frag_rx2=$(field_of 2 1 rx_frag_frames)
before=$(relay_bytes)
if ip netns exec "${ns[1]}" timeout 20 iperf3 -c 10.79.0.2 -u -b 20M -l 1472 -t 1 -J >"$dir/iperf.json" 2>"$dir/iperf.err"; then
	read -r pkts lost < <(python3 -c 'import json,sys; s = json.load(open(sys.argv[1]))["end"]["sum"]; print(s["packets"], s["lost_packets"])' "$dir/iperf.json")
	through=$(($(relay_bytes) - before))
	status_json 2; got2=$(($(field_of 2 1 rx_frag_frames) - frag_rx2))
	if [ "$pkts" -gt 1000 ] && [ "$lost" -le $((pkts / 50)) ] && [ "$got2" -ge $((pkts - lost)) ] && [ "$through" -lt 20000 ]; then
		e2e_ok "1472-byte UDP datagrams over the 1400-byte path: $pkts sent, $lost lost, n2 put together $got2 frames from pieces; $through bytes through the relay"
	else
		e2e_bad "1472-byte UDP datagrams over the 1400-byte path: $pkts sent, $lost lost, $got2 put together, $through bytes through the relay"
	fi
else
	e2e_bad "iperf3 -u over the 1400-byte path failed: $(tail -n 3 "$dir/iperf.err")"
fi
e2e_nat_mtu 1 1500

# ---- 2. endpoint-dependent NATs on both sides: the relay, steadily ----------
stop_nodes 1 2
e2e_nat_reconfigure 1 nat-random
e2e_nat_reconfigure 2 nat-random
e2e_nat_flush 1
e2e_nat_flush 2
tag=-random start_nodes 1 2
e2e_until 20 peer_of 1 2 "p['state'] == 'established'" || e2e_die "nat-random: n1-n2 never established"
samples=0 direct=0
for _ in $(seq 1 20); do
	peer_of 1 2 "p['path'] == 'direct'" && direct=$((direct + 1))
	peer_of 2 1 "p['path'] == 'direct'" && direct=$((direct + 1))
	samples=$((samples + 1))
	sleep 0.5
done
pings 1 2 30
status_json 1
if [ "$direct" -eq 0 ] && [ "$REPLY" -eq 30 ] && [ "$(field_of 1 2 migrations)" -eq 0 ]; then
	e2e_ok "both NATs endpoint-dependent: n1-n2 stays on the relay ($samples samples over 10 s, never direct, $(field_of 1 2 udp_attempts) UDP attempts, $(field_of 1 2 udp_failures) failed), 30 of 30 pings"
else
	e2e_bad "nat-random: direct in $direct samples, $REPLY of 30 pings, migrations $(field_of 1 2 migrations)"
fi
e2e_json "$dir/status1.json" "j['node']['udp']['nat'] == 'dependent'" &&
	e2e_ok "status: n1 sees its NAT as dependent" || e2e_bad "n1's NAT: $(cat "$dir/status1.json")"
if e2e_until 15 peer_of 1 3 "p['path'] == 'direct'"; then
	e2e_ok "NAT (dependent) - public: n1-n3 still direct over $(field_of 1 3 transport)"
else
	e2e_bad "nat-random: n1-n3 not direct: $(cat "$dir/status1.json")"
fi

# ---- 3. UDP dropped by both routers: TLS where a side is public --------------
stop_nodes 1 2
e2e_nat_reconfigure 1 nat-udpdrop
e2e_nat_reconfigure 2 nat-udpdrop
e2e_nat_flush 1
e2e_nat_flush 2
tag=-udpdrop start_nodes 1 2
e2e_until 20 peer_of 1 2 "p['state'] == 'established'" || e2e_die "udp=drop: n1-n2 never established"
if e2e_until 15 peer_of 1 3 "p['path'] == 'direct' and p['transport'] == 'tls'"; then
	e2e_ok "UDP dropped: n1-n3 direct over TLS (n3 accepts TCP)"
else
	e2e_bad "UDP dropped: n1-n3 not direct over TLS: $(cat "$dir/status1.json")"
fi
pings 1 2 20
if [ "$REPLY" -eq 20 ] && peer_of 1 2 "p['path'] == 'relay'"; then
	e2e_ok "UDP dropped, both behind NAT: n1-n2 on the relay, 20 of 20 pings"
else
	e2e_bad "UDP dropped: n1-n2: $REPLY of 20 pings, $(cat "$dir/status1.json")"
fi

e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "${node_pid[3]}" "${node_pid[4]}" "$relay_pid"
[ "$stopped" -eq 5 ] && e2e_ok "SIGTERM: four nodes and the relay exited 0"
[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_nat: $E2E_CHECKED checks passed"
