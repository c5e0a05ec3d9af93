#!/usr/bin/env bash
# check_privdrop.sh - least privilege after set-up (issue 11, DESIGN §7),
# in network namespaces (root).
#
#   ns relay: pqlan relay 192.168.245.1:7443, user = nobody, seccomp = on
#   ns n1, n2: pqlan up, user = nobody, seccomp = on, a rekey every 3 s
#              (test-only PQLAN_TEST_REKEY_MS), direct listener :7444
#
# Checks, from /proc/PID/status of the three daemons once they run: Uid
# nobody's (65534, all four), CapEff and CapPrm 0, NoNewPrivs 1, Seccomp 2
# (filter). Then that nothing needed root: ping and iperf3 through the
# tunnel (direct path), keys renewed after the drop, and a relay restart
# (the nodes reconnect and their peers come back) - all under the
# allow-list, which kills the process on any other system call. Every
# daemon exits 0 on SIGTERM. On main the daemons stayed root with every
# capability (CapEff 000001ffffffffff), so the first checks failed.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping iperf3 python3

relay_ip=192.168.245.1
relay_port=7443
e2e_underlay 192.168.245 vp 1 2
e2e_keys 1 2
printf 'user = nobody\nseccomp = on\n' >>"$dir/relay.conf"
for i in 1 2; do
	e2e_node_conf "$i" 10.79.0 "192.168.245.1$i:7444" $((3 - i)) "user = nobody" "seccomp = on"
done
e2e_start_relay
for i in 1 2; do e2e_start_node "$i" "" env PQLAN_TEST=1 PQLAN_TEST_REKEY_MS=3000; done
e2e_until 30 on_path direct || e2e_die "the dropped nodes did not reach the direct path"

# status_is PID NAME VALUE: /proc/PID/status field NAME is VALUE
status_is() {
	local v
	v=$(awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status")
	[ "$v" = "$3" ] || { e2e_bad "pid $1 ($4): $2 is '$v', expected '$3'"; return 1; }
}
for who in relay n1 n2; do
	case $who in relay) pid=$relay_pid ;; n1) pid=${node_pid[1]} ;; n2) pid=${node_pid[2]} ;; esac
	ok=1
	status_is "$pid" Uid "65534 65534 65534 65534" "$who" || ok=0
	status_is "$pid" CapEff 0000000000000000 "$who" || ok=0
	status_is "$pid" CapPrm 0000000000000000 "$who" || ok=0
	status_is "$pid" NoNewPrivs 1 "$who" || ok=0
	status_is "$pid" Seccomp 2 "$who" || ok=0
	[ "$ok" = 1 ] && e2e_ok "$who: Uid 65534, CapEff 0, CapPrm 0, NoNewPrivs 1, Seccomp 2"
done

ip netns exec "${ns[1]}" ping -q -c 5 -i 0.2 -W 1 10.79.0.2 >/dev/null &&
	e2e_ok "ping n1 -> n2 after the drop" || e2e_bad "ping after the drop failed"
ip netns exec "${ns[2]}" iperf3 -s -1 -B 10.79.0.2 >"$dir/iperf-s.log" 2>&1 &
E2E_PIDS+=("$!")
sleep 0.5
if ip netns exec "${ns[1]}" timeout 20 iperf3 -c 10.79.0.2 -t 2 -J >"$dir/iperf.json" 2>&1 &&
	e2e_json "$dir/iperf.json" "j['end']['sum_received']['bytes'] > 0"; then
	e2e_ok "iperf3 through the tunnel after the drop: $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6), "Mbit/s")' "$dir/iperf.json")"
else
	e2e_bad "iperf3 after the drop failed: $(tail -n 3 "$dir/iperf.json")"
fi
# keys renewed after the drop: a rekey every 3 s, so a handshake under 6 s old
sleep 4
status_json 1
e2e_json "$dir/status1.json" "j['peers'][0]['handshake_age_s'] < 6" &&
	e2e_ok "rekeys after the drop (handshake $(field 1 handshake_age_s) s ago)" ||
	e2e_bad "no rekey after the drop: $(cat "$dir/status1.json")"

# a relay restart: the nodes (unprivileged, filtered) reconnect
e2e_stop "$relay_pid" && [ "$REPLY" -eq 0 ] || e2e_bad "relay exit status $REPLY"
e2e_start_relay 2
relay_up() { status_json "$1" && e2e_json "$dir/status$1.json" "j['node']['relay'] == 'connected'"; }
if e2e_until 40 relay_up 1 && e2e_until 10 relay_up 2; then
	e2e_ok "both dropped nodes reconnected to a restarted relay"
else
	e2e_bad "nodes did not reconnect after a relay restart"
fi
ip netns exec "${ns[1]}" ping -q -c 3 -i 0.2 -W 1 10.79.0.2 >/dev/null &&
	e2e_ok "ping after the relay restart" || e2e_bad "ping after the relay restart failed"
for pid in "${node_pid[1]}" "${node_pid[2]}" "$relay_pid"; do
	kill -0 "$pid" 2>/dev/null || e2e_bad "pid $pid died (seccomp kill?)"
done
e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "$relay_pid"
[ "$stopped" -eq 3 ] && e2e_ok "all three exited 0 on SIGTERM"
[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_privdrop: $E2E_CHECKED checks passed"
