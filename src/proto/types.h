/*
 * types.h - the type byte of every pqlan protocol message and the bounds
 * shared by all codecs (DESIGN §2-§5; docs/PROTOCOL.md is the reference).
 *
 * A message is one type byte followed by its payload. Each type has an
 * exact payload size or a bounded range; integers are big-endian.
 * Layouts live with their codecs:
 *   msg_relay.h     0x01-0x0f  node <-> relay
 *   msg_handshake.h 0x10-0x1f  end-to-end hybrid handshake
 *   msg_sealed.h    0x20-0x2f  end-to-end messages sealed with session keys
 *                              (gso_hdr.h: the DATA_GSO offload header)
 *   msg_rehs.h      0x30-0x3f  re-handshake on the direct path (seed, exact)
 */
#ifndef PQ_PROTO_TYPES_H
#define PQ_PROTO_TYPES_H

#include <stdint.h>

enum pq_msg_type {
	/* relay signalling */
	PQ_MSG_RELAY_CHALLENGE = 0x01, /* relay -> node */
	PQ_MSG_RELAY_AUTH = 0x02,      /* node -> relay */
	PQ_MSG_RELAY_WELCOME = 0x03,   /* relay -> node: authenticated, observed address */
	PQ_MSG_PEER_ONLINE = 0x04,     /* relay -> node */
	PQ_MSG_PEER_OFFLINE = 0x05,    /* relay -> node */
	PQ_MSG_RELAY_SEND = 0x06,      /* node -> relay: dst key + opaque payload */
	PQ_MSG_RELAY_RECV = 0x07,      /* relay -> node: src key + opaque payload */
	PQ_MSG_UNREACHABLE = 0x08,     /* relay -> node: dst key offline */
	PQ_MSG_CLOSE = 0x09,           /* either side, any connection: reason code */
	PQ_MSG_RELAY_WATCH = 0x0A,     /* node -> relay, once after WELCOME: its peers' keys */

	/* end to end, carried in RELAY_SEND/RECV payloads or on the direct path */
	PQ_MSG_HS_INIT = 0x10,
	PQ_MSG_HS_RESP = 0x11,
	PQ_MSG_HS_FINISH = 0x12,

	PQ_MSG_DATA = 0x20,       /* sealed Ethernet frame */
	PQ_MSG_KEEPALIVE = 0x21,  /* sealed, empty */
	PQ_MSG_ENDPOINTS = 0x22,  /* sealed list of direct-path candidates */
	PQ_MSG_PROBE = 0x23,      /* sealed liveness probe on the direct path */
	PQ_MSG_PROBE_ACK = 0x24,
	PQ_MSG_DATA_GSO = 0x25,   /* sealed offload header + Ethernet (super-)frame */
	PQ_MSG_PUNCH = 0x26,      /* sealed: a UDP path attempt starts (its id) */
	PQ_MSG_PMTU_PROBE = 0x27, /* sealed, padded: does a datagram this large arrive? */
	PQ_MSG_PMTU_ACK = 0x28,   /* sealed: the size of the PMTU_PROBE that arrived */
	PQ_MSG_DATA_FRAG = 0x29,  /* sealed: a piece of a DATA_GSO plaintext (proto/frag.h) */

	PQ_MSG_REHS_REQUEST = 0x30,
	PQ_MSG_REHS_RESPONSE = 0x31,
	PQ_MSG_REHS_COMPLETE = 0x32,
};

#define PQ_PUBKEY_LEN 32
/* The largest Ethernet frame a DATA message carries (jumbo frames fit). */
#define PQ_MAX_FRAME_LEN 16384
/* The largest frame a DATA_GSO message carries: a TSO/GSO super-frame from
 * the TAP (proto/gso_hdr.h). The kernel builds one IP packet of at most
 * 65535 bytes (the IPv4 total length; the tun device's gso_max_size is
 * 64 KiB, so IPv6 stays below it too), plus the Ethernet header and one
 * 802.1Q tag. */
#define PQ_MAX_GSO_FRAME_LEN (65535 + 14 + 4)
/* The largest message any pqlan connection accepts, type byte included;
 * transports refuse longer ones from their length header, before buffering.
 * Room for a sealed DATA_GSO (13 + 10 + frame + 16) inside a RELAY_SEND /
 * RELAY_RECV (1 + 32), with slack. */
#define PQ_MAX_MSG_LEN (PQ_MAX_GSO_FRAME_LEN + 256)

#endif
