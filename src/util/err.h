/*
 * err.h - pqlan's error codes.
 *
 * Every fallible function returns 0 on success or one of these negative
 * codes; the caller decides what to do. Codes name what went wrong, not
 * where, so a caller can map them to a drop reason or a user message.
 */
#ifndef PQ_UTIL_ERR_H
#define PQ_UTIL_ERR_H

#define PQ_MUST_CHECK __attribute__((warn_unused_result))

enum pq_err {
	PQ_OK = 0,
	PQ_E_INVAL = -1,     /* bad argument from the caller */
	PQ_E_NOMEM = -2,     /* allocation failed */
	PQ_E_CRYPTO = -3,    /* the crypto library failed (not the peer's fault) */
	PQ_E_AUTH = -4,      /* MAC, tag or signature did not verify */
	PQ_E_REPLAY = -5,    /* counter, timestamp or challenge seen before */
	PQ_E_DECODE = -6,    /* malformed input: wrong size, bad field */
	PQ_E_RANDOM = -7,    /* the random generator failed */
	PQ_E_KEY = -8,       /* a key failed its validity check */
	PQ_E_IO = -9,        /* a read, write or open failed */
	PQ_E_PERM = -10,     /* permissions refused (e.g. key file readable by others) */
	PQ_E_STATE = -11,    /* message not expected in this state */
	PQ_E_TIME = -12,     /* timestamp outside the allowed skew, or stale */
	PQ_E_LIMIT = -13,    /* a limit was hit: counter exhausted, rate, table full */
	PQ_E_PEER = -14,     /* peer unknown or not allowed */
	PQ_E_AGAIN = -15,    /* try again later (would block, not ready) */
	PQ_E_TIMEOUT = -16,  /* a deadline passed */
	PQ_E_TOOBIG = -17,   /* does not fit the buffer or the protocol's bound */
	PQ_E_CONFIG = -18,   /* configuration error */
	/* Socket outcomes an operator acts on differently (issue 12: "a busy
	 * port says permission problem, a relay that is down says
	 * input/output error"). */
	PQ_E_INUSE = -19,    /* the address is in use (another process listens) */
	PQ_E_REFUSED = -20,  /* connection refused: nothing listens there */
	PQ_E_UNREACH = -21,  /* no route to the host or network */
};

/* A short, static description of an error code; never NULL. */
const char *pq_strerror(int err);

#endif
