/*
 * test_sock.c - address classes of net/sock.h: which peer-supplied
 * addresses may be dialled as direct-path candidates (issue 11: a peer
 * made a node send a ClientHello to 127.0.0.1:9999 and 169.254.169.254:80),
 * and what counts as one source for the listeners' per-source caps; the
 * receive window's clamp (set, read back, lifted) and TCP_INFO's view of a
 * real loopback connection.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/sock.h"
#include "testutil.h"

struct cand {
	const char *ip;
	unsigned port;
	bool ok;
};

static const struct cand cands[] = {
	/* refused */
	{ "127.0.0.1", 9999, false },       /* loopback */
	{ "127.255.0.9", 443, false },
	{ "169.254.169.254", 80, false },   /* link-local: cloud metadata */
	{ "0.0.0.0", 7443, false },         /* unspecified */
	{ "0.1.2.3", 7443, false },         /* "this network" */
	{ "224.0.0.1", 7443, false },       /* multicast */
	{ "239.255.255.250", 1900, false },
	{ "240.0.0.1", 7443, false },       /* reserved */
	{ "255.255.255.255", 7443, false }, /* broadcast */
	{ "::", 7443, false },
	{ "::1", 7443, false },
	{ "fe80::1", 7443, false },         /* link-local */
	{ "febf::1", 7443, false },
	{ "ff02::1", 7443, false },         /* multicast */
	{ "::ffff:127.0.0.1", 7443, false },  /* v4-mapped loopback */
	{ "::ffff:169.254.169.254", 80, false },
	{ "::127.0.0.1", 7443, false },     /* v4-compatible (deprecated) */
	{ "192.0.2.7", 0, false },          /* no port */
	/* allowed: public and private unicast (LANs) */
	{ "192.0.2.7", 7443, true },
	{ "10.1.2.3", 7443, true },
	{ "172.16.0.1", 7443, true },
	{ "192.168.1.20", 7443, true },
	{ "100.64.0.1", 7443, true },       /* CGNAT */
	{ "198.18.0.1", 8443, true },
	{ "2001:db8::7", 7443, true },
	{ "fd00::1", 7443, true },          /* ULA */
	{ "fec0::1", 7443, true },          /* beyond fe80::/10 */
	{ "::ffff:192.0.2.7", 7443, true },
};

static void test_candidates(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		struct pq_sockaddr a;

		assert_int_equal(pq_sockaddr_from_ip(&a, cands[i].ip, cands[i].port), 0);
		if (pq_sockaddr_candidate_ok(&a) != cands[i].ok)
			fail_msg("%s port %u: %s, expected %s", cands[i].ip, cands[i].port,
				 cands[i].ok ? "refused" : "allowed", cands[i].ok ? "allowed" : "refused");
	}
	pq_test_checked("candidate addresses", i);
}

struct pair {
	const char *a, *b;
	bool same;
};

static const struct pair pairs[] = {
	{ "192.0.2.1", "192.0.2.1", true },
	{ "192.0.2.1", "192.0.2.2", false },
	{ "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true },   /* one /64 */
	{ "2001:db8:1:2::1", "2001:db8:1:3::1", false },
	{ "::ffff:192.0.2.1", "::ffff:192.0.2.1", true },      /* v4-mapped: whole address */
	{ "::ffff:192.0.2.1", "::ffff:192.0.2.2", false },
	{ "::ffff:192.0.2.1", "192.0.2.1", false },            /* families differ */
};

static void test_same_source(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct pq_sockaddr a, b;

		assert_int_equal(pq_sockaddr_from_ip(&a, pairs[i].a, 1), 0);
		assert_int_equal(pq_sockaddr_from_ip(&b, pairs[i].b, 2), 0);
		if (pq_sockaddr_same_source(&a, &b) != pairs[i].same)
			fail_msg("%s / %s: expected %s", pairs[i].a, pairs[i].b,
				 pairs[i].same ? "one source" : "two sources");
	}
	pq_test_checked("same-source pairs", i);
}

/* A loopback TCP pair: the clamp of net/conn.h "Latency" can be set,
 * read back, and lifted on an established socket (proto/rwin.h counts on
 * both), and TCP_INFO gives a segment size and an RTT once data flowed,
 * and the bytes left unsent (and a busy time) when the peer stops
 * reading. */
static void test_window_clamp(void **state)
{
	struct pq_sockaddr any, bound;
	struct pq_sock_path sp;
	int lfd = -1, cfd = -1, afd = -1;
	uint32_t clamp = 0;
	size_t written = 0;
	char buf[64] = "x";

	(void)state;
	assert_int_equal(pq_sockaddr_from_ip(&any, "127.0.0.1", 0), 0);
	assert_int_equal(pq_sock_listen(&lfd, &any, 4), 0);
	assert_int_equal(pq_sock_local(lfd, &bound), 0);
	assert_int_equal(pq_sock_connect(&cfd, &bound), 0);
	for (int i = 0; i < 1000 && afd < 0; i++) {
		if (pq_sock_accept(lfd, &afd, NULL) != 0)
			usleep(1000);
	}
	assert_true(afd >= 0);
	assert_int_equal(pq_sock_set_window_clamp(afd, 8192), 0);
	assert_int_equal(pq_sock_window_clamp(afd, &clamp), 0);
	assert_int_equal(clamp, 8192);
	assert_int_equal(pq_sock_set_window_clamp(afd, PQ_SOCK_NO_CLAMP), 0);
	assert_int_equal(pq_sock_window_clamp(afd, &clamp), 0);
	assert_int_equal(clamp, PQ_SOCK_NO_CLAMP);
	/* one byte from the accepted side, read and acknowledged: an RTT
	 * sample and a byte acked on it */
	for (int i = 0; i < 1000 && write(afd, buf, 1) != 1; i++)
		usleep(1000);
	for (int i = 0; i < 1000 && read(cfd, buf, sizeof(buf)) != 1; i++)
		usleep(1000);
	assert_int_equal(pq_sock_tcp_path(afd, &sp), 0);
	for (int i = 0; i < 1000 && sp.acked < 1; i++) {
		usleep(1000);
		assert_int_equal(pq_sock_tcp_path(afd, &sp), 0);
	}
	assert_int_equal(sp.acked, 1);
	assert_true(sp.mss > 0);
	assert_true(sp.srtt_us > 0);
	assert_true(sp.min_rtt_us > 0);
	assert_int_equal(sp.notsent, 0);
	/* the peer reads no more: once its window is full, what we write
	 * waits unsent (proto/qsize.h "the kernel's backlog") */
	assert_int_equal(fcntl(afd, F_SETFL, fcntl(afd, F_GETFL) | O_NONBLOCK), 0);
	for (int i = 0; i < 10000; i++) {
		static char blk[65536];
		ssize_t n = write(afd, blk, sizeof(blk));

		if (n <= 0)
			break;
		written += (size_t)n;
	}
	assert_int_equal(pq_sock_tcp_path(afd, &sp), 0);
	assert_true(sp.notsent > 0);
	assert_true(sp.notsent <= written);
	for (int i = 0; i < 100 && sp.busy_us == 0; i++) { /* counted in jiffies */
		usleep(10000);
		assert_int_equal(pq_sock_tcp_path(afd, &sp), 0);
	}
	assert_true(sp.busy_us > 0);
	close(afd);
	close(cfd);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_same_source),
		cmocka_unit_test(test_window_clamp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
