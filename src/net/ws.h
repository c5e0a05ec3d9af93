/*
 * ws.h - WebSocket frame codec (RFC 6455 §5), sans I/O.
 *
 * The receiver is fed bytes as they arrive (any split, down to one byte at
 * a time) and yields one event at a time: a complete binary message, a
 * ping, a pong, a close, or a failure carrying the close code the caller
 * must send before dropping the connection. It never reads a socket and
 * never reads a clock.
 *
 * pqlan speaks binary messages only. What the receiver refuses, and the
 * close code it asks for (RFC 6455 §7.4.1):
 *   1002  a frame masked/unmasked against the role (§5.1), RSV bits set
 *         (§5.2, no extension is negotiated), an unknown opcode, a control
 *         frame longer than 125 bytes or fragmented (§5.5), a continuation
 *         with no open message or a new data frame while one is open
 *         (§5.4), a 64-bit length with its top bit set, a length not in
 *         its minimal encoding (§5.2 "the minimal number of bytes MUST be
 *         used" - we enforce it), a close frame with a 1-byte body or an
 *         invalid status code (§7.4), any frame after a close.
 *   1003  a text message (refused from its first header).
 *   1009  a message whose total length would exceed max_msg, refused from
 *         the frame header that would cross the limit, before any of its
 *         payload is buffered.
 * The UTF-8 validity of a close reason is not checked: pqlan never acts on
 * the reason; a caller that logs it must escape it.
 *
 * Memory: one reassembly buffer per receiver, grown on demand and never
 * larger than max_msg, plus a fixed 125-byte control buffer. Event data is
 * borrowed from the receiver and valid until the next feed call.
 */
#ifndef PQ_NET_WS_H
#define PQ_NET_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum pq_ws_role {
	PQ_WS_SERVER = 0, /* receives masked frames, sends unmasked ones */
	PQ_WS_CLIENT = 1, /* receives unmasked frames, sends masked ones */
};

/* RFC 6455 §5.2 opcodes. */
enum pq_ws_opcode {
	PQ_WS_OP_CONT = 0x0,
	PQ_WS_OP_TEXT = 0x1,
	PQ_WS_OP_BINARY = 0x2,
	PQ_WS_OP_CLOSE = 0x8,
	PQ_WS_OP_PING = 0x9,
	PQ_WS_OP_PONG = 0xa,
};

/* RFC 6455 §7.4.1 status codes we send or report. */
#define PQ_WS_CLOSE_NORMAL 1000
#define PQ_WS_CLOSE_GOING_AWAY 1001
#define PQ_WS_CLOSE_PROTOCOL 1002
#define PQ_WS_CLOSE_UNSUPPORTED 1003
#define PQ_WS_CLOSE_NO_STATUS 1005 /* reported for a close with no body; never sent */
#define PQ_WS_CLOSE_ABNORMAL 1006  /* reported when no close was exchanged; never sent */
#define PQ_WS_CLOSE_POLICY 1008    /* refused: e.g. a key that may not use this path */
#define PQ_WS_CLOSE_TOO_BIG 1009
#define PQ_WS_CLOSE_INTERNAL 1011 /* we could not allocate */

#define PQ_WS_MAX_CONTROL 125      /* §5.5 */
#define PQ_WS_MAX_CLOSE_REASON 123 /* 125 minus the 2-byte code */
#define PQ_WS_MAX_HEADER 14        /* 2 + 8-byte length + 4-byte mask */

enum pq_ws_event_type {
	PQ_WS_EV_MESSAGE = 1, /* data/len: one complete binary message */
	PQ_WS_EV_PING,        /* data/len: send a pong with this payload */
	PQ_WS_EV_PONG,        /* data/len: the pong's payload */
	PQ_WS_EV_CLOSE,       /* close_code (1005 if none), data/len: reason */
	PQ_WS_EV_FAIL,        /* close_code: what to send before dropping */
};

struct pq_ws_event {
	enum pq_ws_event_type type;
	const uint8_t *data; /* borrowed, valid until the next feed call */
	size_t len;
	uint16_t close_code;
};

/* Receiver state; the fields are private to ws.c. */
struct pq_ws_rx {
	enum pq_ws_role role;
	size_t max_msg;
	/* header being read */
	uint8_t hdr[PQ_WS_MAX_HEADER];
	size_t hdr_have, hdr_need;
	/* frame being read (after its header) */
	bool in_payload, fin;
	uint8_t opcode;
	uint8_t mask[4];
	bool masked;
	uint64_t pay_len, pay_have;
	/* message being reassembled; msg_cap <= max_msg always */
	uint8_t *msg;
	size_t msg_len, msg_cap;
	bool msg_open, msg_delivered;
	/* control frame payload */
	uint8_t ctl[PQ_WS_MAX_CONTROL];
	size_t ctl_len;
	/* terminal states */
	bool closed;
	uint16_t fail_code;
};

/* Prepare rx for a connection in the given role. max_msg 0 means
 * PQ_MAX_MSG_LEN. Allocates nothing. PQ_E_INVAL on a bad role. */
PQ_MUST_CHECK int pq_ws_rx_init(struct pq_ws_rx *rx, enum pq_ws_role role, size_t max_msg);
/* Free the reassembly buffer. rx may be initialised again afterwards. */
void pq_ws_rx_free(struct pq_ws_rx *rx);
/* A new largest message size (0 < max_msg <= PQ_MAX_MSG_LEN), e.g. once
 * the peer authenticated. PQ_E_TOOBIG if a message being reassembled is
 * already longer. */
PQ_MUST_CHECK int pq_ws_rx_set_max(struct pq_ws_rx *rx, size_t max_msg);
/* Free the reassembly buffer if no message is being reassembled and it
 * is bigger than keep bytes. Not while a delivered message is borrowed. */
void pq_ws_rx_trim(struct pq_ws_rx *rx, size_t keep);

/*
 * Consume bytes from in[0..len) until one event is complete or the input
 * is used up; *used says how many were consumed. Returns:
 *   1  an event is in *ev (call again with the rest of the input)
 *   0  all input consumed, no event yet
 *   PQ_E_DECODE  protocol violation: *ev is PQ_WS_EV_FAIL with 1002/1003
 *   PQ_E_TOOBIG  message over max_msg: *ev is PQ_WS_EV_FAIL with 1009
 *   PQ_E_NOMEM   the reassembly buffer could not grow (*ev: FAIL, 1011)
 *   PQ_E_STATE   fed after a close event (*ev: FAIL, 1002)
 * A failure is sticky: every later call returns it again.
 */
PQ_MUST_CHECK int pq_ws_rx_feed(struct pq_ws_rx *rx, const uint8_t *in, size_t len,
				size_t *used, struct pq_ws_event *ev);

/*
 * Encoder. Writes the frame header for a payload of payload_len bytes into
 * out (capacity cap) and returns its length (2..14), or PQ_E_TOOBIG if it
 * does not fit, PQ_E_INVAL for an unknown opcode, a control frame longer
 * than 125 bytes or not final, or a mask key given in the server role /
 * missing in the client role. The payload itself is the caller's; in the
 * client role it must be masked with pq_ws_mask() using the same key.
 */
PQ_MUST_CHECK long pq_ws_frame_header(uint8_t *out, size_t cap, enum pq_ws_role role,
				      enum pq_ws_opcode op, bool fin, uint64_t payload_len,
				      const uint8_t *mask_key);

/* XOR buf with key, as if buf began `offset` bytes into the payload (§5.3).
 * Masking is its own inverse; it may be applied in place. */
void pq_ws_mask(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset);

/* One whole frame (header + payload, masked in the client role) into out.
 * Returns the frame length or the errors of pq_ws_frame_header(). */
PQ_MUST_CHECK long pq_ws_encode(uint8_t *out, size_t cap, enum pq_ws_role role,
				enum pq_ws_opcode op, const uint8_t *payload, size_t len,
				const uint8_t *mask_key);

/* A close frame with status code and reason (<= 123 bytes). code must be
 * one a peer may send (see pq_ws_close_code_valid). */
PQ_MUST_CHECK long pq_ws_encode_close(uint8_t *out, size_t cap, enum pq_ws_role role,
				      uint16_t code, const char *reason, size_t reason_len,
				      const uint8_t *mask_key);

/* True for status codes allowed on the wire (§7.4.1, §7.4.2):
 * 1000-1003, 1007-1011, 3000-4999. */
bool pq_ws_close_code_valid(uint16_t code);

#endif
