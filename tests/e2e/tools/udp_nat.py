#!/usr/bin/env python3
"""udp_nat.py - UDP probes for the NAT tests (tests/e2e/lib_nat.sh).

A STUN Binding client written here from RFC 8489 (independent of
src/proto/stun.c), and the plain-socket halves of the NAT checks. Every
command prints one JSON object per line on stdout; every wait is bounded.

  stun SERVER PORT[,PORT...] [--bind PORT] [--again FILE]
      one socket; a Binding request to SERVER at each PORT (3 tries, 0.5 s
      apart); prints {"port": P, "mapped": "ip:port" or null}. --again:
      then wait (<= 30 s) for FILE to exist and do it all once more from
      the same socket.
  punch --bind PORT --stun SERVER:PORT --me FILE --peer FILE --secs S
      learn our mapping by STUN, write it to FILE, wait (<= 10 s) for the
      peer's FILE, then for S seconds send to the peer's mapping every
      50 ms while reading; prints {"mapped", "peer", "sent", "received",
      "from": [addresses datagrams came from]}.
  send HOST PORT COUNT [--bind PORT]
      COUNT datagrams from a connected socket, then 1 s listening: prints
      {"sent", "replies", "icmp_errors"} (a refused port shows as an ICMP
      error on a connected socket).
  listen PORT SECS
      prints {"received", "from"} after SECS.
  hostile HOST PORT / flood HOST PORT COUNT / size HOST PORT
      for a STUN responder: datagrams it must drop (then 1 s listening for
      answers), a burst of random ones, the smallest request and the size
      of its answer.
"""
import json
import os
import socket
import struct
import sys
import time

COOKIE = 0x2112A442


def binding_request(txid):
    return struct.pack("!HHI", 0x0001, 0, COOKIE) + txid


def parse_mapped(data, txid):
    """The XOR-MAPPED-ADDRESS of a Binding success for txid, or None."""
    if len(data) < 20:
        return None
    mtype, mlen, cookie = struct.unpack("!HHI", data[:8])
    if mtype != 0x0101 or cookie != COOKIE or data[8:20] != txid or mlen != len(data) - 20:
        return None
    off = 20
    while off + 4 <= len(data):
        atype, alen = struct.unpack("!HH", data[off:off + 4])
        val = data[off + 4:off + 4 + alen]
        if len(val) != alen:
            return None
        if atype == 0x0020 and alen == 8 and val[1] == 1:
            port = struct.unpack("!H", val[2:4])[0] ^ (COOKIE >> 16)
            addr = bytes(a ^ b for a, b in zip(val[4:8], struct.pack("!I", COOKIE)))
            return "%s:%d" % (socket.inet_ntoa(addr), port)
        off += 4 + alen + (-alen % 4)
    return None


def stun_once(sock, server, port):
    txid = os.urandom(12)
    for _ in range(3):
        sock.sendto(binding_request(txid), (server, port))
        deadline = time.monotonic() + 0.5
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                data, _src = sock.recvfrom(2048)
            except (socket.timeout, ConnectionRefusedError):
                continue
            mapped = parse_mapped(data, txid)
            if mapped:
                return mapped
    return None


def udp_socket(bind_port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", bind_port))
    return s


def emit(obj):
    print(json.dumps(obj), flush=True)


def wait_file(path, secs):
    deadline = time.monotonic() + secs
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def cmd_stun(args):
    server, ports = args[0], [int(p) for p in args[1].split(",")]
    bind_port, again = 0, None
    rest = args[2:]
    while rest:
        if rest[0] == "--bind":
            bind_port = int(rest[1])
        elif rest[0] == "--again":
            again = rest[1]
        rest = rest[2:]
    s = udp_socket(bind_port)
    rounds = 2 if again else 1
    for r in range(rounds):
        if r == 1 and not wait_file(again, 30):
            emit({"error": "no " + again})
            return 1
        for p in ports:
            emit({"round": r, "port": p, "mapped": stun_once(s, server, p)})
    return 0


def cmd_punch(args):
    opts = dict(zip(args[0::2], args[1::2]))
    server, sport = opts["--stun"].rsplit(":", 1)
    s = udp_socket(int(opts["--bind"]))
    mapped = stun_once(s, server, int(sport))
    out = {"mapped": mapped, "peer": None, "sent": 0, "received": 0, "from": []}
    if not mapped:
        emit(out)
        return 1
    tmp = opts["--me"] + ".tmp"
    with open(tmp, "w") as f:
        f.write(mapped)
    os.rename(tmp, opts["--me"])
    if not wait_file(opts["--peer"], 10):
        emit(out)
        return 1
    with open(opts["--peer"]) as f:
        host, port = f.read().strip().rsplit(":", 1)
    peer = (host, int(port))
    out["peer"] = "%s:%d" % peer
    s.setblocking(False)
    end = time.monotonic() + float(opts["--secs"])
    next_send = 0.0
    seen = set()
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_send:
            try:
                s.sendto(b"punch %d" % out["sent"], peer)
            except OSError:
                pass
            out["sent"] += 1
            next_send = now + 0.05
        try:
            data, src = s.recvfrom(2048)
            if data.startswith(b"punch"):
                out["received"] += 1
                seen.add("%s:%d" % src)
        except (BlockingIOError, ConnectionRefusedError):
            time.sleep(0.005)
    out["from"] = sorted(seen)
    emit(out)
    return 0


def cmd_send(args):
    host, port, count = args[0], int(args[1]), int(args[2])
    s = udp_socket(int(args[4]) if len(args) > 4 and args[3] == "--bind" else 0)
    s.connect((host, port))
    out = {"sent": 0, "replies": 0, "icmp_errors": 0}
    for i in range(count):
        try:
            s.send(b"unsolicited %d" % i)
            out["sent"] += 1
        except ConnectionRefusedError:
            out["icmp_errors"] += 1
        time.sleep(0.02)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            s.recv(2048)
            out["replies"] += 1
        except socket.timeout:
            break
        except ConnectionRefusedError:
            out["icmp_errors"] += 1
    emit(out)
    return 0


def hostile_datagrams():
    """Datagrams a STUN responder must not answer (named, for the log)."""
    txid = os.urandom(12)
    req = binding_request(txid)
    fp = struct.pack("!HHI", 0x0001, 8, COOKIE) + txid + struct.pack("!HHI", 0x8028, 4, 0xDEADBEEF)
    return [
        ("empty", b""),
        ("one byte", b"\x00"),
        ("19-byte header", req[:19]),
        ("wrong cookie", struct.pack("!HHI", 0x0001, 0, 0x2112A443) + txid),
        ("length says 8, none follow", struct.pack("!HHI", 0x0001, 8, COOKIE) + txid),
        ("a byte past the length", req + b"\x00"),
        ("2000 bytes", req + os.urandom(1980)),
        ("60000 bytes, fragmented", req + os.urandom(59980)),
        ("a Binding success response", struct.pack("!HHI", 0x0101, 0, COOKIE) + txid),
        ("a Binding indication", struct.pack("!HHI", 0x0011, 0, COOKIE) + txid),
        ("an Allocate request", struct.pack("!HHI", 0x0003, 0, COOKIE) + txid),
        ("a bad FINGERPRINT", fp),
        ("a pqlan DATA header", b"\x20" + os.urandom(60)),
        ("HTTP", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ] + [("random %d" % i, os.urandom(20 + 16 * i)) for i in range(5)]


def cmd_hostile(args):
    """hostile HOST PORT: each datagram above, 20 ms apart, then 1 s
    listening; prints {"sent", "answers"}."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out = {"sent": 0, "answers": 0}
    for _name, d in hostile_datagrams():
        s.sendto(d, (args[0], int(args[1])))
        out["sent"] += 1
        time.sleep(0.02)
    s.settimeout(1.0)
    try:
        while True:
            s.recvfrom(2048)
            out["answers"] += 1
    except socket.timeout:
        pass
    emit(out)
    return 0


def cmd_flood(args):
    """flood HOST PORT COUNT: COUNT random datagrams as fast as possible."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(int(args[2])):
        s.sendto(os.urandom(20 + i % 200), (args[0], int(args[1])))
    emit({"sent": int(args[2])})
    return 0


def cmd_size(args):
    """size HOST PORT: the smallest Binding request (20 bytes); prints
    {"request": 20, "answer": its answer's length or null}."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    txid = os.urandom(12)
    s.sendto(binding_request(txid), (args[0], int(args[1])))
    s.settimeout(2.0)
    try:
        data, _src = s.recvfrom(2048)
        emit({"request": 20, "answer": len(data), "mapped": parse_mapped(data, txid)})
    except socket.timeout:
        emit({"request": 20, "answer": None})
    return 0


def cmd_listen(args):
    s = udp_socket(int(args[0]))
    end = time.monotonic() + float(args[1])
    out = {"received": 0, "from": []}
    seen = set()
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            _data, src = s.recvfrom(2048)
            out["received"] += 1
            seen.add("%s:%d" % src)
        except socket.timeout:
            break
    out["from"] = sorted(seen)
    emit(out)
    return 0


def main():
    cmds = {"stun": cmd_stun, "punch": cmd_punch, "send": cmd_send, "listen": cmd_listen,
            "hostile": cmd_hostile, "flood": cmd_flood, "size": cmd_size}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
