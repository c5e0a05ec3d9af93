#!/usr/bin/env bash
# check_relay_nats.sh - several relays, one network (issue 10, DESIGN §8):
# three nats-server in a cluster, three relays each on its own server,
# nodes spread over the relays; then a relay dies, then a NATS server does.
# Needs root.
#
#   ns core: nats-server x3 on 127.0.0.1:4221-4223 (routes 6221-6223,
#            JetStream, user/password), pqlan relay r1 r2 r3 on
#            192.168.243.1:7441-7443 (presence_ttl 6 s, bucket replicas 3)
#   +---------------- br0 192.168.243.1 ----------------+
#   |               |               |               |
#   n1 .11          n2 .12          n3 .13          n4 .14
#   relays r1,r2,r3 relays r2,r3,r1 relays r3,r1,r2 relay r1 only
#   pq0 10.79.0.1   10.79.0.2       10.79.0.3       10.79.0.4
#
# Every node lists every other; no node listens (port 0), so every frame
# goes through the relays and, between nodes on different relays, through
# NATS. Checks:
#  - every pair established, `pqlan status` shows each peer online;
#    pings across relays, iperf3 n1 (r1) -> n2 (r2)
#  - SIGKILL r1 during a ping: n1 moves to r2 within 10 s (time printed),
#    traffic n1 <-> n2, n3 resumes; n4 (r1 only) cannot move: its record
#    names the dead relay and expires within the TTL, and its peers see it
#    offline
#  - SIGKILL one nats-server (r2's first): r2 reconnects to another and
#    the cluster keeps forwarding (pings n1 <-> n3 through r2 and r3)
#  - the relays' exit lines count what happened (frames out and in, one
#    NATS outage at r2)
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping iperf3 python3 nats-server ss
client=$(cd "$PQ_BUILD" && pwd)/tests/relay/tool_nats_client
[ -x "$client" ] || e2e_die "$client not built (make tests)"

net=192.168.243
relay_ip=$net.1
e2e_underlay $net vq 1 2 3 4
core=$ns_relay

# ---- NATS: a three-server cluster with JetStream -----------------------------
nats_pw=n4ts-$$-secret
declare -A nats_pid relay_pid_of
start_nats() {
	local i=$1
	cat >"$dir/nats$i.conf" <<EOF
server_name: s$i
listen: 127.0.0.1:422$i
jetstream { store_dir: "$dir/js$i", max_memory_store: 64MB, max_file_store: 64MB }
cluster { name: pqtest, listen: 127.0.0.1:622$i, routes: [nats://127.0.0.1:6221, nats://127.0.0.1:6222, nats://127.0.0.1:6223] }
authorization { users = [ {user: pqrelay, password: "$nats_pw"} ] }
EOF
	e2e_bg "$core" "$dir/nats$i.log" nats-server -c "$dir/nats$i.conf"
	nats_pid[$i]=$REPLY
}
for i in 1 2 3; do start_nats $i; done
nats_up() { ip netns exec "$core" ss -Hltn 'sport = :4221 or sport = :4222 or sport = :4223' | grep -c LISTEN | grep -q 3; }
e2e_until 10 nats_up || e2e_die "the NATS servers did not start listening"

# ---- relays -------------------------------------------------------------------
(umask 077 && printf '%s\n' "$nats_pw" >"$dir/nats.pw")
declare -A rpub
order=("" "1 2 3" "2 3 1" "3 1 2")  # each relay's own server first
for i in 1 2 3; do
	e2e_genkey "$dir/r$i.key"; rpub[$i]=$REPLY
	{
		printf '[relay]\nprivate_key = %s\nlisten = %s:744%s\nstun = off\ncontrol = %s\nname = r%s\n' \
			"$dir/r$i.key" "$relay_ip" "$i" "$dir/r$i.ctl" "$i"
		for s in ${order[$i]}; do printf 'nats = nats://127.0.0.1:422%s\n' "$s"; done
		printf '[nats]\nuser = pqrelay\npassword_file = %s\npresence_ttl = 6\nreplicas = 3\n' "$dir/nats.pw"
	} >"$dir/r$i.conf"
done
start_relay() {
	e2e_bg "$core" "$dir/r$1${2:-}.log" "$PQLAN" relay -c "$dir/r$1.conf"
	relay_pid_of[$1]=$REPLY
}
for i in 1 2 3; do start_relay $i; done
bucket_ready() { grep -q "presence in sync" "$dir/r1.log" && grep -q "presence in sync" "$dir/r2.log" &&
	grep -q "presence in sync" "$dir/r3.log"; }
e2e_until 30 bucket_ready || e2e_die "the relays did not get the presence bucket from the cluster"
e2e_ok "3 nats-server in a cluster, 3 relays share the presence bucket"

# ---- nodes ----------------------------------------------------------------------
declare -A pub
for i in 1 2 3 4; do e2e_genkey "$dir/n$i.key"; pub[$i]=$REPLY; done
node_conf() {
	local i=$1 relays=$2 r p
	{
		printf '[node]\nprivate_key = %s\ntap = pq0\naddress = 10.79.0.%s/24\n' "$dir/n$i.key" "$i"
		printf 'listen = %s.1%s:0\ncontrol = %s\n' "$net" "$i" "$dir/n$i.sock"
		for r in $relays; do
			printf '\n[relay]\nurl = wss://%s:744%s/\nkey = %s\nstun = off\n' "$relay_ip" "$r" "${rpub[$r]}"
		done
		for p in 1 2 3 4; do
			[ "$p" = "$i" ] || printf '\n[peer]\nname = n%s\nkey = %s\n' "$p" "${pub[$p]}"
		done
	} >"$dir/n$i.conf"
	chmod 600 "$dir/n$i.conf"
}
node_conf 1 "1 2 3"; node_conf 2 "2 3 1"; node_conf 3 "3 1 2"; node_conf 4 "1"
for i in 1 2 3 4; do e2e_start_node $i; done

# established I J...: node I has every J established.
established() {
	local i=$1 j expr="True"
	shift
	status_json "$i" || return 1
	for j in "$@"; do
		expr="$expr and any(p['key'] == '${pub[$j]}' and p['state'] == 'established' for p in j['peers'])"
	done
	e2e_json "$dir/status$i.json" "j['node']['relay'] == 'connected' and $expr"
}
all_established() { established 1 2 3 4 && established 2 1 3 4 && established 3 1 2 4 && established 4 1 2 3; }
e2e_until 30 all_established || e2e_die "not every pair established across the relays"
e2e_ok "every pair of 4 nodes on 3 relays established"
# Which relay each node uses: the text status names it.
on_relay() { ip netns exec "${ns[$1]}" "$PQLAN" status -c "$dir/n$1.conf" | grep -q "relay: connected (wss://$relay_ip:744$2/)"; }
for pair in 1:1 2:2 3:3 4:1; do
	on_relay "${pair%:*}" "${pair#*:}" && e2e_ok "n${pair%:*} on relay r${pair#*:}" || e2e_bad "n${pair%:*} not on r${pair#*:}"
done

ping_ok() { ip netns exec "${ns[$1]}" ping -c 2 -i 0.2 -W 2 "10.79.0.$2" >/dev/null; }
for pair in 1:2 2:1 1:3 3:2 2:3 4:2 4:3 3:4; do
	ping_ok "${pair%:*}" "${pair#*:}" && e2e_ok "ping n${pair%:*} -> n${pair#*:} across relays" ||
		e2e_bad "ping n${pair%:*} -> n${pair#*:}"
done

e2e_bg "${ns[2]}" "$dir/iperf-s.log" iperf3 -s -1 -B 10.79.0.2
e2e_until 5 ip netns exec "${ns[2]}" ss -Hltn 'sport = :5201' || e2e_die "iperf3 server did not start"
if ip netns exec "${ns[1]}" timeout 20 iperf3 -c 10.79.0.2 -t 3 -J >"$dir/iperf.json" 2>/dev/null; then
	mbit=$(python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$dir/iperf.json")
	e2e_ok "iperf3 n1 (r1) -> n2 (r2) through NATS: $mbit Mbit/s"
else
	e2e_bad "iperf3 n1 -> n2 across relays failed"
fi

# ---- a relay dies ---------------------------------------------------------------
hex() { printf '%s' "$1" | base64 -d | od -An -tx1 | tr -d ' \n'; }
records() { ip netns exec "$core" "$client" list nats://127.0.0.1:4222 pqrelay "$nats_pw" >"$dir/records.txt" 2>&1; }
records && grep -q "^$(hex "${pub[4]}") r1 " "$dir/records.txt" && e2e_ok "n4's record names r1" ||
	e2e_bad "n4's record: $(cat "$dir/records.txt")"
ip netns exec "${ns[1]}" ping -i 0.1 -c 150 -W 1 10.79.0.2 >"$dir/ping-kill.txt" 2>&1 &
ping_pid=$!
E2E_PIDS+=("$ping_pid")
sleep 1
t0=$(date +%s%N)
kill -KILL "${relay_pid_of[1]}"
moved() { on_relay 1 2 && established 1 2 3; }
if e2e_until 10 moved; then
	e2e_ok "n1 moved to r2 after r1 died, in $((($(date +%s%N) - t0) / 1000000)) ms (peers established)"
else
	e2e_bad "n1 did not move to r2 within 10 s"
fi
ping_ok 1 2 && ping_ok 1 3 && ping_ok 3 1 && e2e_ok "traffic n1 <-> n2, n3 resumes on r2" ||
	e2e_bad "no traffic from n1 after the move"
wait "$ping_pid" || true
echo "ping during the move: $(grep -E 'packets transmitted' "$dir/ping-kill.txt")"
n4_gone() { records && ! grep -q "^$(hex "${pub[4]}") " "$dir/records.txt"; }
if e2e_until 12 n4_gone; then
	e2e_ok "n4's record (dead relay r1) expired within the TTL"
else
	e2e_bad "n4's record still there: $(cat "$dir/records.txt")"
fi
n4_offline() { status_json 2 && e2e_json "$dir/status2.json" "any(p['key'] == '${pub[4]}' and p['state'] == 'offline' for p in j['peers'])"; }
e2e_until 10 n4_offline && e2e_ok "n2 sees n4 offline" || e2e_bad "n2 still sees n4 reachable"
records && ! grep -q " r1 " "$dir/records.txt" && e2e_ok "no record names r1 any more" ||
	e2e_bad "records naming r1: $(grep ' r1 ' "$dir/records.txt")"

# ---- a NATS server dies -------------------------------------------------------------
kill -KILL "${nats_pid[2]}"
reconnected() { grep -q "nats: reconnected to" "$dir/r2.log"; }
e2e_until 15 reconnected && e2e_ok "r2 reconnected to another NATS server" || e2e_bad "r2 did not reconnect"
forwarding() { ping_ok 1 3 && ping_ok 3 2; }
e2e_until 20 forwarding && e2e_ok "the cluster keeps forwarding after one server died (n1, n2 on r2 <-> n3 on r3)" ||
	e2e_bad "no forwarding between r2 and r3 after a NATS server died"

# ---- the relays' counters -----------------------------------------------------------
for i in 1 2 3 4; do [ "$i" = 1 ] || e2e_stop "${node_pid[$i]}" || true; done
e2e_stop "${node_pid[1]}" || true
for i in 2 3; do
	e2e_stop "${relay_pid_of[$i]}" && [ "$REPLY" -eq 0 ] && e2e_ok "relay r$i stopped cleanly (exit 0)" ||
		e2e_bad "relay r$i: exit status $REPLY"
done
line2=$(grep "relay: nats: outages" "$dir/r2.log" || true)
line3=$(grep "relay: nats: outages" "$dir/r3.log" || true)
echo "r2: ${line2#*relay: }"
echo "r3: ${line3#*relay: }"
echo "$line2" | grep -q "outages 1," && e2e_ok "r2 counted its NATS outage" || e2e_bad "r2 outage count: $line2"
echo "$line3" | grep -Eq "frames out [1-9][0-9]*, in [1-9]" && e2e_ok "r3 sent and received frames through NATS" ||
	e2e_bad "r3 frame counters: $line3"
echo "$line3" | grep -q "bad messages 0," && e2e_ok "no malformed NATS message at r3" || e2e_bad "r3: $line3"
[ "$E2E_FAILS" -eq 0 ] || exit 1
