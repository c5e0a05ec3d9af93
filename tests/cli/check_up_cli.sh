#!/usr/bin/env bash
# check_up_cli.sh - `pqlan up` and `pqlan status` refusals that must come
# before anything touches the network: a bad node.conf stops `up` with the
# loader's FILE:LINE message, a [peer] with the node's own key is refused,
# an unreadable or group-readable key is refused, and `status` without a
# running daemon fails with a clear message. No TAP is created by any of
# them (checked by name in a private network namespace when root, so the
# host's interfaces are never looked at or touched).
set -u
pqlan=${PQ_BUILD:?PQ_BUILD not set}/pqlan
fails=0 checked=0
tmp=$(mktemp -d) || exit 1
ns=pqcli$$
cleanup() {
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { checked=$((checked + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ -x "$pqlan" ] || { echo "FAIL: $pqlan not built"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (network namespace)"; exit 1; }
ip netns add "$ns" || { echo "FAIL: ip netns add"; exit 1; }

(umask 077 && "$pqlan" genkey >"$tmp/me.key" && "$pqlan" genkey >"$tmp/relay.key")
me=$("$pqlan" pubkey <"$tmp/me.key")
relay=$("$pqlan" pubkey <"$tmp/relay.key")
conf() { # conf NAME EXTRA: a node.conf with tap pqcli0, plus EXTRA lines
	printf '[node]\nprivate_key = %s\ntap = pqcli0\nlisten = 127.0.0.1:0\ncontrol = %s\n%s\n[relay]\nurl = wss://127.0.0.1:7443/\nkey = %s\n%s' \
		"${4:-$tmp/me.key}" "$tmp/ctl.sock" "$2" "$relay" "${3:-}" >"$tmp/$1.conf"
}

# expect_fail DESC PATTERN CMD...: exit status 1, PATTERN on stderr, no TAP.
expect_fail() {
	local desc=$1 pattern=$2 out rc
	shift 2
	out=$(timeout 10 ip netns exec "$ns" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq 1 ] && printf '%s' "$out" | grep -q -- "$pattern" &&
		! ip -n "$ns" link show pqcli0 >/dev/null 2>&1; then
		ok
	else
		bad "$desc: rc=$rc, stderr: $out"
	fi
}

conf unknown "bogus = 1"
expect_fail "unknown key" "unknown.conf:6: unknown key \"bogus\"" "$pqlan" up -c "$tmp/unknown.conf"
expect_fail "missing file" "no-such.conf" "$pqlan" up -c "$tmp/no-such.conf"
conf badpeer "" "[peer]
key = not-a-key
"
expect_fail "bad peer key" "badpeer.conf:1[0-9]:" "$pqlan" up -c "$tmp/badpeer.conf"
conf self "" "[peer]
name = me
key = $me
"
expect_fail "own key as a peer" "own key" "$pqlan" up -c "$tmp/self.conf"
cp "$tmp/me.key" "$tmp/open.key" && chmod 644 "$tmp/open.key"
conf openkey "" "" "$tmp/open.key"
expect_fail "group-readable key" "open.key" "$pqlan" up -c "$tmp/openkey.conf"
conf nokey "" "" "$tmp/missing.key"
expect_fail "missing key file" "missing.key" "$pqlan" up -c "$tmp/nokey.conf"

conf good ""
expect_fail "status without a daemon" "no daemon is listening on $tmp/ctl.sock" "$pqlan" status -c "$tmp/good.conf"
# A file being edited still names its socket: status asks it anyway.
expect_fail "status with a bad config" "unknown.conf does not load as it is; asking $tmp/ctl.sock" \
	"$pqlan" status -c "$tmp/unknown.conf"
expect_fail "status of a config without tap or control" "no-such.conf" "$pqlan" status -c "$tmp/no-such.conf"
expect_fail "status -s without a daemon" "no daemon is listening" "$pqlan" status -s "$tmp/none.sock"
expect_fail "status with no node anywhere" "no running node" env PQLAN_RUN_DIR="$tmp/empty" "$pqlan" status
expect_fail "reload without a daemon" "no daemon is listening" "$pqlan" reload -c "$tmp/good.conf"
expect_fail "relay-status without a relay" "no daemon is listening" "$pqlan" relay-status -s "$tmp/r.ctl"

out=$("$pqlan" up 2>&1); rc=$?
[ "$rc" -eq 2 ] && printf '%s' "$out" | grep -q "usage: pqlan up" && ok || bad "up without -c: rc=$rc $out"
out=$("$pqlan" status --bogus 2>&1); rc=$?
[ "$rc" -eq 2 ] && printf '%s' "$out" | grep -q "usage: pqlan status" && ok || bad "status --bogus: rc=$rc $out"

echo "checked: pqlan up/status refusals $checked cases"
refusals=$checked

# The control socket with its default path /run/pqlan/<tap>.sock: made
# 0600, answering while the relay is unreachable, a stale one (left by a
# killed daemon) replaced, removed on SIGINT along with the TAP.
tap=pqc$$
tap=${tap:0:15}
sock=/run/pqlan/$tap.sock
printf '[node]\nprivate_key = %s\ntap = %s\nlisten = 127.0.0.1:0\n[relay]\nurl = wss://127.0.0.1:9/\nkey = %s\n[peer]\nkey = %s\n' \
	"$tmp/me.key" "$tap" "$relay" "$relay" >"$tmp/run.conf"
pid=
start_up() {
	ip netns exec "$ns" "$pqlan" up -c "$tmp/run.conf" 2>>"$tmp/up.log" &
	pid=$!
	for _ in $(seq 50); do
		ip netns exec "$ns" "$pqlan" status -c "$tmp/run.conf" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
stop_pid() { # stop_pid SIGNAL: signal $pid, wait at most 5 s; its status in $?
	kill "-$1" "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
} 2>/dev/null
cleanup_run() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -f "$sock"; }
trap 'cleanup_run; cleanup' EXIT

if start_up; then
	ok
	[ "$(stat -c %a "$sock")" = 600 ] && ok || bad "control socket mode $(stat -c %a "$sock")"
	[ "$(stat -c %a /run/pqlan)" = 755 ] && ok || bad "/run/pqlan mode $(stat -c %a /run/pqlan)"
	out=$(ip netns exec "$ns" "$pqlan" status -c "$tmp/run.conf" --json)
	python3 -c 'import json,sys
j = json.loads(sys.argv[1])
assert j["node"]["tap"] == sys.argv[2] and j["node"]["relay"] == "connecting"
assert [(p["name"], p["state"], p["path"], p["handshake_age_s"]) for p in j["peers"]] == [(None, "offline", "none", None)]' \
		"$out" "$tap" && ok || bad "status while the relay is unreachable: $out"
	ip -n "$ns" link show "$tap" | grep -q "UP" && ok || bad "TAP $tap is not up"
	# Without -c: every socket in /run/pqlan, ours among them (other
	# nodes may be running; only our section is looked at).
	out=$("$pqlan" status 2>/dev/null)
	printf '%s\n' "$out" | grep -A3 -- "^== $sock\$" | grep -q "relay: connecting" && ok ||
		bad "status without -c did not show $sock: $out"
	stop_pid KILL
	[ -S "$sock" ] && ok || bad "a killed daemon should leave its socket behind (test setup)"
	if start_up && ip netns exec "$ns" "$pqlan" status -c "$tmp/run.conf" | grep -q "relay: connecting"; then
		ok
	else
		bad "restart over a stale control socket: $(tail -n 3 "$tmp/up.log")"
	fi
	stop_pid INT
	rc=$?
	[ "$rc" -eq 0 ] && [ ! -e "$sock" ] && ! ip -n "$ns" link show "$tap" >/dev/null 2>&1 && ok ||
		bad "SIGINT: status $rc, socket or TAP left behind"
	pid=
else
	bad "pqlan up did not create $sock: $(tail -n 3 "$tmp/up.log")"
fi
echo "checked: pqlan up control socket $((checked - refusals)) cases"
[ "$fails" -eq 0 ] && [ "$refusals" -eq 15 ] && [ "$checked" -eq 24 ]
