#!/usr/bin/env bash
# check_tshark.sh - the re-handshake on the wire, decrypted by an
# independent tool (tshark): docs/PROTOCOL.md §5 fixes REHS_REQUEST,
# REHS_RESPONSE and REHS_COMPLETE at 57, 89 and 57 bytes with types
# 0x30, 0x31, 0x32, each one WebSocket binary message on the direct TLS
# connection. Network namespaces, needs root and tshark.
#
#   ns relay: pqlan relay on 192.168.243.1:7443 (bridge br0)
#   ns n1: eth0 192.168.243.11, listen :7444   <== direct TLS ==>
#   ns n2: eth0 192.168.243.12, listen :7444
#
# Both nodes log their TLS secrets to one SSLKEYLOGFILE (net/tls.h);
# tshark captures TCP port 7444 on n1's eth0 from before the nodes start
# (the WebSocket dissector needs to see the HTTP Upgrade), then decodes
# the capture with the key log and lists the WebSocket binary payloads.
# Checks: a TCP stream whose first re-handshake messages are REQUEST,
# RESPONSE, COMPLETE, in that order, of exactly 57, 89, 57 bytes; no payload of type
# 0x30-0x32 has another length; nothing of the re-handshake is readable
# without the key log (TLS hides it).
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip python3 tshark

relay_ip=192.168.243.1
relay_port=7443
port=7444

e2e_underlay 192.168.243 vt 1 2
e2e_keys 1 2
for i in 1 2; do
	e2e_node_conf "$i" 10.77.0 "192.168.243.1$i:$port" $((3 - i))
done

# ---- capture from before the direct connection opens ------------------------
keylog=$dir/keylog.txt
: >"$keylog"
e2e_bg "${ns[1]}" "$dir/tshark.log" tshark -n -i eth0 -f "tcp port $port" -a duration:90 -w "$dir/cap.pcapng"
tshark_pid=$REPLY
e2e_until 15 grep -q "Capturing on" "$dir/tshark.log" || e2e_die "tshark did not start capturing: $(cat "$dir/tshark.log")"

e2e_start_relay
for i in 1 2; do e2e_start_node "$i" "" env PQLAN_TEST=1 SSLKEYLOGFILE="$keylog"; done
e2e_until 40 both_are "p['path'] == 'direct' and p['rehandshakes'] >= 1" || e2e_die "the peers did not complete a re-handshake on the direct path within 40 s"
sleep 1
e2e_stop "$tshark_pid" 100 || e2e_bad "tshark did not stop on SIGTERM"
[ -s "$dir/cap.pcapng" ] || e2e_die "empty capture"
grep -q CLIENT_HANDSHAKE_TRAFFIC_SECRET "$keylog" || e2e_die "SSLKEYLOGFILE got no TLS 1.3 secrets"

# decode [KEYLOG]: one line per WebSocket binary payload, "stream hex".
decode() {
	local opts=(-n -r "$dir/cap.pcapng" -d "tcp.port==$port,tls" -d "tls.port==$port,http")
	[ $# -ge 1 ] && opts+=(-o "tls.keylog_file:$1")
	tshark "${opts[@]}" -Y "websocket.opcode == 2" -T fields -E occurrence=a -E aggregator=';' \
		-e tcp.stream -e data.data 2>>"$dir/decode.err"
}
decode "$keylog" >"$dir/payloads.txt" || e2e_die "tshark could not read the capture: $(tail -n 3 "$dir/decode.err")"
decode >"$dir/payloads-nokey.txt" || true

# One result line: "ok <first three lengths/types>" or "bad <why>".
verdict=$(python3 - "$dir/payloads.txt" <<'PY'
import sys
msgs = []
for line in open(sys.argv[1]):
    parts = line.rstrip("\n").split("\t")
    if len(parts) < 2 or not parts[1]:
        continue
    for h in parts[1].split(";"):
        b = bytes.fromhex(h.replace(":", ""))
        msgs.append((parts[0], b))
rehs = [(s, b) for s, b in msgs if b and 0x30 <= b[0] <= 0x32]
want = {0x30: 57, 0x31: 89, 0x32: 57}
wrong = [(b[0], len(b)) for s, b in rehs if len(b) != want[b[0]]]
# Per TCP stream (two conns may open at once, only one survives).
runs = {}
for s, b in rehs:
    runs.setdefault(s, []).append(b)
good = [s for s, bs in runs.items() if [b[0] for b in bs[:3]] == [0x30, 0x31, 0x32]]
if not rehs:
    print("bad no re-handshake message among %d binary payloads" % len(msgs))
elif wrong:
    print("bad wrong sizes (type, length): %s" % wrong)
elif not good:
    print("bad no stream starts REQUEST, RESPONSE, COMPLETE: %s" %
          {s: [(hex(b[0]), len(b)) for b in bs] for s, bs in runs.items()})
else:
    first = runs[good[0]][:3]
    print("ok %d binary payloads, %d re-handshake messages; first run on TCP stream %s: %s" % (
        len(msgs), len(rehs), good[0], ", ".join("0x%02x %d B" % (b[0], len(b)) for b in first)))
PY
)
case $verdict in
ok*) e2e_ok "decrypted with SSLKEYLOGFILE: ${verdict#ok }" ;;
*) e2e_bad "re-handshake on the wire: ${verdict#bad }" ;;
esac
if [ ! -s "$dir/payloads-nokey.txt" ]; then
	e2e_ok "without the key log tshark sees no WebSocket payload (TLS hides the re-handshake)"
else
	e2e_bad "WebSocket payloads readable without the key log: $(head -n 2 "$dir/payloads-nokey.txt")"
fi

e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "$relay_pid"
[ "$stopped" -eq 3 ] && e2e_ok "SIGTERM: both nodes and the relay exited 0"

[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_tshark: $E2E_CHECKED checks passed"
