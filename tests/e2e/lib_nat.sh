# lib_nat.sh - an "internet" with home-router NATs for the end-to-end
# tests (sourced after tests/e2e/lib.sh; uses its per-run namespace
# prefix, cleanup and bounded waits).
#
#                         ns inet: bridge br0 = "the internet" 203.0.113.0/24
#     +-------------------------+--------------------------+----------------+
#     | vrelay                  | v1                       | v2             |
#  ns relay                  ns r1 (router)              ns n2 (public)
#  eth0 203.0.113.1/24       wan 203.0.113.11/24         eth0 203.0.113.12/24
#  (pqlan relay, STUN        nft: masquerade on wan,
#   on :3478 and :3479)      forward lan->wan + established/related,
#                            input: drop unsolicited from wan
#                            lan 192.168.11.1/24
#                              |
#                            ns n1: eth0 192.168.11.2/24, default via .1
#
#   e2e_nat_underlay 1:nat 2:public     (the drawing above)
#
# Node specs, I:KIND, I in 1-9:
#   public            nI directly on the internet at 203.0.113.1I
#   nat               nI behind router rI (public 203.0.113.1I, LAN
#                     192.168.1I.0/24, nI at .2): `masquerade`, which
#                     keeps the node's source port when it is free, the
#                     same port for every destination (endpoint-
#                     independent mapping); filtering is conntrack's
#                     (address and port dependent): only replies come in
#   nat-random        `masquerade random,fully-random`: a new random port
#                     per destination (endpoint-dependent mapping); hole
#                     punching between two of these cannot work
#   nat-udpdrop       nat, and the router forwards no UDP at all
#   nat-random-udpdrop  both
# Every router drops in its input hook what arrives unsolicited on wan
# (counted: e2e_nat_wan_drops), as home routers do: a packet it accepted
# there would be confirmed in conntrack and take the public port that the
# node's mapping needs, so masquerade would pick another one.
#
# Globals set (the names lib.sh's helpers read): relay_ip (203.0.113.1),
# ns_relay, ns_inet, ns[I] (the node's namespace), ns_router[I] (empty for
# public nodes), node_ip[I] (the node's own address), public_ip[I] (where
# the internet sees it: its router's wan, or node_ip).
#
# Helpers for one router I (nat nodes only):
#   e2e_nat_reconfigure I KIND     load KIND's rules (flags as above)
#   e2e_nat_udp_timeout I UNREPLIED [STREAM]  conntrack UDP timeouts, s
#   e2e_nat_flush I                drop every conntrack entry (mappings)
#   e2e_nat_rebind I [udp]         flush, and move masquerade to another
#                                  port range: the next datagram out gets
#                                  a new public port (a NAT rebinding);
#                                  udp: UDP only (its mappings flushed and
#                                  moved, TCP connections kept)
#   e2e_nat_conntrack_count I      UDP conntrack entries now, in $REPLY
#   e2e_nat_wan_drops I            packets dropped unsolicited on wan, in $REPLY
#   e2e_nat_mtu I MTU              the uplink carries at most MTU-byte packets
# Tools: ip, nft, conntrack, sysctl (scripts/install-deps.sh).

E2E_NAT_NET=203.0.113
declare -gA ns ns_router node_ip public_ip nat_kind nat_range nat_protos

# e2e_nat_preflight: the tools this file needs (die if missing).
e2e_nat_preflight() {
	local tool
	for tool in ip nft conntrack sysctl; do
		command -v "$tool" >/dev/null || e2e_die "$tool not installed (scripts/install-deps.sh)"
	done
}

# _nat_link_up NS IF ADDR: address and up.
_nat_link_up() {
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" link set "$2" up
}

# _nat_rules KIND RANGE [PROTOS]: the router's ruleset on stdout. RANGE:
# empty, or a masquerade port range (e2e_nat_rebind) for PROTOS (default
# "tcp, udp").
_nat_rules() {
	local kind=$1 range=$2 protos=${3:-tcp, udp} flags= masq udp=
	case "-$kind-" in *-random-*) flags=" random,fully-random" ;; esac
	case "-$kind-" in *-udpdrop-*) udp='meta l4proto udp counter drop comment "udp=drop"' ;; esac
	masq="oifname \"wan\" masquerade$flags"
	# A port range needs a protocol with ports; the rest (ICMP) as usual.
	[ -n "$range" ] && masq="oifname \"wan\" meta l4proto { $protos } masquerade to :$range$flags
		$masq"
	cat <<EOF
flush ruleset
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		$masq
	}
}
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		$udp
		ct state established,related accept
		iifname "lan" oifname "wan" accept
	}
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname { "lo", "lan" } accept
		iifname "wan" counter drop comment "unsolicited"
	}
}
EOF
}

# e2e_nat_reconfigure I KIND: load KIND's rules into router I (the
# conntrack table is left alone: existing mappings stay).
e2e_nat_reconfigure() {
	local i=$1 kind=$2
	case "$kind" in
	nat | nat-random | nat-udpdrop | nat-random-udpdrop) ;;
	*) e2e_die "e2e_nat: router $i: unknown NAT kind '$kind'" ;;
	esac
	[ -n "${ns_router[$i]:-}" ] || e2e_die "e2e_nat: node $i has no router"
	_nat_rules "$kind" "${nat_range[$i]:-}" "${nat_protos[$i]:-}" | ip netns exec "${ns_router[$i]}" nft -f - ||
		e2e_die "e2e_nat: nft rules for router $i"
	nat_kind[$i]=$kind
}

# _nat_public I: node I directly on the internet.
_nat_public() {
	local i=$1
	e2e_netns "n$i"; ns[$i]=$REPLY
	ns_router[$i]=
	ip -n "$ns_inet" link add "v$i" type veth peer name eth0 netns "${ns[$i]}"
	ip -n "$ns_inet" link set "v$i" master br0 up
	node_ip[$i]=$E2E_NAT_NET.1$i
	public_ip[$i]=${node_ip[$i]}
	_nat_link_up "${ns[$i]}" eth0 "${node_ip[$i]}/24"
}

# _nat_router I KIND: router rI on the internet, node nI behind it.
_nat_router() {
	local i=$1 kind=$2 r n
	e2e_netns "r$i"; r=$REPLY; ns_router[$i]=$r
	e2e_netns "n$i"; n=$REPLY; ns[$i]=$n
	ip -n "$ns_inet" link add "v$i" type veth peer name wan netns "$r"
	ip -n "$ns_inet" link set "v$i" master br0 up
	ip -n "$r" link add lan type veth peer name eth0 netns "$n"
	public_ip[$i]=$E2E_NAT_NET.1$i
	node_ip[$i]=192.168.1$i.2
	_nat_link_up "$r" wan "${public_ip[$i]}/24"
	_nat_link_up "$r" lan "192.168.1$i.1/24"
	_nat_link_up "$n" eth0 "${node_ip[$i]}/24"
	ip -n "$n" route add default via "192.168.1$i.1"
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 || e2e_die "e2e_nat: ip_forward in $r"
	nat_range[$i]=
	e2e_nat_reconfigure "$i" "$kind"
}

# e2e_nat_underlay SPEC...: the internet, the relay, and one node per SPEC
# (I:public, I:nat, I:nat-random, I:nat-udpdrop, I:nat-random-udpdrop).
e2e_nat_underlay() {
	local spec i kind
	e2e_nat_preflight
	e2e_netns inet; ns_inet=$REPLY
	ip -n "$ns_inet" link add br0 type bridge
	ip -n "$ns_inet" link set br0 up
	e2e_netns relay; ns_relay=$REPLY
	relay_ip=$E2E_NAT_NET.1
	ip -n "$ns_inet" link add vrelay type veth peer name eth0 netns "$ns_relay"
	ip -n "$ns_inet" link set vrelay master br0 up
	_nat_link_up "$ns_relay" eth0 "$relay_ip/24"
	for spec in "$@"; do
		i=${spec%%:*} kind=${spec#*:}
		case "$i" in [1-9]) ;; *) e2e_die "e2e_nat_underlay: node number '$i' in '$spec', expected 1-9" ;; esac
		if [ "$kind" = public ]; then
			_nat_public "$i"
		else
			_nat_router "$i" "$kind"
		fi
	done
}

_nat_need_router() {
	[ -n "${ns_router[$1]:-}" ] || e2e_die "e2e_nat: node $1 has no router"
}

# e2e_nat_udp_timeout I UNREPLIED [STREAM]: conntrack's UDP timeouts in
# router I, seconds (kernel defaults 30 and 120): how long a mapping lives
# without traffic, before and after a reply was seen.
e2e_nat_udp_timeout() {
	_nat_need_router "$1"
	ip netns exec "${ns_router[$1]}" sysctl -qw "net.netfilter.nf_conntrack_udp_timeout=$2" \
		"net.netfilter.nf_conntrack_udp_timeout_stream=${3:-$2}" ||
		e2e_die "e2e_nat: conntrack timeouts in router $1"
}

# e2e_nat_flush I: forget every mapping of router I (conntrack -F in its
# namespace). The next datagram out maps again; with plain masquerade it
# usually gets the same public port (e2e_nat_rebind changes it).
e2e_nat_flush() {
	_nat_need_router "$1"
	ip netns exec "${ns_router[$1]}" conntrack -F >/dev/null 2>&1 ||
		e2e_die "e2e_nat: conntrack -F in router $1"
}

# e2e_nat_rebind I [udp]: a NAT rebinding: router I forgets its mappings
# and masquerades into another port range (alternately 20000-29999 and
# 30000-39999), so the node's next datagram out leaves from a new public
# port. udp: only the UDP mappings (what a UDP timeout does while TCP
# connections live on); existing TCP mappings stay (conntrack keeps the
# NAT it chose), new TCP connections get plain masquerade.
e2e_nat_rebind() {
	_nat_need_router "$1"
	case "${nat_range[$1]:-}" in
	20000-29999) nat_range[$1]=30000-39999 ;;
	*) nat_range[$1]=20000-29999 ;;
	esac
	if [ "${2:-}" = udp ]; then
		nat_protos[$1]=udp
		e2e_nat_reconfigure "$1" "${nat_kind[$1]}"
		ip netns exec "${ns_router[$1]}" conntrack -D -p udp >/dev/null 2>&1 || true
		return
	fi
	nat_protos[$1]=
	e2e_nat_reconfigure "$1" "${nat_kind[$1]}"
	e2e_nat_flush "$1"
}

# e2e_nat_conntrack_count I: UDP conntrack entries in router I ($REPLY).
e2e_nat_conntrack_count() {
	_nat_need_router "$1"
	REPLY=$(ip netns exec "${ns_router[$1]}" conntrack -L -p udp 2>/dev/null | grep -c '^udp') || true
}

# e2e_nat_wan_drops I: packets router I dropped in its input hook because
# they came unsolicited from the internet ($REPLY).
e2e_nat_wan_drops() {
	_nat_need_router "$1"
	REPLY=$(ip netns exec "${ns_router[$1]}" nft list chain inet filter input |
		sed -n 's/.*iifname "wan" counter packets \([0-9]*\) .*/\1/p')
	[ -n "$REPLY" ] || e2e_die "e2e_nat: no wan drop counter in router $1"
}

# e2e_nat_mtu I MTU: router I's uplink carries packets of at most MTU
# bytes (a PPPoE or tunnelled uplink): larger ones with "don't fragment"
# that the router forwards towards the internet are dropped there (with an
# ICMP error that our UDP socket does not use). Towards the node the
# emulation is leaky: veth and bridge let GSO packets through whatever
# their size. The router clamps TCP's MSS to its route as home routers
# do; UDP has no such help (proto/pmtu.h).
e2e_nat_mtu() {
	local i=$1 mtu=$2
	[ -n "${ns_router[$i]:-}" ] || e2e_die "e2e_nat: node $i has no router"
	ip -n "${ns_router[$i]}" link set wan mtu "$mtu" || e2e_die "e2e_nat: router $i: mtu $mtu"
	ip netns exec "${ns_router[$i]}" nft insert rule inet filter forward \
		'tcp flags & (syn | rst) == syn tcp option maxseg size set rt mtu' ||
		e2e_die "e2e_nat: router $i: MSS clamping"
}
