/*
 * tls.c - TLS 1.3 contexts and connections with pinned Ed25519 keys.
 * See tls.h for the contract; tls_cert.c makes the certificate.
 */
#include "net/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "crypto/util.h"
#include "net/loop.h"
#include "net/tls_internal.h"
#include "proto/msg_relay.h"

struct pq_tls_ctx {
	SSL_CTX *ssl_ctx;
	enum pq_tls_role role;
	uint8_t pub[PQ_TLS_KEY_LEN];
	pq_tls_allow_fn *allow; /* server: mutual TLS when set */
	void *allow_arg;
	FILE *keylog;           /* SSLKEYLOGFILE, append mode */
};

struct pq_tls {
	SSL *ssl;
	struct pq_tls_ctx *ctx;
	uint8_t pin[PQ_TLS_KEY_LEN]; /* client: the server key we accept */
	uint8_t peer[PQ_TLS_KEY_LEN];
	bool peer_ok;      /* set by the verify callback when the key passed */
	bool peer_refused; /* the verify callback refused the key */
	bool established, shut;
	unsigned want;
};

/* ---- context ---- */

static void keylog_line(const SSL *ssl, const char *line)
{
	struct pq_tls_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (ctx && ctx->keylog) {
		fprintf(ctx->keylog, "%s\n", line);
		fflush(ctx->keylog);
	}
}

/* Like curl: SSLKEYLOGFILE names a file NSS key-log lines are appended to.
 * Those lines decrypt every connection, so only a test run may ask for
 * them (PQLAN_TEST=1, like every other test switch): in production an
 * inherited variable is ignored, and said so. */
static void keylog_open(struct pq_tls_ctx *ctx)
{
	const char *path = getenv("SSLKEYLOGFILE"), *test = getenv("PQLAN_TEST");
	int fd;

	if (!path || !*path)
		return;
	if (!test || strcmp(test, "1")) {
		fprintf(stderr, "pqlan: SSLKEYLOGFILE is set but ignored: writing TLS secrets needs "
			"PQLAN_TEST=1 (tests and debugging only)\n");
		return;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || !(ctx->keylog = fdopen(fd, "a"))) {
		fprintf(stderr, "pqlan: SSLKEYLOGFILE %s: %s (ignored)\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	SSL_CTX_set_keylog_callback(ctx->ssl_ctx, keylog_line);
	fprintf(stderr, "pqlan: WARNING: TLS SECRETS ARE WRITTEN TO %s (SSLKEYLOGFILE, PQLAN_TEST=1): "
		"anyone who reads it can decrypt these connections\n", path);
}

static int load_identity(SSL_CTX *sc, const uint8_t priv[PQ_TLS_KEY_LEN],
			 uint8_t pub[PQ_TLS_KEY_LEN])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, PQ_TLS_KEY_LEN);
	X509 *cert = NULL;
	size_t len = PQ_TLS_KEY_LEN;
	int err = PQ_E_KEY;

	if (!key || !EVP_PKEY_get_raw_public_key(key, pub, &len) || len != PQ_TLS_KEY_LEN)
		goto out;
	if ((err = pq_tls_make_cert(&cert, key)))
		goto out;
	err = PQ_E_CRYPTO;
	if (SSL_CTX_use_certificate(sc, cert) != 1 || SSL_CTX_use_PrivateKey(sc, key) != 1 ||
	    SSL_CTX_check_private_key(sc) != 1)
		goto out;
	err = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key); /* frees (and OpenSSL cleanses) our copy of priv */
	return err;
}

static int configure(SSL_CTX *sc)
{
	if (SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(sc, TLS1_3_VERSION) != 1)
		return PQ_E_CRYPTO;
	/* No resumption: every connection proves its key afresh. */
	SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_num_tickets(sc, 0) != 1)
		return PQ_E_CRYPTO;
	SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
	return 0;
}

int pq_tls_ctx_new(struct pq_tls_ctx **out, enum pq_tls_role role,
		   const uint8_t priv[PQ_TLS_KEY_LEN])
{
	struct pq_tls_ctx *ctx;
	int err;

	*out = NULL;
	if (role != PQ_TLS_CLIENT && role != PQ_TLS_SERVER)
		return PQ_E_INVAL;
	if (!(ctx = calloc(1, sizeof(*ctx))))
		return PQ_E_NOMEM;
	ctx->role = role;
	ERR_clear_error();
	ctx->ssl_ctx = SSL_CTX_new(role == PQ_TLS_CLIENT ? TLS_client_method() : TLS_server_method());
	err = PQ_E_CRYPTO;
	if (!ctx->ssl_ctx)
		goto out;
	SSL_CTX_set_app_data(ctx->ssl_ctx, ctx);
	if ((err = configure(ctx->ssl_ctx)) || (err = load_identity(ctx->ssl_ctx, priv, ctx->pub)))
		goto out;
	keylog_open(ctx);
	*out = ctx;
	ctx = NULL;
out:
	ERR_clear_error();
	pq_tls_ctx_free(ctx);
	return err;
}

void pq_tls_ctx_free(struct pq_tls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	if (ctx->keylog)
		fclose(ctx->keylog);
	free(ctx);
}

int pq_tls_ctx_require_client(struct pq_tls_ctx *ctx, pq_tls_allow_fn *allow, void *arg)
{
	if (!ctx || ctx->role != PQ_TLS_SERVER || !allow)
		return PQ_E_INVAL;
	ctx->allow = allow;
	ctx->allow_arg = arg;
	return 0;
}

const uint8_t *pq_tls_ctx_public(const struct pq_tls_ctx *ctx)
{
	return ctx->pub;
}

enum pq_tls_role pq_tls_ctx_role(const struct pq_tls_ctx *ctx)
{
	return ctx->role;
}

/* ---- pinning ---- */

static bool key_accepted(struct pq_tls *t, const uint8_t pub[PQ_TLS_KEY_LEN])
{
	if (t->peer_ok)	/* called once per certificate: ask allow() once */
		return pq_ct_equal(t->peer, pub, PQ_TLS_KEY_LEN);
	if (t->ctx->role == PQ_TLS_CLIENT)
		return pq_ct_equal(t->pin, pub, PQ_TLS_KEY_LEN);
	return t->ctx->allow(t->ctx->allow_arg, pub) == 1;
}

/* Replaces chain verification: whatever preverify_ok says about issuers
 * and validity of a self-signed certificate, the leaf's key decides. */
static int verify_pin(int preverify_ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct pq_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(store);
	uint8_t pub[PQ_TLS_KEY_LEN];

	if (!t)
		return 0;
	if (!leaf || pq_tls_cert_key(leaf, pub) || !key_accepted(t, pub)) {
		t->peer_refused = true;
		t->peer_ok = false;
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	memcpy(t->peer, pub, PQ_TLS_KEY_LEN);
	t->peer_ok = true;
	return 1;
}

/* After the handshake, the certificate the session holds must carry the
 * key the callback accepted (belt and braces against a skipped callback). */
static int check_peer_after(struct pq_tls *t)
{
	X509 *cert = SSL_get0_peer_certificate(t->ssl);
	uint8_t pub[PQ_TLS_KEY_LEN];

	if (t->ctx->role == PQ_TLS_SERVER && !t->ctx->allow)
		return 0; /* no client certificate asked for */
	if (!cert || !t->peer_ok || pq_tls_cert_key(cert, pub) ||
	    !pq_ct_equal(pub, t->peer, PQ_TLS_KEY_LEN))
		return PQ_E_AUTH;
	return 0;
}

/* ---- connection ---- */

int pq_tls_new(struct pq_tls **out, struct pq_tls_ctx *ctx, int fd, const uint8_t *pin,
	       const char *sni)
{
	struct pq_tls *t;
	bool client = ctx && ctx->role == PQ_TLS_CLIENT;

	*out = NULL;
	if (!ctx || fd < 0 || (client && !pin) || (!client && (pin || sni)))
		return PQ_E_INVAL;
	if (!(t = calloc(1, sizeof(*t))))
		return PQ_E_NOMEM;
	t->ctx = ctx;
	if (pin)
		memcpy(t->pin, pin, PQ_TLS_KEY_LEN);
	ERR_clear_error();
	if (!(t->ssl = SSL_new(ctx->ssl_ctx)) || SSL_set_fd(t->ssl, fd) != 1 ||
	    (sni && SSL_set_tlsext_host_name(t->ssl, sni) != 1)) {
		pq_tls_free(t);
		ERR_clear_error();
		return PQ_E_CRYPTO;
	}
	SSL_set_app_data(t->ssl, t);
	SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (client) {
		SSL_set_connect_state(t->ssl);
		SSL_set_verify(t->ssl, SSL_VERIFY_PEER, verify_pin);
	} else {
		SSL_set_accept_state(t->ssl);
		if (ctx->allow)
			SSL_set_verify(t->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
				       verify_pin);
		else
			SSL_set_verify(t->ssl, SSL_VERIFY_NONE, NULL);
	}
	*out = t;
	return 0;
}

void pq_tls_free(struct pq_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	pq_wipe(t, sizeof(*t));
	free(t);
}

/* Errors that say a certificate was refused or missing: alerts from a
 * peer that refused ours, or a client that sent none to a mutual-TLS
 * server. */
static bool is_cert_refusal(unsigned long e)
{
	switch (ERR_GET_REASON(e)) {
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return true;
	default:
		return false;
	}
}

/* Map the outcome of an SSL_* call whose return was ret. */
static int map_error(struct pq_tls *t, int ret)
{
	int e = SSL_get_error(t->ssl, ret);
	unsigned long lib = ERR_peek_error();
	int err;

	t->want = 0;
	switch (e) {
	case SSL_ERROR_WANT_READ:
		t->want = PQ_LOOP_READ;
		return PQ_E_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		t->want = PQ_LOOP_WRITE;
		return PQ_E_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return PQ_E_IO;
	case SSL_ERROR_SSL:
		err = (t->peer_refused || is_cert_refusal(lib)) ? PQ_E_AUTH : PQ_E_DECODE;
		break;
	default: /* SSL_ERROR_SYSCALL: reset, EOF */
		err = t->peer_refused ? PQ_E_AUTH : PQ_E_IO;
		break;
	}
	ERR_clear_error();
	return err;
}

int pq_tls_handshake(struct pq_tls *t)
{
	int ret, err;

	if (t->established)
		return 0;
	ERR_clear_error();
	ret = SSL_do_handshake(t->ssl);
	if (ret != 1)
		return map_error(t, ret);
	t->want = 0;
	if ((err = check_peer_after(t)))
		return err;
	t->established = true;
	return 0;
}

bool pq_tls_established(const struct pq_tls *t)
{
	return t->established;
}

unsigned pq_tls_want(const struct pq_tls *t)
{
	return t->want;
}

long pq_tls_read(struct pq_tls *t, uint8_t *buf, size_t cap)
{
	size_t got = 0;
	int ret;

	if (!t->established)
		return PQ_E_STATE;
	ERR_clear_error();
	ret = SSL_read_ex(t->ssl, buf, cap, &got);
	if (ret == 1) {
		t->want = 0;
		return (long)got;
	}
	if (SSL_get_error(t->ssl, ret) == SSL_ERROR_ZERO_RETURN) {
		ERR_clear_error();
		return 0; /* close_notify */
	}
	return map_error(t, ret);
}

long pq_tls_write(struct pq_tls *t, const uint8_t *buf, size_t len)
{
	size_t put = 0;
	int ret;

	if (!t->established || t->shut)
		return PQ_E_STATE;
	if (len == 0)
		return 0;
	ERR_clear_error();
	ret = SSL_write_ex(t->ssl, buf, len, &put);
	if (ret == 1) {
		t->want = 0;
		return (long)put;
	}
	return map_error(t, ret);
}

void pq_tls_shutdown(struct pq_tls *t)
{
	if (!t || !t->established || t->shut)
		return;
	t->shut = true;
	ERR_clear_error();
	(void)SSL_shutdown(t->ssl); /* sends close_notify; we do not wait for the peer's */
	ERR_clear_error();
}

int pq_tls_peer_key(const struct pq_tls *t, uint8_t out[PQ_TLS_KEY_LEN])
{
	if (!t->established || !t->peer_ok)
		return PQ_E_STATE;
	memcpy(out, t->peer, PQ_TLS_KEY_LEN);
	return 0;
}

int pq_tls_exporter(const struct pq_tls *t, uint8_t out[PQ_TLS_EXPORTER_OUT])
{
	static const char label[] = PQ_TLS_EXPORTER_LABEL;

	if (!t->established)
		return PQ_E_STATE;
	ERR_clear_error();
	/* RFC 8446 §7.5: no context (use_context = 0). */
	if (SSL_export_keying_material(t->ssl, out, PQ_TLS_EXPORTER_OUT, label, sizeof(label) - 1,
				       NULL, 0, 0) != 1) {
		ERR_clear_error();
		return PQ_E_CRYPTO;
	}
	return 0;
}
