/*
 * fuzz_config.c - libFuzzer target for node.conf and relay.conf
 * (node/config.h, util/conf_ini.h).
 *
 * Input: byte 0 bit 0 picks relay.conf (1) or node.conf (0); the rest is
 * the file's text.
 * Checks: no crash; only the documented codes; the message buffer stays
 * NUL-terminated inside its size, is empty on success and on failure
 * every line starts with the file name; a successful load holds what the
 * format promises (required fields set, limits kept, unique peer keys).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/config.h"
#include "relay/config.h"

#define NAME "fuzz.conf"

static void check_messages(const char *err, size_t cap, int rc)
{
	const char *p = err;

	CHECK(memchr(err, '\0', cap) != NULL);
	if (rc == 0) {
		CHECK(err[0] == '\0');
		return;
	}
	CHECK(rc == PQ_E_CONFIG || rc == PQ_E_NOMEM);
	CHECK(err[0] != '\0');
	while (p) {
		CHECK(!strncmp(p, NAME ":", strlen(NAME ":")));
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

static void check_node(const struct pq_node_config *cfg)
{
	size_t i, j;

	CHECK(cfg->private_key[0] && cfg->tap[0] && cfg->control[0] == '/');
	CHECK(cfg->listen.len && cfg->relay_url.host[0] && cfg->relay_url.path[0] == '/');
	CHECK(cfg->peer_count <= PQ_CONFIG_MAX_PEERS);
	for (i = 0; i < cfg->peer_count; i++) {
		CHECK(cfg->peers[i].has_key);
		for (j = 0; j < i; j++)
			CHECK(memcmp(cfg->peers[i].key, cfg->peers[j].key, 32) != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[PQ_CONFIG_ERR_LEN];
	struct pq_node_config node;
	struct pq_relay_config relay;
	int rc;

	if (size < 1)
		return 0;
	memset(err, 'x', sizeof(err));
	if (data[0] & 1) {
		rc = pq_relay_config_parse(&relay, NAME, (const char *)data + 1, size - 1,
					   err, sizeof(err));
		check_messages(err, sizeof(err), rc);
		if (rc == 0) {
			CHECK(relay.private_key[0] && relay.listen.len);
			CHECK(relay.allow_count <= PQ_CONFIG_MAX_ALLOW);
		}
		CHECK(rc == 0 || relay.allow == NULL);
		pq_relay_config_free(&relay);
	} else {
		rc = pq_node_config_parse(&node, NAME, (const char *)data + 1, size - 1,
					  err, sizeof(err));
		check_messages(err, sizeof(err), rc);
		if (rc == 0)
			check_node(&node);
		CHECK(rc == 0 || node.peers == NULL);
		pq_node_config_free(&node);
	}
	return 0;
}
