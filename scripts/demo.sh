#!/usr/bin/env bash
# `make demo`: install what is missing, build, then show pqlan working: a
# relay and two nodes in network namespaces, ping and a short iperf3
# across the tunnel, `pqlan status`, and the crypto benchmark. Everything
# it creates (namespaces, processes, temporary files) is removed at the
# end, also on failure or Ctrl-C. Needs root.
#
#        ns relay: pqlan relay 192.168.241.1:7443 on bridge br0
#            +--------------- br0 ---------------+
#            | veth                         veth |
#   ns alice: eth0 192.168.241.11     ns bob: eth0 192.168.241.12
#             pq0  10.77.0.1/24  <== sealed ==>  pq0  10.77.0.2/24
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
build=${BUILD:-build}   # `make demo BUILD=dir` builds and runs that one
./scripts/install-deps.sh
make -j"$(nproc)" BUILD="$build" all

PQLAN=$(cd "$build" && pwd)/pqlan
. "$top/tests/e2e/lib.sh"
E2E_PREFIX=pqdemo$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM
[ "$(id -u)" -eq 0 ] || e2e_die "make demo needs root (network namespaces, TAP devices)"

step() { printf '\n== %s ==\n' "$*"; }
e2e_tmpdir
dir=$E2E_TMP

step "network namespaces: relay, alice, bob on 192.168.241.0/24"
e2e_netns relay; ns_relay=$REPLY
ip -n "$ns_relay" link add br0 type bridge
ip -n "$ns_relay" addr add 192.168.241.1/24 dev br0
ip -n "$ns_relay" link set br0 up
declare -A ns pub
names=(alice bob)
for i in 1 2; do
	n=${names[$((i - 1))]}
	e2e_netns "$n"; ns[$n]=$REPLY
	ip -n "$ns_relay" link add "vn$i" type veth peer name eth0 netns "${ns[$n]}"
	ip -n "$ns_relay" link set "vn$i" master br0 up
	ip -n "${ns[$n]}" addr add "192.168.241.1$i/24" dev eth0
	ip -n "${ns[$n]}" link set eth0 up
done

step "keys (pqlan genkey | pqlan pubkey)"
e2e_genkey "$dir/relay.key"; relay_pub=$REPLY
for n in alice bob; do
	e2e_genkey "$dir/$n.key"; pub[$n]=$REPLY
	echo "$n: ${pub[$n]}"
done
echo "relay: $relay_pub"
printf '[relay]\nprivate_key = %s\nlisten = 192.168.241.1:7443\nallow = %s\nallow = %s\n' \
	"$dir/relay.key" "${pub[alice]}" "${pub[bob]}" >"$dir/relay.conf"
node_conf() { # node_conf NAME N PEER
	printf '[node]\nprivate_key = %s\ntap = pq0\naddress = 10.77.0.%s/24\nlisten = 192.168.241.1%s:0\ncontrol = %s\n\n' \
		"$dir/$1.key" "$2" "$2" "$dir/$1.sock"
	printf '[relay]\nurl = wss://192.168.241.1:7443/\nkey = %s\n\n[peer]\nname = %s\nkey = %s\n' \
		"$relay_pub" "$3" "${pub[$3]}"
}
node_conf alice 1 bob >"$dir/alice.conf"
node_conf bob 2 alice >"$dir/bob.conf"
echo; echo "alice's node.conf:"; sed 's/^/    /' "$dir/alice.conf"

step "pqlan relay, then pqlan up on alice and bob"
e2e_bg "$ns_relay" "$dir/relay.log" "$PQLAN" relay -c "$dir/relay.conf"
relay_listening() { ip netns exec "$ns_relay" ss -Hltn 'sport = :7443' | grep -q 7443; }
e2e_until 10 relay_listening || e2e_die "the relay did not start listening"
for n in alice bob; do
	e2e_bg "${ns[$n]}" "$dir/$n.log" "$PQLAN" up -c "$dir/$n.conf"
done
up() {
	ip netns exec "${ns[alice]}" "$PQLAN" status -c "$dir/alice.conf" --json >"$dir/st.json" &&
		e2e_json "$dir/st.json" "j['peers'][0]['state'] == 'established'"
}
e2e_until 30 up || e2e_die "alice and bob did not establish a session within 30 s"
sed 's/^/    /' "$dir/alice.log"

step "ping bob from alice, across the tunnel"
ip netns exec "${ns[alice]}" ping -c 3 -W 2 10.77.0.2

step "iperf3, alice -> bob, 3 s"
e2e_bg "${ns[bob]}" "$dir/iperf.log" iperf3 -s -1 -B 10.77.0.2
srv=$REPLY
listening() { ip netns exec "${ns[bob]}" ss -Hltn 'sport = :5201' | grep -q 5201; }
e2e_until 5 listening || e2e_die "iperf3 server did not start"
timeout 30 ip netns exec "${ns[alice]}" iperf3 -c 10.77.0.2 -t 3
e2e_stop "$srv" 20 || true

step "pqlan status (alice)"
ip netns exec "${ns[alice]}" "$PQLAN" status -c "$dir/alice.conf"
echo
ip netns exec "${ns[alice]}" "$PQLAN" status -c "$dir/alice.conf" --json

step "pqlan bench"
"$PQLAN" bench

step "cleaning up"
