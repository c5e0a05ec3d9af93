#!/usr/bin/env bash
# check_metrics.sh - the node's Prometheus endpoint (`metrics` in [node],
# node/metrics.c) end to end, in network namespaces (needs root).
#
#   ns relay: pqlan relay on 192.168.242.1:7443 (bridge br0)
#   ns n1: eth0 192.168.242.11, listen :7444, metrics 127.0.0.1:9464
#   ns n2: eth0 192.168.242.12, listen :7444, metrics 127.0.0.1:9464
#
# Checks: once the peers are on the direct path, GET /metrics in each
# node's namespace answers 200 with `text/plain; version=0.0.4`; every
# per-peer counter lies between the values of `pqlan status --json` read
# just before and just after (they only grow), the path and state gauges
# say what status says, the relay gauge is 1, both histograms are there;
# another path is 404, POST is 405, a request head over the limit gets 431
# and the connection closed, a silent client does not block a scrape, nor
# two silent control-socket clients `pqlan status`; the
# daemon keeps running and exits 0 on SIGTERM (ASan: no leak).
set -eu
top=${PQ_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib.sh"
e2e_begin ip python3

relay_ip=192.168.242.1
relay_port=7443
metrics=127.0.0.1:9464

e2e_underlay 192.168.242 vm 1 2
e2e_keys 1 2
for i in 1 2; do
	e2e_node_conf "$i" 10.77.0 "192.168.242.1$i:7444" $((3 - i)) "metrics = $metrics"
done

# http.py get|post|big|silent PATH OUT: one request to the node's metrics
# endpoint; OUT gets {"status", "ctype", "body"} (status 0: closed with no
# answer). `silent` connects, sends nothing and holds the socket 1.5 s.
cat >"$dir/http.py" <<'PY'
import json, socket, sys, time
mode, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
host, port = sys.argv[4].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
if mode == "silent":
    time.sleep(1.5); sys.exit(0)
if mode == "big":
    req = b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 4000 + b"\r\n\r\n"
else:
    req = ("%s %s HTTP/1.1\r\nHost: x\r\n\r\n" % ("POST" if mode == "post" else "GET", path)).encode()
try:
    s.sendall(req)
except OSError:
    pass
data = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
except OSError:
    pass
head, _, body = data.partition(b"\r\n\r\n")
lines = head.decode("latin-1").split("\r\n")
status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/1.1 ") else 0
ctype = ""
for l in lines[1:]:
    if l.lower().startswith("content-type:"):
        ctype = l.split(":", 1)[1].strip()
json.dump({"status": status, "ctype": ctype, "body": body.decode()}, open(out, "w"))
PY
http() { timeout 10 ip netns exec "${ns[$1]}" python3 "$dir/http.py" "$2" "$3" "$4" "$metrics"; }

# compare.py METRICS.json STATUS_BEFORE STATUS_AFTER: the exposition agrees
# with status; prints what disagrees.
cat >"$dir/compare.py" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))["body"]
a = json.load(open(sys.argv[2])); b = json.load(open(sys.argv[3]))
pa, pb = a["peers"][0], b["peers"][0]
samples = {}
for line in m.splitlines():
    if line.startswith("#") or not line:
        continue
    name, val = line.rsplit(" ", 1)
    samples[name] = val
bad = []
lab = 'peer="%s",key="%s"' % (pb["name"], pb["key"])
for f in ["rx_bytes", "tx_bytes", "rx_frames", "tx_frames", "dropped_frames", "rx_gso_frames", "tx_gso_frames", "migrations",
          "fallbacks", "rehandshakes", "rehandshake_failures"]:
    k = "pqlan_peer_%s_total{%s}" % (f, lab)
    v = int(samples.get(k, -1))
    if not pa[f] <= v <= pb[f]:
        bad.append("%s = %d, status %d..%d" % (k, v, pa[f], pb[f]))
for fam, cur, vals in [("path", pb["path"], ["relay", "direct", "none"]),
                       ("state", pb["state"], ["offline", "handshaking", "established"])]:
    for v in vals:
        k = 'pqlan_peer_%s{%s,%s="%s"}' % (fam, lab, fam, v)
        if samples.get(k) != ("1" if v == cur else "0"):
            bad.append("%s = %s, status says %s" % (k, samples.get(k), cur))
if samples.get("pqlan_relay_connected") != ("1" if b["node"]["relay"] == "connected" else "0"):
    bad.append("pqlan_relay_connected = %s" % samples.get("pqlan_relay_connected"))
for h in ["pqlan_handshake_duration_seconds", "pqlan_rehandshake_duration_seconds"]:
    for suf in ['_bucket{le="0.0001"}', '_bucket{le="1"}', '_bucket{le="+Inf"}', "_sum", "_count"]:
        if h + suf not in samples:
            bad.append("missing " + h + suf)
    if samples.get(h + '_bucket{le="+Inf"}') != samples.get(h + "_count"):
        bad.append(h + ": +Inf bucket != count")
# Both ends of a direct path complete a re-handshake, so each has observed one.
if int(float(samples.get("pqlan_rehandshake_duration_seconds_count", "0"))) < 1:
    bad.append("no re-handshake duration observed")
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY

# ---- start, reach the direct path --------------------------------------------
e2e_start_relay
for i in 1 2; do e2e_start_node "$i"; done
e2e_until 40 on_path direct || e2e_die "the peers did not reach the direct path within 40 s"
grep -q "metrics on http://$metrics/metrics" "$dir/n1.log" || e2e_bad "no metrics listener logged on n1"
ip netns exec "${ns[1]}" ping -q -c 3 -W 2 10.77.0.2 >/dev/null 2>&1 || e2e_bad "ping over the direct path"

# ---- 1. the exposition agrees with status ------------------------------------
for i in 1 2; do
	status_json "$i"; cp "$dir/status$i.json" "$dir/before$i.json"
	http "$i" get /metrics "$dir/m$i.json" || e2e_die "n$i: GET /metrics failed"
	status_json "$i"
	if e2e_json "$dir/m$i.json" "j['status'] == 200 and j['ctype'].startswith('text/plain; version=0.0.4')"; then
		e2e_ok "n$i: GET /metrics -> 200, text/plain; version=0.0.4 ($(wc -c <"$dir/m$i.json") bytes)"
	else
		e2e_bad "n$i: GET /metrics: $(head -c 300 "$dir/m$i.json")"
	fi
	if why=$(python3 "$dir/compare.py" "$dir/m$i.json" "$dir/before$i.json" "$dir/status$i.json"); then
		e2e_ok "n$i: 9 counters, path/state gauges, relay gauge agree with pqlan status --json; both histograms present, re-handshakes observed"
	else
		e2e_bad "n$i: metrics disagree with status: $why"
	fi
done
# The initiator of each hybrid handshake observes its duration.
hs_count=$(python3 -c '
import json, re, sys
n = 0
for f in sys.argv[1:]:
    m = re.search(r"^pqlan_handshake_duration_seconds_count (\d+)", json.load(open(f))["body"], re.M)
    n += int(m.group(1)) if m else 0
print(n)' "$dir/m1.json" "$dir/m2.json")
if [ "$hs_count" -ge 1 ]; then
	e2e_ok "handshake durations observed: $hs_count over both nodes"
else
	e2e_bad "no handshake duration observed on either node"
fi
python3 -c 'import json,sys; print("\n".join(l for l in json.load(open(sys.argv[1]))["body"].splitlines() if l.startswith(("pqlan_peer_path", "pqlan_peer_rehandshakes", "pqlan_peer_tx_frames"))))' "$dir/m1.json" | sed 's/key="[^"]*"/key=.../; s/^/  /'

# ---- 2. bad requests ---------------------------------------------------------
http 1 get /nothing "$dir/r404.json" && e2e_json "$dir/r404.json" "j['status'] == 404" &&
	e2e_ok "GET /nothing -> 404" || e2e_bad "GET /nothing: $(cat "$dir/r404.json" 2>/dev/null)"
http 1 post /metrics "$dir/r405.json" && e2e_json "$dir/r405.json" "j['status'] == 405" &&
	e2e_ok "POST /metrics -> 405" || e2e_bad "POST /metrics: $(cat "$dir/r405.json" 2>/dev/null)"
http 1 big /metrics "$dir/r431.json" && e2e_json "$dir/r431.json" "j['status'] == 431" &&
	e2e_ok "a 4 kB request head -> 431 and closed" || e2e_bad "oversize request: $(cat "$dir/r431.json" 2>/dev/null)"
# A silent client holds a slot; a scrape meanwhile is still answered.
ip netns exec "${ns[1]}" python3 "$dir/http.py" silent / /dev/null "$metrics" &
silent_pid=$!
sleep 0.3
http 1 get /metrics "$dir/m1b.json" && e2e_json "$dir/m1b.json" "j['status'] == 200" &&
	e2e_ok "a silent client does not block a scrape" || e2e_bad "scrape beside a silent client failed"
wait "$silent_pid" || true
# The control socket is served the same way: two clients that connect and
# say nothing for 3 s, then `pqlan status`. Served inline, each silent
# client would stall the daemon (and its data path) for the whole control
# timeout (2 s): status would take 4 s or more.
for k in 1 2; do
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(3)' "$dir/n1.sock" &
	quiet_pid[$k]=$!
done
sleep 0.3
t_status=$(date +%s%N)
if status_json 1; then
	ms=$((($(date +%s%N) - t_status) / 1000000))
	if [ "$ms" -lt 1500 ]; then
		e2e_ok "two silent control-socket clients: pqlan status still answered in $ms ms"
	else
		e2e_bad "two silent control-socket clients: pqlan status took $ms ms (they stall the daemon)"
	fi
else
	e2e_bad "two silent control-socket clients: pqlan status failed"
fi
wait "${quiet_pid[1]}" "${quiet_pid[2]}" || true
if kill -0 "${node_pid[1]}" 2>/dev/null && status_json 1; then
	e2e_ok "n1 still running and answering status after the bad requests"
else
	e2e_bad "n1 died after the bad requests"
fi

# ---- clean stop (under ASan, a leak or error makes the exit status non-zero)
e2e_stop_each "${node_pid[1]}" "${node_pid[2]}" "$relay_pid"
[ "$stopped" -eq 3 ] && e2e_ok "SIGTERM: both nodes and the relay exited 0"

[ "$E2E_FAILS" -eq 0 ] || exit 1
echo "check_metrics: $E2E_CHECKED checks passed"
