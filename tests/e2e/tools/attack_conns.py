#!/usr/bin/python3
"""attack_conns.py - one host holding many idle TCP connections to a
listener, re-opening each one the listener closes (the lock-out attack of
issue 11: no TLS, no key, just connections). For the netns tests only.

    attack_conns.py HOST PORT COUNT SECONDS [RATE]

Keeps up to COUNT connections open for SECONDS, opening at most RATE
(default 200) per second. Sends nothing. At the end prints one line:
    attack: opened N, closed by the listener M, open at the end K
Every wait is bounded by SECONDS.
"""
import errno
import resource
import selectors
import socket
import sys
import time


def main():
    host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 200.0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
    sel = selectors.DefaultSelector()
    live = set()
    opened = closed = 0
    end = time.monotonic() + seconds
    budget, last = 0.0, time.monotonic()
    while time.monotonic() < end:
        now = time.monotonic()
        budget = min(rate, budget + (now - last) * rate)
        last = now
        while len(live) < count and budget >= 1:
            s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((host, port))
            if err not in (0, errno.EINPROGRESS):
                s.close()
                break
            sel.register(s, selectors.EVENT_READ)
            live.add(s)
            opened += 1
            budget -= 1
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:  # closed (or reset) by the listener
                sel.unregister(s)
                live.discard(s)
                s.close()
                closed += 1
    print("attack: opened %d, closed by the listener %d, open at the end %d" % (opened, closed, len(live)))
    sys.stdout.flush()
    for s in live:
        s.close()


if __name__ == "__main__":
    main()
