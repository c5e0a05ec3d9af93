#!/usr/bin/env bash
# check_path_retry.sh - a direct conn whose first re-handshake fails is
# retried (issue 8 defect 1): before, a conn that opened but failed its
# first re-handshake (here: a clock 45 s off, outside the ±30 s the
# re-handshake allows, DESIGN §5) scheduled no redial, and the pair stayed
# on the relay for the life of the session even once the clock was right.
# Network namespaces, needs root.
#
#             ns relay: pqlan relay on 192.168.242.1:7443
#          +----------------- br0 -----------------+
#  ns n1: eth0 192.168.242.11              ns n2: eth0 192.168.242.12
#         wall clock +45 s (libfaketime)          listen :7444
#         listen :7444
#
# n1 runs with LD_PRELOAD=libfaketime reading its offset from a file that
# the test rewrites: first +45 s (handshakes pass, their bound is 5 min;
# every re-handshake fails on its timestamp), then +0 s (an NTP step).
# Monotonic time is not faked. Checks: the pair is established through
# the relay, re-handshakes fail and the path stays relay; once n1's clock
# is right the path goes direct at the next retry (retry_interval 2 s);
# ping on it; clean exits.
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip ping faketime

faketime_lib=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime\.so\.1$' | head -n 1)
[ -n "$faketime_lib" ] && [ -f "$faketime_lib" ] || e2e_die "libfaketime not installed (scripts/install-deps.sh)"

relay_ip=192.168.242.1
relay_port=7443
e2e_underlay 192.168.242 vr 1 2
e2e_keys 1 2
e2e_node_conf 1 10.78.0 192.168.242.11:7444 2 "retry_interval = 2"
e2e_node_conf 2 10.78.0 192.168.242.12:7444 1 "retry_interval = 2"

echo "+45s" >"$dir/clock"
e2e_start_relay
e2e_start_node 1 "" env LD_PRELOAD="$faketime_lib" FAKETIME_TIMESTAMP_FILE="$dir/clock" FAKETIME_NO_CACHE=1 \
	FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
e2e_start_node 2

e2e_until 20 peer_is 1 "p['state'] == 'established'" || e2e_die "n1 never established through the relay"
e2e_until 20 peer_is 2 "p['state'] == 'established'" || e2e_die "n2 never established through the relay"
e2e_ok "established through the relay with n1's clock 45 s ahead"

failures() { status_json 1 && status_json 2 && echo $(( $(field 1 rehandshake_failures) + $(field 2 rehandshake_failures) )); }
some_failed() { [ "$(failures)" -ge 1 ]; }
if e2e_until 15 some_failed; then
	e2e_ok "re-handshakes fail on the timestamp ($(failures) failed)"
else
	e2e_die "no re-handshake failed with n1's clock 45 s ahead"
fi
grep -q "re-handshake failed.*timestamp out of range" "$dir/n1.log" "$dir/n2.log" ||
	e2e_bad "no 're-handshake failed ... timestamp out of range' logged"
# Both sides' first dials are spent (the higher key dials 1.5 s later).
sleep 4
if peer_is 1 "p['path'] == 'relay'" && peer_is 2 "p['path'] == 'relay'"; then
	e2e_ok "still on the relay while the clock is off"
else
	e2e_bad "went direct although every re-handshake must fail"
fi

echo "+0s" >"$dir/clock"
t0=$SECONDS
if e2e_until 15 peer_is 1 "p['path'] == 'direct'" && e2e_until 5 peer_is 2 "p['path'] == 'direct'"; then
	e2e_ok "clock right again: direct after $((SECONDS - t0)) s (retry_interval 2 s), no restart"
else
	e2e_bad "the pair stayed on the relay after the clock was fixed: no retry after a failed first re-handshake"
fi
if ip netns exec "${ns[1]}" ping -c 3 -i 0.2 -W 2 10.78.0.2 >"$dir/ping.out" 2>&1; then
	e2e_ok "ping n1 -> n2 on the direct path"
else
	e2e_bad "ping n1 -> n2 failed: $(tail -n 2 "$dir/ping.out")"
fi

e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "$relay_pid"
[ "$stopped" -eq 3 ] && e2e_ok "SIGTERM: both nodes and the relay exited 0"
[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_path_retry: $E2E_CHECKED checks passed"
