#!/usr/bin/env bash
# check_relay_hostile.sh - `pqlan relay` against hostile and standard
# clients, on 127.0.0.1 only (DESIGN §2, docs/PROTOCOL.md §3).
#
#   python3 relay_probe.py ──TLS/WS──┐
#   tool_relay_client (A, B) ────────┼──> pqlan relay -c relay.conf
#   python3-websockets ──────────────┘    listen 127.0.0.1:0 (port from its log)
#
# One relay takes, in turn: garbage instead of TLS, plain HTTP over TLS,
# a stalled upgrade, an unmasked frame, an oversize frame header, a first
# message that is not RELAY_AUTH, a node that never authenticates; after
# all that it must still be running and serve two authenticated nodes.
# Also: a group-readable key is refused with the loader's message, the
# test-only hostile mode needs PQLAN_TEST=1 and mangles as documented,
# SIGTERM ends the relay with status 0.
# Every process we start is killed by PID on exit; every wait is bounded.
set -u
build=${PQ_BUILD:-build}
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
pqlan=$build/pqlan
tool=$build/tests/relay/tool_relay_client
probe=$top/tests/e2e/tools/relay_probe.py
py=/usr/bin/python3          # Debian's, where python3-websockets lives
open_ms=1500 auth_ms=1500    # test-only deadlines (PQLAN_RELAY_TEST_*)
tmp=$(mktemp -d /tmp/pqlan-relay.XXXXXX)
pids=()
failures=0

cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

die() { echo "FAILED: $*" >&2; exit 1; }
bad() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }

for f in "$pqlan" "$tool"; do [ -x "$f" ] || die "$f is not built"; done
[ -x "$py" ] || die "$py missing (Debian python3)"
"$py" -c 'import websockets, cryptography' || die "python3-websockets/python3-cryptography missing (scripts/install-deps.sh)"

(umask 077 && "$pqlan" genkey >"$tmp/relay.key") || die "genkey"
relay_pub=$("$pqlan" pubkey <"$tmp/relay.key") || die "pubkey"
printf '[relay]\nprivate_key = %s\nlisten = 127.0.0.1:0\n' "$tmp/relay.key" >"$tmp/relay.conf"

# start_relay LOG [ENV...]: run the relay, wait (bounded) for its port.
start_relay() {
	local log=$1; shift
	env "$@" "$pqlan" relay -c "$tmp/relay.conf" 2>"$log" &
	relay_pid=$!
	pids+=("$relay_pid")
	port=
	for _ in $(seq 100); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$log")
		[ -n "$port" ] && return 0
		kill -0 "$relay_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$log" >&2
	die "relay did not start"
}

# stop_relay: SIGTERM, bounded wait, status must be 0.
stop_relay() {
	local st
	kill -TERM "$relay_pid"
	for _ in $(seq 100); do
		kill -0 "$relay_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$relay_pid" 2>/dev/null && { kill -KILL "$relay_pid"; die "relay ignored SIGTERM"; }
	wait "$relay_pid"; st=$?
	[ "$st" -eq 0 ] || bad "relay exited $st after SIGTERM"
}

probe() { timeout 30 "$py" "$probe" 127.0.0.1 "$port" "$relay_pub" "$@" || bad "probe $*"; }
alive() { kill -0 "$relay_pid" 2>/dev/null || die "relay died (after $1)"; }

# --- a refused key file --------------------------------------------------
chmod 640 "$tmp/relay.key"
if "$pqlan" relay -c "$tmp/relay.conf" 2>"$tmp/perm.log"; then
	bad "relay started with a group-readable key"
elif grep -q 'readable by group or others' "$tmp/perm.log"; then
	echo "checked: group-readable key refused: $(head -n1 "$tmp/perm.log")"
else
	bad "unexpected refusal message: $(cat "$tmp/perm.log")"
fi
chmod 600 "$tmp/relay.key"

# --- hostile clients against one relay ------------------------------------
start_relay "$tmp/relay.log" PQLAN_TEST=1 PQLAN_RELAY_TEST_OPEN_TIMEOUT_MS=$open_ms \
	PQLAN_RELAY_TEST_AUTH_TIMEOUT_MS=$auth_ms
probe websockets;          alive websockets
probe garbage;             alive garbage
probe http;                alive http
probe stall "$open_ms";    alive stall
probe unmasked;            alive unmasked
probe oversize;            alive oversize
probe badfirst;            alive badfirst
probe badfirst empty;      alive "empty first message"
probe noauth "$auth_ms";   alive noauth
if timeout 30 "$tool" 127.0.0.1 "$port" "$relay_pub" normal; then
	echo "checked: after all of the above the relay still serves authenticated nodes"
else
	bad "authenticated nodes after the hostile clients"
fi
stop_relay
grep -q 'refused .*no RELAY_AUTH' "$tmp/relay.log" || bad "no log line for the silent node"
grep -q 'not a valid RELAY_AUTH' "$tmp/relay.log" || bad "no log line for the bad first message"
grep -q 'dropped before open 3 (HTTP refusals 1); authenticated 2,' "$tmp/relay.log" || bad "stop line: $(tail -n1 "$tmp/relay.log")"
echo "checked: SIGTERM: relay exited 0; log names each refusal"

# --- test-only hostile mode -------------------------------------------------
if PQLAN_RELAY_TEST_MANGLE=flip "$pqlan" relay -c "$tmp/relay.conf" 2>"$tmp/nomangle.log"; then
	bad "mangle mode accepted without PQLAN_TEST=1"
else
	echo "checked: PQLAN_RELAY_TEST_MANGLE refused without PQLAN_TEST=1"
fi
for mode in flip replay reorder; do
	start_relay "$tmp/mangle-$mode.log" PQLAN_TEST=1 PQLAN_RELAY_TEST_MANGLE=$mode
	timeout 30 "$tool" 127.0.0.1 "$port" "$relay_pub" "$mode" || bad "mangle mode $mode"
	stop_relay
done

if [ "$failures" -ne 0 ]; then
	echo "relay log:" >&2; cat "$tmp/relay.log" >&2
	exit 1
fi
echo "check_relay_hostile: all checks passed"
