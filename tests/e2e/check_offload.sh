#!/usr/bin/env bash
# check_offload.sh - a node with `offload = off` and one with the default
# (TSO/checksum offload on the TAP, DATA_GSO super-frames) carry TCP both
# ways (net/tap.h, docs/PROTOCOL.md DATA_GSO). Network namespaces, needs
# root.
#
#                 ns relay: pqlan relay on 192.168.245.1:7443
#              +----------------- br0 -----------------+
#   vf1 (veth) |                            vf2 (veth) |
#  ns n1: eth0 192.168.245.11               ns n2: eth0 192.168.245.12
#         offload = off                            offload on (default)
#         pq0 10.81.0.1/24  <== direct TLS ==>     pq0 10.81.0.2/24
#
# Checks: n1 says offload is off; the peers reach the direct path; iperf3
# TCP n1 -> n2 and n2 -> n1 both carry data; n1 never sends DATA_GSO
# (tx_gso_frames 0: its TAP hands over plain frames) but receives n2's
# super-frames and its kernel takes them (rx_gso_frames > 0 and the
# n2 -> n1 transfer arrives); n2 sends DATA_GSO and receives none; pings
# both ways; clean exits. The direct path is TLS here (`transport = tls`):
# super-frames travel whole only over TLS and the relay; on the UDP path
# they are cut into segments (check_nat.sh, check_direct.sh cover that).
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3 iperf3

net=192.168.245
relay_ip=$net.1
relay_port=7443

e2e_underlay "$net" vf 1 2
e2e_keys 1 2
e2e_node_conf 1 10.81.0 "$net.11:7444" 2 "offload = off"
e2e_node_conf 2 10.81.0 "$net.12:7444" 1
printf 'transport = tls\n' >>"$dir/n1.conf"
printf 'transport = tls\n' >>"$dir/n2.conf"

# iperf_run FROM TO [-R]: one 3 s TCP stream between the TAPs, Mbit/s in
# $REPLY (0 when it failed).
iperf_run() {
	local from=$1 to=$2 out
	REPLY=0
	e2e_bg "${ns[$to]}" "$dir/iperf-server-$to.log" iperf3 -s -1 -B "10.81.0.$to"
	e2e_until 5 sh -c "ip netns exec ${ns[$to]} ss -ltn | grep -q ':5201'" || return 1
	out=$(timeout 30 ip netns exec "${ns[$from]}" iperf3 -c "10.81.0.$to" -t 3 -J 2>&1) || return 1
	REPLY=$(printf '%s' "$out" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6, 1))')
}

e2e_start_relay
for i in 1 2; do e2e_start_node "$i"; done
e2e_until 30 both_are "p['state'] == 'established'" || e2e_die "no session within 30 s"
grep -q "offload = off: frames go one by one" "$dir/n1.log" &&
	e2e_ok "n1 logs that its TAP offload is off" || e2e_bad "n1 does not say its offload is off"
e2e_until 15 on_path direct || e2e_die "the peers did not move to the direct path within 15 s"
e2e_ok "n1 and n2 on the direct path"

for dir_pair in "1 2" "2 1"; do
	set -- $dir_pair
	if iperf_run "$1" "$2" && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$REPLY"; then
		e2e_ok "iperf3 TCP n$1 -> n$2 for 3 s: $REPLY Mbit/s"
	else
		e2e_bad "iperf3 TCP n$1 -> n$2 failed: $(tail -n 3 "$dir/iperf-server-$2.log" 2>/dev/null)"
	fi
done

if peer_is 1 "p['tx_gso_frames'] == 0 and p['rx_gso_frames'] > 0" &&
	peer_is 2 "p['tx_gso_frames'] > 0 and p['rx_gso_frames'] == 0"; then
	e2e_ok "offload off on n1 only: n1 sent $(field 1 tx_gso_frames) and received $(status_json 1 && field 1 rx_gso_frames) DATA_GSO, n2 sent $(status_json 2 && field 2 tx_gso_frames)"
else
	e2e_bad "DATA_GSO counters: $(cat "$dir/status1.json") $(cat "$dir/status2.json")"
fi
# dropped_frames also counts frames a full send queue refused (TCP above
# resends them), so it is reported, not asserted.
echo "dropped_frames: n1 $(field 1 dropped_frames), n2 $(field 2 dropped_frames)"
for pair in "1 2" "2 1"; do
	set -- $pair
	ip netns exec "${ns[$1]}" ping -q -c 3 -W 2 "10.81.0.$2" >"$dir/ping.out" 2>&1 &&
		e2e_ok "ping n$1 -> n$2" || e2e_bad "ping n$1 -> n$2 failed: $(tail -n 2 "$dir/ping.out")"
done

e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "$relay_pid"
[ "$stopped" -eq 3 ] && e2e_ok "SIGTERM: both nodes and the relay exited 0"

[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_offload: $E2E_CHECKED checks passed"
