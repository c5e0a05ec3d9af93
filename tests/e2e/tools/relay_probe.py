#!/usr/bin/python3
"""relay_probe.py - hostile and standard clients against a running
`pqlan relay` (used by tests/e2e/check_relay_hostile.sh).

    relay_probe.py HOST PORT RELAY_PUBKEY CHECK [ARG]

CHECK is one of:
  garbage        bytes that are not TLS: the relay closes that connection
  http           a plain HTTP GET over TLS: answered 400 or 426, then closed
  stall MS       TLS, then nothing (slowloris): closed near the MS deadline
  unmasked       a client frame without a mask after the Upgrade: close 1002
  oversize       a frame header announcing 1 MiB: close 1009 before the body
  websockets     the `websockets` library (Debian python3-websockets) opens the
                 WebSocket over TLS and receives RELAY_CHALLENGE (33 bytes, 0x01)
  noauth MS      open, receive the challenge, say nothing: CLOSE(3) near MS
  badfirst [empty]  a first message that is not RELAY_AUTH (a RELAY_SEND, or
                 an empty message): CLOSE(2), then closed
Prints one "checked: ..." line on success; exits 1 with the reason otherwise.
Every wait has a timeout. The relay's certificate is self-signed: CA
verification is off, and the certificate's Ed25519 key is compared with
RELAY_PUBKEY instead (the pin a node applies).
"""
import asyncio
import base64
import os
import socket
import ssl
import struct
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

TIMEOUT = 10.0


class Fail(Exception):
    pass


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def check_pin(der, relay_key):
    cert = x509.load_der_x509_certificate(der)
    raw = cert.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if raw != relay_key:
        raise Fail("the relay's certificate key is not RELAY_PUBKEY")


def tls_connect(host, port, relay_key):
    raw = socket.create_connection((host, port), timeout=TIMEOUT)
    s = tls_context().wrap_socket(raw)
    s.settimeout(TIMEOUT)
    check_pin(s.getpeercert(binary_form=True), relay_key)
    return s


def read_until_closed(s, limit=TIMEOUT):
    """All bytes until EOF or reset; Fail if the peer keeps it open."""
    data = b""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return data
        except socket.timeout:
            break
        if not chunk:
            return data
        data += chunk
    raise Fail("the relay kept the connection open")


def upgrade(host, port, relay_key):
    s = tls_connect(host, port, relay_key)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % (host, port, key)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise Fail("no 101 response")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise Fail("upgrade refused: %r" % head.split(b"\r\n")[0])
    return s, rest


def read_frame(s, buf):
    """One server frame: (opcode, payload, leftover bytes)."""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = s.recv(65536)
            if not chunk:
                raise Fail("EOF inside a frame")
            buf += chunk
    need(2)
    op, ln = buf[0] & 0x0F, buf[1] & 0x7F
    if buf[1] & 0x80:
        raise Fail("server frame is masked")
    off = 2
    if ln == 126:
        need(4)
        ln, off = struct.unpack(">H", buf[2:4])[0], 4
    elif ln == 127:
        need(10)
        ln, off = struct.unpack(">Q", buf[2:10])[0], 10
    need(off + ln)
    return op, buf[off:off + ln], buf[off + ln:]


def expect_close(s, buf, code):
    """Skip data frames until a close frame; check its status code."""
    while True:
        op, payload, buf = read_frame(s, buf)
        if op == 0x8:
            got = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
            if got != code:
                raise Fail("close code %r, expected %d" % (got, code))
            return


def challenge_of(s, buf):
    op, payload, buf = read_frame(s, buf)
    if op != 0x2 or len(payload) != 33 or payload[0] != 0x01:
        raise Fail("first message is not RELAY_CHALLENGE: op %d, %d bytes" % (op, len(payload)))
    return buf


def check_garbage(host, port, relay_key, arg):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.sendall(b"\x00\xffthis is not TLS at all\r\n" * 64)
    read_until_closed(s)
    return "garbage bytes instead of TLS: connection closed"


def check_http(host, port, relay_key, arg):
    s = tls_connect(host, port, relay_key)
    s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode())
    data = read_until_closed(s)
    line = data.split(b"\r\n")[0]
    if not (line.startswith(b"HTTP/1.1 400") or line.startswith(b"HTTP/1.1 426")):
        raise Fail("plain HTTP answered %r" % line)
    return "plain HTTP request over TLS: %s, closed" % line.decode()


def check_stall(host, port, relay_key, arg):
    ms = int(arg)
    t0 = time.monotonic()
    s = tls_connect(host, port, relay_key)
    read_until_closed(s, limit=ms / 1000 + 5)
    took = (time.monotonic() - t0) * 1000
    if took < ms * 0.8:
        raise Fail("closed after %d ms, before the %d ms deadline" % (took, ms))
    return "stalled upgrade (TLS, then nothing) closed after %d ms (deadline %d ms)" % (took, ms)


def masked_frame(op, payload, mask=True):
    n = len(payload)
    head = bytes([0x80 | op])
    m = 0x80 if mask else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack(">H", n)
    else:
        head += bytes([m | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def check_unmasked(host, port, relay_key, arg):
    s, buf = upgrade(host, port, relay_key)
    buf = challenge_of(s, buf)
    s.sendall(masked_frame(0x2, b"\x02" + bytes(96), mask=False))
    expect_close(s, buf, 1002)
    read_until_closed(s)
    return "unmasked client frame: close 1002"


def check_oversize(host, port, relay_key, arg):
    s, buf = upgrade(host, port, relay_key)
    buf = challenge_of(s, buf)
    s.sendall(bytes([0x82, 0x80 | 127]) + struct.pack(">Q", 1 << 20) + os.urandom(4))
    expect_close(s, buf, 1009)
    read_until_closed(s)
    return "frame header announcing 1 MiB: close 1009 before the body"


def check_badfirst(host, port, relay_key, arg):
    """arg "empty": an empty binary message; otherwise a RELAY_SEND."""
    s, buf = upgrade(host, port, relay_key)
    buf = challenge_of(s, buf)
    first = b"" if arg == "empty" else b"\x06" + bytes(40)
    s.sendall(masked_frame(0x2, first))
    op, payload, buf = read_frame(s, buf)
    if op != 0x2 or payload != b"\x09\x00\x02":
        raise Fail("expected CLOSE(2), got op %d %r" % (op, payload))
    expect_close(s, buf, 1002)
    read_until_closed(s)
    return "%s before RELAY_AUTH: CLOSE(2), close 1002" % (
        "an empty message" if arg == "empty" else "RELAY_SEND")


async def ws_open(host, port, relay_key):
    import websockets
    ws = await asyncio.wait_for(websockets.connect(
        "wss://%s:%d/" % (host, port), ssl=tls_context(), compression=None,
        open_timeout=TIMEOUT, max_size=1 << 16), TIMEOUT)
    check_pin(ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True),
              relay_key)
    msg = await asyncio.wait_for(ws.recv(), TIMEOUT)
    if not isinstance(msg, bytes) or len(msg) != 33 or msg[0] != 0x01:
        raise Fail("websockets client got %r, not a 33-byte RELAY_CHALLENGE" % (msg,))
    return ws, websockets.__version__


async def ws_challenge(host, port, relay_key):
    ws, version = await ws_open(host, port, relay_key)
    await ws.close()
    return version


def check_websockets(host, port, relay_key, arg):
    version = asyncio.run(ws_challenge(host, port, relay_key))
    return ("standard client (python3-websockets %s) opened the WebSocket over TLS 1.3 "
            "and received RELAY_CHALLENGE (33 bytes, 0x01)" % version)


async def ws_noauth(host, port, relay_key, ms):
    import websockets
    ws, _ = await ws_open(host, port, relay_key)
    t0 = time.monotonic()
    msg = await asyncio.wait_for(ws.recv(), ms / 1000 + 5)
    if msg != b"\x09\x00\x03":
        raise Fail("expected CLOSE(3), got %r" % (msg,))
    try:
        await asyncio.wait_for(ws.recv(), 5)
        raise Fail("a message after CLOSE")
    except websockets.ConnectionClosed:
        pass
    return (time.monotonic() - t0) * 1000


def check_noauth(host, port, relay_key, arg):
    ms = int(arg)
    took = asyncio.run(ws_noauth(host, port, relay_key, ms))
    if took < ms * 0.8:
        raise Fail("CLOSE(3) after %d ms, before the %d ms deadline" % (took, ms))
    return "no RELAY_AUTH: CLOSE(3) after %d ms (deadline %d ms), then closed" % (took, ms)


CHECKS = {
    "garbage": check_garbage, "http": check_http, "stall": check_stall,
    "unmasked": check_unmasked, "oversize": check_oversize,
    "websockets": check_websockets, "noauth": check_noauth, "badfirst": check_badfirst,
}


def main():
    if len(sys.argv) not in (5, 6) or sys.argv[4] not in CHECKS:
        print(__doc__, file=sys.stderr)
        return 2
    host, port = sys.argv[1], int(sys.argv[2])
    relay_key = base64.b64decode(sys.argv[3], validate=True)
    arg = sys.argv[5] if len(sys.argv) == 6 else None
    try:
        print("checked: " + CHECKS[sys.argv[4]](host, port, relay_key, arg))
    except (Fail, OSError, asyncio.TimeoutError) as e:
        print("relay_probe %s: FAILED: %s" % (sys.argv[4], e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
