/*
 * tool_nats_client.c - a NATS client for the federation tests
 * (tests/e2e/check_relay_nats*.sh), with libnats like the relay:
 *
 *   tool_nats_client list URL USER PASSWORD
 *       one line per live presence record: "<key hex> <relay> <watch count>",
 *       then "records N"; malformed records are printed as "<key> BAD".
 *   tool_nats_client hostile URL USER PASSWORD RELAY_NAME [VICTIM_HEX PEER_HEX VICTIM_RELAY]
 *       a compromised cluster member: publishes on RELAY_NAME's subject
 *       (pqlan.fwd.RELAY_NAME) empty, truncated, oversized, wrong-version
 *       and random messages, and well-formed envelopes from an unknown
 *       relay; puts malformed records and a non-hex key into the presence
 *       bucket; with VICTIM_HEX and PEER_HEX (two nodes that list each
 *       other, PEER on RELAY_NAME, VICTIM on VICTIM_RELAY) also a
 *       well-formed envelope claiming to come from VICTIM through a relay
 *       that does not hold it (the relay drops it), and one through
 *       VICTIM_RELAY (delivered: a forged sealed payload, PEER's session
 *       must drop it).
 *       Prints "sent N" with the number of messages published.
 *
 * Exit 0 on success; 1 when NATS or the bucket cannot be reached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "crypto/util.h"
#include "proto/msg_fed.h"

#define BUCKET "pqlan_presence"

static natsConnection *nc_open(const char *url, const char *user, const char *pass)
{
	natsConnection *nc = NULL;
	natsOptions *o = NULL;

	if (natsOptions_Create(&o) != NATS_OK || natsOptions_SetURL(o, url) != NATS_OK ||
	    natsOptions_SetUserInfo(o, user, pass) != NATS_OK ||
	    natsOptions_SetTimeout(o, 3000) != NATS_OK || natsConnection_Connect(&nc, o) != NATS_OK) {
		fprintf(stderr, "tool_nats_client: cannot connect to %s: %s\n", url, nats_GetLastError(NULL));
		nc = NULL;
	}
	natsOptions_Destroy(o);
	return nc;
}

static kvStore *kv_open(natsConnection *nc, jsCtx **js)
{
	kvStore *kv = NULL;
	jsOptions jo;

	jsOptions_Init(&jo);
	jo.Wait = 3000;
	if (natsConnection_JetStream(js, nc, &jo) != NATS_OK || js_KeyValue(&kv, *js, BUCKET) != NATS_OK) {
		fprintf(stderr, "tool_nats_client: no bucket %s: %s\n", BUCKET, nats_GetLastError(NULL));
		return NULL;
	}
	return kv;
}

static int list(kvStore *kv)
{
	kvKeysList keys = { 0 };
	kvWatchOptions wo;
	int live = 0;

	kvWatchOptions_Init(&wo);
	wo.Timeout = 3000;
	if (kvStore_Keys(&keys, kv, &wo) != NATS_OK && keys.Count == 0) {
		printf("records 0\n");
		return 0;
	}
	for (int i = 0; i < keys.Count; i++) {
		struct pq_fed_presence p;
		kvEntry *e = NULL;

		if (kvStore_Get(&e, kv, keys.Keys[i]) != NATS_OK || !e)
			continue;
		if (kvEntry_ValueLen(e) > 0 &&
		    pq_fed_presence_decode(&p, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e)) == 0)
			printf("%s %s %zu\n", keys.Keys[i], p.relay, p.count);
		else
			printf("%s BAD\n", keys.Keys[i]);
		live++;
		kvEntry_Destroy(e);
	}
	kvKeysList_Destroy(&keys);
	printf("records %d\n", live);
	return 0;
}

static int pub(natsConnection *nc, const char *subj, const void *data, size_t len, int *sent)
{
	if (natsConnection_Publish(nc, subj, data, (int)len) != NATS_OK)
		return -1;
	(*sent)++;
	return 0;
}

/* Envelope from relay `from`, src -> dst, with a random "sealed" payload. */
static int pub_envelope(natsConnection *nc, const char *subj, const char *from, const uint8_t *src,
			const uint8_t *dst, int *sent)
{
	static uint8_t buf[PQ_FED_FORWARD_MAX];
	uint8_t payload[100];
	struct pq_fed_forward f = { 0 };
	long len;

	snprintf(f.relay, sizeof(f.relay), "%s", from);
	memcpy(f.src, src, 32);
	memcpy(f.dst, dst, 32);
	if (pq_random_bytes(payload, sizeof(payload)))
		return -1;
	payload[0] = 0x20; /* looks like a sealed type */
	f.payload = payload;
	f.payload_len = sizeof(payload);
	len = pq_fed_forward_encode(&f, buf, sizeof(buf));
	return len < 0 ? -1 : pub(nc, subj, buf, (size_t)len, sent);
}

static int hostile(natsConnection *nc, kvStore *kv, const char *relay, const char *victim_hex,
		   const char *peer_hex, const char *victim_relay)
{
	static uint8_t big[2 * PQ_FED_FORWARD_MAX];
	char subj[128];
	uint8_t junk[512], a[32], b[32];
	uint64_t rev;
	int sent = 0, fails = 0;

	snprintf(subj, sizeof(subj), "%s%s", PQ_FED_SUBJECT_PREFIX, relay);
	if (pq_random_bytes(junk, sizeof(junk)) || pq_random_bytes(a, 32) || pq_random_bytes(b, 32))
		return 1;
	memset(big, 0x02, sizeof(big));
	fails += pub(nc, subj, "", 0, &sent) != 0;                      /* empty */
	fails += pub(nc, subj, "\x02\x01", 2, &sent) != 0;              /* truncated */
	fails += pub(nc, subj, big, sizeof(big), &sent) != 0;           /* oversized */
	junk[0] = 0x07;
	fails += pub(nc, subj, junk, sizeof(junk), &sent) != 0;         /* wrong version */
	for (int i = 0; i < 50; i++) {                                  /* random */
		if (pq_random_bytes(junk, sizeof(junk)))
			return 1;
		junk[0] = 0x02;
		fails += pub(nc, subj, junk, 1 + (size_t)(junk[1] % (sizeof(junk) - 1)), &sent) != 0;
	}
	/* Well formed, from a relay nobody knows, between unknown keys. */
	fails += pub_envelope(nc, subj, "ghost", a, b, &sent) != 0;
	if (victim_hex && peer_hex) {
		uint8_t victim[32], peer[32];

		if (pq_fed_key_from_hex(victim, victim_hex, strlen(victim_hex)) ||
		    pq_fed_key_from_hex(peer, peer_hex, strlen(peer_hex)))
			return 1;
		/* Claims a relay that does not hold the victim: dropped. */
		fails += pub_envelope(nc, subj, "ghost", victim, peer, &sent) != 0;
		/* The right relay: delivered, and refused by the session. */
		fails += pub_envelope(nc, subj, victim_relay, victim, peer, &sent) != 0;
	}
	/* Presence: garbage values, a key that is not a node key. */
	if (kv) {
		fails += kvStore_Put(&rev, kv, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
				     "\x01\x05junk", 7) != NATS_OK;
		fails += kvStore_Put(&rev, kv, "not-a-node-key", "\x01", 1) != NATS_OK;
		sent += 2;
	}
	natsConnection_FlushTimeout(nc, 3000);
	printf("sent %d\n", sent);
	return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
	natsConnection *nc;
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	int rc = 1;

	if (argc < 5 || (strcmp(argv[1], "list") && strcmp(argv[1], "hostile")) ||
	    (!strcmp(argv[1], "hostile") && argc != 6 && argc != 9)) {
		fprintf(stderr, "usage: tool_nats_client list URL USER PASSWORD\n"
			"       tool_nats_client hostile URL USER PASSWORD RELAY_NAME [VICTIM_HEX PEER_HEX VICTIM_RELAY]\n");
		return 2;
	}
	if (!(nc = nc_open(argv[2], argv[3], argv[4])))
		return 1;
	kv = kv_open(nc, &js);
	if (!strcmp(argv[1], "list"))
		rc = kv ? list(kv) : 1;
	else
		rc = hostile(nc, kv, argv[5], argc == 9 ? argv[6] : NULL, argc == 9 ? argv[7] : NULL,
			     argc == 9 ? argv[8] : NULL);
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	nats_Close();
	return rc;
}
