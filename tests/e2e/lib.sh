# lib.sh - helpers for the network-namespace end-to-end tests (sourced).
#
# Everything a test creates is recorded so that e2e_cleanup (run it from
# `trap e2e_cleanup EXIT`) removes it again, on success and on failure:
# processes are killed by PID (never by name), namespaces are deleted,
# the temporary directory is removed. Every wait is bounded.
#
# PQ_E2E_LOGS=1 prints the tail of every log at the end even on success.
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
