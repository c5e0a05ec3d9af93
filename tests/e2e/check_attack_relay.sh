#!/usr/bin/env bash
# check_attack_relay.sh - one hostile host against an open relay (issue 11,
# DESIGN §7 "availability under attack"), in network namespaces (root).
#
#   ns relay: pqlan relay on 192.168.244.1:7443, bridge br0, no allow line
#   ns n1, n2: real nodes (pqlan up, path = relay), 192.168.244.11/.12
#   ns n3: the attacker, 192.168.244.13
#
# 1. Lock-out: n3 holds 2000 idle TCP connections to the relay (no TLS, no
#    key), re-opening each one the relay closes, while a real client logs in
#    every 2 s from n1 (tests/relay/tool_relay_client: TLS, WebSocket,
#    RELAY_AUTH, forwarding): every login must complete within 5 s. Before
#    the listener's per-source admission the newest connection was refused
#    once 1024 were pending: every real login failed.
# 2. Memory: n3 makes 800 fresh keys in 400 pairs that list each other; in
#    each pair one side floods 16 KiB messages, the other never reads
#    (tests/relay/tool_relay_flood). The relay's RSS must stay under 128 MiB
#    (docs/relay.md) and n1 and n2 keep pinging each other through it. Before
#    the caps every key was admitted and each silent reader pinned ~1 MiB
#    of queue (~4 MiB with the kernel's buffer). The relay runs with
#    max_queued_mib = 8, under what the 32 silent readers would hold (32
#    MiB): what all conns hold queued (relay-status, sampled) must stay
#    under 8 MiB + 64 KiB and one message per conn, messages must be dropped for the budget,
#    and the pings still pass (a conn holding under 64 KiB always gets the
#    next message).
# Figures (login times, peak RSS) are printed.
# pq-no-sanitizer: timing and RSS bounds are for the plain build; the ASan pass runs every unit test of these parts
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3 timeout

relay_ip=192.168.244.1
relay_port=7443
tools=$(cd "${PQ_BUILD:?}" && pwd)/tests/relay
attack=$top/tests/e2e/tools/attack_conns.py
rss_limit_kb=$((128 * 1024))
[ -x "$tools/tool_relay_client" ] && [ -x "$tools/tool_relay_flood" ] || e2e_die "relay test tools not built"

e2e_underlay 192.168.244 va 1 2 3
e2e_keys 1 2
for i in 1 2; do
	e2e_node_conf "$i" 10.78.0 "192.168.244.1$i:7444" $((3 - i))
	echo "path = relay" >>"$dir/n$i.conf" # the last section is the [peer]
done
printf 'max_queued_mib = 8\ncontrol = %s\n' "$dir/relay.ctl" >>"$dir/relay.conf"
queued_limit=$((8 * 1048576 + 128 * 65536 + 128 * 16448)) # budget, 64 KiB + one message per conn (128 at most)
e2e_start_relay
for i in 1 2; do e2e_start_node "$i"; done
e2e_until 20 both_are "p['state'] == 'established'" || e2e_die "nodes did not establish through the relay"
ping_ok() { ip netns exec "${ns[1]}" ping -c 1 -W 1 10.78.0.2 >/dev/null 2>&1; }
e2e_until 10 ping_ok || e2e_die "no ping through the relay before the attacks"

# ---- 1. 2000 idle connections from one host --------------------------------
ip netns exec "${ns[3]}" python3 "$attack" "$relay_ip" "$relay_port" 2000 22 300 >"$dir/attack1.out" 2>&1 &
attacker=$!
E2E_PIDS+=("$attacker")
sleep 4
worst=0 logins=0 times=
for k in 1 2 3 4 5 6; do
	t0=$(date +%s%N)
	if timeout 5 ip netns exec "${ns[1]}" "$tools/tool_relay_client" "$relay_ip" "$relay_port" "$relay_pub" \
		>"$dir/login$k.out" 2>&1; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		logins=$((logins + 1)) times="$times ${ms}ms"
		[ "$ms" -gt "$worst" ] && worst=$ms
	else
		e2e_bad "login $k under the flood failed or took over 5 s: $(tail -n 1 "$dir/login$k.out")"
	fi
	sleep 2
done
wait "$attacker" 2>/dev/null || true
echo "figure: logins under 2000 idle conns from one host:$times (worst ${worst} ms); $(cat "$dir/attack1.out")"
[ "$logins" -eq 6 ] && e2e_ok "6 of 6 real logins authenticated within 5 s under 2000 idle conns (worst $worst ms)"
grep -q "closed by the listener [1-9]" "$dir/attack1.out" || e2e_bad "the relay never closed an idle conn: $(cat "$dir/attack1.out")"
kill -0 "$relay_pid" 2>/dev/null || e2e_die "relay died under the connection flood"

# ---- 2. fresh keys, pairs that do not read ---------------------------------
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$relay_pid/status"; }
ip netns exec "${ns[3]}" "$tools/tool_relay_flood" "$relay_ip" "$relay_port" "$relay_pub" 400 20 \
	>"$dir/flood.out" 2>&1 &
flooder=$!
E2E_PIDS+=("$flooder")
relay_queued() { # the relay's queued bytes and budget drops, "Q D"
	ip netns exec "$ns_relay" "$PQLAN" relay-status -s "$dir/relay.ctl" --json 2>/dev/null |
		python3 -c 'import json,sys; r = json.load(sys.stdin)["relay"]; print(r["queued_bytes"], r["budget_drops"])'
}
peak=0 pings=0 sent=0 qpeak=0 bdrops=0
for s in $(seq 1 22); do
	r=$(rss)
	[ "$r" -gt "$peak" ] && peak=$r
	if q=$(relay_queued); then
		[ "${q% *}" -gt "$qpeak" ] && qpeak=${q% *}
		bdrops=${q#* }
	fi
	sent=$((sent + 1))
	ping_ok && pings=$((pings + 1))
	kill -0 "$flooder" 2>/dev/null || break
	sleep 0.5
done
wait "$flooder" 2>/dev/null || true
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$relay_pid/status")
echo "figure: relay RSS under the key flood: peak sampled $((peak / 1024)) MiB, VmHWM $((hwm / 1024)) MiB; pings $pings/$sent; $(cat "$dir/flood.out")"
grep -q "^flood: " "$dir/flood.out" || e2e_bad "the flooder did not run: $(tail -n 3 "$dir/flood.out")"
if [ "$hwm" -lt "$rss_limit_kb" ]; then
	e2e_ok "relay peak RSS $((hwm / 1024)) MiB under the key flood (bound 128 MiB)"
else
	e2e_bad "relay peak RSS $((hwm / 1024)) MiB, over 128 MiB"
fi
echo "figure: queued in all relay conns, peak sampled $((qpeak / 1024)) KiB (budget 8192 KiB); messages dropped for the budget: $bdrops"
[ "$qpeak" -gt 0 ] && [ "$qpeak" -le "$queued_limit" ] && [ "$bdrops" -gt 0 ] &&
	e2e_ok "the relay's queues held $((qpeak / 1024)) KiB at most under max_queued_mib = 8, $bdrops messages dropped for it" ||
	e2e_bad "relay queues under the budget: peak $qpeak bytes (limit $queued_limit), budget drops $bdrops"
[ "$pings" -ge $((sent * 8 / 10)) ] && e2e_ok "n1 -> n2 through the relay during the flood: $pings of $sent pings" ||
	e2e_bad "n1 -> n2 through the relay during the flood: only $pings of $sent pings"
grep -q "source at its cap [1-9]" <(kill -TERM "$relay_pid"; e2e_wait_pid "$relay_pid" 50; cat "$dir/relay.log") &&
	e2e_ok "the relay refused keys past max_nodes_per_source (stop line)" ||
	e2e_bad "no key refused for its source's cap: $(grep stopped "$dir/relay.log")"
e2e_stop_each "${node_pid[1]}" "${node_pid[2]}"
[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_attack_relay: $E2E_CHECKED checks passed"
