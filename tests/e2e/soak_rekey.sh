#!/usr/bin/env bash
# soak_rekey.sh - not run by `make check` (it takes about 2.5 minutes):
# two nodes and a relay in network namespaces, a steady ping (5 a second)
# across a rekey (DESIGN §4: new keys after 120 s, the old ones still open
# frames for 10 s). Passes when no ping is lost and both nodes report a
# handshake younger than the run, i.e. the keys were renewed under traffic.
#   PQ_BUILD=build bash tests/e2e/soak_rekey.sh
#
#   ns relay: br0 192.168.242.1, pqlan relay :7443
#     |-- veth -- ns a: eth0 192.168.242.11, pq0 10.78.0.1/24
#     '-- veth -- ns b: eth0 192.168.242.12, pq0 10.78.0.2/24
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping python3
relay_ip=192.168.242.1
relay_port=7443
e2e_underlay 192.168.242 vn 1 2
e2e_keys 1 2
for i in 1 2; do e2e_node_conf "$i" 10.78.0 "192.168.242.1$i:0" $((3 - i)); done
e2e_start_relay
for i in 1 2; do e2e_start_node "$i"; done
up() { ip netns exec "${ns[1]}" ping -q -c 1 -W 1 10.78.0.2; }
e2e_until 30 up || e2e_die "no session within 30 s"

start=$SECONDS
out=$(ip netns exec "${ns[1]}" ping -q -i 0.2 -c 750 -W 1 10.78.0.2 2>&1) || true
run=$((SECONDS - start))
echo "$out" | tail -n 2
echo "$out" | grep -q ' 0% packet loss' && e2e_ok "750 pings over ${run} s, none lost" ||
	e2e_bad "pings lost across the rekey: $(echo "$out" | grep loss)"
for i in 1 2; do
	ip netns exec "${ns[$i]}" "$PQLAN" status -c "$dir/n$i.conf" --json >"$dir/st$i.json"
	e2e_json "$dir/st$i.json" "j['peers'][0]['state'] == 'established' and j['peers'][0]['handshake_age_s'] < $run - 5" &&
		e2e_ok "n$i: keys renewed under traffic (handshake $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peers"][0]["handshake_age_s"])' "$dir/st$i.json") s ago, run ${run} s)" ||
		e2e_bad "n$i: no rekey seen: $(cat "$dir/st$i.json")"
done
[ "$E2E_FAILS" -eq 0 ] || e2e_die "$E2E_FAILS check(s) failed"
echo "checked: $E2E_CHECKED rekey soak checks passed"
