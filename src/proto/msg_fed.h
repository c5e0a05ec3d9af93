/*
 * msg_fed.h - what relays tell each other through NATS (DESIGN §8,
 * docs/relay.md): the presence record a relay stores in the JetStream
 * key-value bucket for each node connected to it, and the envelope of a
 * RELAY_SEND forwarded to the relay that holds the destination.
 *
 * Every byte here comes from the NATS cluster, which is trusted but may
 * hold a compromised client: each decoder checks the version byte and the
 * size first, reads through the bounds-checked cursor, and refuses
 * anything not exactly as below (PQ_E_DECODE). Integers are big-endian.
 *
 *   presence (KV value; the KV key is the node key in lowercase hex)
 *     0x01 | name_len 1 | relay name | observed 19 (PQ_WIRE_ADDR_LEN)
 *          | count 2 | count node keys, strictly ascending
 *   forward (published on PQ_FED_SUBJECT_PREFIX + the holder's name)
 *     0x02 | name_len 1 | sender's relay name | src key 32 | dst key 32
 *          | payload (PQ_RELAY_PAYLOAD_MIN..PQ_RELAY_PAYLOAD_MAX, sealed
 *            end to end; never read)
 *
 * A relay name is 1..PQ_FED_NAME_MAX bytes of [A-Za-z0-9_-]: one NATS
 * subject token, printable in logs as it is. The presence record's key
 * list is the node's RELAY_WATCH set (0..PQ_RELAY_WATCH_MAX keys; 0
 * while it has sent none), so any relay can apply the mutual-watch rule
 * (PROTOCOL §3.4) to a node connected elsewhere.
 *
 * Borrowing: decoded keys and payload pointers point into the input and
 * live as long as it; names are copied (NUL-terminated).
 */
#ifndef PQ_PROTO_MSG_FED_H
#define PQ_PROTO_MSG_FED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/msg_relay.h"
#include "proto/types.h"
#include "util/err.h"

#define PQ_FED_PRESENCE_V1 0x01
#define PQ_FED_FORWARD_V1 0x02
#define PQ_FED_NAME_MAX 32
/* The subject a relay listens on for frames: this prefix + its name. */
#define PQ_FED_SUBJECT_PREFIX "pqlan.fwd."
/* Lowercase hex of a node key: the KV key of its presence record. */
#define PQ_FED_KEY_HEX_LEN (2 * PQ_PUBKEY_LEN)

#define PQ_FED_PRESENCE_MIN (1 + 1 + 1 + PQ_WIRE_ADDR_LEN + 2)
#define PQ_FED_PRESENCE_LEN(name_len, count) \
	(1 + 1 + (size_t)(name_len) + PQ_WIRE_ADDR_LEN + 2 + PQ_PUBKEY_LEN * (size_t)(count))
#define PQ_FED_PRESENCE_MAX PQ_FED_PRESENCE_LEN(PQ_FED_NAME_MAX, PQ_RELAY_WATCH_MAX)
#define PQ_FED_FORWARD_HDR(name_len) (1 + 1 + (size_t)(name_len) + 2 * PQ_PUBKEY_LEN)
#define PQ_FED_FORWARD_MIN (PQ_FED_FORWARD_HDR(1) + PQ_RELAY_PAYLOAD_MIN)
#define PQ_FED_FORWARD_MAX (PQ_FED_FORWARD_HDR(PQ_FED_NAME_MAX) + PQ_RELAY_PAYLOAD_MAX)

struct pq_fed_presence {
	char relay[PQ_FED_NAME_MAX + 1];  /* the relay the node is connected to */
	struct pq_wire_addr observed;     /* where that relay sees the node */
	const uint8_t *watch;             /* count * PQ_PUBKEY_LEN, ascending; borrowed */
	size_t count;                     /* 0..PQ_RELAY_WATCH_MAX */
};

struct pq_fed_forward {
	char relay[PQ_FED_NAME_MAX + 1];  /* the sender's relay */
	uint8_t src[PQ_PUBKEY_LEN];
	uint8_t dst[PQ_PUBKEY_LEN];
	const uint8_t *payload;           /* borrowed */
	size_t payload_len;
};

/* true when name (NUL-terminated) is a valid relay name. */
bool pq_fed_name_valid(const char *name);

/* Encoders: the length written into out (capacity cap), PQ_E_TOOBIG, or
 * PQ_E_INVAL when a field is outside what the decoder accepts (bad name,
 * invalid address, keys not strictly ascending, payload size). */
PQ_MUST_CHECK long pq_fed_presence_encode(const struct pq_fed_presence *m, uint8_t *out, size_t cap);
PQ_MUST_CHECK long pq_fed_forward_encode(const struct pq_fed_forward *m, uint8_t *out, size_t cap);
/* Decoders: 0 or PQ_E_DECODE (then *m is zeroed). */
PQ_MUST_CHECK int pq_fed_presence_decode(struct pq_fed_presence *m, const uint8_t *in, size_t len);
PQ_MUST_CHECK int pq_fed_forward_decode(struct pq_fed_forward *m, const uint8_t *in, size_t len);

/* The KV key of a node: PQ_FED_KEY_HEX_LEN lowercase hex digits and a
 * NUL into out. Back: exactly that form (len bytes, no NUL needed), else
 * PQ_E_DECODE. */
void pq_fed_key_to_hex(char out[PQ_FED_KEY_HEX_LEN + 1], const uint8_t key[PQ_PUBKEY_LEN]);
PQ_MUST_CHECK int pq_fed_key_from_hex(uint8_t key[PQ_PUBKEY_LEN], const char *hex, size_t len);

/* Is key in the ascending list (count keys)? Binary search. */
bool pq_fed_watch_has(const uint8_t *watch, size_t count, const uint8_t key[PQ_PUBKEY_LEN]);

#endif
