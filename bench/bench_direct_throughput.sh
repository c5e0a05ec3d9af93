#!/usr/bin/env bash
# bench_direct_throughput.sh [BUILD] - one-stream iperf3 TCP between two
# nodes on pqlan's direct path, beside pqlan's relay path, tinc 1.0 (Mode =
# switch) and OpenVPN (TAP, UDP, p2p with TLS), all in the same run on the
# same underlay (issue 5). Needs root; installs Debian's tinc and openvpn
# with apt-get if missing.
#
#        ns relay: pqlan relay 192.168.241.1:7443
#            +--------------- br0 (bridge) ---------------+
#            | veth                                  veth |
#   ns n1: eth0 192.168.241.11                 ns n2: eth0 192.168.241.12
#          pq0   10.77.0.1  pqlan, direct (listen :7444, moves off the relay)
#          pq1   10.79.0.1  pqlan, `path = relay` (through the relay ns)
#          tinc0 10.80.0.1  tincd, Mode = switch, UDP :655 direct
#          ovpn0 10.78.0.1  openvpn p2p, dev-type tap, proto udp :1194 direct
#
# Same layout as bench_relay_throughput.sh. All four tunnels carry
# Ethernet frames (MTU 1500 inside) and run at the same time; iperf3 -c in
# n1 against one iperf3 server in n2, SECS seconds (default 5), RUNS
# rounds (default 3), each round: pqlan-direct, pqlan-relay, tinc, OpenVPN.
# Ciphers: pqlan AES-256-GCM; OpenVPN data-ciphers AES-256-GCM (TLS
# control channel, throw-away CA and P-256 certificates); tinc 1.0 has no
# AEAD: Cipher = aes-256-cbc, Digest = sha256 (its default is blowfish).
# Figure: iperf3's receiver-side bits per second; medians and ratios.
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
E2E_PREFIX=pqdt$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || e2e_die "needs root (network namespaces, TAP devices, apt-get)"
[ -x "$PQLAN" ] || e2e_die "$PQLAN not built (make BUILD=$build all)"
for pkg in tinc:tincd openvpn:openvpn; do
	command -v "${pkg#*:}" >/dev/null && continue
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y "${pkg%%:*}" >/dev/null ||
		e2e_die "apt-get install ${pkg%%:*} failed"
done
for tool in ip iperf3 openssl openvpn tincd python3; do
	command -v "$tool" >/dev/null || e2e_die "$tool not installed"
done
[ -c /dev/net/tun ] || e2e_die "/dev/net/tun missing (modprobe tun)"

e2e_tmpdir
dir=$E2E_TMP

# ---- underlay: one bridge, two veths (as bench_relay_throughput.sh) ----------
e2e_underlay 192.168.241 vn 1 2

# ---- pqlan: one relay, two node pairs (direct on pq0, relay-only on pq1) ----
e2e_genkey "$dir/relay.key"; relay_pub=$REPLY
printf '[relay]\nprivate_key = %s\nlisten = 192.168.241.1:7443\n' "$dir/relay.key" >"$dir/relay.conf"
declare -A pub
for i in 1 2; do
	for k in d r; do e2e_genkey "$dir/$k$i.key"; pub[$k$i]=$REPLY; done
done
# pq_conf KIND I: KIND d (pq0, listen :7444, path auto) or r (pq1, path relay).
pq_conf() {
	local k=$1 i=$2 j=$((3 - $2)) tap=pq0 net=77 listen=7444 path=auto
	[ "$k" = r ] && tap=pq1 net=79 listen=0 path=relay
	printf '[node]\nprivate_key = %s\ntap = %s\naddress = 10.%s.0.%s/24\n' "$dir/$k$i.key" "$tap" "$net" "$i"
	printf 'listen = 192.168.241.1%s:%s\ncontrol = %s\nretry_interval = 2\n\n' "$i" "$listen" "$dir/$k$i.sock"
	printf '[relay]\nurl = wss://192.168.241.1:7443/\nkey = %s\n\n' "$relay_pub"
	printf '[peer]\nname = %s%s\nkey = %s\npath = %s\n' "$k" "$j" "${pub[$k$j]}" "$path"
}
for i in 1 2; do
	for k in d r; do pq_conf "$k" "$i" >"$dir/$k$i.conf"; chmod 600 "$dir/$k$i.conf"; done
done
e2e_bg "$ns_relay" "$dir/relay.log" "$PQLAN" relay -c "$dir/relay.conf"
relay_listening() { ip netns exec "$ns_relay" ss -Hltn 'sport = :7443' | grep -q 7443; }
e2e_until 10 relay_listening || e2e_die "the relay did not start listening"
for i in 1 2; do
	for k in d r; do e2e_bg "${ns[$i]}" "$dir/$k$i.log" "$PQLAN" up -c "$dir/$k$i.conf"; done
done

# ---- tinc 1.0: two nodes, Mode = switch, each dials the other -----------------
for i in 1 2; do
	t=$dir/tinc$i
	mkdir -p "$t/hosts"
	printf 'Name = n%s\nMode = switch\nInterface = tinc0\nConnectTo = n%s\nAddressFamily = ipv4\n' "$i" $((3 - i)) >"$t/tinc.conf"
	printf 'Cipher = aes-256-cbc\nDigest = sha256\n' >>"$t/tinc.conf"
	printf 'Address = 192.168.241.1%s\nPort = 655\nCipher = aes-256-cbc\nDigest = sha256\n' "$i" >"$t/hosts/n$i"
	printf '#!/bin/sh\nip link set "$INTERFACE" up\nip addr add 10.80.0.%s/24 dev "$INTERFACE"\n' "$i" >"$t/tinc-up"
	chmod 755 "$t/tinc-up"
	tincd -c "$t" -K2048 </dev/null >"$dir/tinc-keygen$i.log" 2>&1 || e2e_die "tincd -K failed"
done
cp "$dir/tinc1/hosts/n1" "$dir/tinc2/hosts/n1"
cp "$dir/tinc2/hosts/n2" "$dir/tinc1/hosts/n2"
for i in 1 2; do
	e2e_bg "${ns[$i]}" "$dir/tinc$i.log" tincd -c "$dir/tinc$i" -D --pidfile="$dir/tinc$i.pid" --logfile="$dir/tinc$i.tinclog"
done

# ---- OpenVPN p2p over UDP, TAP, TLS (a throw-away CA) -------------------------
bench_ca
pki ov1 serverAuth && pki ov2 clientAuth || e2e_die "openssl: certificates"
for i in 1 2; do
	j=$((3 - i))
	{
		printf 'dev ovpn0\ndev-type tap\nproto udp\nlocal 192.168.241.1%s\nlport 1194\n' "$i"
		printf 'remote 192.168.241.1%s 1194\nifconfig 10.78.0.%s 255.255.255.0\n' "$j" "$i"
		printf 'ca %s\ncert %s\nkey %s\n' "$dir/ca.crt" "$dir/ov$i.crt" "$dir/ov$i.key"
		printf 'data-ciphers AES-256-GCM\ntun-mtu 1500\nkeepalive 10 60\nverb 3\n'
		if [ "$i" = 1 ]; then
			printf 'tls-server\ndh none\nremote-cert-tls client\n'
		else
			printf 'tls-client\nremote-cert-tls server\n'
		fi
	} >"$dir/ov$i.ovpn"
	e2e_bg "${ns[$i]}" "$dir/ovpn$i.log" openvpn --config "$dir/ov$i.ovpn"
done

# ---- wait for all four tunnels --------------------------------------------------
pq_path() { # pq_path KIND I PATH
	ip netns exec "${ns[$2]}" "$PQLAN" status -c "$dir/$1$2.conf" --json >"$dir/st.json" &&
		e2e_json "$dir/st.json" "j['peers'][0]['state'] == 'established' and j['peers'][0]['path'] == '$3'"
}
reach() { ip netns exec "${ns[1]}" ping -q -c 1 -W 1 "$1"; }
e2e_until 30 pq_path d 1 direct || e2e_die "pqlan pq0: not on the direct path within 30 s"
e2e_until 5 pq_path d 2 direct || e2e_die "pqlan pq0 (n2): not on the direct path"
e2e_until 30 pq_path r 1 relay || e2e_die "pqlan pq1: not established on the relay within 30 s"
e2e_until 10 reach 10.77.0.2 || e2e_die "pqlan direct: no ping"
e2e_until 10 reach 10.79.0.2 || e2e_die "pqlan relay: no ping"
e2e_until 30 reach 10.80.0.2 || e2e_die "tinc: no ping within 30 s"
e2e_until 30 reach 10.78.0.2 || e2e_die "OpenVPN: no ping within 30 s"
ovpn_cipher=$(grep -o "Data Channel: cipher '[^']*'" "$dir/ovpn1.log" | tail -n 1)
[ -n "$ovpn_cipher" ] || ovpn_cipher="(cipher line not in the log)"

# ---- iperf3, alternating ------------------------------------------------------------
e2e_bg "${ns[2]}" "$dir/iperf-server.log" iperf3 -s
iperf_listening() { ip netns exec "${ns[2]}" ss -Hltn 'sport = :5201' | grep -q 5201; }
e2e_until 5 iperf_listening || e2e_die "iperf3 server did not start"

echo "== one-stream iperf3 TCP n1 -> n2: pqlan direct vs pqlan relay vs tinc (switch) vs OpenVPN (TAP, UDP, p2p)"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: pqlan (git $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown), work tree); $(tincd --version | head -n 1); $(openvpn --version | head -n 1 | cut -d' ' -f1-2); $(iperf3 --version | head -n 1)"
echo "made by: $0 $build   (SECS=$SECS RUNS=$RUNS)"
echo "OpenVPN data channel: $ovpn_cipher; tinc: aes-256-cbc + HMAC-SHA256; pqlan: AES-256-GCM"
for dev in pq0 pq1 tinc0 ovpn0; do printf '%s %s  ' "$dev" "$(ip -n "${ns[1]}" -o link show "$dev" | grep -o 'mtu [0-9]*')"; done
echo

declare -A results
run_iperf() { # run_iperf LABEL DEST
	local label=$1 dest=$2 rate cmd
	cmd="ip netns exec ${ns[1]} iperf3 -c $dest -t $SECS -J"
	echo "command: $cmd"
	timeout $((SECS + 30)) $cmd >"$dir/iperf.json" 2>&1 &
	E2E_PIDS+=("$!")
	wait "$!" || e2e_die "iperf3 $label failed: $(tail -n 3 "$dir/iperf.json")"
	rate=$(python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
print("%.1f" % (j["end"]["sum_received"]["bits_per_second"] / 1e6))' "$dir/iperf.json")
	echo "  $label: $rate Mbit/s"
	results[$label]="${results[$label]:-} $rate"
}
for ((r = 1; r <= RUNS; r++)); do
	run_iperf pqlan-direct 10.77.0.2
	run_iperf pqlan-relay 10.79.0.2
	run_iperf tinc 10.80.0.2
	run_iperf openvpn 10.78.0.2
done
pq_path d 1 direct || e2e_die "pqlan pq0 left the direct path during the runs: $(cat "$dir/st.json")"
python3 - "${results[pqlan-direct]}" "${results[pqlan-relay]}" "${results[tinc]}" "${results[openvpn]}" <<'PY'
import statistics, sys
names = ["pqlan-direct", "pqlan-relay", "tinc", "openvpn"]
runs = {n: [float(x) for x in a.split()] for n, a in zip(names, sys.argv[1:])}
med = {n: statistics.median(v) for n, v in runs.items()}
for n in names:
    print("%-13s runs (Mbit/s): %s  median %.1f" % (n, " ".join("%.1f" % x for x in runs[n]), med[n]))
for n in names[1:]:
    print("ratio pqlan-direct / %-12s (medians): %.2f" % (n, med["pqlan-direct"] / med[n] if med[n] > 0 else float("nan")))
PY
