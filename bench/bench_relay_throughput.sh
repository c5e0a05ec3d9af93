#!/usr/bin/env bash
# bench_relay_throughput.sh [BUILD] - one-stream iperf3 TCP between two
# nodes through the pqlan relay, beside OpenVPN in TAP mode over TCP through
# an OpenVPN server with client-to-client (issue 4). Needs root; installs
# Debian's openvpn with apt-get if it is missing.
#
#        ns relay: pqlan relay 192.168.241.1:7443, openvpn server 192.168.241.1:1194 (tcp)
#            +--------------- br0 (bridge) ---------------+
#            | veth                                  veth |
#   ns n1: eth0 192.168.241.11                 ns n2: eth0 192.168.241.12
#          pq0   10.77.0.1/24 (pqlan up)              pq0   10.77.0.2/24
#          ovpn0 10.78.0.x/24 (openvpn client)        ovpn0 10.78.0.y/24
#
# Both tunnels run over the same underlay at the same time, both carry
# Ethernet frames (TAP, MTU 1500) inside one TCP connection per node to a
# single-threaded forwarder in the relay namespace, both seal with
# AES-256-GCM (OpenVPN: data-ciphers AES-256-GCM; control channel TLS with
# a throw-away CA and P-256 certificates made here with openssl). iperf3 -c
# runs in n1 against an iperf3 server in n2 for SECS seconds (default 5),
# RUNS times per tunnel (default 3), alternating pqlan / OpenVPN.
# Figure: iperf3's receiver-side bits per second.
# Everything (processes by PID, namespaces, temp dir) is removed on exit,
# also on failure; every wait is bounded.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-${PQ_BUILD:-$top/build}}" && pwd)
PQLAN=$build/pqlan
SECS=${SECS:-5}
RUNS=${RUNS:-3}
. "$top/tests/e2e/lib.sh"
. "$top/bench/lib_others.sh"
E2E_PREFIX=pqbt$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || e2e_die "needs root (network namespaces, TAP devices, apt-get)"
[ -x "$PQLAN" ] || e2e_die "$PQLAN not built (make BUILD=$build all)"
if ! command -v openvpn >/dev/null; then
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y openvpn >/dev/null ||
		e2e_die "apt-get install openvpn failed"
fi
for tool in ip iperf3 openssl openvpn python3; do
	command -v "$tool" >/dev/null || e2e_die "$tool not installed"
done
[ -c /dev/net/tun ] || e2e_die "/dev/net/tun missing (modprobe tun)"

e2e_tmpdir
dir=$E2E_TMP

# ---- underlay: one bridge, two veths -------------------------------------------
e2e_underlay 192.168.241 vn 1 2

# ---- pqlan: relay and two nodes ----------------------------------------------------
relay_ip=192.168.241.1 relay_port=7443
e2e_keys 1 2
for i in 1 2; do e2e_node_conf "$i" 10.77.0 "192.168.241.1$i:0" $((3 - i)); done
e2e_bg "$ns_relay" "$dir/relay.log" "$PQLAN" relay -c "$dir/relay.conf"
pq_relay_pid=$REPLY
for i in 1 2; do e2e_bg "${ns[$i]}" "$dir/n$i.log" "$PQLAN" up -c "$dir/n$i.conf"; done

# ---- OpenVPN: a throw-away CA, server in the relay namespace, two clients --------------
bench_ca
pki server serverAuth && pki c1 clientAuth && pki c2 clientAuth || e2e_die "openssl: certificates"
cat >"$dir/server.ovpn" <<CONF
dev ovpn0
dev-type tap
proto tcp-server
local 192.168.241.1
port 1194
server 10.78.0.0 255.255.255.0
client-to-client
tcp-nodelay
ca $dir/ca.crt
cert $dir/server.crt
key $dir/server.key
dh none
data-ciphers AES-256-GCM
tun-mtu 1500
keepalive 10 60
verb 3
CONF
for i in 1 2; do
	cat >"$dir/c$i.ovpn" <<CONF
client
dev ovpn0
dev-type tap
proto tcp-client
remote 192.168.241.1 1194
nobind
ca $dir/ca.crt
cert $dir/c$i.crt
key $dir/c$i.key
remote-cert-tls server
data-ciphers AES-256-GCM
tun-mtu 1500
verb 3
CONF
done
e2e_bg "$ns_relay" "$dir/ovpn-server.log" openvpn --config "$dir/server.ovpn"
ovpn_listening() { ip netns exec "$ns_relay" ss -Hltn 'sport = :1194' | grep -q 1194; }
e2e_until 15 ovpn_listening || e2e_die "the OpenVPN server did not start listening"
for i in 1 2; do e2e_bg "${ns[$i]}" "$dir/ovpn-c$i.log" openvpn --config "$dir/c$i.ovpn"; done

# ---- wait for both tunnels ----------------------------------------------------------------
pq_up() {
	ip netns exec "${ns[1]}" "$PQLAN" status -c "$dir/n1.conf" --json >"$dir/st.json" &&
		e2e_json "$dir/st.json" "j['peers'][0]['state'] == 'established'" &&
		ip netns exec "${ns[1]}" ping -q -c 1 -W 1 10.77.0.2
}
e2e_until 30 pq_up || e2e_die "pqlan: n1 and n2 did not establish within 30 s"
ovpn_addr() { # ovpn_addr I: n I's ovpn0 IPv4 address into $REPLY
	REPLY=$(ip -n "${ns[$1]}" -o -4 addr show dev ovpn0 2>/dev/null | awk '{print $4}' | cut -d/ -f1)
	[ -n "$REPLY" ]
}
ovpn_up() {
	grep -q "Initialization Sequence Completed" "$dir/ovpn-c1.log" &&
		grep -q "Initialization Sequence Completed" "$dir/ovpn-c2.log" &&
		ovpn_addr 2 && ip netns exec "${ns[1]}" ping -q -c 1 -W 1 "$REPLY"
}
e2e_until 30 ovpn_up || e2e_die "OpenVPN: the clients did not reach each other within 30 s"
ovpn_addr 2; ovpn_n2=$REPLY
ovpn_cipher=$(grep -o "Data Channel: cipher '[^']*'" "$dir/ovpn-c1.log" | tail -n 1)
[ -n "$ovpn_cipher" ] || ovpn_cipher="(cipher line not found in the client log)"

# ---- iperf3, alternating --------------------------------------------------------------------
e2e_bg "${ns[2]}" "$dir/iperf-server.log" iperf3 -s
iperf_listening() { ip netns exec "${ns[2]}" ss -Hltn 'sport = :5201' | grep -q 5201; }
e2e_until 5 iperf_listening || e2e_die "iperf3 server did not start"

echo "== one-stream iperf3 TCP n1 -> n2 through the relay namespace: pqlan vs OpenVPN (TAP, TCP, client-to-client)"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: pqlan (git $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown), work tree); $(openvpn --version | head -n 1 | cut -d' ' -f1-2); $(iperf3 --version | head -n 1)"
echo "made by: $0 $build   (SECS=$SECS RUNS=$RUNS)"
echo "OpenVPN data channel: $ovpn_cipher; TAP pq0 $(ip -n "${ns[1]}" -o link show pq0 | grep -o 'mtu [0-9]*'), ovpn0 $(ip -n "${ns[1]}" -o link show ovpn0 | grep -o 'mtu [0-9]*')"

# run_iperf LABEL DEST: one timed run; Mbit/s appended to results[LABEL].
declare -A results
run_iperf() {
	local label=$1 dest=$2 out rate cmd
	cmd="ip netns exec ${ns[1]} iperf3 -c $dest -t $SECS -J"
	echo "command: $cmd"
	# Background + wait: a signal reaches the trap at once.
	timeout $((SECS + 30)) $cmd >"$dir/iperf.json" 2>&1 &
	E2E_PIDS+=("$!")
	wait "$!" || e2e_die "iperf3 $label failed: $(tail -n 3 "$dir/iperf.json")"
	out=$(cat "$dir/iperf.json")
	rate=$(printf '%s' "$out" | python3 -c 'import json,sys
j = json.load(sys.stdin)
print("%.1f" % (j["end"]["sum_received"]["bits_per_second"] / 1e6))')
	echo "  $label: $rate Mbit/s"
	results[$label]="${results[$label]:-} $rate"
}
for ((r = 1; r <= RUNS; r++)); do
	run_iperf pqlan 10.77.0.2
	run_iperf openvpn "$ovpn_n2"
done
python3 - "${results[pqlan]}" "${results[openvpn]}" <<'PY'
import statistics, sys
pq = [float(x) for x in sys.argv[1].split()]
ov = [float(x) for x in sys.argv[2].split()]
mp, mo = statistics.median(pq), statistics.median(ov)
print("pqlan   runs (Mbit/s): %s  median %.1f" % (" ".join("%.1f" % x for x in pq), mp))
print("openvpn runs (Mbit/s): %s  median %.1f" % (" ".join("%.1f" % x for x in ov), mo))
print("ratio pqlan/OpenVPN (medians): %.2f" % (mp / mo if mo > 0 else float("nan")))
PY
