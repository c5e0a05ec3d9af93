# lib.sh - helpers for the network-namespace end-to-end tests (sourced).
#
# Everything a test creates is recorded so that e2e_cleanup (run it from
# `trap e2e_cleanup EXIT`) removes it again, on success and on failure:
# processes are killed by PID (never by name), namespaces are deleted,
# the temporary directory is removed. Every wait is bounded.
#
# PQ_E2E_LOGS=1 prints the tail of every log at the end even on success;
# PQ_E2E_KEEP=DIR copies the whole temporary directory (logs, status
# files, stream results) to DIR before it is removed.
#
# Namespaces are named <prefix>-<name> with a per-run prefix, so two runs
# (or a run and a left-over) never touch each other's.

E2E_PIDS=()
E2E_NETNS=()
E2E_PREFIX=pqe$$
E2E_TMP=
E2E_FAILS=0
E2E_CHECKED=0

e2e_log() { printf '%s\n' "$*" >&2; }

# Record a passed check / a failure (the test goes on, and fails at the end).
e2e_ok() { E2E_CHECKED=$((E2E_CHECKED + 1)); printf 'checked: %s\n' "$*"; }
e2e_bad() { E2E_FAILS=$((E2E_FAILS + 1)); printf 'FAIL: %s\n' "$*"; }
# Stop at once: something the rest of the test needs did not happen.
e2e_die() { printf 'FAIL: %s\n' "$*"; exit 1; }

e2e_cleanup() {
	local status=$? pid ns
	set +e
	for pid in "${E2E_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${E2E_PIDS[@]}"; do
		e2e_wait_pid "$pid" 50 || kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${E2E_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if { [ "$status" -ne 0 ] || [ -n "${PQ_E2E_LOGS:-}" ]; } && [ -n "$E2E_TMP" ]; then
		for log in "$E2E_TMP"/*.log; do
			[ -f "$log" ] || continue
			echo "---- last lines of $(basename "$log") ----"
			tail -n 15 "$log"
		done
	fi
	[ -n "${PQ_E2E_KEEP:-}" ] && [ -n "$E2E_TMP" ] && mkdir -p "$PQ_E2E_KEEP" && cp -r "$E2E_TMP"/. "$PQ_E2E_KEEP"/
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
	exit "$status"
}

# e2e_wait_pid PID TENTHS: wait at most TENTHS/10 s for PID to exit.
e2e_wait_pid() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

# e2e_until SECONDS CMD...: run CMD every 0.2 s until it succeeds; false
# if it did not within SECONDS.
e2e_until() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

e2e_tmpdir() {
	E2E_TMP=$(mktemp -d /tmp/pqe2e.XXXXXX) || e2e_die "mktemp failed"
}

# e2e_netns NAME: a namespace <prefix>-NAME with lo up; its full name in $REPLY.
e2e_netns() {
	REPLY=$E2E_PREFIX-$1
	ip netns add "$REPLY" || e2e_die "ip netns add $REPLY"
	E2E_NETNS+=("$REPLY")
	ip -n "$REPLY" link set lo up
}

# e2e_bg NS LOG CMD...: start CMD in NS with output in LOG; PID in $REPLY.
# `ip netns exec` execs CMD, so the PID is CMD's own.
e2e_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	REPLY=$!
	E2E_PIDS+=("$REPLY")
}

# e2e_stop PID [TENTHS]: SIGTERM and wait (default 5 s); false if it had
# to be killed. Its exit status is in $REPLY.
e2e_stop() {
	local pid=$1 tenths=${2:-50}
	kill -TERM "$pid" 2>/dev/null
	if e2e_wait_pid "$pid" "$tenths"; then
		wait "$pid" 2>/dev/null
		REPLY=$?
		return 0
	fi
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	REPLY=$?
	return 1
}

# e2e_genkey FILE: a private key file of mode 0600; public key in $REPLY.
e2e_genkey() {
	(umask 077 && "$PQLAN" genkey >"$1") || e2e_die "genkey failed"
	REPLY=$("$PQLAN" pubkey <"$1") || e2e_die "pubkey failed"
}

# e2e_json FILE PYEXPR: evaluate a python expression over the JSON in
# FILE (bound to j); exit status 0 when it is true.
e2e_json() {
	python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

# e2e_begin TOOL...: what every test does first: pqlan from $PQ_BUILD (in
# $PQLAN), e2e_cleanup on exit, e2e_preflight TOOL..., the temporary
# directory ($E2E_TMP, also in $dir).
e2e_begin() {
	PQLAN=$(cd "${PQ_BUILD:?PQ_BUILD not set}" && pwd)/pqlan
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
	e2e_preflight "$@"
	e2e_tmpdir
	dir=$E2E_TMP
}

# e2e_preflight TOOL...: stop unless root, pqlan built, TOOLs and a TUN device.
e2e_preflight() {
	local tool
	[ "$(id -u)" -eq 0 ] || e2e_die "needs root (network namespaces, TAP devices)"
	[ -x "$PQLAN" ] || e2e_die "$PQLAN not built"
	for tool in "$@"; do
		command -v "$tool" >/dev/null || e2e_die "$tool not installed (scripts/install-deps.sh)"
	done
	[ -c /dev/net/tun ] || e2e_die "/dev/net/tun missing (modprobe tun)"
}

# ---- a relay and nodes on one bridge (the tests' shared topology) ------------
# These helpers set and read the caller's globals, named as in every test:
# relay_ip, relay_port, ns_relay, ns[I], pub[I], relay_pub, relay_pid,
# node_pid[I]; files go to $E2E_TMP (nI.key, nI.conf, nI.sock, statusI.json).

# e2e_underlay NET VETH NODE...: ns relay with bridge br0 at NET.1/24 (in
# $ns_relay); per NODE I a namespace nI (in ns[I]) whose eth0, NET.1I/24,
# is veth VETH<I> on br0.
e2e_underlay() {
	local net=$1 veth=$2 i
	shift 2
	e2e_netns relay; ns_relay=$REPLY
	ip -n "$ns_relay" link add br0 type bridge
	ip -n "$ns_relay" addr add "$net.1/24" dev br0
	ip -n "$ns_relay" link set br0 up
	declare -gA ns node_pid
	for i in "$@"; do
		e2e_netns "n$i"; ns[$i]=$REPLY
		ip -n "$ns_relay" link add "$veth$i" type veth peer name eth0 netns "${ns[$i]}"
		ip -n "$ns_relay" link set "$veth$i" master br0 up
		ip -n "${ns[$i]}" addr add "$net.1$i/24" dev eth0
		ip -n "${ns[$i]}" link set eth0 up
	done
}

# e2e_keys NODE...: relay.key ($relay_pub), nI.key (pub[I]); relay.conf
# listening on $relay_ip:$relay_port.
e2e_keys() {
	local i
	declare -gA pub
	e2e_genkey "$E2E_TMP/relay.key"; relay_pub=$REPLY
	for i in "$@"; do
		e2e_genkey "$E2E_TMP/n$i.key"; pub[$i]=$REPLY
	done
	printf '[relay]\nprivate_key = %s\nlisten = %s:%s\n' "$E2E_TMP/relay.key" "$relay_ip" "$relay_port" \
		>"$E2E_TMP/relay.conf"
}

# e2e_node_conf I OVERLAY LISTEN PEERS [LINE...]: nI.conf (mode 0600): tap
# pq0 at OVERLAY.I/24, listen LISTEN, each LINE added to [node], the relay,
# one [peer] per node number in PEERS (space separated).
e2e_node_conf() {
	local i=$1 overlay=$2 listen=$3 peers=$4 line p conf=$E2E_TMP/n$1.conf
	shift 4
	{
		printf '[node]\nprivate_key = %s\ntap = pq0\naddress = %s.%s/24\n' "$E2E_TMP/n$i.key" "$overlay" "$i"
		printf 'listen = %s\ncontrol = %s\n' "$listen" "$E2E_TMP/n$i.sock"
		for line in "$@"; do
			printf '%s\n' "$line"
		done
		printf '\n[relay]\nurl = wss://%s:%s/\nkey = %s\n' "$relay_ip" "$relay_port" "$relay_pub"
		for p in $peers; do
			printf '\n[peer]\nname = n%s\nkey = %s\n' "$p" "${pub[$p]}"
		done
	} >"$conf"
	chmod 600 "$conf"
}

# e2e_start_relay [LOGTAG]: the relay in $ns_relay ($relay_pid).
e2e_start_relay() {
	e2e_bg "$ns_relay" "$E2E_TMP/relay${1:-}.log" "$PQLAN" relay -c "$E2E_TMP/relay.conf"
	relay_pid=$REPLY
}

# e2e_start_node I [LOGTAG [PREFIX...]]: `pqlan up` for node I, run under
# PREFIX (e.g. env VAR=...), log nI<LOGTAG>.log (node_pid[I]).
e2e_start_node() {
	local i=$1 tag=${2:-}
	shift $(($# < 2 ? $# : 2))
	e2e_bg "${ns[$i]}" "$E2E_TMP/n$i$tag.log" "$@" "$PQLAN" up -c "$E2E_TMP/n$i.conf"
	node_pid[$i]=$REPLY
}

# e2e_stop_each PID...: SIGTERM each; $stopped counts those that exited 0.
e2e_stop_each() {
	local pid
	stopped=0
	for pid in "$@"; do
		if e2e_stop "$pid" && [ "$REPLY" -eq 0 ]; then
			stopped=$((stopped + 1))
		else
			e2e_bad "process $pid: exit status $REPLY"
		fi
	done
}

# status_json I: node I's `pqlan status --json` into statusI.json.
status_json() {
	ip netns exec "${ns[$1]}" "$PQLAN" status -c "$E2E_TMP/n$1.conf" --json >"$E2E_TMP/status$1.json"
}
# peer_is I PYEXPR: node I's only peer (bound to p) satisfies PYEXPR.
peer_is() {
	status_json "$1" || return 1
	e2e_json "$E2E_TMP/status$1.json" "len(j['peers']) == 1 and (lambda p: $2)(j['peers'][0])"
}
both_are() { peer_is 1 "$1" && peer_is 2 "$1"; }
on_path() { both_are "p['state'] == 'established' and p['path'] == '$1'"; }
# field I NAME: NAME of node I's first peer in the last statusI.json.
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peers"][0][sys.argv[2]])' "$E2E_TMP/status$1.json" "$2"; }
