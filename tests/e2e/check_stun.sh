#!/usr/bin/env bash
# check_stun.sh - the relay's STUN responder (src/relay/relay_stun.c)
# through a NAT, asked by a third-party client: coturn's
# turnutils_stunclient (only the client; no coturn server runs).
# Network namespaces (tests/e2e/lib_nat.sh), needs root.
#
#                    ns inet: br0 "internet" 203.0.113.0/24
#      +------------------------+-----------------------------+
#   ns relay                 ns r1 (router, nft masquerade)  ns n2 (public)
#   203.0.113.1:7443         wan 203.0.113.11                203.0.113.12
#   STUN udp :3478, :3479    lan 192.168.11.1
#                              |
#                            ns n1 192.168.11.2 (turnutils_stunclient)
#
# Checks: from behind the NAT, turnutils_stunclient gets the router's
# public address and a port from STUN port 3478 and from 3479; a public
# client gets its own address; the smallest request (20 bytes) gets an
# answer of at most 2 x 20 + 4 bytes with the right mapping; 19 datagrams
# the responder must not answer (empty, short, wrong cookie or length,
# oversize and fragmented, responses, indications, other methods, a bad
# FINGERPRINT, pqlan and HTTP bytes, random) get no answer and are
# counted as dropped exactly; a flood of 5000 random datagrams leaves the
# relay running and answering; the relay exits 0 with its counters in the
# stop line; `stun = off` opens no STUN port.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/lib_nat.sh"
e2e_begin ip python3 nft turnutils_stunclient
tool=$top/tests/e2e/tools/udp_nat.py
relay_port=7443

e2e_nat_underlay 1:nat 2:public
e2e_keys

# start_relay TAG: the relay, waiting for its STUN ports.
start_relay() {
	e2e_start_relay "$1"
	e2e_until 5 grep -q "stun on udp $relay_ip:3478 and $relay_ip:3479" "$dir/relay$1.log" ||
		e2e_die "relay$1 did not open its STUN ports"
}
# stun_client I PORT: turnutils_stunclient's reflexive address from node I.
stun_client() {
	ip netns exec "${ns[$1]}" timeout 10 turnutils_stunclient -p "$2" "$relay_ip" 2>&1 |
		sed -n 's/.*UDP reflexive addr: \([0-9.]*:[0-9]*\).*/\1/p' | head -n 1
}
# stopped_counter TAG NAME: NAME's number in relayTAG's stop line.
stopped_counter() {
	sed -n "s/.*relay: stopped;.*stun answered \([0-9]*\), dropped \([0-9]*\).*/\\$2/p" "$dir/relay$1.log"
}

# ---- mapped addresses ----------------------------------------------------------
start_relay a
for port in 3478 3479; do
	got=$(stun_client 1 "$port")
	p=${got##*:}
	if [ "${got%:*}" = "${public_ip[1]}" ] && [ -n "$p" ] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ]; then
		e2e_ok "turnutils_stunclient behind the NAT, port $port: reflexive $got (the router's public address)"
	else
		e2e_bad "turnutils_stunclient behind the NAT, port $port: got '$got', expected ${public_ip[1]}:PORT"
	fi
done
got=$(stun_client 2 3478)
[ "${got%:*}" = "${node_ip[2]}" ] && e2e_ok "turnutils_stunclient on the public node: $got" ||
	e2e_bad "public node: got '$got', expected ${node_ip[2]}:PORT"
out=$(ip netns exec "${ns[1]}" python3 "$tool" size "$relay_ip" 3478)
if python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if j["answer"] and j["answer"] <= 44 and j["mapped"].startswith(sys.argv[2] + ":") else 1)' "$out" "${public_ip[1]}"; then
	e2e_ok "no amplification: a 20-byte request, a $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["answer"])' "$out")-byte answer"
else
	e2e_bad "smallest request: $out"
fi

# ---- what must not be answered -------------------------------------------------------
out=$(ip netns exec "${ns[2]}" python3 "$tool" hostile "$relay_ip" 3478)
sent=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["sent"])' "$out")
answers=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["answers"])' "$out")
[ "$sent" = 19 ] && [ "$answers" = 0 ] && e2e_ok "19 hostile datagrams, no answer" ||
	e2e_bad "hostile datagrams: $out"
got=$(stun_client 1 3478)
[ "${got%:*}" = "${public_ip[1]}" ] && e2e_ok "still answering after them ($got)" ||
	e2e_bad "after the hostile datagrams: got '$got'"
e2e_stop "$relay_pid" && [ "$REPLY" -eq 0 ] || e2e_bad "relay a exit status $REPLY"
answered=$(stopped_counter a 1) dropped=$(stopped_counter a 2)
if [ "$dropped" = 19 ] && [ -n "$answered" ] && [ "$answered" -ge 5 ]; then
	e2e_ok "stop line: stun answered $answered, dropped $dropped (every hostile datagram counted)"
else
	e2e_bad "stop line: answered '$answered', dropped '$dropped', expected >= 5 and 19"
fi

# ---- a flood --------------------------------------------------------------------------
start_relay b
ip netns exec "${ns[2]}" python3 "$tool" flood "$relay_ip" 3479 5000 >/dev/null
kill -0 "$relay_pid" 2>/dev/null && e2e_ok "relay alive after 5000 random datagrams" ||
	e2e_bad "relay died in the flood"
got=$(stun_client 1 3479)
[ "${got%:*}" = "${public_ip[1]}" ] && e2e_ok "answering after the flood ($got)" ||
	e2e_bad "after the flood: got '$got'"
e2e_stop "$relay_pid" && [ "$REPLY" -eq 0 ] || e2e_bad "relay b exit status $REPLY"
dropped=$(stopped_counter b 2)
[ -n "$dropped" ] && [ "$dropped" -ge 100 ] && e2e_ok "flood counted: $dropped dropped (the rest the kernel's socket buffer dropped)" ||
	e2e_bad "flood: relay counted '$dropped' dropped"

# ---- stun = off -----------------------------------------------------------------------------
printf 'stun = off\n' >>"$dir/relay.conf"
e2e_start_relay c
e2e_until 5 grep -q 'relay: stun off' "$dir/relayc.log" && e2e_ok "stun = off: the relay says so" ||
	e2e_bad "stun = off: no 'stun off' line"
got=$(stun_client 1 3478)
[ -z "$got" ] && e2e_ok "stun = off: no answer" || e2e_bad "stun = off: answered '$got'"
e2e_stop "$relay_pid" && [ "$REPLY" -eq 0 ] || e2e_bad "relay c exit status $REPLY"

[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_stun: $E2E_CHECKED checks passed"
