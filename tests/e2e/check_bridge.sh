#!/usr/bin/env bash
# check_bridge.sh - two LANs bridged through the tunnel, surviving a node
# restart (issue 12, docs/bridging.md). Needs root.
#
#                    ns relay: pqlan relay on 192.168.245.1:7443 (br0)
#                  +----------------------+
#        vb1 (veth)|                      | vb2 (veth)
#   ns n1: eth0 192.168.245.11       ns n2: eth0 192.168.245.12
#     brlan: pq0 + lan1                brlan: pq0 + lan2
#        | veth                           | veth
#   ns h1: eth0 10.99.0.1/24         ns h2: eth0 10.99.0.2/24
#
#   The TAPs have no address: they are ports of a Linux bridge on each
#   node, and the hosts h1 and h2 (one per "LAN") reach each other by their
#   own addresses through the tunnel. n1's TAP is made by the node with
#   tap_persist = yes and joined to brlan once it appears; n2's is a
#   persistent TAP made beforehand (ip tuntap add ... vnet_hdr) and already
#   in brlan, with mac = set in n2.conf.
#
# Checks: h1 and h2 ping each other; ARP for the far host is answered with
# its own MAC (layer 2, not routed); n1 stops (SIGTERM, exit 0) and its pq0
# stays, still in brlan, with the same MAC; n1 starts again on it and the
# LANs ping again; n2's TAP keeps the configured MAC; a TAP the node made
# without tap_persist is gone after it stops (the default is unchanged).
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3

relay_ip=192.168.245.1
relay_port=7443
mac2=02:00:5e:99:00:02

e2e_underlay 192.168.245 vb 1 2
e2e_keys 1 2
e2e_netns h1; ns_h[1]=$REPLY
e2e_netns h2; ns_h[2]=$REPLY

# bridge_conf I PEER EXTRA...: node I's config, no address on the TAP.
bridge_conf() {
	local i=$1 p=$2 line conf=$dir/n$1.conf
	shift 2
	{
		printf '[node]\nprivate_key = %s\ntap = pq0\nlisten = 192.168.245.1%s:0\ncontrol = %s\n' \
			"$dir/n$i.key" "$i" "$dir/n$i.sock"
		for line in "$@"; do printf '%s\n' "$line"; done
		printf '\n[relay]\nurl = wss://%s:%s/\nkey = %s\n' "$relay_ip" "$relay_port" "$relay_pub"
		printf '\n[peer]\nname = n%s\nkey = %s\n' "$p" "${pub[$p]}"
	} >"$conf"
	chmod 600 "$conf"
}
bridge_conf 1 2 "tap_persist = yes"
bridge_conf 2 1 "mac = $mac2"

# The LANs: brlan in each node namespace, a host behind it.
for i in 1 2; do
	ip -n "${ns[$i]}" link add brlan type bridge
	ip -n "${ns[$i]}" link set brlan up
	ip -n "${ns[$i]}" link add "lan$i" type veth peer name eth0 netns "${ns_h[$i]}"
	ip -n "${ns[$i]}" link set "lan$i" master brlan up
	ip -n "${ns_h[$i]}" addr add "10.99.0.$i/24" dev eth0
	ip -n "${ns_h[$i]}" link set eth0 up
done
# n2: a persistent TAP made the way an operator would, already bridged.
ip -n "${ns[2]}" tuntap add pq0 mode tap vnet_hdr || e2e_die "ip tuntap add"
ip -n "${ns[2]}" link set pq0 master brlan up

tap_mac() { ip -n "${ns[$1]}" -j link show pq0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }
tap_master() { ip -n "${ns[$1]}" -j link show pq0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get("master", ""))'; }
lan_ping() { ip netns exec "${ns_h[$1]}" ping -c 1 -W 1 "10.99.0.$2"; }
established() { status_json "$1" && e2e_json "$dir/status$1.json" "j['peers'][0]['state'] == 'established'"; }

e2e_start_relay
e2e_start_node 1
e2e_start_node 2
e2e_until 10 ip -n "${ns[1]}" link show pq0 || e2e_die "n1 made no pq0"
ip -n "${ns[1]}" link set pq0 master brlan || e2e_die "pq0 into brlan"
e2e_until 20 established 1 && e2e_until 10 established 2 || e2e_die "the nodes did not establish a session"

if e2e_until 15 lan_ping 1 2 && lan_ping 2 1 >/dev/null; then
	e2e_ok "h1 (10.99.0.1) and h2 (10.99.0.2) ping each other through the tunnel"
else
	e2e_bad "the LANs do not reach each other"
fi
h2_mac=$(ip -n "${ns_h[2]}" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
neigh=$(ip -n "${ns_h[1]}" neigh show 10.99.0.2 dev eth0)
case $neigh in *"$h2_mac"*) e2e_ok "h1 resolved h2 by ARP to h2's own MAC $h2_mac (bridged, not routed)" ;;
*) e2e_bad "h1's neighbour entry for h2: '$neigh', expected $h2_mac" ;; esac
[ "$(tap_mac 2)" = "$mac2" ] && e2e_ok "n2 attached to the existing TAP, MAC $mac2 as configured" ||
	e2e_bad "n2's pq0 MAC $(tap_mac 2), expected $mac2"
grep -q "attached to the existing TAP" "$dir/n2.log" && e2e_ok "n2 logged that it attached" ||
	e2e_bad "n2 did not log attaching to the existing TAP"

# Restart n1: its TAP, bridge membership and MAC stay.
mac1=$(tap_mac 1)
e2e_stop "${node_pid[1]}" && [ "$REPLY" -eq 0 ] || e2e_bad "n1 did not stop cleanly (status $REPLY)"
if ip -n "${ns[1]}" link show pq0 >/dev/null 2>&1 && [ "$(tap_master 1)" = brlan ] && [ "$(tap_mac 1)" = "$mac1" ]; then
	e2e_ok "after n1 stopped, pq0 is still there, in brlan, MAC $mac1"
else
	e2e_die "n1's pq0 after stop: $(ip -n "${ns[1]}" link show pq0 2>&1 | head -2)"
fi
e2e_start_node 1 -restart
e2e_until 20 established 1 || e2e_die "n1 did not establish again after the restart"
if e2e_until 15 lan_ping 1 2 && lan_ping 2 1 >/dev/null; then
	e2e_ok "after n1's restart the LANs ping each other again"
else
	e2e_bad "the LANs do not reach each other after n1's restart"
fi
[ "$(tap_mac 1)" = "$mac1" ] && [ "$(tap_master 1)" = brlan ] && e2e_ok "n1's pq0 kept MAC and bridge across the restart" ||
	e2e_bad "n1's pq0 after the restart: MAC $(tap_mac 1) (was $mac1), master '$(tap_master 1)'"

e2e_stop_each "${node_pid[1]}" "${node_pid[2]}"
ip -n "${ns[2]}" link show pq0 >/dev/null 2>&1 && e2e_ok "n2 left the operator's TAP in place" ||
	e2e_bad "n2 deleted a TAP it did not create"

# Without tap_persist a TAP the node creates still goes when it stops.
bridge_conf 3 1
e2e_netns n3; ns[3]=$REPLY
e2e_genkey "$dir/n3.key" >/dev/null
e2e_start_node 3
e2e_until 10 ip -n "${ns[3]}" link show pq0 || e2e_die "n3 made no pq0"
e2e_stop "${node_pid[3]}"
ip -n "${ns[3]}" link show pq0 >/dev/null 2>&1 && e2e_bad "n3's own TAP outlived it without tap_persist" ||
	e2e_ok "without tap_persist the node's own TAP is gone after it stops"

echo "checked: bridging $E2E_CHECKED checks"
[ "$E2E_FAILS" -eq 0 ]
