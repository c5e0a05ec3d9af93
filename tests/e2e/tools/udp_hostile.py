#!/usr/bin/env python3
"""udp_hostile.py - an attacker on a node's UDP port, for
tests/e2e/check_udp_hostile.sh. Written here from docs/PROTOCOL.md's
message layouts (independent of src/proto/). Every wait is bounded; every
command prints one JSON object on stdout.

  sniff IFACE PORT OUT SECS
      capture (AF_PACKET) every UDP datagram to or from PORT seen on
      IFACE for SECS s or until SIGTERM; OUT gets one JSON object per
      line: {"src": "ip:port", "dst": "ip:port", "hex": payload}.
  attack KIND HOST PORT [--cap FILE] [--from IP:PORT] [--count N] [--secs S]
      send one kind of hostile datagram to HOST:PORT from our own socket,
      or, with --from, with that (spoofed) source through a raw socket
      (with --secs, the same datagrams again and again for S seconds, at
      most 60: a flood); then listen 1 s for anything coming back to our
      socket. Prints
      {"kind", "sent", "replies"}. Kinds:
        garbage     random bytes, 1-1400 long, first byte anything
        empty       zero-length datagrams
        oversized   3000 to 65000 bytes (more than the node reads)
        stun        STUN-looking: Binding requests, success answers with
                    a random transaction id and XOR-MAPPED-ADDRESS,
                    a wrong length field, a bad cookie
        rehs-random re-handshake messages 0x30-0x32 of the exact sizes,
                    random contents
        rehs-sid    the same with a session id captured in FILE
        rehs-replay the re-handshake messages captured in FILE, again
        sealed-replay   sealed datagrams (0x20-0x26) captured in FILE
                        whose destination is HOST, again
        sealed-truncated  the same cut short (1 .. len-1 bytes)
        sealed-forged   a captured datagram's header (valid receiver
                        index) with the rest random or one bit flipped
        rehs-forge  a fresh REQUEST: the captured session id, a new
                    challenge, the current time (no MAC protects it)
  forward SNIFF_IFACE SRC_IP DST_IP PORT SECS
      for SECS s: every datagram SRC_IP -> DST_IP:PORT seen on the wire
      is sent again, payload unchanged, from our own socket to
      DST_IP:PORT (a third address relaying fresh datagrams); prints
      {"forwarded"}.
"""
import json
import os
import random
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
COOKIE = 0x2112A442
REHS_LEN = {0x30: 57, 0x31: 89, 0x32: 57}
SEALED_TYPES = range(0x20, 0x27)


def emit(obj):
    print(json.dumps(obj), flush=True)


def parse_udp(frame):
    """(src, sport, dst, dport, payload) of an Ethernet/IPv4/UDP frame, or None."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    frag = struct.unpack("!H", ip[6:8])[0]
    if ip[0] >> 4 != 4 or ip[9] != 17 or frag & 0x3FFF or total > len(ip):
        return None
    udp = ip[ihl:total]
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    return socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]), dport, udp[8:ulen]


def sniff_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(0.2)
    return s


def cmd_sniff(iface, port, out, secs):
    s = sniff_socket(iface)
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))
    end = time.monotonic() + secs
    n = 0
    with open(out, "w") as f:  # exists once the capture runs
        while not stop[0] and time.monotonic() < end:
            try:
                frame = s.recv(65600)
            except socket.timeout:
                continue
            p = parse_udp(frame)
            if not p or port not in (p[1], p[3]):
                continue
            f.write(json.dumps({"src": "%s:%d" % p[0:2], "dst": "%s:%d" % p[2:4], "hex": p[4].hex()}) + "\n")
            f.flush()
            n += 1
    emit({"captured": n})
    return 0


def load_cap(path, host=None):
    out = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if host and not r["dst"].startswith(host + ":"):
                continue
            out.append(bytes.fromhex(r["hex"]))
    return out


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class Sender:
    """Datagrams to (host, port) from our socket, or spoofed from src."""

    def __init__(self, host, port, spoof=None):
        self.dst = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
        self.raw = None
        if spoof:
            ip, sport = spoof.rsplit(":", 1)
            self.spoof = (ip, int(sport))
            self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.sent = 0

    def send(self, payload):
        if self.raw is None:
            self.sock.sendto(payload, self.dst)
        else:
            src = socket.inet_aton(self.spoof[0])
            dst = socket.inet_aton(self.dst[0])
            ulen = 8 + len(payload)
            pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
            udp = struct.pack("!HHHH", self.spoof[1], self.dst[1], ulen, 0) + payload
            csum = checksum(pseudo + udp) or 0xFFFF
            udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
            iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, random.getrandbits(16), 0, 64, 17, 0, src, dst)
            iph = iph[:10] + struct.pack("!H", checksum(iph)) + iph[12:]
            self.raw.sendto(iph + udp, (self.dst[0], 0))
        self.sent += 1
        # Paced: the node's socket buffer is not what is under test.
        if self.sent % 50 == 0:
            time.sleep(0.01)

    def replies(self, secs=1.0):
        n = 0
        end = time.monotonic() + secs
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return n
            self.sock.settimeout(left)
            try:
                self.sock.recvfrom(65600)
                n += 1
            except socket.timeout:
                return n
            except OSError:
                continue


def rand(n):
    return os.urandom(n)


def stun_junk(count):
    out = []
    for i in range(count):
        txid = rand(12)
        k = i % 4
        if k == 0:  # a Binding request (the node is no STUN server)
            out.append(struct.pack("!HHI", 0x0001, 0, COOKIE) + txid)
        elif k == 1:  # a success answer to nothing we asked
            port = random.getrandbits(16) ^ (COOKIE >> 16)
            addr = struct.pack("!I", random.getrandbits(32) ^ COOKIE)
            attr = struct.pack("!HHBBH", 0x0020, 8, 0, 1, port) + addr
            out.append(struct.pack("!HHI", 0x0101, len(attr), COOKIE) + txid + attr)
        elif k == 2:  # a length field that lies
            out.append(struct.pack("!HHI", 0x0101, 200, COOKIE) + txid + rand(8))
        else:  # no magic cookie
            out.append(struct.pack("!HHI", 0x0101, 0, 0xDEADBEEF) + txid)
    return out


def rehs_messages(cap):
    return [d for d in cap if d and d[0] in REHS_LEN and len(d) == REHS_LEN[d[0]]]


def sealed_messages(cap):
    return [d for d in cap if d and d[0] in SEALED_TYPES and len(d) >= 13 + 16]


def build(kind, count, cap):
    if kind == "garbage":
        return [rand(random.randint(1, 1400)) for _ in range(count)]
    if kind == "empty":
        return [b""] * count
    if kind == "oversized":
        sizes = [3000, 9000, 20000, 65000]
        return [rand(sizes[i % len(sizes)]) for i in range(count)]
    if kind == "stun":
        return stun_junk(count)
    if kind == "rehs-random":
        types = list(REHS_LEN)
        return [bytes([t]) + rand(REHS_LEN[t] - 1) for t in (types[i % 3] for i in range(count))]
    if kind == "rehs-sid":
        sid = rehs_messages(cap)[0][1:17]
        types = list(REHS_LEN)
        return [bytes([t]) + sid + rand(REHS_LEN[t] - 17) for t in (types[i % 3] for i in range(count))]
    if kind == "rehs-replay":
        return rehs_messages(cap)
    if kind == "rehs-forge":
        sid = rehs_messages(cap)[-1][1:17]
        return [bytes([0x30]) + sid + rand(32) + struct.pack("!Q", int(time.time() * 1000))
                for _ in range(count)]
    sealed = sealed_messages(cap)
    if kind == "sealed-replay":
        return sealed[:count]
    if kind == "sealed-truncated":
        return [d[:random.randint(1, len(d) - 1)] for d in sealed[:count]]
    if kind == "sealed-forged":
        out = []
        for i, d in enumerate(sealed[:count]):
            if i % 2:  # one bit flipped in the tag
                b = bytearray(d)
                b[-1] ^= 0x01
                out.append(bytes(b))
            else:  # the header, then random bytes of the same length
                out.append(d[:13] + rand(len(d) - 13))
        return out
    raise SystemExit("unknown kind " + kind)


def cmd_attack(args):
    kind, host, port = args[0], args[1], int(args[2])
    opts = dict(zip(args[3::2], args[4::2]))
    count = int(opts.get("--count", "200"))
    cap = load_cap(opts["--cap"], host if kind.startswith("sealed") else None) if "--cap" in opts else []
    msgs = build(kind, count, cap)
    if not msgs:
        emit({"kind": kind, "error": "nothing captured to send"})
        return 1
    s = Sender(host, port, opts.get("--from"))
    until = time.monotonic() + min(float(opts.get("--secs", "0")), 60.0)
    while True:
        for m in msgs:
            s.send(m)
        if time.monotonic() >= until:
            break
    emit({"kind": kind, "sent": s.sent, "replies": s.replies(1.0)})
    return 0


def cmd_forward(iface, src_ip, dst_ip, port, secs):
    sn = sniff_socket(iface)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.bind(("0.0.0.0", 0))
    end = time.monotonic() + secs
    n = 0
    while time.monotonic() < end:
        try:
            frame = sn.recv(65600)
        except socket.timeout:
            continue
        p = parse_udp(frame)
        if p and p[0] == src_ip and p[2] == dst_ip and p[3] == port:
            out.sendto(p[4], (dst_ip, port))
            n += 1
    emit({"forwarded": n})
    return 0


def main(argv):
    if len(argv) == 6 and argv[1] == "sniff":
        return cmd_sniff(argv[2], int(argv[3]), argv[4], float(argv[5]))
    if len(argv) >= 5 and argv[1] == "attack":
        return cmd_attack(argv[2:])
    if len(argv) == 7 and argv[1] == "forward":
        return cmd_forward(argv[2], argv[3], argv[4], int(argv[5]), float(argv[6]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
