#!/usr/bin/env bash
# bench_nat.sh [BUILD] - two nodes, each behind its own home-router NAT
# (tests/e2e/lib_nat.sh: nft masquerade, endpoint-independent mapping,
# unsolicited inbound dropped), in one run (issue 9):
#   1. time to direct: both nodes started at once (relay up), until
#      `pqlan status` shows path direct, transport udp on both sides;
#      TTD_RUNS runs (default 5), each with the routers' UDP mappings
#      deleted first; also "M ms after the keys" from the nodes' log line
#      "path relay -> direct ... (re-handshake N us, M ms after the keys)";
#   2. one-stream iperf3 TCP n1 -> n2, SECS seconds (default 5), RUNS
#      rounds (default 3) alternating: pqlan direct over UDP, pqlan direct
#      over TLS, pqlan through the relay, OpenVPN 2.6 over UDP; medians and
#      the ratios of UDP direct to each other. Per run also iperf3's TCP
#      retransmits and the UDP socket buffer overflows in n1 and n2
#      (/proc/net/snmp RcvbufErrors, SndbufErrors): where datagrams are lost.
#
#                      ns inet: bridge "the internet" 203.0.113.0/24
#        +----------------------+-------------------------------+
#     relay .1               r1 .11 (NAT)                    r2 .12 (NAT, port-forwards
#     pqlan relay :7443,     lan 192.168.11.0/24             tcp 7445 and udp 1194 to n2)
#     STUN :3478/:3479         n1 192.168.11.2                 n2 192.168.12.2
#
#   tunnel            n1 / n2 overlay    how
#   pq0 UDP direct    10.77.0.1 / .2     listen :7444 (UDP socket there), transport = udp:
#                                        hole punching through both NATs
#   pq1 TLS direct    10.78.0.1 / .2     listen :7445, listen_udp = off, transport = tls;
#                                        n1 dials n2 at its router's forwarded tcp 7445
#   pq2 relay         10.79.0.1 / .2     path = relay (no listener, no UDP socket)
#   ovpn0 OpenVPN     10.80.0.1 / .2     p2p, dev-type tap, proto udp, TLS (throw-away CA),
#                                        data-ciphers AES-256-GCM; n1 -> r2's forwarded udp 1194
#
# The port-forwards only exist because TLS and OpenVPN need one side that
# accepts inbound; pqlan's UDP path gets no help from them. All tunnels
# carry Ethernet frames (MTU 1500 inside) over the same two NATs.
# Needs root; installs Debian's openvpn with apt-get if missing. Every
# process (by PID), namespace and the temp dir is removed on exit, also on
# failure or Ctrl-C; every wait is bounded.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-${PQ_BUILD:-$top/build}}" && pwd)
PQLAN=$build/pqlan
SECS=${SECS:-5}
RUNS=${RUNS:-3}
TTD_RUNS=${TTD_RUNS:-5}
. "$top/tests/e2e/lib.sh"
. "$top/bench/lib_others.sh"
. "$top/tests/e2e/lib_nat.sh"
E2E_PREFIX=pqbn$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || e2e_die "needs root (network namespaces, TAP devices, apt-get)"
[ -x "$PQLAN" ] || e2e_die "$PQLAN not built (make BUILD=$build all)"
if ! command -v openvpn >/dev/null; then
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y openvpn >/dev/null ||
		e2e_die "apt-get install openvpn failed"
fi
for tool in ip iperf3 openssl openvpn python3 nft conntrack; do
	command -v "$tool" >/dev/null || e2e_die "$tool not installed"
done
[ -c /dev/net/tun ] || e2e_die "/dev/net/tun missing (modprobe tun)"

e2e_tmpdir
dir=$E2E_TMP

# ---- underlay: the internet, the relay, n1 and n2 behind NAT routers ---------
e2e_nat_underlay 1:nat 2:nat
# Port-forwards on r2 for the two tunnels that need an inbound side.
ip netns exec "${ns_router[2]}" nft -f - <<EOF || e2e_die "nft: port-forwards on r2"
table ip portfwd {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan" tcp dport 7445 dnat to ${node_ip[2]}:7445
		iifname "wan" udp dport 1194 dnat to ${node_ip[2]}:1194
	}
}
EOF
ip netns exec "${ns_router[2]}" nft insert rule inet filter forward ct status dnat accept ||
	e2e_die "nft: forward rule on r2"

# ---- pqlan: the relay and three node pairs ------------------------------------
e2e_genkey "$dir/relay.key"; relay_pub=$REPLY
printf '[relay]\nprivate_key = %s\nlisten = %s:7443\n' "$dir/relay.key" "$relay_ip" >"$dir/relay.conf"
declare -A pub
kinds="udp tls rel"
for i in 1 2; do
	for k in $kinds; do e2e_genkey "$dir/$k$i.key"; pub[$k$i]=$REPLY; done
done
# pq_conf KIND I: node I of the pair KIND (udp, tls, rel).
pq_conf() {
	local k=$1 i=$2 j=$((3 - $2)) tap net listen peer_line extra=
	case $k in
	udp) tap=pq0 net=77 listen=7444 peer_line="transport = udp" ;;
	tls) tap=pq1 net=78 listen=7445 peer_line="transport = tls" extra="listen_udp = off" ;;
	rel) tap=pq2 net=79 listen=0 peer_line="path = relay" ;;
	esac
	# n1 reaches n2's TLS listener only at r2's port-forward.
	[ "$k$i" = tls1 ] && peer_line="$peer_line
endpoint = ${public_ip[2]}:7445"
	printf '[node]\nprivate_key = %s\ntap = %s\naddress = 10.%s.0.%s/24\n' "$dir/$k$i.key" "$tap" "$net" "$i"
	printf 'listen = 0.0.0.0:%s\ncontrol = %s\nretry_interval = 2\n%s\n\n' "$listen" "$dir/$k$i.sock" "$extra"
	printf '[relay]\nurl = wss://%s:7443/\nkey = %s\n\n' "$relay_ip" "$relay_pub"
	printf '[peer]\nname = n%s\nkey = %s\n%s\n' "$j" "${pub[$k$j]}" "$peer_line"
}
for i in 1 2; do
	for k in $kinds; do pq_conf "$k" "$i" >"$dir/$k$i.conf"; chmod 600 "$dir/$k$i.conf"; done
done
e2e_start_relay
relay_listening() { ip netns exec "$ns_relay" ss -Hltn 'sport = :7443' | grep -q 7443; }
e2e_until 10 relay_listening || e2e_die "the relay did not start listening"

declare -A pid
start() { # start KIND I LOG
	e2e_bg "${ns[$2]}" "$3" "$PQLAN" up -c "$dir/$1$2.conf"
	pid[$1$2]=$REPLY
}
# st KIND I: node I's status of pair KIND into st-KIND-I.json (one line).
st() { ip netns exec "${ns[$2]}" "$PQLAN" status -c "$dir/$1$2.conf" --json >"$dir/st-$1-$2.json" 2>/dev/null; }
# on KIND I PATH [TRANSPORT]: established on PATH (over TRANSPORT).
on() {
	st "$1" "$2" || return 1
	e2e_json "$dir/st-$1-$2.json" "(lambda p: p['state'] == 'established' and p['path'] == '$3' and
		('$#' == '3' or p['transport'] == '${4:-}'))(j['peers'][0])"
}
# udp_direct_fast I: the same test as `on udp I direct udp` without a
# python start per poll (the JSON is one line the node writes itself).
udp_direct_fast() {
	st udp "$1" && grep -q '"state":"established","path":"direct"' "$dir/st-udp-$1.json" &&
		grep -q '"transport":"udp"' "$dir/st-udp-$1.json"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- 1. time to direct through both NATs ---------------------------------------
# Each run: no node of the pair running, the routers' UDP mappings deleted
# (a cold start), both nodes started at once; poll both statuses every
# 50 ms for at most 30 s.
ttd_ms=() keys_ms=()
for ((r = 1; r <= TTD_RUNS; r++)); do
	flushed=0
	for i in 1 2; do
		v=$(ip netns exec "${ns_router[$i]}" conntrack -D -p udp 2>&1 >/dev/null |
			sed -n 's/.* \([0-9]*\) flow entries have been deleted.*/\1/p') || true
		flushed=$((flushed + ${v:-0}))
	done
	t0=$(now_ms)
	start udp 1 "$dir/udp1-run$r.log"
	start udp 2 "$dir/udp2-run$r.log"
	deadline=$((SECONDS + 30))
	until udp_direct_fast 1 && udp_direct_fast 2; do
		[ "$SECONDS" -lt "$deadline" ] ||
			e2e_die "time to direct, run $r: not direct over UDP on both sides within 30 s: $(cat "$dir/st-udp-1.json")"
		sleep 0.05
	done
	ttd_ms+=($(($(now_ms) - t0)))
	m=
	for i in 1 2; do
		v=$(sed -n 's/.*path relay -> direct .*, \([0-9]*\) ms after the keys).*/\1/p' "$dir/udp$i-run$r.log" | head -n 1)
		[ -n "$v" ] || e2e_die "run $r: no 'path relay -> direct' line in n$i's log"
		m="$m${m:+ }$v"
	done
	keys_ms+=("$m")
	echo "time to direct, run $r: ${ttd_ms[-1]} ms from start; ms after the keys (n1 n2): $m; UDP mappings deleted before: $flushed"
	if [ "$r" -lt "$TTD_RUNS" ]; then
		for i in 1 2; do e2e_stop "${pid[udp$i]}" || e2e_die "run $r: udp node n$i did not stop"; done
	fi
done

# ---- 2. the other tunnels: TLS direct, relay, OpenVPN -------------------------
for i in 1 2; do
	start tls "$i" "$dir/tls$i.log"
	start rel "$i" "$dir/rel$i.log"
done
bench_ca
pki ov1 clientAuth && pki ov2 serverAuth || e2e_die "openssl: certificates"
for i in 1 2; do
	{
		printf 'dev ovpn0\ndev-type tap\nproto udp\nifconfig 10.80.0.%s 255.255.255.0\n' "$i"
		printf 'ca %s\ncert %s\nkey %s\n' "$dir/ca.crt" "$dir/ov$i.crt" "$dir/ov$i.key"
		printf 'data-ciphers AES-256-GCM\ntun-mtu 1500\nkeepalive 10 60\nverb 3\n'
		if [ "$i" = 1 ]; then # behind r1, dials r2's forwarded port
			printf 'nobind\nremote %s 1194\ntls-client\nremote-cert-tls server\n' "${public_ip[2]}"
		else # no remote: takes the first peer that authenticates
			printf 'local %s\nlport 1194\ntls-server\ndh none\nremote-cert-tls client\n' "${node_ip[2]}"
		fi
	} >"$dir/ov$i.ovpn"
	e2e_bg "${ns[$i]}" "$dir/ovpn$i.log" openvpn --config "$dir/ov$i.ovpn"
done
reach() { ip netns exec "${ns[1]}" ping -q -c 1 -W 1 "$1"; }
e2e_until 30 on tls 1 direct tls || e2e_die "pq1: n1 not direct over TLS within 30 s: $(cat "$dir/st-tls-1.json")"
e2e_until 5 on tls 2 direct tls || e2e_die "pq1: n2 not direct over TLS: $(cat "$dir/st-tls-2.json")"
e2e_until 30 on rel 1 relay || e2e_die "pq2: not established on the relay within 30 s"
for a in 10.77.0.2 10.78.0.2 10.79.0.2; do e2e_until 10 reach "$a" || e2e_die "no ping to $a"; done
e2e_until 30 reach 10.80.0.2 || e2e_die "OpenVPN: no ping within 30 s"
ovpn_cipher=$(grep -o "Data Channel: cipher '[^']*'" "$dir/ovpn1.log" | tail -n 1)
[ -n "$ovpn_cipher" ] || ovpn_cipher="(cipher line not in the log)"

# ---- iperf3, alternating ------------------------------------------------------------
e2e_bg "${ns[2]}" "$dir/iperf-server.log" iperf3 -s
iperf_listening() { ip netns exec "${ns[2]}" ss -Hltn 'sport = :5201' | grep -q 5201; }
e2e_until 5 iperf_listening || e2e_die "iperf3 server did not start"

echo
echo "== one-stream iperf3 TCP n1 -> n2, both behind NAT: pqlan UDP direct vs TLS direct vs relay vs OpenVPN UDP"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores ($(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n 1)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: pqlan (git $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown), work tree); $(openvpn --version | head -n 1 | cut -d' ' -f1-2); $(iperf3 --version | head -n 1)"
echo "OpenVPN data channel: $ovpn_cipher; pqlan: AES-256-GCM"
for dev in pq0 pq1 pq2 ovpn0; do printf '%s %s  ' "$dev" "$(ip -n "${ns[1]}" -o link show "$dev" | grep -o 'mtu [0-9]*')"; done
echo
declare -A results
# udp_errs: the UDP sockets' buffer overflows in n1 and n2 (/proc/net/snmp
# is per namespace): "n1-RcvbufErrors n1-SndbufErrors n2-... n2-...".
udp_errs() {
	local i
	for i in 1 2; do
		ip netns exec "${ns[$i]}" awk '/^Udp:/ { if (!h) { for (f = 1; f <= NF; f++) c[$f] = f; h = 1 }
			else printf "%s %s ", $c["RcvbufErrors"], $c["SndbufErrors"] }' /proc/net/snmp
	done
}
run_iperf() { # run_iperf LABEL DEST
	local label=$1 dest=$2 rate cmd before after
	cmd="ip netns exec ${ns[1]} iperf3 -c $dest -t $SECS -J"
	echo "command: $cmd"
	before=$(udp_errs)
	timeout $((SECS + 30)) $cmd >"$dir/iperf.json" 2>&1 &
	E2E_PIDS+=("$!")
	wait "$!" || e2e_die "iperf3 $label failed: $(tail -n 3 "$dir/iperf.json")"
	after=$(udp_errs)
	rate=$(python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))["end"]
b, a = [int(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()]
d = [y - x for x, y in zip(b, a)]
print("%.1f" % (j["sum_received"]["bits_per_second"] / 1e6))
print("%d TCP retransmits; UDP buffer overflows n1 rcv %d snd %d, n2 rcv %d snd %d"
      % (j["sum_sent"]["retransmits"], d[0], d[1], d[2], d[3]))' "$dir/iperf.json" "$before" "$after")
	echo "  $label: ${rate%%$'\n'*} Mbit/s, ${rate#*$'\n'}"
	rate=${rate%%$'\n'*}
	results[$label]="${results[$label]:-} $rate"
}
for ((r = 1; r <= RUNS; r++)); do
	run_iperf pqlan-udp 10.77.0.2
	run_iperf pqlan-tls 10.78.0.2
	run_iperf pqlan-relay 10.79.0.2
	run_iperf openvpn-udp 10.80.0.2
done
for i in 1 2; do
	on udp "$i" direct udp || e2e_die "pq0: n$i left the UDP path during the runs: $(cat "$dir/st-udp-$i.json")"
	on tls "$i" direct tls || e2e_die "pq1: n$i left the TLS path during the runs: $(cat "$dir/st-tls-$i.json")"
done
st udp 1
nat_line=$(python3 -c 'import json,sys
u = json.load(open(sys.argv[1]))["node"]["udp"]
p = json.load(open(sys.argv[1]))["peers"][0]
print("n1: NAT %s, mapped at %s; peer n2 at %s over %s" % (u["nat"], u["reflexive"], p["endpoint"], p["transport"]))' "$dir/st-udp-1.json")

echo
echo "== figures"
echo "$nat_line"
python3 - "${results[pqlan-udp]}" "${results[pqlan-tls]}" "${results[pqlan-relay]}" "${results[openvpn-udp]}" \
	"${ttd_ms[*]}" "$(printf '%s\n' "${keys_ms[@]}")" <<'PY'
import statistics, sys
names = ["pqlan-udp", "pqlan-tls", "pqlan-relay", "openvpn-udp"]
runs = {n: [float(x) for x in a.split()] for n, a in zip(names, sys.argv[1:5])}
med = {n: statistics.median(v) for n, v in runs.items()}
print("throughput, one iperf3 TCP stream n1 -> n2, receiver Mbit/s:")
for n in names:
    print("  %-12s runs %s  median %.1f" % (n, " ".join("%.1f" % x for x in runs[n]), med[n]))
for n in names[1:]:
    r = med["pqlan-udp"] / med[n] if med[n] > 0 else float("nan")
    print("  ratio UDP direct / %-12s %.2f" % (n, r))
if med["pqlan-udp"] < med["openvpn-udp"]:
    print("  NOTE: pqlan UDP direct (%.1f) is SLOWER than OpenVPN over UDP (%.1f Mbit/s) in this run"
          % (med["pqlan-udp"], med["openvpn-udp"]))
ttd = [int(x) for x in sys.argv[5].split()]
keys = [[int(x) for x in line.split()] for line in sys.argv[6].splitlines()]
later = [max(k) for k in keys]
print("time to direct over UDP through both NATs, %d runs:" % len(ttd))
print("  from start of both nodes to both statuses direct/udp, ms: %s  p50 %d  max %d"
      % (" ".join(map(str, ttd)), statistics.median_low(ttd), max(ttd)))
print("  from the session's keys (log, the later of n1/n2), ms:   %s  p50 %d  max %d"
      % (" ".join(map(str, later)), statistics.median_low(later), max(later)))
PY
echo
echo "made by: $0 $build   (SECS=$SECS RUNS=$RUNS TTD_RUNS=$TTD_RUNS)"
echo "how to read: higher Mbit/s is better; 'UDP direct / X' > 1 means pqlan's UDP path beat X on the same"
echo "  namespaces in the same run; single runs on a shared machine vary by +-30 %, compare the ratios."
echo "  Time to direct includes process start, relay login, the hybrid handshake, STUN, punching and the"
echo "  UDP re-handshake; status is polled every 50 ms (p50 is the lower median)."
