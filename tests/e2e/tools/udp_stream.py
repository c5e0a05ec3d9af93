#!/usr/bin/env python3
"""udp_stream.py - a numbered UDP stream across the TAP, for the zero-loss
checks of the end-to-end tests (check_direct.sh, check_udp_nat_events.sh).

  udp_stream.py send HOST PORT RATE SECONDS
      RATE datagrams per second for SECONDS, each starting with its
      sequence number (8 bytes, big-endian); prints the count sent.
  udp_stream.py recv PORT OUTFILE
      until SIGTERM, or 4 s idle after the first datagram: writes one JSON
      object to OUTFILE:
        received     datagrams received
        unique       distinct sequence numbers
        dup          datagrams whose number was seen before
        max_gap_ms   longest time between two arrivals (the outage)
        gap_after    the sequence number received just before that gap
        late         datagrams that arrived in the last second before the end
        max_seq      the highest number received
        missing      numbers in [0, max_seq] never received
        lost_runs    contiguous runs of missing numbers, [first, last],
                     at most 20 (a move that loses nothing has none; an
                     outage is one run)
        reordered    datagrams that arrived after a higher number
Every wait is bounded: the receiver stops 4 s after the last datagram.
"""
import json
import signal
import socket
import struct
import sys
import time

PAD = b"x" * 56
IDLE_S = 4.0


def send(host, port, rate, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.monotonic()
    n = 0
    while True:
        el = time.monotonic() - t0
        if el >= secs:
            break
        while n < int(el * rate) + 1:
            try:
                s.sendto(struct.pack("!Q", n) + PAD, (host, port))
            except OSError:
                pass  # counted as sent: the receiver finds it missing
            n += 1
        time.sleep(0.002)
    print(n)


def lost_runs(seen, max_seq, cap=20):
    runs, start = [], None
    for q in range(max_seq + 2):
        if q <= max_seq and q not in seen:
            if start is None:
                start = q
        elif start is not None:
            runs.append([start, q - 1])
            start = None
    return runs[:cap], sum(b - a + 1 for a, b in runs)


def recv(port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.2)
    seen = set()
    dup = recvd = reordered = 0
    last = None
    gap = 0.0
    gap_after = -1
    prev_q = -1
    high = -1
    times = []
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))
    while not stop[0]:
        try:
            d, _ = s.recvfrom(2048)
        except socket.timeout:
            if last is not None and time.monotonic() - last > IDLE_S:
                break
            continue
        if len(d) < 8:
            continue
        now = time.monotonic()
        q = struct.unpack("!Q", d[:8])[0]
        if last is not None and now - last > gap:
            gap = now - last
            gap_after = prev_q
        last = now
        prev_q = q
        recvd += 1
        times.append(now)
        if q in seen:
            dup += 1
        elif q < high:
            reordered += 1
        seen.add(q)
        high = max(high, q)
    end = last or 0
    runs, missing = lost_runs(seen, high)
    json.dump({"received": recvd, "unique": len(seen), "dup": dup, "max_gap_ms": int(gap * 1000),
               "gap_after": gap_after, "late": sum(1 for t in times if t > end - 1.0),
               "max_seq": high, "missing": missing, "lost_runs": runs, "reordered": reordered},
              open(out, "w"))


def main(argv):
    if len(argv) == 6 and argv[1] == "send":
        send(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
        return 0
    if len(argv) == 4 and argv[1] == "recv":
        recv(int(argv[2]), argv[3])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
