#!/usr/bin/env bash
# bench_latency.sh [BUILD] - latency under load on a rate-limited underlay
# (issue 13 item 4): ping through a tunnel while one iperf3 TCP stream
# fills it, for the bare underlay, pqlan UDP direct, pqlan TLS direct,
# pqlan through the relay and (OTHERS) OpenVPN over UDP, tinc and Nebula,
# all in one run on the same shaped links. Needs root; installs Debian's
# openvpn, tinc and nebula with apt-get if OTHERS asks for them and they
# are missing.
#
#        ns relay: pqlan relay 192.168.241.1:7443         (tbf on br0: the relay's egress)
#            +--------------- br0 (bridge) ---------------+
#            | veth                                  veth |
#   ns n1: eth0 192.168.241.11 (tbf)           ns n2: eth0 192.168.241.12 (tbf)
#          pq0   10.77.0.1  pqlan direct over UDP (listen :7444, transport = udp)
#          pq1   10.78.0.1  pqlan direct over TLS (listen :7445, listen_udp = off, transport = tls)
#          pq2   10.79.0.1  pqlan through the relay (path = relay)
#          ovpn0 10.80.0.1  OpenVPN 2.6 p2p, dev-type tap, proto udp :1194
#          tinc0 10.82.0.1  tincd 1.0, Mode = switch, UDP :655
#          neb0  10.81.0.1  Nebula (L3 tun), UDP :4242, static host map, no lighthouse
#
# Every host's underlay egress (n1 eth0, n2 eth0, the relay's br0) gets
#   tc qdisc add dev DEV root tbf rate $RATE burst $BURST latency $TBF_LATENCY
# (defaults 20mbit, 32kbit, 400ms; RATE=off: no shaping at all). The
# kernel's TCP congestion control is left as it is and printed (it is
# what the tunnels' own TCP uses); CC=cubic (or bbr, reno) is given to
# iperf3 (-C) for the measured stream, bare and inside the tunnels.
#
# Per tunnel and round (RUNS rounds, default 2, the tunnels alternating):
# idle, IDLE_N pings (default 20, every 0.1 s); then one-stream
# `iperf3 -c` n1 -> n2 for WARM + SECS + 1 s (defaults 2 and 8), and after
# WARM s, SECS*10 pings every 0.1 s from n1 to n2's address in that tunnel
# (the same direction as the bulk stream). Printed: ping p50/p90 idle and
# under load (all rounds pooled), pings lost under load, iperf3's receiver
# Mbit/s (median of the rounds), the ratios of the loaded p50/p90 to the
# bare link's, and whether the targets hold (UDP <= 1.5x bare, TLS and
# relay <= 2x bare, on the loaded p50). SS=1 also prints `ss -tmi` and
# the qdisc counters of n1 and the relay half-way through each stream.
# Everything (processes by PID, namespaces, temp dir) is removed on exit,
# also on failure; every wait is bounded.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-${PQ_BUILD:-$top/build}}" && pwd)
PQLAN=$build/pqlan
RATE=${RATE:-20mbit}
BURST=${BURST:-32kbit}
TBF_LATENCY=${TBF_LATENCY:-400ms}
SECS=${SECS:-8}
WARM=${WARM:-2}
RUNS=${RUNS:-2}
IDLE_N=${IDLE_N:-20}
OTHERS=${OTHERS-openvpn tinc nebula}
CC=${CC:-}
. "$top/tests/e2e/lib.sh"
. "$top/bench/lib_others.sh"
E2E_PREFIX=pqbl$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || e2e_die "needs root (network namespaces, TAP devices, tc, apt-get)"
[ -x "$PQLAN" ] || e2e_die "$PQLAN not built (make BUILD=$build all)"
for o in $OTHERS; do
	case $o in
	openvpn) pkg=openvpn tool=openvpn ;;
	tinc) pkg=tinc tool=tincd ;;
	nebula) pkg=nebula tool=nebula-cert ;;
	*) e2e_die "OTHERS: unknown tunnel '$o' (openvpn tinc nebula)" ;;
	esac
	command -v "$tool" >/dev/null && continue
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y "$pkg" >/dev/null ||
		e2e_die "apt-get install $pkg failed"
done
for tool in ip tc ping iperf3 openssl python3 ss; do
	command -v "$tool" >/dev/null || e2e_die "$tool not installed"
done
[ -c /dev/net/tun ] || e2e_die "/dev/net/tun missing (modprobe tun)"
has() { case " $OTHERS " in *" $1 "*) return 0 ;; esac; return 1; }

e2e_tmpdir
dir=$E2E_TMP

# ---- underlay: one bridge, two veths, tbf on every host's egress -------------
e2e_underlay 192.168.241 vl 1 2
shaped=()
shape() { # shape NS DEV
	[ "$RATE" = off ] && return 0
	ip netns exec "$1" tc qdisc add dev "$2" root tbf rate "$RATE" burst "$BURST" latency "$TBF_LATENCY" ||
		e2e_die "tc tbf on $1 $2 failed"
	shaped+=("$1:$2")
}
shape "${ns[1]}" eth0
shape "${ns[2]}" eth0
shape "$ns_relay" br0

# ---- pqlan: one relay, three node pairs -----------------------------------------
e2e_genkey "$dir/relay.key"; relay_pub=$REPLY
printf '[relay]\nprivate_key = %s\nlisten = 192.168.241.1:7443\n' "$dir/relay.key" >"$dir/relay.conf"
declare -A pub
kinds="udp tls rel"
for i in 1 2; do
	for k in $kinds; do e2e_genkey "$dir/$k$i.key"; pub[$k$i]=$REPLY; done
done
pq_conf() { # pq_conf KIND I
	local k=$1 i=$2 j=$((3 - $2)) tap net listen peer_line extra=
	case $k in
	udp) tap=pq0 net=77 listen=7444 peer_line="transport = udp" ;;
	tls) tap=pq1 net=78 listen=7445 peer_line="transport = tls" extra="listen_udp = off" ;;
	rel) tap=pq2 net=79 listen=0 peer_line="path = relay" ;;
	esac
	printf '[node]\nprivate_key = %s\ntap = %s\naddress = 10.%s.0.%s/24\n' "$dir/$k$i.key" "$tap" "$net" "$i"
	printf 'listen = 192.168.241.1%s:%s\ncontrol = %s\nretry_interval = 2\n%s\n\n' "$i" "$listen" \
		"$dir/$k$i.sock" "$extra"
	printf '[relay]\nurl = wss://192.168.241.1:7443/\nkey = %s\n\n' "$relay_pub"
	printf '[peer]\nname = n%s\nkey = %s\n%s\n' "$j" "${pub[$k$j]}" "$peer_line"
}
for i in 1 2; do
	for k in $kinds; do pq_conf "$k" "$i" >"$dir/$k$i.conf"; chmod 600 "$dir/$k$i.conf"; done
done
e2e_bg "$ns_relay" "$dir/relay.log" "$PQLAN" relay -c "$dir/relay.conf"
relay_listening() { ip netns exec "$ns_relay" ss -Hltn 'sport = :7443' | grep -q 7443; }
e2e_until 10 relay_listening || e2e_die "the relay did not start listening"
for i in 1 2; do
	for k in $kinds; do e2e_bg "${ns[$i]}" "$dir/$k$i.log" "$PQLAN" up -c "$dir/$k$i.conf"; done
done

# ---- the others (optional) ---------------------------------------------------------
if has openvpn; then
	bench_ca
	pki ov1 serverAuth && pki ov2 clientAuth || e2e_die "openssl: certificates"
	for i in 1 2; do
		j=$((3 - i))
		{
			printf 'dev ovpn0\ndev-type tap\nproto udp\nlocal 192.168.241.1%s\nlport 1194\n' "$i"
			printf 'remote 192.168.241.1%s 1194\nifconfig 10.80.0.%s 255.255.255.0\n' "$j" "$i"
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
fi
if has tinc; then
	for i in 1 2; do
		t=$dir/tinc$i
		mkdir -p "$t/hosts"
		printf 'Name = n%s\nMode = switch\nInterface = tinc0\nConnectTo = n%s\nAddressFamily = ipv4\n' "$i" $((3 - i)) >"$t/tinc.conf"
		printf 'Cipher = aes-256-cbc\nDigest = sha256\n' >>"$t/tinc.conf"
		printf 'Address = 192.168.241.1%s\nPort = 655\nCipher = aes-256-cbc\nDigest = sha256\n' "$i" >"$t/hosts/n$i"
		printf '#!/bin/sh\nip link set "$INTERFACE" up\nip addr add 10.82.0.%s/24 dev "$INTERFACE"\n' "$i" >"$t/tinc-up"
		chmod 755 "$t/tinc-up"
		tincd -c "$t" -K2048 </dev/null >"$dir/tinc-keygen$i.log" 2>&1 || e2e_die "tincd -K failed"
	done
	cp "$dir/tinc1/hosts/n1" "$dir/tinc2/hosts/n1"
	cp "$dir/tinc2/hosts/n2" "$dir/tinc1/hosts/n2"
	for i in 1 2; do
		e2e_bg "${ns[$i]}" "$dir/tinc$i.log" tincd -c "$dir/tinc$i" -D --pidfile="$dir/tinc$i.pid" \
			--logfile="$dir/tinc$i.tinclog"
	done
fi
if has nebula; then
	(cd "$dir" && nebula-cert ca -name bench-ca -out-crt neb-ca.crt -out-key neb-ca.key) >/dev/null ||
		e2e_die "nebula-cert ca failed"
	for i in 1 2; do
		j=$((3 - i))
		(cd "$dir" && nebula-cert sign -ca-crt neb-ca.crt -ca-key neb-ca.key -name "n$i" \
			-ip "10.81.0.$i/24" -out-crt "neb$i.crt" -out-key "neb$i.key") >/dev/null ||
			e2e_die "nebula-cert sign failed"
		cat >"$dir/neb$i.yml" <<EOF
pki:
  ca: $dir/neb-ca.crt
  cert: $dir/neb$i.crt
  key: $dir/neb$i.key
static_host_map:
  "10.81.0.$j": ["192.168.241.1$j:4242"]
lighthouse:
  am_lighthouse: false
  hosts: []
listen:
  host: 192.168.241.1$i
  port: 4242
tun:
  dev: neb0
firewall:
  outbound:
    - port: any
      proto: any
      host: any
  inbound:
    - port: any
      proto: any
      host: any
EOF
		e2e_bg "${ns[$i]}" "$dir/neb$i.log" nebula -config "$dir/neb$i.yml"
	done
fi

# ---- wait for every tunnel ---------------------------------------------------------
st() { ip netns exec "${ns[$2]}" "$PQLAN" status -c "$dir/$1$2.conf" --json >"$dir/st-$1-$2.json" 2>/dev/null; }
on() { # on KIND I PATH [TRANSPORT]
	st "$1" "$2" || return 1
	e2e_json "$dir/st-$1-$2.json" "(lambda p: p['state'] == 'established' and p['path'] == '$3' and
		('$#' == '3' or p['transport'] == '${4:-}'))(j['peers'][0])"
}
reach() { ip netns exec "${ns[1]}" ping -q -c 1 -W 1 "$1"; }
e2e_until 30 on udp 1 direct udp || e2e_die "pq0: n1 not direct over UDP within 30 s: $(cat "$dir/st-udp-1.json")"
e2e_until 10 on udp 2 direct udp || e2e_die "pq0: n2 not direct over UDP: $(cat "$dir/st-udp-2.json")"
e2e_until 30 on tls 1 direct tls || e2e_die "pq1: n1 not direct over TLS within 30 s: $(cat "$dir/st-tls-1.json")"
e2e_until 10 on tls 2 direct tls || e2e_die "pq1: n2 not direct over TLS: $(cat "$dir/st-tls-2.json")"
e2e_until 30 on rel 1 relay || e2e_die "pq2: not established on the relay within 30 s"
# label:address pairs, in the order they are measured
tunnels="bare:192.168.241.12 pqlan-udp:10.77.0.2 pqlan-tls:10.78.0.2 pqlan-relay:10.79.0.2"
has openvpn && tunnels="$tunnels openvpn-udp:10.80.0.2"
has tinc && tunnels="$tunnels tinc:10.82.0.2"
has nebula && tunnels="$tunnels nebula:10.81.0.2"
for t in $tunnels; do
	e2e_until 40 reach "${t#*:}" || e2e_die "${t%%:*}: no ping to ${t#*:} within 40 s"
done

e2e_bg "${ns[2]}" "$dir/iperf-server.log" iperf3 -s
iperf_listening() { ip netns exec "${ns[2]}" ss -Hltn 'sport = :5201' | grep -q 5201; }
e2e_until 5 iperf_listening || e2e_die "iperf3 server did not start"

echo "== ping n1 -> n2 idle and under one iperf3 TCP stream n1 -> n2, on a shaped underlay"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: pqlan (git $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown), work tree); $(iperf3 --version | head -n 1)$(has openvpn && echo "; $(openvpn --version | head -n 1 | cut -d' ' -f1-2)")$(has tinc && echo "; $(tincd --version | head -n 1)")$(has nebula && echo "; nebula $(nebula -version | cut -d' ' -f2)")"
echo "made by: $0 $build   (RATE=$RATE BURST=$BURST TBF_LATENCY=$TBF_LATENCY SECS=$SECS WARM=$WARM RUNS=$RUNS IDLE_N=$IDLE_N OTHERS='$OTHERS' CC=$CC)"
if [ "$RATE" = off ]; then
	echo "shaping: none"
else
	echo "shaping: tc qdisc add dev DEV root tbf rate $RATE burst $BURST latency $TBF_LATENCY on ${shaped[*]}"
fi
echo "TCP congestion control: the tunnels' own TCP $(ip netns exec "${ns[1]}" sysctl -n net.ipv4.tcp_congestion_control), the measured stream ${CC:-the same}"
for dev in eth0 pq0 pq1 pq2; do
	printf '%s: %s %s  ' "$dev" "$(ip -n "${ns[1]}" -o link show "$dev" | grep -o 'mtu [0-9]*')" \
		"$(ip -n "${ns[1]}" -o link show "$dev" | grep -o 'qlen [0-9]*' || echo 'qlen ?')"
done
echo

# measure LABEL DEST ROUND: idle pings, then pings under one iperf3 stream.
measure() {
	local label=$1 dest=$2 r=$3 ipid ppid n=$((SECS * 10))
	sleep 1 # the last stream's queues drain
	timeout 30 ip netns exec "${ns[1]}" ping -n -c "$IDLE_N" -i 0.1 -W 2 "$dest" >"$dir/idle-$label-$r.txt" 2>&1 || true
	echo "command: ip netns exec ${ns[1]} iperf3 -c $dest ${CC:+-C $CC }-t $((WARM + SECS + 1)) -J &  sleep $WARM; ip netns exec ${ns[1]} ping -n -c $n -i 0.1 -W 2 $dest"
	timeout $((WARM + SECS + 30)) ip netns exec "${ns[1]}" iperf3 -c "$dest" ${CC:+-C "$CC"} -t $((WARM + SECS + 1)) -J \
		>"$dir/iperf-$label-$r.json" 2>&1 &
	ipid=$!
	E2E_PIDS+=("$ipid")
	sleep "$WARM"
	timeout $((SECS + 20)) ip netns exec "${ns[1]}" ping -n -c "$n" -i 0.1 -W 2 "$dest" >"$dir/load-$label-$r.txt" 2>&1 &
	ppid=$!
	E2E_PIDS+=("$ppid")
	if [ -n "${SS:-}" ]; then # where the bytes wait, half-way through
		sleep $((SECS / 2))
		for n_ in "${ns[1]}" "$ns_relay"; do
			echo "  ss -tmi in $n_:"
			ip netns exec "$n_" ss -Htmi state established | sed 's/^/    /'
			ip netns exec "$n_" tc -s qdisc show | sed 's/^/    /'
		done
	fi
	wait "$ppid" || true
	wait "$ipid" || e2e_die "iperf3 $label failed: $(tail -n 3 "$dir/iperf-$label-$r.json")"
}
for ((r = 1; r <= RUNS; r++)); do
	for t in $tunnels; do measure "${t%%:*}" "${t#*:}" "$r"; done
done
on udp 1 direct udp || e2e_die "pq0 left the UDP direct path during the runs: $(cat "$dir/st-udp-1.json")"
on tls 1 direct tls || e2e_die "pq1 left the TLS direct path during the runs: $(cat "$dir/st-tls-1.json")"

PYTHONPATH="$top/bench" python3 - "$dir" "$RUNS" "$SECS" $tunnels <<'PY'
import json, statistics, sys
from pings import pct, pings
d, runs, secs, tunnels = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
labels = [t.split(":")[0] for t in tunnels]
rows = {}
for l in labels:
    idle, load, rate = [], [], []
    for r in range(1, runs + 1):
        idle += pings("%s/idle-%s-%d.txt" % (d, l, r))
        load += pings("%s/load-%s-%d.txt" % (d, l, r))
        j = json.load(open("%s/iperf-%s-%d.json" % (d, l, r)))
        rate.append(j["end"]["sum_received"]["bits_per_second"] / 1e6)
    sent = runs * secs * 10
    rows[l] = dict(i50=pct(idle, .5), i90=pct(idle, .9), l50=pct(load, .5), l90=pct(load, .9),
                   lost=sent - len(load), sent=sent, rate=statistics.median(rate), rates=rate)
b = rows["bare"]
print("%-12s %9s %9s %9s %9s %8s %9s %8s %8s" % ("tunnel", "idle p50", "idle p90", "load p50", "load p90",
      "lost", "Mbit/s", "p50/bare", "p90/bare"))
for l in labels:
    x = rows[l]
    print("%-12s %9.2f %9.2f %9.2f %9.2f %4d/%-3d %9.1f %8.2f %8.2f" % (l, x["i50"], x["i90"], x["l50"], x["l90"],
          x["lost"], x["sent"], x["rate"], x["l50"] / b["l50"], x["l90"] / b["l90"]))
print("(ms; pings of all rounds pooled; Mbit/s: iperf3 receiver, median of the rounds: %s)" %
      "; ".join("%s %s" % (l, " ".join("%.1f" % v for v in rows[l]["rates"])) for l in labels))
for l, lim in (("pqlan-udp", 1.5), ("pqlan-tls", 2.0), ("pqlan-relay", 2.0)):
    q = rows[l]["l50"] / b["l50"]
    print("target %-11s load p50 <= %.1fx bare: %.2fx  %s" % (l, lim, q, "met" if q <= lim else "NOT met"))
PY
