#!/usr/bin/env bash
# bench_relay_handshake.sh [BUILD] - hybrid handshake latency through a
# real `pqlan relay` (issue 4). Needs root (a network namespace).
#
# A throw-away network namespace holds only lo; `pqlan relay` listens on
# its 127.0.0.1:7443 and bench_relay_handshake (bench/bench_relay_handshake.c)
# connects two clients to it, authenticates them and times N hybrid
# handshakes A -> B through it (see the .c file for what is timed).
# Environment: N (default 200), PACE_MS (default 260), WARMUP (default 3),
# PRECOMPUTE (default 1: both sides refill their precomputed ephemeral key
# pairs while idle, as the node does; 0: keys made on the spot), ORDER
# (default first: each side sends its answer, then checks the signature,
# as the node does; strict: checks first; both: alternates, one line set
# per order, for a ratio in one run), PROCS (default 2: A and B in two
# processes, one event loop each, as two nodes; 1: both on one thread),
# CPUS (default empty: the kernel places the relay and the clients; a CPU
# list such as 0: every process of the bench is pinned there with taskset,
# which shows how much of a hop is the wake-up of an idle CPU, see
# bench/README.md "Where the hops go"), FLOOR (default 1: then also run
# bench_hop_floor, the same three hops and work over raw TCP, for what
# the machine itself costs; 0: not).
# Everything (relay process, namespace, temp dir) is removed on exit, also
# on failure; every wait is bounded.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-${PQ_BUILD:-$top/build}}" && pwd)
PQLAN=$build/pqlan
N=${N:-200}
PACE_MS=${PACE_MS:-260}
WARMUP=${WARMUP:-3}
PRECOMPUTE=${PRECOMPUTE:-1}
ORDER=${ORDER:-first}
PROCS=${PROCS:-2}
CPUS=${CPUS:-}
. "$top/tests/e2e/lib.sh"
E2E_PREFIX=pqbh$$
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || e2e_die "needs root (network namespace)"
[ -x "$PQLAN" ] || e2e_die "$PQLAN not built (make BUILD=$build all)"
pin=()
if [ -n "$CPUS" ]; then
	taskset -c "$CPUS" true 2>/dev/null || e2e_die "CPUS=$CPUS: not a CPU list taskset accepts here"
	pin=(taskset -c "$CPUS")
fi
tool=$build/bench/bench_relay_handshake
# Built by the Makefile with the daemon's flags (make bench-tools).
make -s -C "$top" BUILD="$build" "$tool" >&2 || e2e_die "could not build $tool"

e2e_tmpdir
dir=$E2E_TMP
e2e_netns relay; ns=$REPLY
e2e_genkey "$dir/relay.key"; relay_pub=$REPLY
printf '[relay]\nprivate_key = %s\nlisten = 127.0.0.1:7443\n' "$dir/relay.key" >"$dir/relay.conf"
e2e_bg "$ns" "$dir/relay.log" "${pin[@]}" "$PQLAN" relay -c "$dir/relay.conf"
relay_listening() { ip netns exec "$ns" ss -Hltn 'sport = :7443' | grep -q 7443; }
e2e_until 10 relay_listening || e2e_die "the relay did not start listening"

cmd="ip netns exec $ns ${pin[*]:+${pin[*]} }$tool 127.0.0.1 7443 $relay_pub $N $PACE_MS $WARMUP $PRECOMPUTE $ORDER $PROCS"
echo "== hybrid handshake (ML-KEM-1024 + X25519, Ed25519-signed) through pqlan relay, 127.0.0.1 in netns $ns"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $cmd"
echo "  (made by: $0 $build   with N=$N PACE_MS=$PACE_MS WARMUP=$WARMUP PRECOMPUTE=$PRECOMPUTE ORDER=$ORDER PROCS=$PROCS${CPUS:+ CPUS=$CPUS})"
if [ -n "$CPUS" ]; then
	echo "placement: the relay and both clients pinned to CPU(s) $CPUS (taskset -c $CPUS)"
else
	echo "placement: free (the kernel's scheduler places the relay and the clients)"
fi
echo "method: t0 is read just before A builds HS_INIT; the sample ends when B has verified"
echo "  HS_FINISH. ORDER=first: each side sends its answer, then checks the signature (as the"
echo "  node); strict: checks, then answers. PROCS=2: A and B in two processes, one event loop each"
echo "  (as two nodes); PROCS=1: one thread, so B's checking delays A's answer. Every message"
echo "  goes A -> relay -> B over TLS 1.3 + WebSocket. Handshakes run one at a time,"
echo "  ${PACE_MS} ms apart on the real clock, so the responder's rate limit (burst 4, then one"
echo "  per 250 ms) never refuses one; the idle time is not in any sample. PRECOMPUTE=1: both"
echo "  clients refill their precomputed ephemeral key pairs in that idle time (pq_hs_precompute),"
echo "  as the node does from its 1 s housekeeping timer."
# run_bounded OUT CMD...: CMD with its output to OUT, bounded by the pace
# of N rounds, in the background and waited for, so a signal reaches the
# trap at once (and the cleanup kills it by its PID).
run_bounded() {
	local out=$1 pid
	shift
	timeout $((N * (PACE_MS + 2000) / 1000 + 60)) "$@" >"$out" &
	pid=$!
	E2E_PIDS+=("$pid")
	wait "$pid"
}
run_bounded "$dir/out.txt" $cmd || { rc=$?; cat "$dir/out.txt"; e2e_die "bench_relay_handshake failed (exit $rc)"; }
cat "$dir/out.txt"

# The floor (FLOOR=1, the default; bench/bench_hop_floor.c): the same
# three hops, message sizes and work (the build legs' p50 just measured;
# after each answer B's time inside pq_hs_* beyond its build, i.e. its
# signature check) over raw loopback TCP and a trivial forwarder.
[ "${FLOOR:-1}" = 1 ] || exit 0
p50() { awk -v k="$1" 'index($0, k) == 1 || index($0, "  " k) == 1 { for (i = 1; i < NF; i++) if ($i == "p50") { print $(i + 1); exit } }' "$dir/out.txt"; }
b_us=$(p50 "leg B builds HS_RESP") a_us=$(p50 "leg A builds HS_FINISH") b_in=$(p50 "B inside pq_hs_* calls")
[ -n "$b_us" ] && [ -n "$a_us" ] && [ -n "$b_in" ] || e2e_die "cannot read the build legs from the output above"
settle=$((b_in > b_us ? b_in - b_us : 0))
floor=$build/bench/bench_hop_floor
make -s -C "$top" BUILD="$build" "$floor" >&2 || e2e_die "could not build $floor"
fcmd="ip netns exec $ns ${pin[*]:+${pin[*]} }$floor $N $PACE_MS $b_us $a_us $settle"
echo "command: $fcmd"
run_bounded "$dir/floor.txt" $fcmd || { rc=$?; cat "$dir/floor.txt"; e2e_die "bench_hop_floor failed (exit $rc)"; }
cat "$dir/floor.txt"
