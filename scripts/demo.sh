#!/usr/bin/env bash
# `make demo`: install what is missing, build, then show pqlan working: a
# relay on a small "internet" and two nodes, alice and bob, each behind its
# own home router (nft masquerade: one public address, inbound dropped;
# tests/e2e/lib_nat.sh). Neither node can accept a connection, so at first
# they meet through the relay: `pqlan status` (path relay), ping. The two
# routers are kept from reaching each other until then (a blackhole route
# in each; both still reach the relay). Once that goes, at the next retry
# (retry_interval 2 s) the nodes punch holes through both NATs with UDP
# datagrams to the public addresses the relay's STUN told them, prove the
# session keys on that path (re-handshake) and move to it: `pqlan status`
# (path direct, transport udp, each node's NAT type and public mapping),
# ping and a short iperf3 on the direct path, and the crypto benchmark.
# Everything it creates (namespaces, processes, temporary files) is
# removed at the end, also on failure or Ctrl-C. Needs root. About 15 s
# after the build.
#
#                  ns inet: bridge "the internet" 203.0.113.0/24
#       +-------------------------+------------------------------+
#    relay 203.0.113.1       router r1 203.0.113.11        router r2 203.0.113.12
#    pqlan relay :7443,      (NAT) lan 192.168.11.0/24     (NAT) lan 192.168.12.0/24
#    STUN :3478/:3479          alice (ns n1) .2:7444         bob (ns n2) .2:7444
#                              pq0 10.77.0.1/24  <== sealed ==>  pq0 10.77.0.2/24
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
build=${BUILD:-build}   # `make demo BUILD=dir` builds and runs that one
./scripts/install-deps.sh
make -j"$(nproc)" BUILD="$build" all

PQLAN=$(cd "$build" && pwd)/pqlan
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/lib_nat.sh"
E2E_PREFIX=pqdemo$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM
[ "$(id -u)" -eq 0 ] || e2e_die "make demo needs root (network namespaces, TAP devices)"

step() { printf '\n== %s ==\n' "$*"; }
e2e_tmpdir
dir=$E2E_TMP
names=(alice bob)   # alice is node 1 (ns n1, router r1), bob node 2

step "network namespaces: the internet 203.0.113.0/24, the relay, alice and bob behind their NAT routers"
e2e_nat_underlay 1:nat 2:nat
for i in 1 2; do
	echo "${names[$((i - 1))]}: ${node_ip[$i]} in ${ns[$i]}, behind ${ns_router[$i]} (seen on the internet as ${public_ip[$i]})"
done
echo "relay: $relay_ip in $ns_relay"

step "keys (pqlan genkey | pqlan pubkey)"
declare -A pub
e2e_genkey "$dir/relay.key"; relay_pub=$REPLY
for n in alice bob; do
	e2e_genkey "$dir/$n.key"; pub[$n]=$REPLY
	echo "$n: ${pub[$n]}"
done
echo "relay: $relay_pub"
# The relay also answers STUN on 203.0.113.1:3478 and :3479 (its default).
printf '[relay]\nprivate_key = %s\nlisten = %s:7443\nallow = %s\nallow = %s\n' \
	"$dir/relay.key" "$relay_ip" "${pub[alice]}" "${pub[bob]}" >"$dir/relay.conf"
node_conf() { # node_conf NAME N PEER
	# listen: TLS and (listen_udp's default) the UDP socket on port 7444.
	# No address to give the peer: each node learns its public UDP
	# mapping from the relay's STUN and sends it, sealed, once the
	# session is up. retry_interval 2 s: the next direct attempt is soon.
	printf '[node]\nprivate_key = %s\ntap = pq0\naddress = 10.77.0.%s/24\nlisten = 0.0.0.0:7444\n' \
		"$dir/$1.key" "$2"
	printf 'control = %s\nretry_interval = 2\n\n' "$dir/$1.sock"
	printf '[relay]\nurl = wss://%s:7443/\nkey = %s\n\n[peer]\nname = %s\nkey = %s\n' \
		"$relay_ip" "$relay_pub" "$3" "${pub[$3]}"
}
node_conf alice 1 bob >"$dir/alice.conf"
node_conf bob 2 alice >"$dir/bob.conf"
chmod 600 "$dir/alice.conf" "$dir/bob.conf"
echo; echo "alice's node.conf:"; sed 's/^/    /' "$dir/alice.conf"

step "keeping the two routers from reaching each other for now (blackhole routes; the relay stays reachable)"
block() { # block add|del
	ip -n "${ns_router[1]}" route "$1" blackhole "${public_ip[2]}/32" &&
		ip -n "${ns_router[2]}" route "$1" blackhole "${public_ip[1]}/32"
}
block add
echo "ip -n ${ns_router[1]} route add blackhole ${public_ip[2]}/32   (and the reverse in ${ns_router[2]})"

step "pqlan relay, then pqlan up on alice and bob"
e2e_start_relay
relay_listening() { ip netns exec "$ns_relay" ss -Hltn 'sport = :7443' | grep -q 7443; }
e2e_until 10 relay_listening || e2e_die "the relay did not start listening"
declare -A conf=([1]=$dir/alice.conf [2]=$dir/bob.conf)
for i in 1 2; do
	e2e_bg "${ns[$i]}" "$dir/${names[$((i - 1))]}.log" "$PQLAN" up -c "${conf[$i]}"
done
# status I: node I's `pqlan status --json` into stI.json.
status() { ip netns exec "${ns[$1]}" "$PQLAN" status -c "${conf[$1]}" --json >"$dir/st$1.json"; }
# peer_is I PYEXPR: node I's peer (bound to p) satisfies PYEXPR.
peer_is() { status "$1" && e2e_json "$dir/st$1.json" "(lambda p: $2)(j['peers'][0])"; }
# stunned I: node I knows its public UDP mapping (the relay's STUN answered).
stunned() { status "$1" && e2e_json "$dir/st$1.json" "j['node']['udp']['reflexive'] is not None"; }
e2e_until 30 peer_is 1 "p['state'] == 'established'" || e2e_die "alice and bob did not establish a session within 30 s"
e2e_until 10 stunned 1 && e2e_until 10 stunned 2 || e2e_die "no answer from the relay's STUN: $(cat "$dir/st1.json")"
sed 's/^/    /' "$dir/alice.log"

step "pqlan status (alice): established, path: relay"
peer_is 1 "p['path'] == 'relay'" || e2e_die "expected path relay while the routers are blocked: $(cat "$dir/st1.json")"
ip netns exec "${ns[1]}" "$PQLAN" status -c "${conf[1]}"
ip netns exec "${ns[1]}" ping -c 2 -W 2 10.77.0.2 | grep -E 'bytes from|packet loss'

step "unblocking; waiting for the direct path over UDP (punching through both NATs, re-handshake on it)"
block del
t0=$SECONDS
udp_direct() { peer_is "$1" "p['state'] == 'established' and p['path'] == 'direct' and p['transport'] == 'udp'"; }
e2e_until 20 udp_direct 1 && e2e_until 5 udp_direct 2 ||
	e2e_die "alice and bob did not move to the direct UDP path within 20 s: $(cat "$dir/st1.json")"
echo "direct over UDP after $((SECONDS - t0)) s; from the logs:"
grep -h -e ': path ' -e 'direct dial' "$dir/alice.log" "$dir/bob.log" | sed 's/^/    /'
echo "(a TLS dial to the other's LAN address fails, as it must behind a NAT; the UDP datagrams get through."
echo " The side that started the UDP attempt counts its re-handshake from its first datagram, so its"
echo " figure includes the time the routers were kept apart; the other side's is the exchange itself.)"

step "pqlan status (alice), on the direct path"
ip netns exec "${ns[1]}" "$PQLAN" status -c "${conf[1]}"
echo
ip netns exec "${ns[1]}" "$PQLAN" status -c "${conf[1]}" --json
echo
echo "what each node learned from the relay's STUN, and where it reaches its peer:"
for i in 1 2; do
	python3 -c 'import json,sys
j = json.load(open(sys.argv[1])); u = j["node"]["udp"]; p = j["peers"][0]
print("  %-5s NAT %s, public mapping %s (LAN %s); %s at %s, path %s, transport %s" % (
    sys.argv[2], u["nat"], u["reflexive"], sys.argv[3], p["name"], p["endpoint"], p["path"], p["transport"]))' \
		"$dir/st$i.json" "${names[$((i - 1))]}" "${node_ip[$i]}:7444"
done

step "ping bob from alice, on the direct path"
ip netns exec "${ns[1]}" ping -c 3 -W 2 10.77.0.2

step "iperf3, alice -> bob on the direct UDP path through both NATs, 3 s"
e2e_bg "${ns[2]}" "$dir/iperf.log" iperf3 -s -1 -B 10.77.0.2
srv=$REPLY
listening() { ip netns exec "${ns[2]}" ss -Hltn 'sport = :5201' | grep -q 5201; }
e2e_until 5 listening || e2e_die "iperf3 server did not start"
timeout 30 ip netns exec "${ns[1]}" iperf3 -c 10.77.0.2 -t 3
e2e_stop "$srv" 20 || true
udp_direct 1 && echo "(still path: direct, transport: udp after iperf3)" ||
	e2e_die "not on the direct UDP path after iperf3: $(cat "$dir/st1.json")"

step "pqlan bench"
"$PQLAN" bench

step "cleaning up"
