#!/usr/bin/env bash
# pq-no-sanitizer: it proves the namespaces and nft rules, not our code (check_stun.sh runs the relay's STUN responder under ASan)
# check_nat_lib.sh - proves tests/e2e/lib_nat.sh's NAT topology does what
# home routers do, with plain UDP sockets (tests/e2e/tools/udp_nat.py, a
# STUN client written independently of src/proto/stun.c) and the relay's
# STUN responder on 203.0.113.1:3478 and :3479. Network namespaces, root.
#
#                       ns inet: br0 "internet" 203.0.113.0/24
#      +-------------------+----------------------+--------------------+
#   ns relay            ns r1 (router)          ns r2 (router)        ns n3 (public)
#   203.0.113.1         wan 203.0.113.11        wan 203.0.113.12      203.0.113.13
#   pqlan relay         lan 192.168.11.1        lan 192.168.12.1
#   STUN :3478 :3479      |                       |
#                       ns n1 192.168.11.2      ns n2 192.168.12.2
#
# Checks:
#  - behind `nat` one socket gets the same mapping from STUN port 3478 and
#    3479 (endpoint-independent), the router's public address and the
#    node's own port; a public node's mapping is its own address;
#  - behind `nat-random` the two mappings have different ports;
#  - unsolicited UDP to the router's public address is dropped in its
#    input hook (counted; no ICMP error, nothing reaches the node) and
#    takes no port: the node's next mapping still has its own port;
#  - two `nat` nodes hole-punch a plain UDP socket pair when both send at
#    once; two `nat-random` nodes cannot;
#  - `nat-udpdrop`: no STUN answer; a short conntrack UDP timeout expires
#    a mapping; e2e_nat_rebind gives the same socket a new public port;
#  - the relay counted the STUN requests it answered, and exits 0.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/lib_nat.sh"
e2e_begin ip python3 nft conntrack
tool=$top/tests/e2e/tools/udp_nat.py
relay_port=7443

e2e_nat_underlay 1:nat 2:nat-random 3:public
e2e_keys
e2e_start_relay
e2e_until 5 grep -q "stun on udp $relay_ip:3478 and $relay_ip:3479" "$dir/relay.log" ||
	e2e_die "relay did not open its STUN ports"

# py I ARGS...: the tool in node I's namespace.
py() {
	local i=$1
	shift
	ip netns exec "${ns[$i]}" python3 "$tool" "$@"
}
# jq_py JSONLINES EXPR: evaluate EXPR over the lines (list j) -> stdout.
jq_py() {
	python3 -c 'import json,sys
j = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- mappings ---------------------------------------------------------------
out=$(py 1 stun "$relay_ip" 3478,3479 --bind 40001)
m1=$(jq_py "$out" 'j[0]["mapped"]') m2=$(jq_py "$out" 'j[1]["mapped"]')
if [ "$m1" = "${public_ip[1]}:40001" ] && [ "$m2" = "$m1" ]; then
	e2e_ok "nat: one socket, two STUN ports, one mapping $m1 (endpoint-independent, port kept)"
else
	e2e_bad "nat: mappings $m1 and $m2, expected ${public_ip[1]}:40001 twice"
fi
out=$(py 3 stun "$relay_ip" 3478,3479 --bind 40003)
m1=$(jq_py "$out" 'j[0]["mapped"]') m2=$(jq_py "$out" 'j[1]["mapped"]')
[ "$m1" = "${node_ip[3]}:40003" ] && [ "$m2" = "$m1" ] &&
	e2e_ok "public: mapping is the node's own address $m1" ||
	e2e_bad "public: mappings $m1 and $m2, expected ${node_ip[3]}:40003"
out=$(py 2 stun "$relay_ip" 3478,3479 --bind 40002)
m1=$(jq_py "$out" 'j[0]["mapped"]') m2=$(jq_py "$out" 'j[1]["mapped"]')
if [ "${m1%:*}" = "${public_ip[2]}" ] && [ "${m2%:*}" = "${public_ip[2]}" ] && [ "$m1" != "$m2" ]; then
	e2e_ok "nat-random: two destinations, two ports ($m1, $m2)"
else
	e2e_bad "nat-random: mappings $m1 and $m2, expected ${public_ip[2]} with two ports"
fi

# ---- unsolicited inbound ------------------------------------------------------
# n3 sends from port 40003 to r1's public port 40001 before n1 ever sent
# from it: dropped. Then n1 sends from 40001 to n3:40003: had r1 accepted
# (and so confirmed in conntrack) n3's datagrams, masquerade would have to
# give n1 another port; n3 must see 40001.
e2e_nat_flush 1
e2e_nat_wan_drops 1; drops0=$REPLY
e2e_bg "${ns[1]}" "$dir/listen1.log" python3 "$tool" listen 40001 2.5
lpid=$REPLY
sleep 0.3
out=$(py 3 send "${public_ip[1]}" 40001 20 --bind 40003)
e2e_wait_pid "$lpid" 50 || e2e_die "listener did not end"
e2e_nat_wan_drops 1
got=$(jq_py "$(cat "$dir/listen1.log")" 'j[0]["received"]')
if [ "$((REPLY - drops0))" -ge 20 ] && [ "$got" = 0 ] &&
	[ "$(jq_py "$out" 'j[0]["icmp_errors"] + j[0]["replies"]')" = 0 ]; then
	e2e_ok "unsolicited: 20 datagrams to ${public_ip[1]}:40001 dropped in r1's input ($((REPLY - drops0)) counted), none reached n1, no ICMP back"
else
	e2e_bad "unsolicited: drops $((REPLY - drops0)), n1 received $got, sender saw $out"
fi
e2e_bg "${ns[3]}" "$dir/listen3.log" python3 "$tool" listen 40003 1.5
lpid=$REPLY
sleep 0.3
py 1 send "${node_ip[3]}" 40003 3 --bind 40001 >/dev/null
e2e_wait_pid "$lpid" 50 || e2e_die "listener did not end"
from=$(jq_py "$(cat "$dir/listen3.log")" '",".join(j[0]["from"])')
[ "$from" = "${public_ip[1]}:40001" ] && e2e_ok "unsolicited: took no port (n1 -> n3 still leaves from $from)" ||
	e2e_bad "unsolicited: n1 -> n3 arrived from '$from', expected ${public_ip[1]}:40001"

# ---- hole punching ------------------------------------------------------------
# punch TAG: n1 and n2 at once; results in punchTAG-I.log.
punch() {
	local tag=$1 i pids=()
	rm -f "$dir"/punch-*.addr
	for i in 1 2; do
		e2e_bg "${ns[$i]}" "$dir/punch$tag-$i.log" python3 "$tool" punch --bind "4100$i" \
			--stun "$relay_ip:3478" --me "$dir/punch-$i.addr" --peer "$dir/punch-$((3 - i)).addr" --secs 3
		pids+=("$REPLY")
	done
	for i in "${pids[@]}"; do
		e2e_wait_pid "$i" 200 || e2e_die "punch $tag did not end"
	done
}
punched() { jq_py "$(cat "$dir/punch$1-$2.log")" 'j[0]["received"]'; }

e2e_nat_reconfigure 2 nat
e2e_nat_flush 1
e2e_nat_flush 2
punch eim
r1=$(punched eim 1) r2=$(punched eim 2)
from1=$(jq_py "$(cat "$dir/puncheim-1.log")" '",".join(j[0]["from"])')
if [ "$r1" -gt 0 ] && [ "$r2" -gt 0 ] && [ "$from1" = "${public_ip[2]}:41002" ]; then
	e2e_ok "nat + nat: hole punched, n1 got $r1 and n2 got $r2 datagrams (n1's from $from1)"
else
	e2e_bad "nat + nat: n1 got $r1 (from $from1), n2 got $r2, expected both > 0"
fi
e2e_nat_reconfigure 1 nat-random
e2e_nat_reconfigure 2 nat-random
e2e_nat_flush 1
e2e_nat_flush 2
punch random
r1=$(punched random 1) r2=$(punched random 2)
sent=$(jq_py "$(cat "$dir/punchrandom-1.log")" 'j[0]["sent"]')
if [ "$r1" = 0 ] && [ "$r2" = 0 ] && [ "$sent" -gt 20 ]; then
	e2e_ok "nat-random + nat-random: no hole ($sent datagrams sent each way, none arrived)"
else
	e2e_bad "nat-random + nat-random: n1 got $r1, n2 got $r2 (sent $sent), expected 0 and 0"
fi

# ---- udp=drop, conntrack timeout, rebinding -------------------------------------
e2e_nat_reconfigure 1 nat-udpdrop
out=$(py 1 stun "$relay_ip" 3478 --bind 40011)
[ "$(jq_py "$out" 'j[0]["mapped"]')" = None ] && e2e_ok "nat-udpdrop: no STUN answer through r1" ||
	e2e_bad "nat-udpdrop: got $out"
e2e_nat_reconfigure 1 nat
e2e_nat_udp_timeout 1 2 2
e2e_nat_flush 1
out=$(py 1 stun "$relay_ip" 3478 --bind 40012)
e2e_nat_conntrack_count 1; before=$REPLY
e2e_until 6 eval 'e2e_nat_conntrack_count 1; [ "$REPLY" = 0 ]' && after=0 || after=$REPLY
if [ "$(jq_py "$out" 'j[0]["mapped"]')" = "${public_ip[1]}:40012" ] && [ "$before" -ge 1 ] && [ "$after" = 0 ]; then
	e2e_ok "conntrack timeout 2 s: the mapping ($before entry) expired"
else
	e2e_bad "conntrack timeout: $out, entries $before then $after"
fi
e2e_nat_udp_timeout 1 30 120
rm -f "$dir/again"
e2e_bg "${ns[1]}" "$dir/rebind.log" python3 "$tool" stun "$relay_ip" 3478 --bind 40013 --again "$dir/again"
rpid=$REPLY
e2e_until 5 grep -q '"round": 0' "$dir/rebind.log" || e2e_die "rebind: no first answer"
e2e_nat_rebind 1
touch "$dir/again"
e2e_wait_pid "$rpid" 100 || e2e_die "rebind probe did not end"
m1=$(jq_py "$(cat "$dir/rebind.log")" 'j[0]["mapped"]')
m2=$(jq_py "$(cat "$dir/rebind.log")" 'j[1]["mapped"]')
p2=${m2##*:}
if [ "$m1" = "${public_ip[1]}:40013" ] && [ "${m2%:*}" = "${public_ip[1]}" ] && [ "$p2" -ge 20000 ] && [ "$p2" -le 29999 ]; then
	e2e_ok "rebind: the same socket moved from $m1 to $m2"
else
	e2e_bad "rebind: mappings $m1 then $m2, expected a new port in 20000-29999"
fi

# ---- the relay ------------------------------------------------------------------
e2e_stop "$relay_pid" && [ "$REPLY" -eq 0 ] || e2e_bad "relay exit status $REPLY"
line=$(grep 'relay: stopped' "$dir/relay.log" || true)
answered=$(sed -n 's/.*stun answered \([0-9]*\),.*/\1/p' <<<"$line")
if [ -n "$answered" ] && [ "$answered" -ge 10 ]; then
	e2e_ok "relay answered $answered STUN requests and stopped cleanly"
else
	e2e_bad "relay stop line: $line"
fi

[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_nat_lib: $E2E_CHECKED checks passed"
