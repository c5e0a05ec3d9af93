/*
 * msg_sealed.h - messages sealed with the session's traffic keys (DESIGN §4).
 *
 *   type 1 | receiver index 4 | counter 8 | AES-256-GCM ciphertext | tag 16
 *
 * The 13-byte header is the AEAD's additional data, so neither the type nor
 * the index can be changed without failing the tag. Plaintext bounds by type:
 *   DATA       0x20  one Ethernet frame, PQ_DATA_MIN_LEN..PQ_MAX_FRAME_LEN
 *   KEEPALIVE  0x21  empty
 *   ENDPOINTS  0x22  count 1 (<= 16) | count x (kind 1 | address 16 | port 2),
 *                    kind = transport << 4 | family (transport 0 TLS, 1 UDP)
 *   PROBE      0x23  probe id 8
 *   PROBE_ACK  0x24  probe id 8 (echoed)
 *   DATA_GSO   0x25  offload header 10 | Ethernet frame 14..PQ_MAX_GSO_FRAME_LEN
 *                    (proto/gso_hdr.h checks the header against the frame)
 *   PUNCH      0x26  attempt id 16: a UDP path attempt of the sender starts;
 *                    its re-handshake binding derives from the id
 *                    (docs/PROTOCOL.md §5.6)
 *   PMTU_PROBE 0x27  padding 0..PQ_PMTU_PROBE_MAX_PT: only its size matters
 *                    (proto/pmtu.h; UDP conns only)
 *   PMTU_ACK   0x28  size 2: the IP packet size of the PMTU_PROBE answered
 *   DATA_FRAG  0x29  id 4 | total 2 | piece size 2 | index 1 | piece: one
 *                    piece of a DATA_GSO plaintext no datagram holds whole
 *                    (proto/frag.h checks the header against the piece)
 * This module only frames; session.c seals and opens.
 */
#ifndef PQ_PROTO_MSG_SEALED_H
#define PQ_PROTO_MSG_SEALED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aead.h"
#include "proto/gso_hdr.h"
#include "proto/pmtu.h"
#include "proto/types.h"
#include "util/err.h"

#define PQ_SEALED_HDR_LEN 13
#define PQ_SEALED_OVERHEAD (PQ_SEALED_HDR_LEN + PQ_AEAD_TAG_LEN)
/* An Ethernet frame is at least its 14-byte header (no FCS on a TAP). */
#define PQ_DATA_MIN_LEN 14
#define PQ_PROBE_ID_LEN 8
#define PQ_PUNCH_ID_LEN 16
#define PQ_ENDPOINTS_MAX 16
#define PQ_ENDPOINT_LEN 19
#define PQ_ENDPOINTS_MAX_LEN (1 + PQ_ENDPOINTS_MAX * PQ_ENDPOINT_LEN)
/* A probe of the largest size over IPv4 (20 + 8 bytes of headers). */
#define PQ_PMTU_PROBE_MAX_PT (PQ_PMTU_MAX - 28 - PQ_SEALED_OVERHEAD)
#define PQ_PMTU_ACK_LEN 2
/* The largest plaintext any sealed type carries (DATA_GSO: the 10-byte
 * offload header and a super-frame), and its sealed size. */
#define PQ_SEALED_MAX_PT PQ_DATA_GSO_MAX_LEN
#define PQ_SEALED_MAX_LEN (PQ_SEALED_MAX_PT + PQ_SEALED_OVERHEAD)

struct pq_sealed_hdr {
	uint8_t type;
	uint32_t receiver_index;
	uint64_t counter;
};

/* true for the ten sealed types (0x20-0x29). */
bool pq_sealed_type_ok(uint8_t type);
/* 0 when a plaintext of len bytes is allowed for type, else PQ_E_DECODE
 * (unknown type) or PQ_E_TOOBIG / PQ_E_DECODE (out of the type's bounds). */
PQ_MUST_CHECK int pq_sealed_pt_len_ok(uint8_t type, size_t len);

/* Write the 13-byte header; bytes written or PQ_E_TOOBIG / PQ_E_INVAL. */
PQ_MUST_CHECK long pq_sealed_hdr_encode(const struct pq_sealed_hdr *h, uint8_t *out, size_t cap);
/* Check the type byte and the total size against the type's bounds, then
 * read the header. *ct (borrowed from in) and *ct_len cover ciphertext and
 * tag. PQ_E_DECODE on any violation. */
PQ_MUST_CHECK int pq_sealed_decode(struct pq_sealed_hdr *h, const uint8_t **ct, size_t *ct_len,
				   const uint8_t *in, size_t len);

/* ENDPOINTS plaintext. A v4 address travels v4-mapped (::ffff:a.b.c.d) with
 * family 4; family 6 must not be v4-mapped; the unspecified address and
 * port 0 are refused (the rules of msg_relay.h's observed address). */
#define PQ_EP_FAMILY_V4 4
#define PQ_EP_FAMILY_V6 6
#define PQ_EP_TLS 0
#define PQ_EP_UDP 1
struct pq_endpoint {
	uint8_t family;
	uint8_t transport;         /* PQ_EP_TLS: a direct listener; PQ_EP_UDP: a UDP socket */
	uint8_t addr[16];
	uint16_t port;
};
struct pq_endpoints {
	uint8_t count;
	struct pq_endpoint ep[PQ_ENDPOINTS_MAX];
};
PQ_MUST_CHECK long pq_endpoints_encode(const struct pq_endpoints *e, uint8_t *out, size_t cap);
PQ_MUST_CHECK int pq_endpoints_decode(struct pq_endpoints *e, const uint8_t *in, size_t len);
/* Fill ep with a v4 address (4 bytes, network order) in mapped form. */
void pq_endpoint_set_v4(struct pq_endpoint *ep, const uint8_t v4[4], uint16_t port);

/* PROBE / PROBE_ACK plaintext: the 8-byte probe id. */
PQ_MUST_CHECK long pq_probe_encode(const uint8_t id[PQ_PROBE_ID_LEN], uint8_t *out, size_t cap);
PQ_MUST_CHECK int pq_probe_decode(uint8_t id[PQ_PROBE_ID_LEN], const uint8_t *in, size_t len);

/* PMTU_ACK plaintext: the size, 16 bits big-endian. Decoding refuses a
 * size outside [PQ_PMTU_MIN, PQ_PMTU_MAX]: we never probe one. */
void pq_pmtu_ack_encode(unsigned size, uint8_t out[PQ_PMTU_ACK_LEN]);
PQ_MUST_CHECK int pq_pmtu_ack_decode(unsigned *size, const uint8_t *in, size_t len);

#endif
