/*
 * msg_relay.h - wire codec of the node <-> relay messages, types 0x01-0x0a
 * (DESIGN §2; byte layouts in docs/PROTOCOL.md §3).
 *
 * Every message is one type byte and a payload of exact size or bounded
 * range. Decoders take the whole message (type byte included), check the
 * type and the size first, then read through the bounds-checked cursor, and
 * return PQ_E_DECODE for anything else. Encoders take their buffer's
 * capacity and return PQ_E_TOOBIG when the message does not fit, PQ_E_INVAL
 * when a field is outside what a decoder would accept.
 *
 * Borrowing: the payload pointer of a decoded RELAY_SEND / RELAY_RECV, and
 * the keys pointer of a decoded RELAY_WATCH, point into the decoder's input
 * buffer and are valid only as long as that buffer.
 * Every other decoded field is copied into the struct.
 */
#ifndef PQ_PROTO_MSG_RELAY_H
#define PQ_PROTO_MSG_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/types.h"
#include "util/err.h"

#define PQ_RELAY_CHALLENGE_LEN 32
#define PQ_RELAY_SIG_LEN 64
#define PQ_TLS_EXPORTER_LEN 32
#define PQ_WIRE_ADDR_LEN 19 /* family 1 + address 16 + port 2 */

/* TLS exporter (RFC 8446 §7.5) used as channel binding, on relay and
 * direct connections alike: this label, an empty context, 32 bytes. */
#define PQ_TLS_EXPORTER_LABEL "EXPERIMENTAL-pqlan v1 channel binding"

/* The bytes a node signs to authenticate to the relay (DESIGN §2):
 * label (19 ASCII bytes, no terminator) || challenge 32 || exporter 32. */
#define PQ_RELAY_AUTH_LABEL "pqlan v1 relay auth"
#define PQ_RELAY_AUTH_LABEL_LEN (sizeof(PQ_RELAY_AUTH_LABEL) - 1)
#define PQ_RELAY_AUTH_SIGNED_LEN (PQ_RELAY_AUTH_LABEL_LEN + PQ_RELAY_CHALLENGE_LEN + PQ_TLS_EXPORTER_LEN)

/* Whole-message sizes, type byte included. */
#define PQ_RELAY_CHALLENGE_MSG_LEN (1 + PQ_RELAY_CHALLENGE_LEN)                  /* 33 */
#define PQ_RELAY_AUTH_MSG_LEN (1 + PQ_PUBKEY_LEN + PQ_RELAY_SIG_LEN)             /* 97 */
#define PQ_RELAY_WELCOME_MSG_LEN (1 + PQ_WIRE_ADDR_LEN)                          /* 20 */
#define PQ_PEER_ONLINE_MSG_LEN (1 + PQ_PUBKEY_LEN + PQ_WIRE_ADDR_LEN)            /* 52 */
#define PQ_PEER_OFFLINE_MSG_LEN (1 + PQ_PUBKEY_LEN)                              /* 33 */
#define PQ_UNREACHABLE_MSG_LEN (1 + PQ_PUBKEY_LEN)                               /* 33 */
#define PQ_CLOSE_MSG_LEN (1 + 2)                                                 /* 3 */
/* RELAY_SEND / RELAY_RECV: type + key + payload of 1..PQ_RELAY_PAYLOAD_MAX. */
#define PQ_RELAY_PAYLOAD_MIN 1
#define PQ_RELAY_PAYLOAD_MAX (PQ_MAX_MSG_LEN - 1 - PQ_PUBKEY_LEN)
#define PQ_RELAY_FWD_MSG_MIN (1 + PQ_PUBKEY_LEN + PQ_RELAY_PAYLOAD_MIN)          /* 34 */
#define PQ_RELAY_FWD_MSG_MAX PQ_MAX_MSG_LEN
/* RELAY_WATCH: type + count (2, big-endian) + count distinct keys, count
 * 1..PQ_RELAY_WATCH_MAX (a node's [peer] bound, PQ_CONFIG_MAX_PEERS). */
#define PQ_RELAY_WATCH_MAX 256
#define PQ_RELAY_WATCH_MSG_LEN(count) (3 + PQ_PUBKEY_LEN * (size_t)(count))
#define PQ_RELAY_WATCH_MSG_MIN PQ_RELAY_WATCH_MSG_LEN(1)                         /* 35 */
#define PQ_RELAY_WATCH_MSG_MAX PQ_RELAY_WATCH_MSG_LEN(PQ_RELAY_WATCH_MAX)        /* 8195 */

/* Address family byte of an observed address. */
enum pq_addr_family {
	PQ_ADDR_V4 = 4, /* address holds ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) */
	PQ_ADDR_V6 = 6, /* any other IPv6 address (never v4-mapped) */
};

/* An address as the relay observed it. Valid on the wire: family 4 with a
 * v4-mapped address, or family 6 with a non-v4-mapped address; never the
 * unspecified address; port 1..65535 (host order here, big-endian on the
 * wire). */
struct pq_wire_addr {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

/* CLOSE reason codes. Any other value is a decode error. */
enum pq_close_reason {
	PQ_CLOSE_NORMAL = 1,      /* orderly shutdown */
	PQ_CLOSE_PROTOCOL = 2,    /* the peer sent something malformed or unexpected */
	PQ_CLOSE_AUTH_FAILED = 3, /* relay authentication failed */
	PQ_CLOSE_REPLACED = 4,    /* a newer connection with the same key replaced this one */
	PQ_CLOSE_GOING_AWAY = 5,  /* the sender is shutting down or restarting */
	PQ_CLOSE_TOO_BIG = 6,     /* a message exceeded a bound */
};
#define PQ_CLOSE_REASON_MAX PQ_CLOSE_TOO_BIG

struct pq_relay_challenge {
	uint8_t challenge[PQ_RELAY_CHALLENGE_LEN];
};

struct pq_relay_auth {
	uint8_t node_key[PQ_PUBKEY_LEN];
	uint8_t sig[PQ_RELAY_SIG_LEN];
};

struct pq_relay_welcome {
	struct pq_wire_addr observed;
};

struct pq_peer_online {
	uint8_t key[PQ_PUBKEY_LEN];
	struct pq_wire_addr observed;
};

/* PEER_OFFLINE and UNREACHABLE carry just a key. */
struct pq_peer_key_msg {
	uint8_t key[PQ_PUBKEY_LEN];
};

/* RELAY_SEND (key = destination) and RELAY_RECV (key = source). */
struct pq_relay_fwd {
	uint8_t key[PQ_PUBKEY_LEN];
	const uint8_t *payload; /* borrowed from the decoder's input */
	size_t payload_len;
};

struct pq_close {
	uint16_t reason; /* enum pq_close_reason */
};

/* RELAY_WATCH: the keys whose presence a node wants to hear about, and
 * who may reach it through the relay (PROTOCOL §3.4, mutual watch). */
struct pq_relay_watch {
	const uint8_t *keys; /* count * PQ_PUBKEY_LEN bytes; borrowed from the decoder's input */
	size_t count;        /* 1..PQ_RELAY_WATCH_MAX, no key twice */
};

/* Encoders: write the whole message into buf (capacity cap) and its length
 * into *out_len. 0, PQ_E_TOOBIG (buf too small), PQ_E_INVAL (bad field). */
PQ_MUST_CHECK int pq_relay_challenge_encode(uint8_t *buf, size_t cap, size_t *out_len,
					    const struct pq_relay_challenge *m);
PQ_MUST_CHECK int pq_relay_auth_encode(uint8_t *buf, size_t cap, size_t *out_len,
				       const struct pq_relay_auth *m);
PQ_MUST_CHECK int pq_relay_welcome_encode(uint8_t *buf, size_t cap, size_t *out_len,
					  const struct pq_relay_welcome *m);
PQ_MUST_CHECK int pq_peer_online_encode(uint8_t *buf, size_t cap, size_t *out_len,
					const struct pq_peer_online *m);
PQ_MUST_CHECK int pq_peer_offline_encode(uint8_t *buf, size_t cap, size_t *out_len,
					 const struct pq_peer_key_msg *m);
PQ_MUST_CHECK int pq_unreachable_encode(uint8_t *buf, size_t cap, size_t *out_len,
					const struct pq_peer_key_msg *m);
PQ_MUST_CHECK int pq_relay_send_encode(uint8_t *buf, size_t cap, size_t *out_len,
				       const struct pq_relay_fwd *m);
PQ_MUST_CHECK int pq_relay_recv_encode(uint8_t *buf, size_t cap, size_t *out_len,
				       const struct pq_relay_fwd *m);
PQ_MUST_CHECK int pq_close_encode(uint8_t *buf, size_t cap, size_t *out_len, const struct pq_close *m);
/* PQ_E_INVAL: count outside 1..PQ_RELAY_WATCH_MAX, keys NULL, a key twice. */
PQ_MUST_CHECK int pq_relay_watch_encode(uint8_t *buf, size_t cap, size_t *out_len,
					const struct pq_relay_watch *m);

/* Decoders: 0 or PQ_E_DECODE (wrong type, wrong size, bad field). On error
 * *m is zeroed. */
PQ_MUST_CHECK int pq_relay_challenge_decode(struct pq_relay_challenge *m, const uint8_t *buf, size_t len);
PQ_MUST_CHECK int pq_relay_auth_decode(struct pq_relay_auth *m, const uint8_t *buf, size_t len);
PQ_MUST_CHECK int pq_relay_welcome_decode(struct pq_relay_welcome *m, const uint8_t *buf, size_t len);
PQ_MUST_CHECK int pq_peer_online_decode(struct pq_peer_online *m, const uint8_t *buf, size_t len);
PQ_MUST_CHECK int pq_peer_offline_decode(struct pq_peer_key_msg *m, const uint8_t *buf, size_t len);
PQ_MUST_CHECK int pq_unreachable_decode(struct pq_peer_key_msg *m, const uint8_t *buf, size_t len);
PQ_MUST_CHECK int pq_relay_send_decode(struct pq_relay_fwd *m, const uint8_t *buf, size_t len);
PQ_MUST_CHECK int pq_relay_recv_decode(struct pq_relay_fwd *m, const uint8_t *buf, size_t len);
PQ_MUST_CHECK int pq_close_decode(struct pq_close *m, const uint8_t *buf, size_t len);
/* Also PQ_E_DECODE for count 0 or > PQ_RELAY_WATCH_MAX, a length other
 * than PQ_RELAY_WATCH_MSG_LEN(count), or a key listed twice. */
PQ_MUST_CHECK int pq_relay_watch_decode(struct pq_relay_watch *m, const uint8_t *buf, size_t len);

/* Fill out with the exact bytes a node signs (and the relay verifies) for
 * RELAY_AUTH: PQ_RELAY_AUTH_LABEL || challenge || exporter (DESIGN §2). */
void pq_relay_auth_signed_bytes(uint8_t out[PQ_RELAY_AUTH_SIGNED_LEN],
				const uint8_t challenge[PQ_RELAY_CHALLENGE_LEN],
				const uint8_t exporter[PQ_TLS_EXPORTER_LEN]);

struct pq_signer;

/* A node's answer to the relay: decode the RELAY_CHALLENGE in msg, sign
 * its auth bytes with signer over this connection's exporter, and write
 * RELAY_AUTH (PQ_RELAY_AUTH_MSG_LEN bytes) to out. 0, PQ_E_DECODE (not a
 * challenge), or the signer's error. */
PQ_MUST_CHECK int pq_relay_auth_answer(uint8_t out[PQ_RELAY_AUTH_MSG_LEN], const struct pq_signer *signer,
				       const uint8_t *msg, size_t len,
				       const uint8_t exporter[PQ_TLS_EXPORTER_LEN]);

/* RELAY_WATCH listing keys (count keys of 32 bytes, contiguous) into out
 * (capacity cap), the message a node sends right after RELAY_WELCOME.
 * Keys listed more than once are sent once. 0, PQ_E_INVAL (no key, more
 * than PQ_RELAY_WATCH_MAX distinct keys), PQ_E_TOOBIG. */
PQ_MUST_CHECK int pq_relay_watch_build(uint8_t *out, size_t cap, size_t *out_len,
				       const uint8_t (*keys)[PQ_PUBKEY_LEN], size_t count);

/* 1 when a is a valid observed address (rules above), else 0. */
int pq_wire_addr_valid(const struct pq_wire_addr *a);

/* A short static name for a CLOSE reason code; "unknown" otherwise. */
const char *pq_close_reason_name(uint16_t reason);

#endif
