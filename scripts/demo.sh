#!/usr/bin/env bash
# `make demo`: install what is missing, build, then show pqlan working: a
# relay and two nodes in network namespaces. alice and bob cannot reach
# each other at first (a blackhole route each way; the relay stays
# reachable), so the session starts on the relay: `pqlan status`, ping.
# Then the routes go: at the next retry (retry_interval 2 s) the nodes dial
# each other (mutual TLS, pinned keys), run the re-handshake on that
# connection and move to the direct path: `pqlan status` again (path:
# direct, the re-handshake's duration), ping and a short iperf3 on the
# direct path, and the crypto benchmark. Everything it creates
# (namespaces, processes, temporary files) is removed at the end, also on
# failure or Ctrl-C. Needs root. About 15 s after the build.
#
#        ns relay: pqlan relay 192.168.241.1:7443 on bridge br0
#            +--------------- br0 ---------------+
#            | veth                         veth |
#   ns alice: eth0 192.168.241.11:7444   ns bob: eth0 192.168.241.12:7444 (direct listeners)
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
	# listen: the direct-path listener (a port other than 0); the nodes
	# send each other this address, sealed, once the session is up.
	# retry_interval 2 s so the first direct dial is not a minute away.
	printf '[node]\nprivate_key = %s\ntap = pq0\naddress = 10.77.0.%s/24\nlisten = 192.168.241.1%s:7444\n' \
		"$dir/$1.key" "$2" "$2"
	printf 'control = %s\nretry_interval = 2\n\n' "$dir/$1.sock"
	printf '[relay]\nurl = wss://192.168.241.1:7443/\nkey = %s\n\n[peer]\nname = %s\nkey = %s\n' \
		"$relay_pub" "$3" "${pub[$3]}"
}
node_conf alice 1 bob >"$dir/alice.conf"
node_conf bob 2 alice >"$dir/bob.conf"
echo; echo "alice's node.conf:"; sed 's/^/    /' "$dir/alice.conf"

step "blocking alice <-> bob on the underlay (blackhole routes; the relay stays reachable)"
block() { # block add|del
	ip -n "${ns[alice]}" route "$1" blackhole 192.168.241.12/32 &&
		ip -n "${ns[bob]}" route "$1" blackhole 192.168.241.11/32
}
block add
echo "ip -n ${ns[alice]} route add blackhole 192.168.241.12/32   (and the reverse in bob)"

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

# path_is P: alice's peer is established on path P (relay / direct).
path_is() {
	ip netns exec "${ns[alice]}" "$PQLAN" status -c "$dir/alice.conf" --json >"$dir/st.json" &&
		e2e_json "$dir/st.json" "j['peers'][0]['state'] == 'established' and j['peers'][0]['path'] == '$1'"
}
step "pqlan status (alice): established, path: relay"
path_is relay || e2e_die "expected path relay while blocked: $(cat "$dir/st.json")"
ip netns exec "${ns[alice]}" "$PQLAN" status -c "$dir/alice.conf"
ip netns exec "${ns[alice]}" ping -c 2 -W 2 10.77.0.2 | grep -E 'bytes from|packet loss'

step "unblocking; waiting for the direct path (dial, mutual TLS, re-handshake on it)"
block del
t0=$SECONDS
e2e_until 20 path_is direct || e2e_die "alice and bob did not move to the direct path within 20 s"
echo "direct after $((SECONDS - t0)) s; from the logs:"
grep -h "direct" "$dir/alice.log" "$dir/bob.log" | sed 's/^/    /'

step "pqlan status (alice), on the direct path"
ip netns exec "${ns[alice]}" "$PQLAN" status -c "$dir/alice.conf"
echo
ip netns exec "${ns[alice]}" "$PQLAN" status -c "$dir/alice.conf" --json
python3 -c 'import json,sys
p = json.load(open(sys.argv[1]))["peers"][0]
print("path: %s  endpoint: %s  re-handshake took %s us  migrations %s  rehandshakes %s" % (
    p["path"], p["endpoint"], p["last_rehandshake_us"], p["migrations"], p["rehandshakes"]))' "$dir/st.json"

step "ping bob from alice, on the direct path"
ip netns exec "${ns[alice]}" ping -c 3 -W 2 10.77.0.2

step "iperf3, alice -> bob on the direct path, 3 s"
e2e_bg "${ns[bob]}" "$dir/iperf.log" iperf3 -s -1 -B 10.77.0.2
srv=$REPLY
listening() { ip netns exec "${ns[bob]}" ss -Hltn 'sport = :5201' | grep -q 5201; }
e2e_until 5 listening || e2e_die "iperf3 server did not start"
timeout 30 ip netns exec "${ns[alice]}" iperf3 -c 10.77.0.2 -t 3
e2e_stop "$srv" 20 || true
path_is direct && echo "(still path: direct after iperf3)" || e2e_die "not on the direct path after iperf3"

step "pqlan bench"
"$PQLAN" bench

step "cleaning up"
