/*
 * test_relay_stun.c - the relay's STUN responder (src/relay/relay_stun.c)
 * on loopback, driven in-process by real UDP sockets on the relay's loop:
 * two sockets on P and P + 1, each answering from itself with the
 * request's source; a v4 client of a dual-stack socket gets a v4 answer;
 * garbage, a response, an empty and an oversize datagram are dropped and
 * counted, and the responder goes on; 420 for an unknown attribute; the
 * sockets close on shutdown, so the loop ends; bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/ed25519.h"
#include "net/endpoint.h"
#include "net/loop.h"
#include "net/udp.h"
#include "proto/stun.h"
#include "relay/relay.h"

#define WAIT_MS 2000
#define QUIET_MS 200 /* how long "no answer" is waited for */

struct fix {
	struct pq_loop *loop;
	struct pq_relay *relay;
	int cfd;                          /* the client's socket */
	struct pq_sockaddr caddr;         /* its bound address */
	struct pq_timer deadline;
	uint8_t got[PQ_STUN_MAX_LEN];
	long got_len;                     /* -1: nothing yet */
	struct pq_sockaddr got_from;
	bool timed_out;
};

static void on_client(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct fix *f = arg;

	f->got_len = pq_udp_recv(fd, &f->got_from, f->got, sizeof(f->got));
	if (f->got_len >= 0)
		pq_loop_stop(loop);
}

static void on_deadline(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	((struct fix *)arg)->timed_out = true;
	pq_loop_stop(loop);
}

static void fix_start(struct fix *f, const char *relay_ip, const char *client_ip)
{
	struct pq_sockaddr any, stun;
	uint8_t priv[32];

	memset(f, 0, sizeof(*f));
	assert_int_equal(pq_loop_new(&f->loop), 0);
	assert_int_equal(pq_ed25519_generate(priv), 0);
	assert_int_equal(pq_sockaddr_from_ip(&any, "127.0.0.1", 0), 0);
	assert_int_equal(pq_relay_new(&f->relay, f->loop, priv, &any, NULL, 0, NULL), 0);
	assert_null(pq_relay_stun_addr(f->relay, 0));
	assert_int_equal(pq_sockaddr_from_ip(&stun, relay_ip, 0), 0);
	assert_int_equal(pq_relay_stun_start(f->relay, &stun), 0);
	assert_int_equal(pq_sockaddr_from_ip(&any, client_ip, 0), 0);
	assert_int_equal(pq_udp_open(&f->cfd, &any), 0);
	assert_int_equal(pq_sock_local(f->cfd, &f->caddr), 0);
	assert_int_equal(pq_loop_add(f->loop, f->cfd, PQ_LOOP_READ, on_client, f), 0);
	pq_timer_init(&f->deadline, on_deadline, f);
}

/* Send buf to to, run the loop until an answer or wait_ms. */
static long exchange_to(struct fix *f, const struct pq_sockaddr *to, const uint8_t *buf, size_t len,
			uint64_t wait_ms)
{
	struct pq_sockaddr dst = *to;

	/* A wildcard-bound socket is reached on loopback. */
	if (dst.ss.ss_family == AF_INET6 && f->caddr.ss.ss_family == AF_INET)
		assert_int_equal(pq_sockaddr_from_ip(&dst, "127.0.0.1", pq_sockaddr_port(to)), 0);
	f->got_len = -1;
	f->timed_out = false;
	assert_int_equal(pq_udp_send(f->cfd, &dst, buf, len), 0);
	assert_int_equal(pq_loop_timer_start(f->loop, &f->deadline, wait_ms), 0);
	assert_int_equal(pq_loop_run(f->loop), 0);
	pq_loop_timer_cancel(f->loop, &f->deadline);
	return f->got_len;
}

/* The same to STUN socket i. */
static long exchange(struct fix *f, unsigned i, const uint8_t *buf, size_t len, uint64_t wait_ms)
{
	return exchange_to(f, pq_relay_stun_addr(f->relay, i), buf, len, wait_ms);
}

/* Shutdown closes the STUN sockets (no answer any more) and takes them
 * off the loop, so it ends on its own: a socket left watched would keep
 * it running, and the alarm would kill the test. */
static void fix_stop(struct fix *f)
{
	static const uint8_t tx[12] = "pqlan-stun-0";
	struct pq_sockaddr old[2] = { *pq_relay_stun_addr(f->relay, 0), *pq_relay_stun_addr(f->relay, 1) };
	uint8_t req[32];
	long n = pq_stun_binding_request(tx, NULL, false, req, sizeof(req));

	pq_relay_shutdown(f->relay);
	assert_null(pq_relay_stun_addr(f->relay, 0));
	assert_null(pq_relay_stun_addr(f->relay, 1));
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(exchange_to(f, &old[i], req, (size_t)n, QUIET_MS), -1);
	assert_int_equal(pq_loop_del(f->loop, f->cfd), 0);
	pq_udp_close(f->cfd);
	alarm(10);
	assert_int_equal(pq_loop_run(f->loop), 0);
	alarm(0);
	pq_relay_free(f->relay);
	pq_loop_free(f->loop);
}

static void check_answer(struct fix *f, unsigned i, long n, const uint8_t txid[12])
{
	struct pq_stun_msg m;
	struct pq_endpoint want;

	assert_true(n > 0);
	assert_int_equal(pq_stun_decode(&m, f->got, (size_t)n), 0);
	assert_int_equal(m.cls, PQ_STUN_SUCCESS);
	assert_memory_equal(m.txid, txid, 12);
	assert_true(m.has_xor_mapped);
	assert_int_equal(pq_sockaddr_to_endpoint(&want, &f->caddr), 0);
	assert_int_equal(m.xor_mapped.family, want.family);
	assert_memory_equal(m.xor_mapped.addr, want.addr, 16);
	assert_int_equal(m.xor_mapped.port, want.port);
	/* From the socket the request went to. */
	assert_int_equal(pq_sockaddr_port(&f->got_from), pq_sockaddr_port(pq_relay_stun_addr(f->relay, i)));
}

static void test_two_ports(void **state)
{
	static const uint8_t tx[12] = "pqlan-stun-1";
	struct pq_relay_stats st;
	struct fix f;
	uint8_t req[64];
	long n;

	(void)state;
	fix_start(&f, "127.0.0.1", "127.0.0.1");
	assert_non_null(pq_relay_stun_addr(f.relay, 1));
	assert_int_equal(pq_relay_stun_start(f.relay, pq_relay_stun_addr(f.relay, 0)), PQ_E_STATE);
	n = pq_stun_binding_request(tx, "test", true, req, sizeof(req));
	for (unsigned i = 0; i < 2; i++)
		check_answer(&f, i, exchange(&f, i, req, (size_t)n, WAIT_MS), tx);
	pq_relay_stats(f.relay, &st);
	assert_int_equal(st.stun_answered, 2);
	assert_int_equal(st.stun_dropped, 0);
	fix_stop(&f);
	printf("checked: answers from port P and P + 1 with the source address\n");
}

static void test_drops(void **state)
{
	static const uint8_t tx[12] = "pqlan-stun-2";
	static uint8_t big[2000];
	struct pq_relay_stats st;
	struct pq_stun_msg m;
	struct fix f;
	uint8_t req[64], resp[64];
	long n, r;

	(void)state;
	fix_start(&f, "127.0.0.1", "127.0.0.1");
	n = pq_stun_binding_request(tx, NULL, false, req, sizeof(req));
	memset(&m, 0, sizeof(m));
	m.cls = PQ_STUN_SUCCESS, m.method = PQ_STUN_METHOD_BINDING;
	memcpy(m.txid, tx, 12);
	r = pq_stun_encode(&m, resp, sizeof(resp));
	memcpy(big, req, (size_t)n);
	assert_int_equal(exchange(&f, 0, (const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18, QUIET_MS), -1);
	assert_int_equal(exchange(&f, 0, resp, (size_t)r, QUIET_MS), -1);      /* a response */
	assert_int_equal(exchange(&f, 1, req, 0, QUIET_MS), -1);               /* empty */
	assert_int_equal(exchange(&f, 1, big, sizeof(big), QUIET_MS), -1);     /* oversize */
	assert_int_equal(exchange(&f, 0, req, (size_t)n - 1, QUIET_MS), -1);   /* truncated */
	pq_relay_stats(f.relay, &st);
	assert_int_equal(st.stun_answered, 0);
	assert_int_equal(st.stun_dropped, 5);
	/* Still answering. */
	check_answer(&f, 1, exchange(&f, 1, req, (size_t)n, WAIT_MS), tx);
	/* An unknown comprehension-required attribute: 420. */
	req[3] = 4, req[20] = 0x00, req[21] = 0x03, req[22] = 0, req[23] = 0;
	assert_true(exchange(&f, 0, req, 24, WAIT_MS) > 0);
	assert_int_equal(pq_stun_decode(&m, f.got, (size_t)f.got_len), 0);
	assert_true(m.cls == PQ_STUN_ERROR && m.error_code == 420 && m.unknown_attrs[0] == 3);
	pq_relay_stats(f.relay, &st);
	assert_int_equal(st.stun_answered, 2);
	assert_int_equal(st.stun_dropped, 5);
	fix_stop(&f);
	printf("checked: 5 bad datagrams dropped and counted, then answers (success, 420)\n");
}

static void test_dual_stack(void **state)
{
	static const uint8_t tx[12] = "pqlan-stun-3";
	struct fix f;
	uint8_t req[64];
	long n;

	(void)state;
	/* A v4 client of a [::] socket arrives v4-mapped: answered as v4. */
	fix_start(&f, "::", "127.0.0.1");
	n = pq_stun_binding_request(tx, NULL, false, req, sizeof(req));
	n = exchange(&f, 1, req, (size_t)n, WAIT_MS);
	assert_int_equal(n, 32); /* an IPv4 XOR-MAPPED-ADDRESS */
	check_answer(&f, 1, n, tx);
	fix_stop(&f);
	printf("checked: dual-stack socket answers a v4 client with its v4 address\n");
}

static void test_bad_args(void **state)
{
	struct pq_sockaddr a;
	struct pq_loop *loop;
	struct pq_relay *relay;
	uint8_t priv[32];

	(void)state;
	assert_int_equal(pq_loop_new(&loop), 0);
	assert_int_equal(pq_ed25519_generate(priv), 0);
	assert_int_equal(pq_sockaddr_from_ip(&a, "127.0.0.1", 0), 0);
	assert_int_equal(pq_relay_new(&relay, loop, priv, &a, NULL, 0, NULL), 0);
	assert_int_equal(pq_sockaddr_from_ip(&a, "127.0.0.1", 65535), 0);
	assert_int_equal(pq_relay_stun_start(relay, &a), PQ_E_INVAL);
	memset(&a, 0, sizeof(a));
	assert_int_equal(pq_relay_stun_start(relay, &a), PQ_E_INVAL);
	assert_null(pq_relay_stun_addr(relay, 0));
	assert_null(pq_relay_stun_addr(relay, 2));
	pq_relay_shutdown(relay);
	assert_int_equal(pq_sockaddr_from_ip(&a, "127.0.0.1", 0), 0);
	assert_int_equal(pq_relay_stun_start(relay, &a), PQ_E_STATE);
	pq_relay_free(relay);
	pq_loop_free(loop);
	printf("checked: port 65535, no family, after shutdown refused\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_ports),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
