/*
 * test_udp_stun_in.c - which STUN answers the node believes (node/
 * udp_stun.c), through its real UDP socket: a local socket plays the
 * STUN server of node.conf (`stun =`), reads the node's Binding request
 * and answers it with pq_stun_respond, as a server would.
 *
 * The mapped address an answer carries becomes our reflexive UDP
 * candidate, sent to every peer: a forged one would send the peers'
 * punches elsewhere. So an answer counts only when it comes from the
 * server the request went to and answers that request (its transaction
 * id, 96 random bits an off-path sender cannot guess); once answered, the
 * transaction takes nothing more. (One who sees the request can still
 * race the server's answer: the peer's re-handshake on the path it then
 * tries fails, and the path stays on the relay.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "udp_fixture.h"
#include "net/endpoint.h"
#include "proto/stun.h"

/* Node A with a UDP socket and one STUN server (the relay's STUN off);
 * the server's socket and another sender. Static: a node is large. */
static struct {
	struct pq_node node;
	struct pq_node_peer peer;
	struct pq_config_peer cfg;
	struct udp_fixture udp;
	int server, other;
	uint8_t request[PQ_STUN_MAX_LEN];
	size_t request_len;
} U;

static int setup(void **state)
{
	struct pq_sockaddr server, relay;

	(void)state;
	fixture_node(&U.node, &U.peer, &U.cfg, 1);
	pq_path_exec_peer_init(&U.peer);
	U.node.cfg.relays[0].stun_off = true;
	U.server = udp_fixture_socket();
	U.other = udp_fixture_socket();
	if (U.server < 0 || U.other < 0 || udp_fixture_open(&U.udp, &U.node) ||
	    pq_sockaddr_from_ip(&relay, "127.0.0.1", 7443))
		return -1;
	udp_fixture_addr(U.server, &server);
	memcpy(&U.node.cfg.stun[0].ss, &server.ss, sizeof(server.ss));
	U.node.cfg.stun[0].len = server.len;
	U.node.cfg.stun_count = 1;
	/* The relay is up: the node asks its STUN servers at once. */
	pq_udp_path_relay_up(&U.node, &relay);
	U.request_len = udp_fixture_last_received(U.server, U.request, sizeof(U.request));
	return U.request_len ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	pq_loop_timer_cancel(U.node.loop, &U.peer.path.timer);
	udp_fixture_close(&U.udp);
	close(U.server);
	close(U.other);
	return 0;
}

/* The Binding success answer to request (len bytes) mapping to ip:port. */
static size_t answer(const uint8_t *request, size_t len, const char *ip, uint16_t port, uint8_t *out)
{
	struct pq_sockaddr sa;
	struct pq_endpoint mapped;
	long n;

	assert_int_equal(pq_sockaddr_from_ip(&sa, ip, port), 0);
	assert_int_equal(pq_sockaddr_to_endpoint(&mapped, &sa), 0);
	n = pq_stun_respond(request, len, &mapped, out, PQ_STUN_MAX_LEN);
	assert_true(n > 0);
	return (size_t)n;
}

/* fd sends the answer to request (len bytes) mapping to ip:port, and
 * the node reads it. */
static void answer_from(int fd, const uint8_t *request, size_t len, const char *ip, uint16_t port)
{
	uint8_t m[PQ_STUN_MAX_LEN];

	udp_fixture_send(&U.udp, fd, m, answer(request, len, ip, port, m));
	udp_fixture_pump(&U.udp);
}

static void assert_reflexive(const char *ip, uint16_t port)
{
	struct pq_sockaddr want;
	struct pq_endpoint ep;

	assert_int_equal(pq_sockaddr_from_ip(&want, ip, port), 0);
	assert_int_equal(pq_sockaddr_to_endpoint(&ep, &want), 0);
	assert_int_equal(U.node.udp.reflexive.family, ep.family);
	assert_int_equal(U.node.udp.reflexive.port, ep.port);
	assert_memory_equal(U.node.udp.reflexive.addr, ep.addr, sizeof(ep.addr));
}

/* The right answer from another address, then an answer from the server
 * to a request the node never sent: neither is believed. The server's
 * answer to the node's request is; a second one after it is not. */
static void test_only_the_servers_answer_to_our_request(void **state)
{
	uint8_t not_ours[PQ_STUN_MAX_LEN];
	uint8_t txid[PQ_STUN_TXID_LEN];
	long n;

	(void)state;
	answer_from(U.other, U.request, U.request_len, "198.51.100.66", 6666);
	assert_int_equal(U.node.udp.stun_answers, 0);
	assert_int_equal(U.node.udp.reflexive.family, 0);
	assert_int_equal(U.node.udp.drops, 1);

	memset(txid, 0x77, sizeof(txid));
	n = pq_stun_binding_request(txid, NULL, true, not_ours, sizeof(not_ours));
	assert_true(n > 0);
	answer_from(U.server, not_ours, (size_t)n, "198.51.100.66", 6666);
	assert_int_equal(U.node.udp.stun_answers, 0);
	assert_int_equal(U.node.udp.reflexive.family, 0);
	assert_int_equal(U.node.udp.drops, 2);

	answer_from(U.server, U.request, U.request_len, "203.0.113.5", 41641);
	assert_int_equal(U.node.udp.stun_answers, 1);
	assert_reflexive("203.0.113.5", 41641);

	answer_from(U.server, U.request, U.request_len, "198.51.100.66", 6666);
	assert_int_equal(U.node.udp.stun_answers, 1);
	assert_reflexive("203.0.113.5", 41641);
	assert_int_equal(U.node.udp.drops, 3);
}

/* Not STUN at all, or a request rather than an answer, from the server:
 * dropped, and the real answer still counts. */
static void test_garbage_from_the_server(void **state)
{
	uint8_t m[PQ_STUN_MAX_LEN];

	(void)state;
	memcpy(m, U.request, U.request_len);
	m[U.request_len - 1] ^= 1; /* its FINGERPRINT no longer matches */
	udp_fixture_send(&U.udp, U.server, m, U.request_len);
	udp_fixture_send(&U.udp, U.server, U.request, U.request_len);
	udp_fixture_pump(&U.udp);
	assert_int_equal(U.node.udp.stun_answers, 0);
	assert_int_equal(U.node.udp.drops, 2);

	answer_from(U.server, U.request, U.request_len, "203.0.113.5", 41641);
	assert_int_equal(U.node.udp.stun_answers, 1);
	assert_reflexive("203.0.113.5", 41641);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_the_servers_answer_to_our_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_from_the_server, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
