#!/usr/bin/env bash
# check_resolve.sh - the relay's host name is looked up off the event loop
# (issue 12: with an unanswering resolver, a blocking getaddrinfo made 4 of
# 6 `pqlan status` calls time out). Needs root.
#
#   ns n1: eth0 192.168.247.11/24 (a veth whose peer is eth1, also in n1:
#   nobody at .99); its resolv.conf (ip netns exec's
#   /etc/netns/NAME/resolv.conf) names 192.168.247.99, where nothing
#   answers; node.conf's relay is wss://relay.pqlan.test:7443/.
#
# Checks: while the lookup hangs, 6 `pqlan status` calls all answer, each
# within 1 s, saying the relay is "connecting"; the node logs that the
# lookup failed and retries, and stops cleanly (exit 0) while a lookup is
# under way.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip python3

e2e_netns n1; ns1=$REPLY
ip -n "$ns1" link add eth0 type veth peer name eth1
ip -n "$ns1" link set eth1 up
ip -n "$ns1" addr add 192.168.247.11/24 dev eth0
ip -n "$ns1" link set eth0 up
etc_dir=/etc/netns/$ns1
mkdir -p "$etc_dir" || e2e_die "mkdir $etc_dir"
trap 'rm -rf "$etc_dir"; rmdir /etc/netns 2>/dev/null; e2e_cleanup' EXIT
printf 'nameserver 192.168.247.99\noptions timeout:3 attempts:2\n' >"$etc_dir/resolv.conf"

e2e_genkey "$dir/n1.key"
e2e_genkey "$dir/relay.key"; relay_pub=$REPLY
printf '[node]\nprivate_key = %s\ntap = pq0\nlisten = 192.168.247.11:0\ncontrol = %s\nlog_level = debug\n[relay]\nurl = wss://relay.pqlan.test:7443/\nkey = %s\n' \
	"$dir/n1.key" "$dir/n1.sock" "$relay_pub" >"$dir/n1.conf"
chmod 600 "$dir/n1.conf"
e2e_bg "$ns1" "$dir/n1.log" "$PQLAN" up -c "$dir/n1.conf"
pid=$REPLY
e2e_until 10 grep -q "relay: resolving relay.pqlan.test" "$dir/n1.log" || e2e_die "no lookup started: $(tail -n 3 "$dir/n1.log")"

answered=0 slowest=0
for _ in 1 2 3 4 5 6; do
	t0=$(date +%s%N)
	if timeout 5 ip netns exec "$ns1" "$PQLAN" status -s "$dir/n1.sock" --json >"$dir/st.json" 2>"$dir/st.err" &&
		e2e_json "$dir/st.json" "j['node']['relay'] == 'connecting'"; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		[ "$ms" -gt "$slowest" ] && slowest=$ms
		[ "$ms" -lt 1000 ] && answered=$((answered + 1))
	fi
	sleep 0.5
done
if [ "$answered" -eq 6 ]; then
	e2e_ok "6 of 6 status calls answered during the hung lookup (slowest ${slowest} ms)"
else
	e2e_bad "$answered of 6 status calls answered within 1 s during the hung lookup: $(cat "$dir/st.err")"
fi
if e2e_until 40 grep -q "relay: cannot resolve relay.pqlan.test" "$dir/n1.log"; then
	e2e_ok "the lookup's failure is logged: $(grep -m1 -o 'relay: cannot resolve.*' "$dir/n1.log")"
else
	e2e_bad "no failed lookup logged within 40 s"
fi
e2e_until 5 grep -q "relay: reconnecting in" "$dir/n1.log" && e2e_ok "a new attempt is scheduled" ||
	e2e_bad "no retry scheduled after the failed lookup"
lookups() { [ "$(grep -c "relay: resolving relay.pqlan.test" "$dir/n1.log")" -ge 2 ]; }
e2e_until 10 lookups || e2e_bad "no second lookup started"
e2e_stop_each "$pid"
[ "$stopped" -eq 1 ] && e2e_ok "SIGTERM during a lookup: exit 0"
echo "checked: resolve $E2E_CHECKED checks"
[ "$E2E_FAILS" -eq 0 ]
