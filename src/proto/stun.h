/*
 * stun.h - STUN (RFC 8489) as far as pqlan needs it: the Binding method,
 * sans I/O. Bytes in, bytes out; no sockets, no clock, no randomness (the
 * caller supplies transaction ids and the current time).
 *
 *   node (its UDP socket)                 relay (relay_stun.c)
 *     pq_stun_txn_start / _request  --->  pq_stun_respond: Binding success
 *                                   <---  with XOR-MAPPED-ADDRESS = the
 *     pq_stun_txn_input: our mapping      datagram's source address
 *
 * What it owns: nothing on the heap. Every decoded field is copied into
 * struct pq_stun_msg except software, which borrows the input buffer.
 *
 * Demultiplexing (RFC 8489 §5, RFC 7983 §7): pq_stun_detect() lets one UDP
 * port carry STUN and pqlan datagrams. pqlan datagrams on a UDP path start
 * with a type byte of 0x10 or more (proto/types.h); a STUN message starts
 * with two zero bits, so on its own that would not tell them apart (0x10-
 * 0x3f start with two zero bits too). We therefore also require a first
 * byte below 0x10 (STUN methods below 0x400: every method registered so
 * far, Binding's first byte is 0x00 or 0x01), plus the magic cookie and a
 * length field that matches the datagram. So a pqlan datagram is never
 * taken for STUN, whatever its content.
 *
 * Decoding is strict and bounded: at most PQ_STUN_MAX_LEN bytes; the
 * header, the 4-byte alignment of the length, every attribute's length
 * against what is left, known attributes' exact sizes, FINGERPRINT (when
 * present: last, and its CRC-32 right, §14.7) are all checked; anything
 * else is PQ_E_DECODE. Attributes after MESSAGE-INTEGRITY(-SHA256) other
 * than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are skipped (§14.5). We
 * hold no STUN credentials, so MESSAGE-INTEGRITY is parsed and ignored
 * (integrity says it was there). The first of repeated attributes counts
 * (§14). RFC 3489 messages (no magic cookie) are not STUN to us.
 *
 * The responder's policy (pq_stun_respond), RFC 8489 §6.3:
 *   Binding request, no unknown comprehension-required attribute
 *        -> Binding success response: XOR-MAPPED-ADDRESS of the source,
 *           FINGERPRINT if the request had one; nothing else (no SOFTWARE).
 *   Binding request with unknown comprehension-required attributes
 *        -> 420 error response: ERROR-CODE (empty reason phrase) and
 *           UNKNOWN-ATTRIBUTES listing the first PQ_STUN_MAX_UNKNOWN of
 *           them, FINGERPRINT if the request had one (§6.3.1 says to
 *           answer 420, and a client probing for RFC 5780's CHANGE-REQUEST
 *           learns from it that we do not do RFC 5780).
 *   anything else (not STUN, malformed, bad FINGERPRINT, an indication, a
 *   response, another method) -> no answer.
 * No amplification: an answer is at most twice the request plus 4 bytes
 * (44 bytes for the smallest request, 20 bytes, answered over IPv6);
 * pq_stun_respond checks this bound on every answer it writes.
 */
#ifndef PQ_PROTO_STUN_H
#define PQ_PROTO_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/msg_sealed.h"
#include "util/err.h"

#define PQ_STUN_HDR_LEN 20
#define PQ_STUN_MAGIC_COOKIE 0x2112A442u /* RFC 8489 §5 */
#define PQ_STUN_TXID_LEN 12
/* The largest message we read or write: RFC 8489 §6.1's path MTU for IPv6
 * when nothing better is known. A Binding exchange needs < 100 bytes. */
#define PQ_STUN_MAX_LEN 1280
/* Unknown comprehension-required attributes remembered from one message
 * (and listed in a 420 answer). */
#define PQ_STUN_MAX_UNKNOWN 8
/* SOFTWARE value bytes (§14.14: fewer than 128 characters, <= 763 bytes). */
#define PQ_STUN_SOFTWARE_MAX 763

/* Message classes (§5) and the one method we speak. */
enum pq_stun_class {
	PQ_STUN_REQUEST = 0,
	PQ_STUN_INDICATION = 1,
	PQ_STUN_SUCCESS = 2,
	PQ_STUN_ERROR = 3,
};
#define PQ_STUN_METHOD_BINDING 0x001
/* The largest method we read or write (see "Demultiplexing"). */
#define PQ_STUN_METHOD_MAX 0x3ff

/* Attribute types (§18.3). 0x0000-0x7fff are comprehension-required. */
enum pq_stun_attr {
	PQ_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	PQ_STUN_ATTR_USERNAME = 0x0006,
	PQ_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	PQ_STUN_ATTR_ERROR_CODE = 0x0009,
	PQ_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	PQ_STUN_ATTR_REALM = 0x0014,
	PQ_STUN_ATTR_NONCE = 0x0015,
	PQ_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	PQ_STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
	PQ_STUN_ATTR_USERHASH = 0x001E,
	PQ_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	PQ_STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
	PQ_STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
	PQ_STUN_ATTR_SOFTWARE = 0x8022,
	PQ_STUN_ATTR_ALTERNATE_SERVER = 0x8023,
	PQ_STUN_ATTR_FINGERPRINT = 0x8028,
};
#define PQ_STUN_ERR_UNKNOWN_ATTRIBUTE 420 /* §15 */

/*
 * One STUN message. Addresses use the project's endpoint form
 * (proto/msg_sealed.h): family 4 with the address v4-mapped, or family 6;
 * a decoded address is always a valid endpoint (port non-zero, not the
 * unspecified address, family 6 never v4-mapped), else PQ_E_DECODE.
 */
struct pq_stun_msg {
	uint8_t cls;                      /* enum pq_stun_class */
	uint16_t method;                  /* 0..PQ_STUN_METHOD_MAX */
	uint8_t txid[PQ_STUN_TXID_LEN];
	bool has_xor_mapped;
	struct pq_endpoint xor_mapped;    /* XOR-MAPPED-ADDRESS, un-XORed */
	bool has_mapped;
	struct pq_endpoint mapped;        /* MAPPED-ADDRESS */
	uint16_t error_code;              /* ERROR-CODE 300-699; 0: none */
	uint8_t unknown_attrs_count;      /* UNKNOWN-ATTRIBUTES */
	uint16_t unknown_attrs[PQ_STUN_MAX_UNKNOWN];
	const uint8_t *software;          /* SOFTWARE (borrowed); NULL: none */
	uint16_t software_len;
	bool fingerprint;                 /* decode: present and right; encode: add one */
	/* Decode only: */
	bool integrity;                   /* MESSAGE-INTEGRITY(-SHA256) seen, not checked */
	uint8_t required_unknown_count;   /* comprehension-required attributes */
	uint16_t required_unknown[PQ_STUN_MAX_UNKNOWN]; /* we do not know (first few) */
};

/* True when the datagram has a STUN header (see "Demultiplexing"). Cheap:
 * looks at the 20-byte header only; pq_stun_decode does the rest. */
bool pq_stun_detect(const uint8_t *in, size_t len);

/* Decode one message (the whole datagram). 0, or PQ_E_DECODE for anything
 * not a well-formed STUN message by the rules above. */
PQ_MUST_CHECK int pq_stun_decode(struct pq_stun_msg *m, const uint8_t *in, size_t len);

/* Encode m: header, then ERROR-CODE (when error_code), UNKNOWN-ATTRIBUTES
 * (when unknown_attrs_count), XOR-MAPPED-ADDRESS, MAPPED-ADDRESS, SOFTWARE,
 * FINGERPRINT (when asked), in that order. Length or PQ_E_TOOBIG;
 * PQ_E_INVAL for a field a decoder would refuse (method > 0x3ff, class
 * > 3, an invalid address, error_code outside 300-699, integrity set:
 * we cannot write MESSAGE-INTEGRITY). */
PQ_MUST_CHECK long pq_stun_encode(const struct pq_stun_msg *m, uint8_t *out, size_t cap);

/* A Binding request with txid; software (NUL-terminated, NULL: none) and
 * a FINGERPRINT when fingerprint. Length or PQ_E_TOOBIG / PQ_E_INVAL. */
PQ_MUST_CHECK long pq_stun_binding_request(const uint8_t txid[PQ_STUN_TXID_LEN], const char *software,
					   bool fingerprint, uint8_t *out, size_t cap);

/* The responder (policy above): the datagram in (len bytes) came from src.
 * Returns the answer's length in out (cap >= PQ_STUN_MAX_LEN is always
 * enough), or a negative code saying why there is none: PQ_E_DECODE (not
 * STUN, or malformed), PQ_E_STATE (well-formed, but not a Binding
 * request), PQ_E_INVAL (src is not a valid endpoint), PQ_E_TOOBIG. */
PQ_MUST_CHECK long pq_stun_respond(const uint8_t *in, size_t len, const struct pq_endpoint *src,
				   uint8_t *out, size_t cap);

/* ---- node side: one Binding transaction (RFC 8489 §6.2.1), stun_txn.c ----
 *
 * Retransmission over UDP: the request is sent at once, then again after
 * rto, 2 rto, 4 rto, ... (doubling), max_sends times in all; after the
 * last send the transaction waits 16 rto (Rm) more, then times out.
 * rto_ms 0 means 500 ms and max_sends 0 means 7 (Rc): the RFC's defaults,
 * 39.5 s in all; a node that wants an answer sooner passes smaller values.
 *
 *   pq_stun_txn_start(&t, txid, now, 0, 0);
 *   loop: pq_stun_txn_poll(&t, now, &next): SEND -> pq_stun_txn_request()
 *         and send it; WAIT -> sleep until next; TIMEOUT -> give up.
 *   each datagram from the server: pq_stun_txn_input() -> 0 with the
 *   mapped address (the transaction is then done), or < 0: not the answer.
 */
struct pq_stun_txn {
	uint8_t txid[PQ_STUN_TXID_LEN];
	uint64_t next_ms;      /* when poll has something to do */
	uint32_t rto_ms;       /* the initial retransmission timeout (RTO) */
	uint32_t wait_ms;      /* the wait after the next send (doubles) */
	uint8_t sends;         /* requests sent so far */
	uint8_t max_sends;
	bool done;             /* answered or timed out */
};

enum pq_stun_txn_action {
	PQ_STUN_TXN_SEND,      /* send the request (again) now */
	PQ_STUN_TXN_WAIT,      /* nothing to do before *next_ms */
	PQ_STUN_TXN_TIMEOUT,   /* no answer after the last wait: give up */
	PQ_STUN_TXN_DONE,      /* answered (or timed out earlier) */
};

#define PQ_STUN_RTO_MS 500   /* §6.2.1 */
#define PQ_STUN_RC 7
#define PQ_STUN_RM 16
#define PQ_STUN_MAX_SENDS 32

/* Start a transaction at now_ms; txid should be fresh random bytes
 * (§6: uniformly random). max_sends above PQ_STUN_MAX_SENDS is capped. */
void pq_stun_txn_start(struct pq_stun_txn *t, const uint8_t txid[PQ_STUN_TXID_LEN], uint64_t now_ms,
		       uint32_t rto_ms, unsigned max_sends);
/* What to do at now_ms; *next_ms is the next time to call (also after
 * SEND). A SEND counts as sent: call it once per due send. */
enum pq_stun_txn_action pq_stun_txn_poll(struct pq_stun_txn *t, uint64_t now_ms, uint64_t *next_ms);
/* The request to send (no SOFTWARE, with FINGERPRINT). Length or < 0. */
PQ_MUST_CHECK long pq_stun_txn_request(const struct pq_stun_txn *t, uint8_t *out, size_t cap);
/* A datagram that arrived on the socket the request left from. 0 and
 * *mapped (XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS) when it is the Binding
 * success response to this transaction, which is then done. Otherwise:
 * PQ_E_DECODE (not STUN or malformed), PQ_E_STATE (not an answer to this
 * transaction, or it is done already), PQ_E_PEER (an error response to it;
 * done: the server will not answer differently). Nothing is changed then. */
PQ_MUST_CHECK int pq_stun_txn_input(struct pq_stun_txn *t, const uint8_t *in, size_t len,
				    struct pq_endpoint *mapped);

/* ---- NAT mapping behaviour (RFC 4787 §4.1, as RFC 5780 §4.3 tests it) ----
 * From one local socket the node asks the relay's STUN port P and port P+1
 * and compares the two mapped addresses:
 *   equal, and equal to local      -> NONE (no NAT on the path)
 *   equal                           -> ENDPOINT_INDEPENDENT: hole punching
 *                                      works (the peer may use the mapping
 *                                      the relay saw)
 *   different                       -> DEPENDENT (address- and/or port-
 *                                      dependent: a new mapping per
 *                                      destination; punching fails unless
 *                                      the other side is open)
 * local may be NULL (unknown, e.g. bound to the wildcard address); either
 * mapped NULL: UNKNOWN. Two destinations that differ only in the port
 * cannot tell an address-dependent mapping from an independent one (RFC
 * 5780 uses a second IP for that); a port-dependent one, such as
 * nftables' `masquerade random`, shows. */
enum pq_nat_mapping {
	PQ_NAT_UNKNOWN = 0,
	PQ_NAT_NONE,
	PQ_NAT_ENDPOINT_INDEPENDENT,
	PQ_NAT_DEPENDENT,
};
enum pq_nat_mapping pq_stun_nat_mapping(const struct pq_endpoint *local, const struct pq_endpoint *m1,
					const struct pq_endpoint *m2);
/* "unknown", "none", "endpoint-independent", "dependent". */
const char *pq_nat_mapping_name(enum pq_nat_mapping m);

/* CRC-32 as FINGERPRINT uses it (ISO-HDLC / IEEE 802.3, as zlib's crc32),
 * before the XOR with 0x5354554e. Exposed for the tests. */
uint32_t pq_stun_crc32(const uint8_t *p, size_t n);

#endif
