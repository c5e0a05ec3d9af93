/*
 * node_fixture.h - the fake node the status and metrics report tests
 * render: no loop, no sockets, just the structs the reports read.
 */
#ifndef PQ_TESTS_NODE_FIXTURE_H
#define PQ_TESTS_NODE_FIXTURE_H

#include <string.h>

#include "node/node_int.h"

/* Keys printed as 44 base64 characters: fixed, distinct, readable. */
#define KEY(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c "="

/* Node A on tap pq0, relay connected, with peers[0..count) (zeroed). */
static inline void fixture_node(struct pq_node *node, struct pq_node_peer *peers,
				struct pq_config_peer *cfg, size_t count)
{
	memset(node, 0, sizeof(*node));
	memset(cfg, 0, count * sizeof(*cfg));
	memset(peers, 0, count * sizeof(*peers));
	strcpy(node->pub_b64, KEY("A"));
	strcpy(node->cfg.tap, "pq0");
	node->relay.state = PQ_RELAY_CONNECTED;
	node->udp.fd = -1;
	node->peers = peers;
	node->peer_count = count;
	for (size_t i = 0; i < count; i++) {
		peers[i].cfg = &cfg[i];
		peers[i].node = node;
		pq_session_init(&peers[i].session);
		peers[i].path.core.active = PQ_PATH_VIA_RELAY;
	}
}

/* p online with confirmed keys made at 100 000 ms (we initiated), and
 * counters: 1500 B / 1 frame in, 3000 B / 2 frames out, 5 dropped, GSO
 * 7 in / 9 out. 0, or pq_session_install's error. */
static inline int fixture_established(struct pq_node_peer *p)
{
	struct pq_hs_result res;
	int ret;

	p->online = true;
	memset(&res, 0, sizeof(res));
	res.event = PQ_HS_EV_KEYS;
	res.initiator = true;
	res.confirmed = true;
	res.local_index = 7;
	res.remote_index = 9;
	memset(&res.keys, 0x42, sizeof(res.keys));
	ret = pq_session_install(&p->session, &res, 100000);
	p->handshake_ms = 100000;
	p->count = (struct pq_peer_counters){ .rx_bytes = 1500, .tx_bytes = 3000, .rx_frames = 1,
					      .tx_frames = 2, .dropped_frames = 5,
					      .rx_gso_frames = 7, .tx_gso_frames = 9 };
	return ret;
}

/* p's frames take dc, a usable TLS conn on slot 0 (the path core's view
 * and the node's, as path_exec.c and dconn.c would leave them). */
static inline void fixture_direct(struct pq_node_peer *p, struct pq_dconn *dc)
{
	dc->peer = p;
	dc->slot = 0;
	dc->transport = PQ_PATH_TLS;
	p->path.conn[0] = dc;
	p->path.core.conn[0].state = PQ_PCONN_USABLE;
	p->path.core.conn[0].transport = PQ_PATH_TLS;
	p->path.core.active = 0;
}

#endif
