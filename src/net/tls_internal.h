/*
 * tls_internal.h - shared by tls.c and tls_cert.c only.
 */
#ifndef PQ_NET_TLS_INTERNAL_H
#define PQ_NET_TLS_INTERNAL_H

#include <openssl/x509.h>

#include "net/tls.h"

/* A self-signed certificate for key (see tls_cert.c). */
PQ_MUST_CHECK int pq_tls_make_cert(X509 **out, EVP_PKEY *key);
/* The raw Ed25519 key of cert; PQ_E_KEY for any other key type. */
PQ_MUST_CHECK int pq_tls_cert_key(const X509 *cert, uint8_t pub[PQ_TLS_KEY_LEN]);

#endif
