#!/usr/bin/env bash
# check_udp_hostile.sh - hostile datagrams on a node's UDP port (issue 9,
# "Hostile input on the UDP port"): an attacker on the same network,
# which sees every frame on it, sends garbage, truncated, oversized,
# STUN-looking and re-handshake-looking datagrams, replays what it
# captured from the wire, forges datagrams with a valid receiver index,
# from its own address and spoofing the peer's, and relays fresh sealed
# datagrams from a third address. Network namespaces, needs root.
#
#              ns relay: pqlan relay 192.168.243.1:7443, bridge br0
#              (a hub: ageing 0, every frame to every port)
#     +--------------------+--------------------+
#  ns n1 .11              ns n2 .12            ns n3 .13: the attacker
#  pqlan, UDP :7444       pqlan, UDP :7444     (tests/e2e/tools/udp_hostile.py:
#  pq0 10.82.0.1  <== direct, UDP ==> 10.82.0.2  AF_PACKET capture, raw
#                                                sockets for spoofing)
#
# Checks: the pair goes direct over UDP while the attacker captures the
# validation and some traffic; then, against n2, kind by kind: every
# datagram is dropped and counted (node udp.dropped + the peer's
# dropped_frames + udp_refused grow by exactly what was sent), nothing
# is answered to the attacker, pings through the tunnel keep working
# throughout, and the path stays direct over UDP at the same endpoint
# with no migration, fallback or new attempt. Fresh sealed datagrams
# relayed from the attacker's address (a quarter of n1's datagrams never
# reach n2 directly) are accepted as data (no ping lost) but never move
# the path. When one side's UDP conn dies and the other's does not, the
# first side's next attempt validates at once, none of its datagrams
# refused (its REQUEST, straight over UDP, outruns its PUNCH through the
# relay). A forged re-handshake REQUEST (the captured session id, a new
# challenge, the current time) spoofed from the peer's address does not
# take the path down, nor do 40 of them keep the pair from re-authenticating
# there (they used to fill the challenge cache), nor does a flood of them
# from the attacker's own address. The nodes still run and exit 0 on
# SIGTERM.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3 nft
tool=$top/tests/e2e/tools/udp_hostile.py

relay_ip=192.168.243.1
relay_port=7443
overlay=10.82.0
e2e_underlay 192.168.243 vh 1 2 3
attacker=${ns[3]}
n1_ip=192.168.243.11 n2_ip=192.168.243.12
# A hub: the attacker sees the pair's datagrams as anyone on a shared
# segment (or on the path) would.
ip -n "$ns_relay" link set br0 type bridge ageing_time 0 || e2e_die "bridge: ageing_time 0"
e2e_keys 1 2
for i in 1 2; do
	e2e_node_conf "$i" "$overlay" "0.0.0.0:7444" "$((3 - i))" "retry_interval = 2"
done

# ---- helpers -------------------------------------------------------------------------
peer_of() {
	status_json "$1" || return 1
	e2e_json "$dir/status$1.json" "len(j['peers']) == 1 and (lambda p: $2)(j['peers'][0])"
}
udp_direct() { peer_of "$1" "p['state'] == 'established' and p['path'] == 'direct' and p['transport'] == 'udp'"; }
# snapshot I: "endpoint migrations fallbacks udp_attempts" of node I's peer.
snapshot() {
	status_json "$1" || e2e_die "no status from n$1"
	python3 -c 'import json,sys
p = json.load(open(sys.argv[1]))["peers"][0]
print(p["endpoint"], p["migrations"], p["fallbacks"], p["udp_attempts"])' "$dir/status$1.json"
}
# refusals I: node udp.dropped + the peer's dropped_frames + udp_refused.
refusals() {
	status_json "$1" || e2e_die "no status from n$1"
	python3 -c 'import json,sys
j = json.load(open(sys.argv[1])); p = j["peers"][0]
print(j["node"]["udp"]["dropped"] + p["dropped_frames"] + p["udp_refused"])' "$dir/status$1.json"
}
pings() {
	REPLY=$(ip netns exec "${ns[$1]}" ping -n -q -i "${4:-0.1}" -W 1 -c "$3" "$overlay.$2" 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')
	REPLY=${REPLY:-0}
}
# attack KIND [ARGS...] against n2: every datagram refused and counted,
# no answer to the attacker. The tool's JSON in $dir/attack.json.
attack() {
	local kind=$1 before after sent replies
	shift
	before=$(refusals 2)
	ip netns exec "$attacker" python3 "$tool" attack "$kind" "$n2_ip" 7444 --cap "$dir/cap.jsonl" "$@" \
		>"$dir/attack.json" || e2e_die "attack $kind: $(cat "$dir/attack.json")"
	sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' "$dir/attack.json")
	replies=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["replies"])' "$dir/attack.json")
	after=$(refusals 2)
	if [ $((after - before)) -eq "$sent" ] && [ "$replies" -eq 0 ] && kill -0 "${node_pid[2]}"; then
		e2e_ok "$kind${*:+ ($*)}: $sent datagrams, $((after - before)) dropped and counted, no answer"
	else
		e2e_bad "$kind${*:+ ($*)}: $sent sent, $((after - before)) counted as dropped, $replies answers to the attacker"
	fi
}

# ---- 1. the attacker captures the validation and some traffic --------------------------
e2e_bg "$attacker" "$dir/sniff.log" python3 "$tool" sniff eth0 7444 "$dir/cap.jsonl" 120
sniff_pid=$REPLY
e2e_until 5 test -e "$dir/cap.jsonl" || e2e_die "the attacker's capture did not start"
e2e_start_relay
for i in 1 2; do e2e_start_node "$i"; done
e2e_until 15 udp_direct 1 && e2e_until 5 udp_direct 2 || e2e_die "the pair is not direct over UDP within 20 s"
pings 1 2 100 0.02
[ "$REPLY" -eq 100 ] || e2e_die "pings over the UDP path before the attacks: $REPLY of 100"
e2e_stop "$sniff_pid" 50 || e2e_die "the capture did not stop"
rehs_n=$(python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["hex"][:2] in ("30", "31", "32")))' "$dir/cap.jsonl")
sealed_n=$(python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["dst"] == sys.argv[2] and json.loads(l)["hex"][:2] in ("20", "21", "22", "23", "24", "25", "26")))' \
	"$dir/cap.jsonl" "$n2_ip:7444")
[ "$rehs_n" -ge 3 ] && [ "$sealed_n" -ge 100 ] ||
	e2e_die "the attacker captured $rehs_n re-handshake and $sealed_n sealed datagrams (the hub does not flood?)"
e2e_ok "direct over UDP; the attacker captured $rehs_n re-handshake and $sealed_n sealed datagrams to n2 from the wire"
snap1=$(snapshot 1) snap2=$(snapshot 2)
echo "  n1: endpoint migrations fallbacks udp_attempts = $snap1; n2: $snap2"

# ---- 2. hostile datagrams, kind by kind, while pings run -------------------------------
ip netns exec "${ns[1]}" ping -n -q -i 0.1 -W 1 -c 150 "$overlay.2" >"$dir/ping-bg.out" 2>&1 &
ping_pid=$!
E2E_PIDS+=("$ping_pid")
attack garbage --count 300
attack empty --count 50
attack oversized --count 40
attack stun --count 100
attack rehs-random --count 90
attack rehs-sid --count 90
attack rehs-replay
attack sealed-replay --count 200
attack sealed-truncated --count 200
attack sealed-forged --count 200
# The same, spoofed from n1's address: what n2 takes from n1 on the path.
attack rehs-replay --from "$n1_ip:7444"
attack sealed-replay --count 200 --from "$n1_ip:7444"
attack sealed-forged --count 200 --from "$n1_ip:7444"
attack garbage --count 100 --from "$n1_ip:7444"
e2e_wait_pid "$ping_pid" 300 || e2e_die "the background ping did not end"
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$dir/ping-bg.out")
[ "${got:-0}" -eq 150 ] && e2e_ok "pings n1 -> n2 during the attacks: 150 of 150" ||
	e2e_bad "pings n1 -> n2 during the attacks: ${got:-0} of 150"
if udp_direct 1 && udp_direct 2 && [ "$(snapshot 1)" = "$snap1" ] && [ "$(snapshot 2)" = "$snap2" ]; then
	e2e_ok "after the attacks: still direct over UDP, same endpoints, no migration, fallback or new attempt"
else
	e2e_bad "after the attacks: n1 $snap1 -> $(snapshot 1), n2 $snap2 -> $(snapshot 2): $(cat "$dir/status2.json")"
fi
status_json 2
echo "  n2 counters: $(python3 -c 'import json,sys
j = json.load(open(sys.argv[1])); p = j["peers"][0]
print("udp.dropped", j["node"]["udp"]["dropped"], "dropped_frames", p["dropped_frames"], "udp_refused", p["udp_refused"])' "$dir/status2.json")"

# ---- 3. fresh sealed datagrams from a third address ---------------------------------------
# n2 never sees a quarter of n1's datagrams directly; the attacker, who
# sees them on the wire, sends every datagram of n1's again from its own
# address: the copies of those n2 did see are replays, the others are
# fresh, authentic data from an address n2 never validated.
# What n2 sends to the attacker's address is counted: the path must not
# follow the relayed datagrams. One kind of answer is allowed there: a
# PROBE of n1's that only the attacker relayed (pings keep n1's liveness
# clock quiet, but a ping the loaded forwarder missed starts it) is
# answered where it came from, as for a peer whose NAT mapping moved
# (docs/PROTOCOL.md §5.6): a sealed PROBE_ACK (37 bytes, UDP length 45),
# no larger than the PROBE, counted apart.
ip netns exec "${ns[2]}" nft -f - <<EOF || e2e_die "nft in n2"
table ip pqdrop {
	chain pre {
		type filter hook prerouting priority -300;
		ip saddr $n1_ip udp sport 7444 udp dport 7444 numgen inc mod 4 == 0 counter drop
	}
	chain out {
		type filter hook output priority 0;
		ip daddr 192.168.243.13 udp sport 7444 udp length != 45 counter
	}
	chain out_ack {
		type filter hook output priority 1;
		ip daddr 192.168.243.13 udp sport 7444 udp length 45 counter
	}
}
EOF
e2e_bg "$attacker" "$dir/forward.log" python3 "$tool" forward eth0 "$n1_ip" "$n2_ip" 7444 7
fwd_pid=$REPLY
sleep 0.5
pings 1 2 100 0.05
fresh_ok=$REPLY
# At once: idle, n2 probes a second after its last reply, and an answer
# that only came through the attacker does not count for the path.
dropped=$(ip netns exec "${ns[2]}" nft list chain ip pqdrop pre | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
to_attacker=$(ip netns exec "${ns[2]}" nft list chain ip pqdrop out | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
acks_to_attacker=$(ip netns exec "${ns[2]}" nft list chain ip pqdrop out_ack | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
ip netns exec "${ns[2]}" nft delete table ip pqdrop
e2e_wait_pid "$fwd_pid" 150 || e2e_die "the forwarder did not end"
# Refused, the relayed copies would cost as many pings as were kept away
# (about 75 of 100 answered); accepted, none but those a loaded attacker
# failed to capture or relay in time (its python3 misses some under
# load: 80-103 forwarded seen), hence "at most half".
if [ "${dropped:-0}" -ge 20 ] && [ "$fresh_ok" -ge $((100 - dropped / 2)) ]; then
	e2e_ok "a quarter of n1's datagrams only via the attacker's address ($dropped kept from n2, $(cat "$dir/forward.log")): $fresh_ok of 100 pings, accepted as data"
else
	e2e_bad "relayed from a third address: $fresh_ok of 100 pings ($dropped datagrams kept from n2, $(cat "$dir/forward.log"))"
fi
if [ "${to_attacker:-1}" -eq 0 ] && udp_direct 1 && udp_direct 2 && [ "$(snapshot 1)" = "$snap1" ] &&
	[ "$(snapshot 2)" = "$snap2" ]; then
	e2e_ok "datagrams from a third address did not move the path: n2 sent nothing to the attacker but ${acks_to_attacker:-?} PROBE_ACK(s), still sends to $(snapshot 2 | cut -d' ' -f1)"
else
	e2e_bad "datagrams from a third address moved the path: n2 sent ${to_attacker:-?} datagrams to the attacker; n1 $snap1 -> $(snapshot 1), n2 $snap2 -> $(snapshot 2)"
fi

# ---- 4. one side's UDP conn dies, the other's does not ---------------------------------------
# D, the node that dialled the UDP conn (it counts the attempt), loses it:
# its datagrams to R are dropped while it sends one frame to R (a port R
# drops, so R sends nothing back and its own conn stays for now). Once
# the drop is lifted, D's next attempt (PUNCH through the relay, the
# REQUEST straight over UDP, which comes first) must validate at once:
# back on UDP within retry_interval + the higher key's delay + 1 s, and
# no genuine re-handshake datagram refused by R.
d=1 r=2
status_json 2; [ "$(field 2 udp_attempts)" -gt 0 ] && d=2 r=1
d_ip=192.168.243.1$d r_ip=192.168.243.1$r
ip netns exec "${ns[$r]}" nft add table ip pqsink
ip netns exec "${ns[$r]}" nft add chain ip pqsink in '{ type filter hook input priority 0; }'
ip netns exec "${ns[$r]}" nft add rule ip pqsink in iifname pq0 udp dport 9 drop
ip netns exec "${ns[$d]}" nft add table ip pqcut
ip netns exec "${ns[$d]}" nft add chain ip pqcut out '{ type filter hook output priority 0; }'
ip netns exec "${ns[$d]}" nft add rule ip pqcut out ip daddr "$r_ip" udp dport 7444 drop
status_json "$r"; refused_r=$(field "$r" udp_refused)
ip netns exec "${ns[$d]}" python3 -c 'import socket,sys; socket.socket(2, 2).sendto(b"x", (sys.argv[1], 9))' "$overlay.$r"
# D drops its conn 2 s after that frame (its probe goes unanswered), or,
# when something of R's reached it meanwhile and stopped its clock, once
# R has dropped its own (R's probe, answered into the cut) and sent a
# KEEPALIVE on the conn that took over, which makes D probe its UDP conn
# (DESIGN §5 fallback; docs/node.md). R keeps its conn only for about a
# second more: D's KEEPALIVE on the new way makes R probe its UDP path,
# and D's answer is dropped too. A loaded machine may poll after that;
# then the check below runs against an R that dropped its conn as well
# (said so, not failed).
if e2e_until 10 peer_of "$d" "p['transport'] != 'udp'"; then
	if udp_direct "$r"; then
		e2e_ok "one-sided loss: n$d's UDP conn dropped (now $(field "$d" path)/$(field "$d" transport)), n$r's still up"
	else
		e2e_ok "one-sided loss: n$d's UDP conn dropped (now $(field "$d" path)/$(field "$d" transport)); n$r had noticed as well by the time it was asked (its conn outlives D's by about 1 s)"
	fi
else
	e2e_bad "one-sided loss: n$d $(cat "$dir/status$d.json"), n$r $(cat "$dir/status$r.json")"
fi
ip netns exec "${ns[$d]}" nft delete table ip pqcut
t=$SECONDS
if e2e_until 5 udp_direct "$d" && e2e_until 2 udp_direct "$r" && peer_of "$r" "p['udp_refused'] == $refused_r"; then
	e2e_ok "one-sided loss lifted: n$d back on UDP within $((SECONDS - t)) s, its attempt validated at once (no datagram of it refused by n$r)"
else
	status_json "$d"; status_json "$r"
	e2e_bad "one-sided loss lifted: n$d not back on UDP within 5 s or its attempt refused by n$r (now $(field "$d" path)/$(field "$d" transport); n$r's udp_refused $refused_r -> $(field "$r" udp_refused))"
	grep -h "ignored\|direct conn dropped\|path " "$dir/n$d.log" "$dir/n$r.log" | tail -n 8 | sed 's/^/  /'
fi
e2e_until 15 udp_direct "$d" || e2e_die "n$d not back on UDP"
e2e_until 10 udp_direct "$r" || e2e_die "n$r not back on UDP"
ip netns exec "${ns[$r]}" nft delete table ip pqsink
sleep 1
snap1=$(snapshot 1) snap2=$(snapshot 2)

# ---- 5. a forged re-handshake REQUEST spoofed from the peer -------------------------------
# No MAC covers a REQUEST: anyone who saw one session id can forge one with
# a fresh challenge and the current time. It must not take the path down
# (the re-handshake deadline is 5 s; wait 7).
for i in 1 2; do
	j=$((3 - i))
	ip netns exec "$attacker" python3 "$tool" attack rehs-forge "192.168.243.1$i" 7444 --cap "$dir/cap.jsonl" \
		--count 1 --from "192.168.243.1$j:7444" >"$dir/forge$i.json" || e2e_die "forge: $(cat "$dir/forge$i.json")"
done
sleep 7
pings 1 2 10 0.05
if [ "$REPLY" -eq 10 ] && udp_direct 1 && udp_direct 2 && [ "$(snapshot 1)" = "$snap1" ] && [ "$(snapshot 2)" = "$snap2" ]; then
	e2e_ok "a forged REQUEST spoofed from the peer, to each node: the path stays direct over UDP (7 s), 10 of 10 pings"
else
	e2e_bad "a forged REQUEST spoofed from the peer took the UDP path down: $REPLY of 10 pings, n1 $snap1 -> $(snapshot 1), n2 $snap2 -> $(snapshot 2)"
	grep -h "direct conn dropped\|path direct" "$dir/n1.log" "$dir/n2.log" | sed 's/^/  /'
fi

# ---- 6. forged REQUESTs in bulk, then the peer's own re-authentication ----------------------------
# Each forged REQUEST answered on a UDP conn used to leave two entries in
# the session's challenge cache for 30 s; 32 filled it (64 slots), and the
# peer's next real REQUEST, on UDP or on TLS, was refused ("challenge cache
# full") until they expired: the path fell back. A run replaced before its
# COMPLETE now takes its entries with it (pq_rehs_abandon). 40 forged
# REQUESTs to each node, spoofed from the peer; then, with a reload to
# reauth_interval = 10, the pair's next re-authentication must complete on
# the same UDP path, with no fallback and no run refused for a full cache.
for i in 1 2; do
	sed -i 's/^retry_interval = 2$/retry_interval = 2\nreauth_interval = 10/' "$dir/n$i.conf"
	kill -HUP "${node_pid[$i]}"
done
reloaded() { grep -q "reauth_interval 10s" "$dir/n1.log" && grep -q "reauth_interval 10s" "$dir/n2.log"; }
e2e_until 5 reloaded || e2e_die "reload to reauth_interval = 10 not seen in both logs"
# counts: rehs1 fail1 rehs2 fail2 = re-handshakes and failures of both
# nodes' peer. Not in a command substitution: e2e_die must end the test.
counts() {
	status_json 1 && status_json 2 || e2e_die "no status"
	rehs1=$(field 1 rehandshakes) fail1=$(field 1 rehandshake_failures)
	rehs2=$(field 2 rehandshakes) fail2=$(field 2 rehandshake_failures)
}
counts
reauthed() { peer_of 1 "p['rehandshakes'] > $rehs1" && peer_of 2 "p['rehandshakes'] > $rehs2"; }
# The shorter interval makes a re-authentication due at once: let it
# finish first, so that the one counted below comes after the forgeries.
e2e_until 15 reauthed || e2e_die "no re-authentication within 15 s of the reload"
for i in 1 2; do
	j=$((3 - i))
	ip netns exec "$attacker" python3 "$tool" attack rehs-forge "192.168.243.1$i" 7444 --cap "$dir/cap.jsonl" \
		--count 40 --from "192.168.243.1$j:7444" >"$dir/forge40-$i.json" || e2e_die "forge: $(cat "$dir/forge40-$i.json")"
done
counts # forged runs never complete: they move neither
if e2e_until 25 reauthed && udp_direct 1 && udp_direct 2 && [ "$(snapshot 1)" = "$snap1" ] &&
	[ "$(snapshot 2)" = "$snap2" ] && peer_of 1 "p['rehandshake_failures'] == $fail1" &&
	peer_of 2 "p['rehandshake_failures'] == $fail2"; then
	pings 1 2 10 0.05
	if [ "$REPLY" -eq 10 ]; then
		e2e_ok "40 forged REQUESTs to each node, then the pair re-authenticated on the same UDP path (no fallback, no failed run), 10 of 10 pings"
	else
		e2e_bad "after 40 forged REQUESTs: re-authenticated, but $REPLY of 10 pings"
	fi
else
	e2e_bad "40 forged REQUESTs to each node: no clean re-authentication within 25 s: n1 $snap1 -> $(snapshot 1), n2 $snap2 -> $(snapshot 2)"
	grep -h "cache full\|direct conn dropped\|path direct\|re-handshake failed" "$dir/n1.log" "$dir/n2.log" | tail -n 8 | sed 's/^/  /'
fi

# ---- 7. a flood of REQUESTs from the attacker's own address during a re-authentication ------------
# Re-handshake datagrams are looked at 200 a second at most; the budget
# used to be the node's and charged before the check that a proven conn's
# runs come from its address, so a flood naming the session from anywhere
# crowded out the peer's own REQUEST and the path fell back. Forged
# REQUESTs to each node as fast as one process sends them, for 20 s; a
# re-authentication (every 10 s now) must complete on the same UDP path
# meanwhile. (At the ~4 600 a second one Python process sends here, the
# old code let the peer's resent REQUEST through in most runs, in the
# part of each second before the flood had used the budget up; at 20 000
# a second, in a longer run, it lost the path twice in 30 s. This step
# checks the property, not that regression.)
counts
udp_dropped() { status_json "$1" && python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["node"]["udp"]["dropped"])' "$dir/status$1.json"; }
drop1=$(udp_dropped 1) drop2=$(udp_dropped 2)
flood_pids=()
for i in 1 2; do # niced: the nodes, not the senders, get the CPU they need
	e2e_bg "$attacker" "$dir/flood$i.json" nice -n 19 timeout 40 python3 "$tool" attack rehs-forge \
		"192.168.243.1$i" 7444 --cap "$dir/cap.jsonl" --count 500 --secs 20
	flood_pids+=("$REPLY")
done
if e2e_until 25 reauthed && udp_direct 1 && udp_direct 2 && [ "$(snapshot 1)" = "$snap1" ] &&
	[ "$(snapshot 2)" = "$snap2" ]; then
	e2e_ok "a flood of forged REQUESTs from the attacker's address: the pair re-authenticated on the same UDP path meanwhile (no fallback)"
else
	e2e_bad "a flood of forged REQUESTs from the attacker's address kept the pair from re-authenticating: n1 $snap1 -> $(snapshot 1), n2 $snap2 -> $(snapshot 2)"
	grep -h "direct conn dropped\|path direct\|re-handshake failed" "$dir/n1.log" "$dir/n2.log" | tail -n 8 | sed 's/^/  /'
fi
for pid in "${flood_pids[@]}"; do # each ends after its 20 s
	e2e_wait_pid "$pid" 300 || e2e_stop "$pid" 50 || true
done
sent=$(cat "$dir/flood1.json" "$dir/flood2.json" 2>/dev/null | python3 -c 'import json,sys; print(sum(json.loads(l).get("sent", 0) for l in sys.stdin if l.startswith("{")))')
dropped=$(($(udp_dropped 1) - drop1 + $(udp_dropped 2) - drop2))
# The step means something only if the flood happened and reached the
# nodes (dropped before the budget, as the node's drops).
if [ "${sent:-0}" -ge 4000 ] && [ "$dropped" -ge $((sent / 2)) ]; then
	e2e_ok "the flood: $sent forged REQUESTs sent in 20 s, $dropped counted as the nodes' drops"
else
	e2e_bad "the flood did not happen as meant: ${sent:-no} REQUESTs sent, $dropped counted as dropped ($(cat "$dir/flood1.json" "$dir/flood2.json" 2>/dev/null | tail -n 2))"
fi

# ---- the end: still running, clean exits -------------------------------------------------------
kill -0 "${node_pid[1]}" && kill -0 "${node_pid[2]}" || e2e_bad "a node died"
e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "$relay_pid"
[ "$stopped" -eq 3 ] && e2e_ok "SIGTERM: both nodes and the relay exited 0"
[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_udp_hostile: $E2E_CHECKED checks passed"
