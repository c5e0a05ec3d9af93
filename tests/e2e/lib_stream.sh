# lib_stream.sh - numbered UDP streams across the TAP for the zero-loss
# checks (sourced after tests/e2e/lib.sh; the tool is
# tests/e2e/tools/udp_stream.py, whose docstring lists the result fields).
#
#   e2e_stream_start TAG SRC_NS DST_NS DST_IP PORT RATE SECONDS
#       a receiver on PORT in DST_NS (result in $E2E_TMP/TAG.json), then
#       a sender in SRC_NS to DST_IP:PORT, RATE datagrams/s for SECONDS;
#       both in the background (tracked for cleanup). Several streams
#       may run at once (distinct TAGs and ports).
#   e2e_stream_wait TAG
#       wait for the sender (bounded), stop the receiver 1 s later; the
#       count sent in $REPLY (and stream_sent[TAG]); prints one line.
#   e2e_stream_json TAG PYEXPR     the result (bound to j) satisfies PYEXPR
#   e2e_stream_field TAG NAME      one field of the result, on stdout

declare -gA stream_rpid stream_spid stream_secs stream_sent
E2E_STREAM_TOOL=${E2E_STREAM_TOOL:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tools/udp_stream.py}

e2e_stream_start() {
	local tag=$1 src=$2 dst=$3 ip=$4 port=$5 rate=$6 secs=$7 i
	rm -f "$E2E_TMP/$tag.json" "$E2E_TMP/$tag-sent"
	e2e_bg "$dst" "$E2E_TMP/$tag-recv.log" python3 "$E2E_STREAM_TOOL" recv "$port" "$E2E_TMP/$tag.json"
	stream_rpid[$tag]=$REPLY
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$dst" ss -Hlun "sport = :$port" | grep -q . && break
		sleep 0.05
	done
	ip netns exec "$src" python3 "$E2E_STREAM_TOOL" send "$ip" "$port" "$rate" "$secs" >"$E2E_TMP/$tag-sent" &
	stream_spid[$tag]=$!
	E2E_PIDS+=("${stream_spid[$tag]}")
	stream_secs[$tag]=$secs
}

e2e_stream_wait() {
	local tag=$1 spid=${stream_spid[$1]}
	e2e_wait_pid "$spid" $(((${stream_secs[$tag]%.*} + 20) * 10)) || e2e_die "stream $tag: the sender did not finish"
	wait "$spid" || e2e_die "stream $tag: the sender failed"
	REPLY=$(cat "$E2E_TMP/$tag-sent")
	stream_sent[$tag]=$REPLY
	sleep 1
	e2e_stop "${stream_rpid[$tag]}" 100 || e2e_die "stream $tag: the receiver did not stop"
	[ -s "$E2E_TMP/$tag.json" ] || e2e_die "stream $tag: the receiver wrote no result"
	echo "stream $tag: sent ${stream_sent[$tag]}, $(cat "$E2E_TMP/$tag.json")"
	REPLY=${stream_sent[$tag]}
}

e2e_stream_json() { e2e_json "$E2E_TMP/$1.json" "$2"; }
e2e_stream_field() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$E2E_TMP/$1.json" "$2"
}
