#!/usr/bin/env bash
# check_reload.sh - reload without outage (issue 12), node and relay, in
# network namespaces. Needs root.
#
#                ns relay: pqlan relay on 192.168.246.1:7443 (br0)
#        +------------------+------------------+
#   vr1  |             vr2  |             vr3  |
#   ns n1: eth0 .11    ns n2: eth0 .12    ns n3: eth0 .13
#   pq0 10.78.0.1/24   pq0 10.78.0.2/24   pq0 10.78.0.3/24
#
#   n1 lists n2 at first; n2 lists n1 and n3; n3 lists n1 and n2. The
#   relay allows all three keys. n1 runs with NOTIFY_SOCKET pointing at a
#   datagram socket the test reads (what systemd would be).
#
# Checks (0: the relay logs that n3 lists n1 but n1 does not list n3),
# with the n1-n2 session's handshake age read before and after
# every step (it must keep growing: the session is never replaced):
#   1. SIGHUP adds [peer] n3 to n1: n1-n3 established, n1 pings n3.
#   2. `pqlan reload -c` changes n3's path and n1's retry_interval and
#      log_level: "ok", 1 changed, the values applied.
#   3. a broken file: `pqlan reload` fails with FILE:LINE, nothing changes.
#   4. a changed tap name: refused naming "tap", nothing changes.
#   5. n3 removed: gone from n1's status, n1 no longer reaches n3; n3
#      restarted claiming protocol version 2 is refused by n2, logged.
#   6. systemd saw READY=1, then RELOADING=1/READY=1 per reload, STOPPING=1.
#   7. the relay survives SIGHUP; a reload that drops n3 from its allow list
#      closes n3 and refuses it again (relay-status and its metrics say so),
#      and the same reload's max_queued_mib is in force (relay-status);
#      a reload that changes its listen address is refused.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3

relay_ip=192.168.246.1
relay_port=7443
e2e_underlay 192.168.246 vr 1 2 3
e2e_keys 1 2 3
printf 'metrics = %s:9465\ncontrol = %s\n' "$relay_ip" "$dir/relay.ctl" >>"$dir/relay.conf"
for i in 1 2 3; do printf 'allow = %s\n' "${pub[$i]}" >>"$dir/relay.conf"; done
cp "$dir/relay.conf" "$dir/relay.conf.orig"
conf() { e2e_node_conf "$1" 10.78.0 "192.168.246.1$1:7444" "$2" "${@:3}"; }
conf 1 "2"
conf 2 "1 3"
conf 3 "1 2"

# The systemd side of Type=notify: every datagram n1 sends, one per line.
cat >"$dir/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
PY
e2e_bg "${ns[1]}" "$dir/notify.log" python3 "$dir/notify.py" "$dir/notify.sock" "$dir/notify.txt"
e2e_until 5 test -S "$dir/notify.sock" || e2e_die "notify listener did not start"

e2e_start_relay
e2e_start_node 1 "" env NOTIFY_SOCKET="$dir/notify.sock"
e2e_start_node 2

# peer_of I J PYEXPR: node I's peer J (bound to p) satisfies PYEXPR.
peer_of() {
	status_json "$1" || return 1
	e2e_json "$dir/status$1.json" "any(p['key'] == '${pub[$2]}' and ($3) for p in j['peers'])"
}
age12() { status_json 1 && python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
print([p for p in j["peers"] if p["key"] == sys.argv[2]][0]["handshake_age_s"])' "$dir/status1.json" "${pub[2]}"; }
# kept WHAT: n1's session with n2 still the same one (age grew, not reset).
last_age=
kept() {
	local a
	a=$(age12) || { e2e_bad "$1: no status"; return; }
	if [ -n "$last_age" ] && [ "$a" != None ] && [ "$a" -ge "$last_age" ] &&
		peer_of 1 2 "p['state'] == 'established'"; then
		e2e_ok "$1: n1-n2 session kept (handshake age $last_age s -> $a s)"
	else
		e2e_bad "$1: n1-n2 session replaced or lost (handshake age $last_age -> $a)"
	fi
	last_age=$a
}
ping_from() { ip netns exec "${ns[$1]}" ping -c 1 -W 1 "10.78.0.$2"; }
reload_n1() { ip netns exec "${ns[1]}" "$PQLAN" reload -c "$dir/n1.conf"; }

e2e_until 20 peer_of 1 2 "p['state'] == 'established'" || e2e_die "n1-n2 not established"
# n3 lists n1, n1 does not list n3 (yet): the relay says so.
e2e_start_node 3
if e2e_until 10 grep -q "node ${pub[3]:0:8} lists ${pub[1]:0:8}, which is connected but does not list it" "$dir/relay.log"; then
	e2e_ok "the relay logged the one-sided peer list (n3 lists n1, not the reverse)"
else
	e2e_bad "no log line for a one-sided peer list"
fi
peer_of 1 3 "True" && e2e_bad "n3 is in n1's status before it was added"
sleep 2
last_age=$(age12)
[ "$last_age" -ge 1 ] || e2e_die "handshake age $last_age"

# 1. SIGHUP adds n3.
printf '\n[peer]\nname = n3\nkey = %s\n' "${pub[3]}" >>"$dir/n1.conf"
kill -HUP "${node_pid[1]}"
if e2e_until 20 peer_of 1 3 "p['state'] == 'established'" && e2e_until 10 ping_from 1 3; then
	e2e_ok "SIGHUP added n3: established, n1 pings n3"
else
	e2e_bad "n3 added by SIGHUP did not come up: $(tail -n 5 "$dir/n1.log")"
fi
kill -0 "${node_pid[1]}" && e2e_ok "n1 is still running after SIGHUP" || e2e_die "SIGHUP killed n1"
grep -q "reload: peer n3 added" "$dir/n1.log" && e2e_ok "n1 logged the added peer" || e2e_bad "no 'peer n3 added' log line"
ping_from 1 2 >/dev/null && e2e_ok "n1 pings n2 after the reload" || e2e_bad "n1 lost n2 after the reload"
kept "after adding n3"

# 2. pqlan reload: n3's path, retry_interval, log_level.
sed -i 's/^listen = \(.*\)$/listen = \1\nretry_interval = 7\nlog_level = debug/' "$dir/n1.conf"
printf 'path = relay\n' >>"$dir/n1.conf"
if out=$(reload_n1) && [[ $out == ok:*"0 peer(s) added, 0 removed, 1 changed"*"retry_interval 7s"*"log_level debug"* ]]; then
	e2e_ok "pqlan reload: $out"
else
	e2e_bad "pqlan reload (path, retry_interval, log_level): '$out'"
fi
e2e_until 10 peer_of 1 3 "p['state'] == 'established' and p['path'] == 'relay'" &&
	e2e_ok "n3's new path = relay applied" || e2e_bad "n3's path is not relay after the reload"
grep -q 'debug: reload: peer n3 changed' "$dir/n1.log" && e2e_ok "log_level debug applied (debug lines appear)" ||
	e2e_bad "no debug line after log_level = debug"
kept "after pqlan reload"

# 3. A broken file changes nothing.
cp "$dir/n1.conf" "$dir/n1.good"
printf 'bogus = 1\n' >>"$dir/n1.conf"
if out=$(reload_n1 2>&1); then
	e2e_bad "a broken file was accepted: $out"
elif [[ $out == *"refused"*"n1.conf:"*"unknown key \"bogus\""* ]]; then
	e2e_ok "broken file refused with FILE:LINE"
else
	e2e_bad "broken file: '$out'"
fi
peer_of 1 3 "p['state'] == 'established'" && e2e_ok "after the refused reload n3 is still there" ||
	e2e_bad "the refused reload changed the peers"

# 4. A key that needs a restart: refused, nothing changes.
sed 's/^tap = pq0$/tap = pq9/' "$dir/n1.good" >"$dir/n1.conf"
printf '[peer]\nname = ghost\nkey = %s\n' "$relay_pub" >>"$dir/n1.conf"
if out=$(reload_n1 2>&1); then
	e2e_bad "a tap change was accepted: $out"
elif [[ $out == *"refused"*"changes tap, which needs a restart"* ]]; then
	e2e_ok "tap change refused, naming the key: $(head -n1 <<<"$out")"
else
	e2e_bad "tap change: '$out'"
fi
status_json 1 && ! e2e_json "$dir/status1.json" "any(p['name'] == 'ghost' for p in j['peers'])" &&
	e2e_ok "the refused reload added none of the file's peers" || e2e_bad "the refused reload added a peer"
ip -n "${ns[1]}" link show pq0 >/dev/null && e2e_ok "pq0 untouched by the refused reload" || e2e_bad "pq0 gone"
kept "after two refused reloads"

# 5. n3 removed.
grep -v '^path = relay$' "$dir/n1.good" | python3 -c 'import sys
t = sys.stdin.read(); i = t.index("[peer]\nname = n3"); sys.stdout.write(t[:i])' >"$dir/n1.conf"
if out=$(reload_n1) && [[ $out == ok:*"0 peer(s) added, 1 removed"* ]]; then
	e2e_ok "n3 removed: $out"
else
	e2e_bad "removing n3: '$out'"
fi
if ! peer_of 1 3 "True" && ! ping_from 1 3 >/dev/null 2>&1; then
	e2e_ok "n3 is gone from n1's status and unreachable from n1"
else
	e2e_bad "n3 still in n1's status or reachable"
fi
ping_from 1 2 >/dev/null && e2e_ok "n1 still pings n2" || e2e_bad "n1 lost n2 after removing n3"
kept "after removing n3"

# 5b. Compatibility (PROTOCOL.md §1): n3 restarts claiming protocol
# version 2 in its HS_INIT; n2 refuses it with a clear line, not silence.
e2e_stop_each "${node_pid[3]}"
e2e_start_node 3 -v2 env PQLAN_TEST=1 PQLAN_TEST_HS_VERSION=2
if e2e_until 15 grep -q "peer n3: handshake refused: it speaks protocol version 2, this node speaks 1" "$dir/n2.log"; then
	e2e_ok "n2 refused n3's version-2 handshake with a clear log line"
else
	e2e_bad "no log line for a peer of another protocol version"
fi

# 6. What systemd heard.
e2e_stop_each "${node_pid[1]}"
sleep 0.3
notes=$(tr '\n' '|' <"$dir/notify.txt")
if [[ $notes == READY=1\|RELOADING=1\|READY=1\|RELOADING=1\|READY=1\|RELOADING=1\|READY=1\|RELOADING=1\|READY=1\|RELOADING=1\|READY=1\|STOPPING=1\| ]]; then
	e2e_ok "sd_notify: READY=1, 5 x RELOADING=1/READY=1, STOPPING=1"
else
	e2e_bad "sd_notify datagrams: $notes"
fi

# 7. The relay: SIGHUP with n3 dropped from allow closes n3 and refuses it.
relay_status() { ip netns exec "$ns_relay" "$PQLAN" relay-status -s "$dir/relay.ctl" --json >"$dir/rs.json"; }
relay_has() { relay_status && e2e_json "$dir/rs.json" "any(n['key'] == '$1' for n in j['nodes'])"; }
e2e_until 10 relay_has "${pub[3]}" || e2e_bad "relay-status does not list n3"
grep -v "^allow = ${pub[3]}\$" "$dir/relay.conf.orig" >"$dir/relay.conf"
echo "max_queued_mib = 32" >>"$dir/relay.conf"
kill -HUP "$relay_pid"
relay_lacks() { relay_status && ! e2e_json "$dir/rs.json" "any(n['key'] == '$1' for n in j['nodes'])"; }
e2e_until 10 relay_lacks "${pub[3]}" || true   # judged just below
relay_status
if ! e2e_json "$dir/rs.json" "any(n['key'] == '${pub[3]}' for n in j['nodes'])" &&
	e2e_json "$dir/rs.json" "any(n['key'] == '${pub[2]}' for n in j['nodes'])"; then
	e2e_ok "relay SIGHUP: n3 no longer allowed and closed, n2 still connected"
else
	e2e_bad "relay after dropping n3 from allow: $(cat "$dir/rs.json")"
fi
e2e_json "$dir/rs.json" "j['relay']['max_queued'] == 32 * 1048576" &&
	e2e_ok "relay SIGHUP: the new queue budget (max_queued_mib = 32) is in force" ||
	e2e_bad "relay queue budget after SIGHUP: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["relay"]["max_queued"])' "$dir/rs.json")"
kill -0 "$relay_pid" && e2e_ok "the relay is still running after SIGHUP" || e2e_die "SIGHUP killed the relay"
metric() { ip netns exec "$ns_relay" python3 -c 'import sys, urllib.request
body = urllib.request.urlopen("http://%s:9465/metrics" % sys.argv[1], timeout=5).read().decode()
print(body)' "$relay_ip" | awk -v m="$1" '$1 == m { print $2 }'; }
refused() { [ "$(metric 'pqlan_relay_auth_total{result="refused",reason="not_allowed"}')" -ge 1 ]; }
if e2e_until 15 refused; then
	e2e_ok "n3's reconnects are refused as not_allowed (relay metrics)"
else
	e2e_bad "no not_allowed refusal in the relay's metrics"
fi
[ "$(metric pqlan_relay_nodes)" = 1 ] && e2e_ok "pqlan_relay_nodes 1 (n2 alone; n1 stopped)" ||
	e2e_bad "pqlan_relay_nodes $(metric pqlan_relay_nodes), expected 1"
grep -q "no longer allowed, closing it" "$dir/relay.log" && e2e_ok "the relay logged closing n3" ||
	e2e_bad "no 'no longer allowed' line in the relay's log"
sed -i "s/^listen = .*/listen = $relay_ip:7999/" "$dir/relay.conf"
kill -HUP "$relay_pid"
e2e_until 5 grep -q "reload refused, listen changed" "$dir/relay.log" &&
	e2e_ok "relay reload of listen refused" || e2e_bad "relay accepted or ignored a listen change"

e2e_stop_each "${node_pid[2]}" "${node_pid[3]}" "$relay_pid"
echo "checked: reload $E2E_CHECKED checks"
[ "$E2E_FAILS" -eq 0 ]
