/*
 * test_dconn.c - what a direct conn's message does to the path core's
 * view of that conn (node/dconn.c): a handshake message that does not
 * check out is not a sign of life (a TLS conn is pinned to the peer's
 * key, but a handshake message on it is not sealed), and the conn's
 * probe state is left as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node_fixture.h"
#include "proto/msg_handshake.h"
#include "proto/types.h"

static void test_bad_handshake_not_alive(void **state)
{
	static struct pq_node node;
	struct pq_node_peer peer;
	struct pq_config_peer cfg;
	struct pq_dconn dc;
	uint8_t msg[64];
	const uint8_t types[] = { PQ_MSG_HS_INIT, PQ_MSG_HS_RESP, PQ_MSG_HS_FINISH };

	(void)state;
	fixture_node(&node, &peer, &cfg, 1);
	memset(&dc, 0, sizeof(dc));
	fixture_direct(&peer, &dc);
	peer.path.core.conn[0].last_rx_ms = 1000;
	peer.path.core.conn[0].unanswered_ms = 4000;
	for (size_t i = 0; i < sizeof(types); i++) {
		memset(msg, 0xa5, sizeof(msg));
		msg[0] = types[i];
		msg[1] = PQ_HS_VERSION; /* past the version check, into the decoder */
		pq_dconn_message(&dc, msg, sizeof(msg), 5000 + i);
		assert_int_equal(peer.path.core.conn[0].last_rx_ms, 1000);
		assert_int_equal(peer.path.core.conn[0].unanswered_ms, 4000);
	}
	/* a sealed frame that does not open is not one either */
	msg[0] = PQ_MSG_DATA;
	pq_dconn_message(&dc, msg, sizeof(msg), 6000);
	assert_int_equal(peer.path.core.conn[0].last_rx_ms, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_handshake_not_alive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
