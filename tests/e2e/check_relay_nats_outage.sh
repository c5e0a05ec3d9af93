#!/usr/bin/env bash
# check_relay_nats_outage.sh - a relay that loses NATS, and a hostile NATS
# client (issue 10, DESIGN §8, docs/relay.md "Failures", "Trust"). Needs
# root.
#
#   ns core: nats-server A 127.0.0.1:4231 and B :4232 (a cluster),
#            relay r1 on 192.168.244.1:7441 with NATS A only,
#            relay r2 on :7442 with NATS B only
#   n1 .11 and n2 .12 on r1 (a local pair), n3 .13 on r2; no direct path
#
# Checks:
#  - every pair established, n1 -> n3 across the relays
#  - NATS A stopped (SIGSTOP: silent, no FIN): r1 says so in its log within
#    15 s; the local pair n1 <-> n2 keeps working throughout
#  - NATS A back (SIGCONT): r1 says it reconnected, n1 <-> n3 works again
#  - a hostile client with the cluster's credentials publishes malformed,
#    truncated, oversized, random and forged envelopes on r1's subject and
#    malformed records into the presence bucket: r1 drops and counts them
#    (its exit line); a forged envelope along a valid route is delivered
#    to n1 as a hostile relay could deliver it, and n1's session refuses
#    the payload; every session stays established (no new handshake) and
#    the pings go on
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3 nats-server ss
client=$(cd "$PQ_BUILD" && pwd)/tests/relay/tool_nats_client
[ -x "$client" ] || e2e_die "$client not built (make tests)"

net=192.168.244
relay_ip=$net.1
e2e_underlay $net vo 1 2 3
core=$ns_relay
nats_pw=n4ts-$$-out
declare -A nats_pid relay_pid_of rpub pub
for s in 1 2; do
	cat >"$dir/nats$s.conf" <<EOF
server_name: o$s
listen: 127.0.0.1:423$s
jetstream { store_dir: "$dir/js$s", max_memory_store: 64MB, max_file_store: 64MB }
cluster { name: pqout, listen: 127.0.0.1:623$s, routes: [nats://127.0.0.1:6231, nats://127.0.0.1:6232] }
authorization { users = [ {user: pqrelay, password: "$nats_pw"} ] }
EOF
	e2e_bg "$core" "$dir/nats$s.log" nats-server -c "$dir/nats$s.conf"
	nats_pid[$s]=$REPLY
done
nats_up() { ip netns exec "$core" ss -Hltn 'sport = :4231 or sport = :4232' | grep -c LISTEN | grep -q 2; }
e2e_until 10 nats_up || e2e_die "the NATS servers did not start listening"

(umask 077 && printf '%s\n' "$nats_pw" >"$dir/nats.pw")
for i in 1 2; do
	e2e_genkey "$dir/r$i.key"; rpub[$i]=$REPLY
	printf '[relay]\nprivate_key = %s\nlisten = %s:744%s\nstun = off\ncontrol = %s\nmetrics = 127.0.0.1:947%s\nname = r%s\nnats = nats://127.0.0.1:423%s\n[nats]\nuser = pqrelay\npassword_file = %s\npresence_ttl = 6\n' \
		"$dir/r$i.key" "$relay_ip" "$i" "$dir/r$i.ctl" "$i" "$i" "$i" "$dir/nats.pw" >"$dir/r$i.conf"
	e2e_bg "$core" "$dir/r$i.log" "$PQLAN" relay -c "$dir/r$i.conf"
	relay_pid_of[$i]=$REPLY
done
synced() { grep -q "presence in sync" "$dir/r1.log" && grep -q "presence in sync" "$dir/r2.log"; }
e2e_until 30 synced || e2e_die "the relays did not get the presence bucket"

for i in 1 2 3; do e2e_genkey "$dir/n$i.key"; pub[$i]=$REPLY; done
for i in 1 2 3; do
	r=$([ "$i" = 3 ] && echo 2 || echo 1)
	{
		printf '[node]\nprivate_key = %s\ntap = pq0\naddress = 10.80.0.%s/24\n' "$dir/n$i.key" "$i"
		printf 'listen = %s.1%s:0\ncontrol = %s\n' "$net" "$i" "$dir/n$i.sock"
		printf '\n[relay]\nurl = wss://%s:744%s/\nkey = %s\nstun = off\n' "$relay_ip" "$r" "${rpub[$r]}"
		for p in 1 2 3; do
			[ "$p" = "$i" ] || printf '\n[peer]\nname = n%s\nkey = %s\n' "$p" "${pub[$p]}"
		done
	} >"$dir/n$i.conf"
	chmod 600 "$dir/n$i.conf"
	e2e_start_node "$i"
done

established() {
	local i=$1 j expr="True"
	shift
	status_json "$i" || return 1
	for j in "$@"; do
		expr="$expr and any(p['key'] == '${pub[$j]}' and p['state'] == 'established' for p in j['peers'])"
	done
	e2e_json "$dir/status$i.json" "j['node']['relay'] == 'connected' and $expr"
}
all_established() { established 1 2 3 && established 2 1 3 && established 3 1 2; }
e2e_until 30 all_established || e2e_die "not every pair established"
e2e_ok "n1, n2 on r1 and n3 on r2 established"
ping_ok() { ip netns exec "${ns[$1]}" ping -c 2 -i 0.2 -W 2 "10.80.0.$2" >/dev/null; }
ping_ok 1 3 && e2e_ok "ping n1 (r1) -> n3 (r2)" || e2e_bad "ping n1 -> n3"
# The handshake ages now; a session disturbed later would start again.
hs_age() { status_json "$1" && python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
print(min(p["handshake_age_s"] for p in j["peers"] if p["handshake_age_s"] is not None))' "$dir/status$1.json"; }

# ---- NATS unreachable from r1 -----------------------------------------------
ip netns exec "${ns[1]}" ping -i 0.2 -c 100 -W 1 10.80.0.2 >"$dir/ping-local.txt" 2>&1 &
ping_pid=$!
E2E_PIDS+=("$ping_pid")
kill -STOP "${nats_pid[1]}"
lost() { grep -q "nats: connection lost; forwarding to local nodes only" "$dir/r1.log"; }
e2e_until 15 lost && e2e_ok "r1 logs the NATS outage: $(grep -m1 'connection lost' "$dir/r1.log" | sed 's/.*relay: //')" ||
	e2e_bad "r1 did not notice that NATS is gone"
relay_status() { ip netns exec "$core" "$PQLAN" relay-status -s "$dir/r$1.ctl" >"$dir/rs$1.txt" 2>&1; }
down_metric() { relay_status 1 && grep -q "nats: relay r1, NOT CONNECTED (local only), 1 outage(s)" "$dir/rs1.txt"; }
e2e_until 5 down_metric && e2e_ok "relay-status: $(grep -o 'nats: relay r1, NOT CONNECTED[^;]*' "$dir/rs1.txt")" ||
	e2e_bad "relay-status does not show the outage: $(grep nats: "$dir/rs1.txt")"
ip netns exec "$core" python3 -c 'import urllib.request
print(urllib.request.urlopen("http://127.0.0.1:9471/metrics", timeout=5).read().decode())' >"$dir/metrics1.txt" 2>&1 || true
grep -q "^pqlan_relay_nats_connected 0" "$dir/metrics1.txt" && grep -q "^pqlan_relay_nats_outages_total 1" "$dir/metrics1.txt" &&
	e2e_ok "metrics: pqlan_relay_nats_connected 0, pqlan_relay_nats_outages_total 1" ||
	e2e_bad "metrics during the outage: $(grep nats "$dir/metrics1.txt" | head -3)"
ping_ok 1 2 && ping_ok 2 1 && e2e_ok "the local pair n1 <-> n2 works while NATS is away" ||
	e2e_bad "local pair broken during the NATS outage"
kill -CONT "${nats_pid[1]}"
back() { grep -q "nats: reconnected to" "$dir/r1.log"; }
e2e_until 20 back && e2e_ok "r1 rejoined when NATS returned" || e2e_bad "r1 did not reconnect"
cross() { ping_ok 1 3 && ping_ok 3 2; }
e2e_until 30 cross && e2e_ok "n1, n2 (r1) <-> n3 (r2) work again" || e2e_bad "no traffic across the relays after the outage"
wait "$ping_pid" || true
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$dir/ping-local.txt")
echo "local pair during the outage: $(grep 'packets transmitted' "$dir/ping-local.txt")"
[ "${loss%.*}" -le 5 ] 2>/dev/null && e2e_ok "local pair lost ${loss}% of 100 pings over the outage" ||
	e2e_bad "local pair lost ${loss:-?}% of its pings"

# ---- a hostile NATS client ------------------------------------------------------
hex() { printf '%s' "$1" | base64 -d | od -An -tx1 | tr -d ' \n'; }
age1=$(hs_age 1); age3=$(hs_age 3)
out=$(ip netns exec "$core" "$client" hostile nats://127.0.0.1:4232 pqrelay "$nats_pw" r1 \
	"$(hex "${pub[3]}")" "$(hex "${pub[1]}")" r2) && e2e_ok "hostile client: $out" || e2e_bad "hostile client failed: $out"
sleep 1
ping_ok 1 3 && ping_ok 2 1 && e2e_ok "sessions still carry traffic after the garbage" || e2e_bad "traffic broken after the garbage"
a1=$(hs_age 1); a3=$(hs_age 3)
[ "$a1" -ge "$age1" ] && [ "$a3" -ge "$age3" ] && e2e_ok "no session started again (handshake ages $age1 -> $a1 s, $age3 -> $a3 s)" ||
	e2e_bad "a session was disturbed (handshake ages $age1 -> $a1, $age3 -> $a3)"
established 1 2 3 && established 3 1 2 && e2e_ok "every peer still established" || e2e_bad "a peer is no longer established"

for i in 1 2 3; do e2e_stop "${node_pid[$i]}" || true; done
e2e_stop "${relay_pid_of[1]}" && [ "$REPLY" -eq 0 ] && e2e_ok "r1 stopped cleanly (exit 0)" || e2e_bad "r1: exit status $REPLY"
line=$(grep "relay: nats: outages" "$dir/r1.log" || true)
echo "r1: ${line#*relay: }"
echo "$line" | grep -q "outages 1," && e2e_ok "r1 counted one outage" || e2e_bad "r1 outages: $line"
bad=$(echo "$line" | sed -n 's/.*bad messages \([0-9]*\),.*/\1/p')
[ "${bad:-0}" -ge 50 ] && e2e_ok "r1 dropped and counted $bad malformed NATS messages" || e2e_bad "r1 bad messages: ${bad:-none}"
drop=$(echo "$line" | sed -n 's/.*in dropped \([0-9]*\),.*/\1/p')
[ "${drop:-0}" -ge 1 ] && e2e_ok "r1 dropped $drop forged envelope(s) its view disagrees with" || e2e_bad "r1 in dropped: ${drop:-none}"
[ "$E2E_FAILS" -eq 0 ] || exit 1
