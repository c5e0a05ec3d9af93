#!/usr/bin/env bash
# check_udp_nat_events.sh - the UDP direct path through what NATs do to
# it (issue 9): rebinding, mapping expiry, and the moves relay -> UDP,
# TLS -> UDP and UDP -> TLS under numbered streams. Network namespaces
# with home-router NATs (tests/e2e/lib_nat.sh), needs root.
#
#                 ns inet: bridge "the internet" 203.0.113.0/24
#     +----------------+-------------------+-------------------+
#  relay .1          r1 .11 (NAT)        r2 .12 (NAT)        n3 .13
#  pqlan relay,      192.168.11.0/24     192.168.12.0/24     (public,
#  STUN :3478/9        n1 .2               n2 .2              TLS listener)
#
#  Pairs: n1-n2 (NAT-NAT), n1-n3 (NAT-public). retry_interval 2 s,
#  keepalive_udp 3 s. Streams: tests/e2e/tools/udp_stream.py, RATE/s.
#
# 1. start: both pairs direct over UDP.
# 2. rebinding mid-stream, twice: r1 maps n1 to a new public port while
#    streams n2 -> n1 and n1 -> n2 run; first only UDP (what a UDP
#    timeout does: the relay's TCP connection lives on, and the periodic
#    STUN refresh is more than 15 s away), then everything (the relay
#    connection breaks too). Each time n2 reaches n1 directly over UDP at
#    the new mapping, re-validated, within 12 s; each stream's longest
#    gap is within the 2 s fallback bound, its loss one run within it,
#    no duplicate.
# 3. mapping expiry: both routers forget an idle UDP mapping after 5 s;
#    the pairs stay idle for 16 s: the keepalive holds the mappings (no
#    conntrack entry of the nodes' UDP port expires in either router) with
#    no more than a PROBE and its answer each way per keepalive_udp, the
#    paths stay direct over UDP with no new attempt, fallback or
#    migration, and pings get through.
# 4. relay -> UDP and TLS -> UDP, zero loss: r1 drops UDP towards r2 and
#    n3 (a firewall rule), so n1-n2 go to the relay and n1-n3 to TLS
#    direct; streams n2 -> n1 and n3 -> n1 run while the rule is lifted:
#    both pairs move to UDP during the stream, nothing lost or duplicated.
# 5. UDP -> TLS, planned, zero loss: streams n3 -> n1 and n1 -> n3 run
#    while a reload sets `transport = tls` for the pair, on n1 first, on
#    n3 1.5 s later (SIGHUP): the pair goes from direct/udp to
#    direct/tls during the streams, nothing lost or duplicated; a reload
#    back to auto returns it to UDP.
# 6. UDP -> TLS: r1 drops all UDP while a stream n3 -> n1 runs: n1-n3
#    leaves UDP within 2 s (loss: what was in flight on the dead path, one
#    run, quoted), then runs on TLS direct; n1-n2 on the relay, pings
#    get through.
# 7. STUN: a public node asks the relay a round per 30 s (and when a UDP
#    path died), not at every retransmission timer; clean exits.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/lib_nat.sh"
. "$top/tests/e2e/lib_stream.sh"
e2e_begin ip ping python3 nft conntrack ss

relay_port=7443
retry=2          # retry_interval, s
keepalive=3      # keepalive_udp, s
expiry=5         # the routers' UDP conntrack timeouts in part 2, s
idle=16          # idle time in part 2, s (more than 3 timeouts)
rate=800         # datagrams per second, per stream
slack_ms=150     # over the 2 s outage bound: timers, scheduling
[ -n "${PQ_SANITIZER:-}" ] && rate=500 && slack_ms=400
overlay=10.81.0

e2e_nat_underlay 1:nat 2:nat 3:public
e2e_keys 1 2 3
for i in 1 2 3; do
	case $i in 1) peers="2 3" ;; *) peers="1" ;; esac
	e2e_node_conf "$i" "$overlay" "0.0.0.0:7444" "$peers" "retry_interval = $retry" "keepalive_udp = $keepalive"
	# No IPv6 chatter on the TAP: idle must mean idle (part 2).
	ip netns exec "${ns[$i]}" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

# STUN requests from n3 (public, one relay connection all along) to the
# relay's two STUN ports: a round (2 requests) every 30 s.
ip netns exec "$ns_relay" nft -f - <<EOF || e2e_die "nft: the relay's STUN counter"
table inet pqstun {
	chain in {
		type filter hook input priority 0;
		ip saddr ${public_ip[3]} udp dport { 3478, 3479 } counter
	}
}
EOF
stun_requests() {
	ip netns exec "$ns_relay" nft list table inet pqstun | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}

# ---- helpers -------------------------------------------------------------------
# peer_of I J PYEXPR: node I's peer nJ (bound to p) satisfies PYEXPR.
peer_of() {
	status_json "$1" || return 1
	e2e_json "$dir/status$1.json" "any(p['name'] == 'n$2' and ($3) for p in j['peers'])"
}
udp_direct() { peer_of "$1" "$2" "p['path'] == 'direct' and p['transport'] == 'udp'"; }
pair_udp() { udp_direct "$1" "$2" && udp_direct "$2" "$1"; }
# field_of I J NAME: NAME of node I's peer nJ in the last statusI.json.
field_of() { python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
print([p for p in j["peers"] if p["name"] == sys.argv[2]][0][sys.argv[3]])' "$dir/status$1.json" "n$2" "$3"; }
# counters I J: "udp_attempts fallbacks migrations" of node I's peer nJ, now.
counters() {
	status_json "$1" || e2e_die "no status from n$1"
	echo "$(field_of "$1" "$2" udp_attempts) $(field_of "$1" "$2" fallbacks) $(field_of "$1" "$2" migrations)"
}
# pings I J COUNT: COUNT pings nI -> nJ 0.1 s apart; received in $REPLY.
pings() {
	REPLY=$(ip netns exec "${ns[$1]}" ping -n -q -i 0.1 -W 1 -c "$3" "$overlay.$2" 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')
	REPLY=${REPLY:-0}
}
# r1's firewall: drop UDP forwarded to ADDR (a rule of its own, by comment).
block_udp_to() {
	ip netns exec "${ns_router[1]}" nft insert rule inet filter forward ip daddr "$1" meta l4proto udp \
		counter drop comment "\"block-$1\"" || e2e_die "nft: block UDP to $1"
}
unblock_udp_to() {
	local h
	h=$(ip netns exec "${ns_router[1]}" nft -a list chain inet filter forward |
		sed -n "s/.*comment \"block-$1\" # handle \([0-9]*\).*/\1/p")
	[ -n "$h" ] || e2e_die "nft: no rule blocking UDP to $1"
	ip netns exec "${ns_router[1]}" nft delete rule inet filter forward handle "$h"
}
# stream_ok TAG WHAT: nothing lost, nothing duplicated.
stream_ok() {
	if e2e_stream_json "$1" "j['dup'] == 0 and j['unique'] == ${stream_sent[$1]} and j['received'] == ${stream_sent[$1]}"; then
		e2e_ok "$2: ${stream_sent[$1]} sent at $rate/s, 0 lost, 0 duplicated (longest gap $(e2e_stream_field "$1" max_gap_ms) ms, $(e2e_stream_field "$1" reordered) reordered)"
	else
		e2e_bad "$2: sent ${stream_sent[$1]}, $(cat "$dir/$1.json")"
	fi
}
# stream_outage TAG WHAT [EXTRA_MS]: an outage within the 2 s bound (and
# EXTRA_MS more): longest gap <= 2 s + EXTRA_MS + slack, the loss one run
# no longer than that, no duplicate.
stream_outage() {
	local bound=$((2000 + ${3:-0} + slack_ms))
	local budget=$((rate * bound / 1000))
	if e2e_stream_json "$1" "j['dup'] == 0 and j['max_gap_ms'] <= $bound and len(j['lost_runs']) <= 1 and ${stream_sent[$1]} - j['unique'] <= $budget"; then
		e2e_ok "$2: longest gap $(e2e_stream_field "$1" max_gap_ms) ms (bound $bound), lost $((${stream_sent[$1]} - $(e2e_stream_field "$1" unique))) of ${stream_sent[$1]} in one run ($(e2e_stream_field "$1" lost_runs)), 0 duplicated"
	else
		e2e_bad "$2: sent ${stream_sent[$1]}, $(cat "$dir/$1.json")"
	fi
}

# ---- 1. start: both pairs direct over UDP ----------------------------------------
e2e_start_relay
t_stun=$SECONDS
for i in 1 2 3; do e2e_start_node "$i"; done
e2e_until 15 pair_udp 1 2 || e2e_die "n1-n2 not direct over UDP within 15 s: $(cat "$dir/status1.json")"
e2e_until 5 pair_udp 1 3 || e2e_die "n1-n3 not direct over UDP: $(cat "$dir/status1.json")"
e2e_ok "start: n1-n2 and n1-n3 direct over UDP within $((SECONDS - t_stun)) s"

# ---- 2. rebinding mid-stream ----------------------------------------------------
# rebind_case TAG WHAT EXTRA_MS [udp]: streams n2 -> n1 and n1 -> n2, r1
# rebinds 2.5 s in (everything, or only UDP): each stream's outage within
# the fallback bound + EXTRA_MS; n2 reaches n1 over UDP at the new
# mapping within recover_s.
recover_s=12
rebind_case() {
	local tag=$1 what=$2 extra=$3 mode=${4:-} val old t lo hi
	e2e_until 10 pair_udp 1 2 || e2e_die "$what: n1-n2 not on UDP before the rebinding: $(cat "$dir/status2.json")"
	val=$(field_of 2 1 udp_validated) old=$(field_of 2 1 endpoint)
	pings 2 1 2; pings 1 2 2
	e2e_stream_start "$tag-21" "${ns[2]}" "${ns[1]}" "$overlay.1" 9000 "$rate" 8
	e2e_stream_start "$tag-12" "${ns[1]}" "${ns[2]}" "$overlay.2" 9002 "$rate" 8
	sleep 2.5
	e2e_nat_rebind 1 $mode
	t=$SECONDS
	lo=${nat_range[1]%-*} hi=${nat_range[1]#*-}
	new_ep() { peer_of 2 1 "p['path'] == 'direct' and p['transport'] == 'udp' and p['endpoint'].startswith('${public_ip[1]}:') and $lo <= int(p['endpoint'].rsplit(':', 1)[1]) <= $hi and p['udp_validated'] > $val"; }
	if e2e_until "$recover_s" new_ep && udp_direct 1 2; then
		e2e_ok "$what: n2 reaches n1 over UDP at its new mapping $(field_of 2 1 endpoint) (was $old), re-validated (udp_validated $val -> $(field_of 2 1 udp_validated)) within $((SECONDS - t)) s"
	else
		e2e_bad "$what: n2's path to n1 not re-validated at a new mapping (ports $lo-$hi) within $recover_s s: $(cat "$dir/status2.json")"
	fi
	e2e_stream_wait "$tag-21"
	e2e_stream_wait "$tag-12"
	stream_outage "$tag-21" "$what, stream n2 -> n1" "$extra"
	stream_outage "$tag-12" "$what, stream n1 -> n2" "$extra"
}
# settled: both pairs direct over UDP, each side at the other's present
# address (n1's reflexive one), as after any recovery.
settled() {
	local m
	status_json 1 || return 1
	m=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["node"]["udp"]["reflexive"])' "$dir/status1.json")
	pair_udp 1 2 && pair_udp 1 3 && peer_of 2 1 "p['endpoint'] == '$m'" && peer_of 3 1 "p['endpoint'] == '$m'"
}
rebind_case rbu "UDP-only rebinding of r1 (TCP to the relay kept)" 0 udp
# Everything rebound: n1's relay connection is dead too, and n1 learns it
# only when it next writes to it (after its UDP path failed, at 2 s): the
# fallback waits for the relay link's reconnect (backoff 0.5 s +-25 %,
# TLS): 1 s more allowed.
rebind_case rb "rebinding of r1 (UDP and TCP mappings)" 1000
t=$SECONDS
e2e_until 20 settled || e2e_die "the pairs did not settle on UDP after the rebindings: $(cat "$dir/status3.json")"
e2e_ok "after the rebindings: n1-n3 (NAT-public) settled on UDP at n1's new mapping too, $((SECONDS - t)) s after the streams"
grep -h "path .* -> \|relay: connected" "$dir/n1.log" "$dir/n2.log" | tail -n 8 | sed 's/^/  /'

# ---- 3. mapping expiry: the keepalive holds it ---------------------------------
e2e_nat_udp_timeout 1 "$expiry"
e2e_nat_udp_timeout 2 "$expiry"
before12=$(counters 1 2) before21=$(counters 2 1) before13=$(counters 1 3)
# And every datagram between n1 and n2 that r1 forwards meanwhile.
ip netns exec "${ns_router[1]}" nft -f - <<EOF || e2e_die "nft: r1's idle counter"
table inet pqidle {
	chain idle {
		type filter hook forward priority -10;
		ip daddr ${public_ip[2]} udp dport 7444 counter
		ip saddr ${public_ip[2]} udp sport 7444 counter
	}
}
EOF
# Each router's mapping of its node's UDP port to the other router, once
# a second while idle (an expired entry is not listed): a miss is a
# mapping the keepalive did not hold. Masquerade keeps the port, so a
# lapsed mapping would come back the same at the next datagram both ways
# and hide in the counters: the listing is what says it held.
mapped() {
	ip netns exec "${ns_router[$1]}" conntrack -L -p udp --orig-src "${node_ip[$1]}" --orig-port-src 7444 \
		--orig-dst "${public_ip[$2]}" 2>/dev/null | grep -q '^udp'
}
misses=0
for ((s_ = 0; s_ < idle; s_++)); do
	mapped 1 2 || misses=$((misses + 1))
	mapped 2 1 || misses=$((misses + 1))
	sleep 1
done
idle_dgrams=$(ip netns exec "${ns_router[1]}" nft list table inet pqidle | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' |
	awk '{s += $1} END {print s + 0}')
ip netns exec "${ns_router[1]}" nft delete table inet pqidle
# Each side's PROBE and its answer per keepalive_udp, at most: an answer
# must not start the sender's liveness clock (else a PROBE every second).
if [ "$idle_dgrams" -ge 2 ] && [ "$idle_dgrams" -le $((4 * (idle / keepalive + 1))) ]; then
	e2e_ok "idle ${idle} s: $idle_dgrams datagrams between n1 and n2 (keepalive_udp $keepalive s: at most $((4 * (idle / keepalive + 1))))"
else
	e2e_bad "idle ${idle} s: $idle_dgrams datagrams between n1 and n2 (expected 2 to $((4 * (idle / keepalive + 1))) with keepalive_udp $keepalive s)"
fi
if [ "$misses" -eq 0 ] && pair_udp 1 2 && pair_udp 1 3; then
	e2e_ok "idle ${idle} s with ${expiry} s UDP timeouts in both routers: r1 and r2 kept n1's and n2's mappings to each other (listed every second), both pairs direct over UDP"
else
	e2e_bad "after ${idle} s idle: $misses of $((2 * idle)) listings without the mapping, $(cat "$dir/status1.json") $(cat "$dir/status2.json")"
fi
pings 1 2 10; p12=$REPLY
pings 1 3 10; p13=$REPLY
after12=$(counters 1 2) after21=$(counters 2 1) after13=$(counters 1 3)
if [ "$p12" -eq 10 ] && [ "$p13" -eq 10 ] && [ "$before12" = "$after12" ] && [ "$before21" = "$after21" ] &&
	[ "$before13" = "$after13" ] && pair_udp 1 2; then
	e2e_ok "after the idle time: pings n1 -> n2 $p12/10, n1 -> n3 $p13/10; no new UDP attempt, fallback or migration (n1/n2 \"attempts fallbacks migrations\": $after12)"
else
	e2e_bad "after the idle time: pings $p12/10, $p13/10; counters n1:n2 $before12 -> $after12, n2:n1 $before21 -> $after21, n1:n3 $before13 -> $after13"
fi
e2e_nat_udp_timeout 1 30 120
e2e_nat_udp_timeout 2 30 120

# ---- 4. relay -> UDP and TLS -> UDP under a stream: nothing lost ---------------
block_udp_to "${public_ip[2]}"
block_udp_to "${public_ip[3]}"
e2e_until 10 peer_of 1 2 "p['path'] == 'relay'" || e2e_die "n1-n2 not back on the relay with UDP blocked: $(cat "$dir/status1.json")"
e2e_until 20 peer_of 1 3 "p['path'] == 'direct' and p['transport'] == 'tls'" ||
	e2e_die "n1-n3: not direct over TLS while UDP is blocked: $(cat "$dir/status1.json")"
peer_of 1 2 "p['path'] == 'relay'" || e2e_die "n1-n2 left the relay while UDP is blocked: $(cat "$dir/status1.json")"
e2e_ok "UDP blocked by r1: n1-n2 on the relay, n1-n3 direct over TLS"
# status "tcp" on a TLS direct conn: its sizing as numbers (net/conn.h "Latency")
peer_of 1 3 "sorted(p['tcp']) == ['lowat', 'rate', 'window_clamp'] and all(isinstance(v, int) and v >= 0 for v in p['tcp'].values())" &&
	e2e_ok "status tcp on n1's TLS conn to n3: $(field_of 1 3 tcp)" ||
	e2e_bad "status tcp on a TLS direct conn: $(cat "$dir/status1.json")"
pings 2 1 2; pings 3 1 2 # ARP resolved before the streams
read -r _ _ mig12 <<<"$(counters 1 2)"
read -r _ _ mig13 <<<"$(counters 1 3)"
e2e_stream_start up21 "${ns[2]}" "${ns[1]}" "$overlay.1" 9000 "$rate" 12
e2e_stream_start up31 "${ns[3]}" "${ns[1]}" "$overlay.1" 9001 "$rate" 12
sleep 2
unblock_udp_to "${public_ip[2]}"
unblock_udp_to "${public_ip[3]}"
e2e_stream_wait up21
e2e_stream_wait up31
if pair_udp 1 2 && [ "$(field_of 1 2 migrations)" -gt "$mig12" ]; then
	e2e_ok "n1-n2 moved relay -> UDP during the stream (migrations $mig12 -> $(field_of 1 2 migrations), endpoint $(field_of 1 2 endpoint))"
else
	e2e_bad "n1-n2 not on UDP after the block was lifted: $(cat "$dir/status1.json")"
fi
if pair_udp 1 3; then
	e2e_ok "n1-n3 moved TLS -> UDP during the stream (endpoint $(field_of 1 3 endpoint))"
else
	e2e_bad "n1-n3 not on UDP after the block was lifted: $(cat "$dir/status1.json")"
fi
grep -h "path .* -> direct" "$dir/n1.log" | sed 's/^/  n1: /'
stream_ok up21 "stream n2 -> n1 across relay -> UDP"
stream_ok up31 "stream n3 -> n1 across TLS -> UDP"

# ---- 5. UDP -> TLS by reload under a stream: nothing lost -------------------
# transport_of I J VALUE: node I's [peer] nJ gets `transport = VALUE`
# (auto: the line goes); [peer] nJ is the last section of nI.conf.
transport_of() {
	local c=$dir/n$1.conf
	[ "$(sed -n 's/^key = //p' "$c" | tail -n 1)" = "${pub[$2]}" ] || e2e_die "n$1.conf: [peer] n$2 is not last"
	sed -i '/^transport = /d' "$c"
	[ "$3" = auto ] || printf 'transport = %s\n' "$3" >>"$c"
}
tls_direct() { peer_of "$1" "$2" "p['path'] == 'direct' and p['transport'] == 'tls'"; }
e2e_until 10 pair_udp 1 3 || e2e_die "n1-n3 not on UDP before part 5: $(cat "$dir/status1.json")"
e2e_ok "before the reload: n1-n3 direct over UDP (n1: $(field_of 1 3 endpoint))"
pings 3 1 2; pings 1 3 2
e2e_stream_start rl31 "${ns[3]}" "${ns[1]}" "$overlay.1" 9001 "$rate" 7
e2e_stream_start rl13 "${ns[1]}" "${ns[3]}" "$overlay.3" 9003 "$rate" 7
sleep 1.5
transport_of 1 3 tls; kill -HUP "${node_pid[1]}"
sleep 1.5
transport_of 3 1 tls; kill -HUP "${node_pid[3]}"
e2e_until 4 tls_direct 1 3 && e2e_until 2 tls_direct 3 1 && t_tls=ok || t_tls=
e2e_stream_wait rl31
e2e_stream_wait rl13
if [ -n "$t_tls" ] && tls_direct 1 3 && tls_direct 3 1; then
	e2e_ok "reload transport = tls on n1, then n3: n1-n3 moved direct/udp -> direct/tls during the streams"
else
	e2e_bad "n1-n3 not direct over TLS after the reloads: $(cat "$dir/status1.json") $(cat "$dir/status3.json")"
fi
for i in 1 3; do grep -h "reloaded\|peer n[13]: path .* -> " "$dir/n$i.log" | tail -n 3 | sed "s/^/  n$i: /"; done
stream_ok rl31 "stream n3 -> n1 across the UDP -> TLS reload"
stream_ok rl13 "stream n1 -> n3 across the UDP -> TLS reload"
transport_of 1 3 auto; kill -HUP "${node_pid[1]}"
transport_of 3 1 auto; kill -HUP "${node_pid[3]}"

# ---- 6. UDP -> TLS: r1 drops UDP mid-stream -----------------------------------------
e2e_until 15 pair_udp 1 3 || e2e_die "n1-n3 not back on UDP before part 6: $(cat "$dir/status1.json")"
status_json 1; fb13=$(field_of 1 3 fallbacks)
pings 3 1 2
e2e_stream_start tls31 "${ns[3]}" "${ns[1]}" "$overlay.1" 9001 "$rate" 8
sleep 2.5
e2e_nat_reconfigure 1 nat-udpdrop
e2e_stream_wait tls31
stream_outage tls31 "UDP dropped mid-stream, n3 -> n1 (UDP -> relay/TLS; the loss is what the dead UDP path took before the fallback)"
if e2e_until 10 peer_of 1 3 "p['path'] == 'direct' and p['transport'] == 'tls'"; then
	e2e_ok "n1-n3 on TLS direct after UDP was dropped (fallbacks $fb13 -> $(field_of 1 3 fallbacks): $([ "$(field_of 1 3 fallbacks)" -gt "$fb13" ] && echo "through the relay" || echo "straight to a TLS conn standing by"))"
else
	e2e_bad "n1-n3 not on TLS direct after UDP was dropped: $(cat "$dir/status1.json")"
fi
pings 1 2 10
if [ "$REPLY" -eq 10 ] && peer_of 1 2 "p['path'] == 'relay'"; then
	e2e_ok "UDP dropped, both behind NAT: n1-n2 on the relay, 10 of 10 pings"
else
	e2e_bad "UDP dropped: n1-n2: $REPLY of 10 pings, $(cat "$dir/status1.json")"
fi

# ---- 7. STUN: a round (2 requests) every 30 s, and one when a UDP path
# dies (our mapping may have moved); bound: a round per 10 s, +2.
stun_n=$(stun_requests) stun_s=$((SECONDS - t_stun))
if [ "${stun_n:-0}" -ge 2 ] && [ "$stun_n" -le $((2 * (stun_s / 10 + 2))) ]; then
	e2e_ok "STUN: n3 sent $stun_n requests to the relay's two ports in $stun_s s"
else
	e2e_bad "STUN: n3 sent ${stun_n:-?} requests to the relay in $stun_s s (expected 2 to $((2 * (stun_s / 10 + 2))))"
fi

e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "${node_pid[3]}" "$relay_pid"
[ "$stopped" -eq 4 ] && e2e_ok "SIGTERM: three nodes and the relay exited 0"
[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_udp_nat_events: $E2E_CHECKED checks passed"
