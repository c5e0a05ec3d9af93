/*
 * tls.h - TLS 1.3 with pinned Ed25519 identity keys (DESIGN §2), through
 * OpenSSL 3, on a non-blocking socket.
 *
 * A context (struct pq_tls_ctx) is made from our 32-byte Ed25519 identity
 * private key: it generates a self-signed X.509 certificate for that key
 * (random serial, validity from one hour ago to 30 days ahead; peers that
 * pin never check validity, so a long-running relay keeps working).
 * TLS 1.3 only, no session tickets, no resumption.
 *
 * Peer authentication is by pinning, never by a CA: a certificate is
 * accepted iff its public key is an Ed25519 key equal to
 *   - the 32-byte key the client pins (pq_tls_new(..., pin, ...)), or
 *   - a key the server's allow callback accepts (pq_tls_ctx_require_client,
 *     mutual TLS for the direct path).
 * Chain errors of a self-signed certificate (issuer, validity) are ignored;
 * the pin is checked in the verify callback, so a mismatch aborts the
 * handshake with an alert before any application byte is sent or read.
 * TLS 1.3 CertificateVerify proves the peer holds the pinned key.
 *
 * If the environment variable SSLKEYLOGFILE names a file when the context
 * is made, and PQLAN_TEST=1 is set too, NSS key-log lines are appended to
 * it (created with mode 0600), as curl and browsers do, so captures can be
 * decrypted for debugging; a loud warning says so. Without PQLAN_TEST=1
 * the variable is ignored (with a note on stderr): an inherited variable
 * must not leak a production daemon's secrets.
 *
 * Ownership: the context must outlive every struct pq_tls made from it.
 * struct pq_tls borrows the socket fd (never closes it).
 * Errors: 0 or negative PQ_E_*; PQ_E_AGAIN means "call again when
 * pq_tls_want() is ready". The OpenSSL error queue is cleared by each call.
 */
#ifndef PQ_NET_TLS_H
#define PQ_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PQ_TLS_KEY_LEN 32      /* Ed25519 public/private key */
#define PQ_TLS_EXPORTER_OUT 32 /* == PQ_TLS_EXPORTER_LEN (proto/msg_relay.h) */

enum pq_tls_role {
	PQ_TLS_CLIENT = 0,
	PQ_TLS_SERVER = 1,
};

/* Server-side client check: return 1 to accept the peer with this
 * Ed25519 public key, 0 to refuse. Called during the handshake. */
typedef int pq_tls_allow_fn(void *arg, const uint8_t pub[PQ_TLS_KEY_LEN]);

struct pq_tls_ctx;
struct pq_tls;

/* A context for one role and identity. PQ_E_KEY if priv is not usable,
 * PQ_E_CRYPTO, PQ_E_NOMEM. A failure to open SSLKEYLOGFILE is ignored
 * (logged to stderr) - it is a debugging aid, never a reason to stop. */
PQ_MUST_CHECK int pq_tls_ctx_new(struct pq_tls_ctx **out, enum pq_tls_role role,
				 const uint8_t priv[PQ_TLS_KEY_LEN]);
void pq_tls_ctx_free(struct pq_tls_ctx *ctx);
/* Server only: require a client certificate whose key allow() accepts
 * (allow borrows arg). PQ_E_INVAL on a client context or NULL allow. */
PQ_MUST_CHECK int pq_tls_ctx_require_client(struct pq_tls_ctx *ctx, pq_tls_allow_fn *allow,
					    void *arg);
/* Our own Ed25519 public key (borrowed). */
const uint8_t *pq_tls_ctx_public(const struct pq_tls_ctx *ctx);
enum pq_tls_role pq_tls_ctx_role(const struct pq_tls_ctx *ctx);

/*
 * One TLS connection over the connected socket fd (non-blocking or not).
 * Client: pin (required) is the server key to accept; sni, if not NULL,
 * is sent as server name (a hostname, not an IP literal). Server: pin and
 * sni must be NULL. PQ_E_INVAL, PQ_E_NOMEM, PQ_E_CRYPTO.
 */
PQ_MUST_CHECK int pq_tls_new(struct pq_tls **out, struct pq_tls_ctx *ctx, int fd,
			     const uint8_t *pin, const char *sni);
/* Frees the TLS state (not the fd). NULL is fine. */
void pq_tls_free(struct pq_tls *t);

/* Drive the handshake. 0 done; PQ_E_AGAIN (see pq_tls_want); PQ_E_AUTH
 * peer key not pinned/allowed or missing; PQ_E_DECODE the peer does not
 * speak TLS 1.3 or sent garbage; PQ_E_IO socket error or EOF. */
PQ_MUST_CHECK int pq_tls_handshake(struct pq_tls *t);
bool pq_tls_established(const struct pq_tls *t);

/* What the last PQ_E_AGAIN waits for: PQ_LOOP_READ or PQ_LOOP_WRITE
 * (net/loop.h bits), 0 if nothing. */
unsigned pq_tls_want(const struct pq_tls *t);

/* Read application bytes. >0 bytes read; 0 the peer closed (close_notify
 * or EOF); PQ_E_AGAIN; PQ_E_AUTH the peer refused our certificate (its
 * alert arrives here in TLS 1.3 for a client); PQ_E_IO other errors. */
PQ_MUST_CHECK long pq_tls_read(struct pq_tls *t, uint8_t *buf, size_t cap);
/* Write: >0 bytes taken (partial writes happen); PQ_E_AGAIN (retry with
 * at least the same bytes, the buffer may move); PQ_E_IO. */
PQ_MUST_CHECK long pq_tls_write(struct pq_tls *t, const uint8_t *buf, size_t len);
/* Send close_notify, best effort, once. Never blocks; nothing to check. */
void pq_tls_shutdown(struct pq_tls *t);

/* The peer's Ed25519 key (pinned or allowed) after the handshake;
 * PQ_E_STATE before it, or on a server that does not ask for client
 * certificates. */
PQ_MUST_CHECK int pq_tls_peer_key(const struct pq_tls *t, uint8_t out[PQ_TLS_KEY_LEN]);
/* RFC 8446 §7.5 exporter with PQ_TLS_EXPORTER_LABEL, no context, 32
 * bytes: the channel binding both ends compute alike. PQ_E_STATE before
 * the handshake, PQ_E_CRYPTO. */
PQ_MUST_CHECK int pq_tls_exporter(const struct pq_tls *t, uint8_t out[PQ_TLS_EXPORTER_OUT]);

#endif
