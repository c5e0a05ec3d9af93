/*
 * test_tls.c - TLS 1.3 with pinned Ed25519 keys over real TCP sockets on
 * 127.0.0.1: the right pin connects and both ends derive the same
 * exporter; a wrong pin fails; mutual TLS admits an allowed client and
 * refuses an unknown one; a TLS 1.2-only client is refused; SSLKEYLOGFILE
 * gets NSS key-log lines with PQLAN_TEST=1 and is ignored without it.
 * alarm() bounds every test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "crypto/ed25519.h"
#include "net/loop.h"
#include "net/sock.h"
#include "net/tls.h"

struct key {
	uint8_t priv[32], pub[32];
};

static void key_new(struct key *k)
{
	assert_int_equal(pq_ed25519_generate(k->priv), 0);
	assert_int_equal(pq_ed25519_public(k->pub, k->priv), 0);
}

static void wait_fd(int fd, short ev)
{
	struct pollfd p = {.fd = fd, .events = ev};

	assert_true(poll(&p, 1, 5000) >= 0);
}

/* Wait up to 10 ms for either end to have input. */
static void nap(int a, int b)
{
	struct pollfd fds[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};

	assert_true(poll(fds, 2, 10) >= 0);
}

/* A connected pair of non-blocking TCP sockets on 127.0.0.1. */
static void tcp_pair(int *cfd, int *sfd)
{
	struct pq_sockaddr any, bound;
	int lfd, i;

	assert_int_equal(pq_sockaddr_from_ip(&any, "127.0.0.1", 0), 0);
	assert_int_equal(pq_sock_listen(&lfd, &any, 4), 0);
	assert_int_equal(pq_sock_local(lfd, &bound), 0);
	assert_int_not_equal(pq_sockaddr_port(&bound), 0);
	assert_int_equal(pq_sock_connect(cfd, &bound), 0);
	for (i = 0; i < 100 && pq_sock_accept(lfd, sfd, NULL) != 0; i++)
		wait_fd(lfd, POLLIN);
	assert_true(i < 100);
	close(lfd);
	wait_fd(*cfd, POLLOUT);
	assert_int_equal(pq_sock_connect_result(*cfd), 0);
}

struct pair {
	struct key skey, ckey;
	struct pq_tls_ctx *sctx, *cctx;
	struct pq_tls *s, *c;
	int sfd, cfd;
	int rs, rc; /* handshake results */
};

/* Make both ends; pin is what the client expects. */
static void pair_new(struct pair *p, const uint8_t pin[32], pq_tls_allow_fn *allow, void *arg)
{
	tcp_pair(&p->cfd, &p->sfd);
	assert_int_equal(pq_tls_ctx_new(&p->sctx, PQ_TLS_SERVER, p->skey.priv), 0);
	assert_int_equal(pq_tls_ctx_new(&p->cctx, PQ_TLS_CLIENT, p->ckey.priv), 0);
	assert_memory_equal(pq_tls_ctx_public(p->sctx), p->skey.pub, 32);
	if (allow)
		assert_int_equal(pq_tls_ctx_require_client(p->sctx, allow, arg), 0);
	assert_int_equal(pq_tls_new(&p->s, p->sctx, p->sfd, NULL, NULL), 0);
	assert_int_equal(pq_tls_new(&p->c, p->cctx, p->cfd, pin, "relay.example"), 0);
}

/* Step both handshakes until neither wants more. */
static void pair_drive(struct pair *p)
{
	int i;

	p->rs = p->rc = PQ_E_AGAIN;
	for (i = 0; i < 1000 && (p->rs == PQ_E_AGAIN || p->rc == PQ_E_AGAIN); i++) {
		if (p->rc == PQ_E_AGAIN)
			p->rc = pq_tls_handshake(p->c);
		if (p->rs == PQ_E_AGAIN)
			p->rs = pq_tls_handshake(p->s);
		if (p->rs == PQ_E_AGAIN || p->rc == PQ_E_AGAIN)
			nap(p->sfd, p->cfd);
	}
}

/* Read on t until something other than PQ_E_AGAIN happens. */
static long read_some(struct pq_tls *t, int fd, uint8_t *buf, size_t cap)
{
	long n = PQ_E_AGAIN;
	int i;

	for (i = 0; i < 500 && n == PQ_E_AGAIN; i++) {
		n = pq_tls_read(t, buf, cap);
		if (n == PQ_E_AGAIN)
			wait_fd(fd, POLLIN);
	}
	return n;
}

static void pair_free(struct pair *p)
{
	pq_tls_free(p->s);
	pq_tls_free(p->c);
	pq_tls_ctx_free(p->sctx);
	pq_tls_ctx_free(p->cctx);
	close(p->sfd);
	close(p->cfd);
}

static void test_pin_ok(void **state)
{
	struct pair p = {0};
	uint8_t es[32], ec[32], peer[32], zero[32] = {0}, buf[16];

	alarm(20);
	key_new(&p.skey);
	key_new(&p.ckey);
	pair_new(&p, p.skey.pub, NULL, NULL);
	assert_int_equal(pq_tls_exporter(p.c, ec), PQ_E_STATE);
	pair_drive(&p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.rs, 0);
	assert_true(pq_tls_established(p.c));
	assert_int_equal(pq_tls_exporter(p.c, ec), 0);
	assert_int_equal(pq_tls_exporter(p.s, es), 0);
	assert_memory_equal(ec, es, 32);
	assert_memory_not_equal(ec, zero, 32);
	assert_int_equal(pq_tls_peer_key(p.c, peer), 0);
	assert_memory_equal(peer, p.skey.pub, 32);
	/* the relay does not ask for client certificates */
	assert_int_equal(pq_tls_peer_key(p.s, peer), PQ_E_STATE);
	/* application bytes flow */
	assert_int_equal(pq_tls_write(p.c, (const uint8_t *)"hello", 5), 5);
	assert_int_equal(read_some(p.s, p.sfd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	/* close_notify reads as 0 */
	pq_tls_shutdown(p.c);
	assert_int_equal(read_some(p.s, p.sfd, buf, sizeof(buf)), 0);
	pair_free(&p);
}

static void test_pin_wrong(void **state)
{
	struct pair p = {0};
	struct key other;
	uint8_t out[32];

	alarm(20);
	key_new(&p.skey);
	key_new(&p.ckey);
	key_new(&other);
	pair_new(&p, other.pub, NULL, NULL);
	pair_drive(&p);
	assert_int_equal(p.rc, PQ_E_AUTH);
	assert_int_not_equal(p.rs, 0); /* the server got the alert */
	assert_false(pq_tls_established(p.c));
	assert_int_equal(pq_tls_exporter(p.c, out), PQ_E_STATE);
	assert_int_equal(pq_tls_peer_key(p.c, out), PQ_E_STATE);
	pair_free(&p);
}

struct allow_list {
	const uint8_t *keys[4];
	int n, calls;
};

static int allow_fn(void *arg, const uint8_t pub[32])
{
	struct allow_list *a = arg;
	int i;

	a->calls++;
	for (i = 0; i < a->n; i++)
		if (memcmp(a->keys[i], pub, 32) == 0)
			return 1;
	return 0;
}

static void test_mutual_allowed(void **state)
{
	struct pair p = {0};
	struct allow_list al = {0};
	uint8_t peer[32], es[32], ec[32];

	alarm(20);
	key_new(&p.skey);
	key_new(&p.ckey);
	al.keys[al.n++] = p.ckey.pub;
	pair_new(&p, p.skey.pub, allow_fn, &al);
	pair_drive(&p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.rs, 0);
	assert_true(al.calls >= 1);
	assert_int_equal(pq_tls_peer_key(p.s, peer), 0);
	assert_memory_equal(peer, p.ckey.pub, 32);
	assert_int_equal(pq_tls_peer_key(p.c, peer), 0);
	assert_memory_equal(peer, p.skey.pub, 32);
	assert_int_equal(pq_tls_exporter(p.c, ec), 0);
	assert_int_equal(pq_tls_exporter(p.s, es), 0);
	assert_memory_equal(ec, es, 32);
	pair_free(&p);
}

static void test_mutual_unknown_client(void **state)
{
	struct pair p = {0};
	struct key listed;
	struct allow_list al = {0};
	uint8_t buf[16];
	long n;

	alarm(20);
	key_new(&p.skey);
	key_new(&p.ckey);
	key_new(&listed);
	al.keys[al.n++] = listed.pub;
	pair_new(&p, p.skey.pub, allow_fn, &al);
	pair_drive(&p);
	assert_int_equal(p.rs, PQ_E_AUTH);
	assert_true(al.calls >= 1);
	/* TLS 1.3: the client finishes first, then reads the server's alert */
	if (p.rc == 0) {
		if (pq_tls_write(p.c, (const uint8_t *)"x", 1) < 0) {
			/* the alert may already have arrived: fine either way */
		}
		n = read_some(p.c, p.cfd, buf, sizeof(buf));
		assert_true(n < 0);
		assert_int_not_equal(n, PQ_E_AGAIN);
	} else {
		assert_true(p.rc < 0);
	}
	pair_free(&p);
}

static void test_no_client_cert_refused(void **state)
{
	struct pair p = {0};
	struct allow_list al = {0};

	/* A client context always presents its certificate; a raw TLS 1.3
	 * client without one must be refused by a mutual-TLS server. */
	SSL_CTX *raw;
	SSL *ssl;
	int rs = PQ_E_AGAIN, i;

	alarm(20);
	key_new(&p.skey);
	tcp_pair(&p.cfd, &p.sfd);
	assert_int_equal(pq_tls_ctx_new(&p.sctx, PQ_TLS_SERVER, p.skey.priv), 0);
	assert_int_equal(pq_tls_ctx_require_client(p.sctx, allow_fn, &al), 0);
	assert_int_equal(pq_tls_new(&p.s, p.sctx, p.sfd, NULL, NULL), 0);
	assert_non_null(raw = SSL_CTX_new(TLS_client_method()));
	assert_non_null(ssl = SSL_new(raw));
	SSL_set_fd(ssl, p.cfd);
	SSL_set_connect_state(ssl);
	for (i = 0; i < 500 && rs == PQ_E_AGAIN; i++) {
		(void)SSL_do_handshake(ssl);
		if ((rs = pq_tls_handshake(p.s)) == PQ_E_AGAIN)
			nap(p.sfd, p.cfd);
	}
	assert_int_equal(rs, PQ_E_AUTH);
	assert_int_equal(al.calls, 0);
	SSL_free(ssl);
	SSL_CTX_free(raw);
	pair_free(&p);
}

static void test_tls12_client_refused(void **state)
{
	struct pair p = {0};
	SSL_CTX *raw;
	SSL *ssl;
	int rs = PQ_E_AGAIN, rc = -1, i;

	alarm(20);
	key_new(&p.skey);
	tcp_pair(&p.cfd, &p.sfd);
	assert_int_equal(pq_tls_ctx_new(&p.sctx, PQ_TLS_SERVER, p.skey.priv), 0);
	assert_int_equal(pq_tls_new(&p.s, p.sctx, p.sfd, NULL, NULL), 0);
	assert_non_null(raw = SSL_CTX_new(TLS_client_method()));
	assert_int_equal(SSL_CTX_set_max_proto_version(raw, TLS1_2_VERSION), 1);
	SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, NULL);
	assert_non_null(ssl = SSL_new(raw));
	SSL_set_fd(ssl, p.cfd);
	SSL_set_connect_state(ssl);
	for (i = 0; i < 500 && rs == PQ_E_AGAIN; i++) {
		rc = SSL_do_handshake(ssl);
		if ((rs = pq_tls_handshake(p.s)) == PQ_E_AGAIN)
			nap(p.sfd, p.cfd);
	}
	assert_true(rs < 0);
	assert_int_not_equal(rs, PQ_E_AGAIN);
	for (i = 0; i < 100 && rc != 1 && SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ; i++) {
		wait_fd(p.cfd, POLLIN);
		rc = SSL_do_handshake(ssl);
	}
	assert_int_not_equal(rc, 1);
	SSL_free(ssl);
	SSL_CTX_free(raw);
	pair_free(&p);
}

static void test_keylog(void **state)
{
	char path[] = "/tmp/pq_keylog_XXXXXX", text[8192];
	struct pair p = {0};
	struct stat st;
	FILE *f;
	size_t n;
	int fd;

	alarm(20);
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	unlink(path); /* let the context create it: mode 0600 is ours to set */
	assert_int_equal(setenv("SSLKEYLOGFILE", path, 1), 0);
	key_new(&p.skey);
	key_new(&p.ckey);
	/* without PQLAN_TEST=1 it is ignored: nothing written (issue 11) */
	unsetenv("PQLAN_TEST");
	pair_new(&p, p.skey.pub, NULL, NULL);
	pair_drive(&p);
	assert_int_equal(p.rc, 0);
	pair_free(&p);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(setenv("PQLAN_TEST", "0", 1), 0);
	memset(&p, 0, sizeof(p));
	key_new(&p.skey);
	key_new(&p.ckey);
	pair_new(&p, p.skey.pub, NULL, NULL);
	pair_drive(&p);
	pair_free(&p);
	assert_int_not_equal(stat(path, &st), 0);
	/* a test run */
	assert_int_equal(setenv("PQLAN_TEST", "1", 1), 0);
	memset(&p, 0, sizeof(p));
	key_new(&p.skey);
	key_new(&p.ckey);
	pair_new(&p, p.skey.pub, NULL, NULL);
	unsetenv("SSLKEYLOGFILE");
	unsetenv("PQLAN_TEST");
	pair_drive(&p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.rs, 0);
	pair_free(&p); /* closes the key-log files */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(f = fopen(path, "r"));
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	/* both ends log: client and server lines for the same handshake */
	assert_non_null(strstr(text, "CLIENT_HANDSHAKE_TRAFFIC_SECRET "));
	assert_non_null(strstr(text, "SERVER_TRAFFIC_SECRET_0 "));
	assert_non_null(strstr(text, "EXPORTER_SECRET "));
}

static void test_bad_args(void **state)
{
	struct key k;
	struct pq_tls_ctx *cctx, *sctx;
	struct pq_tls *t;

	alarm(10);
	key_new(&k);
	assert_int_equal(pq_tls_ctx_new(&cctx, PQ_TLS_CLIENT, k.priv), 0);
	assert_int_equal(pq_tls_ctx_new(&sctx, PQ_TLS_SERVER, k.priv), 0);
	assert_int_equal(pq_tls_new(&t, cctx, 0, NULL, NULL), PQ_E_INVAL); /* no pin */
	assert_int_equal(pq_tls_new(&t, sctx, 0, k.pub, NULL), PQ_E_INVAL);
	assert_int_equal(pq_tls_ctx_require_client(cctx, allow_fn, NULL), PQ_E_INVAL);
	pq_tls_ctx_free(cctx);
	pq_tls_ctx_free(sctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_ok),
		cmocka_unit_test(test_pin_wrong),
		cmocka_unit_test(test_mutual_allowed),
		cmocka_unit_test(test_mutual_unknown_client),
		cmocka_unit_test(test_no_client_cert_refused),
		cmocka_unit_test(test_tls12_client_refused),
		cmocka_unit_test(test_keylog),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
