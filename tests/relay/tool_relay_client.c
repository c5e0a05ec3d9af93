/*
 * tool_relay_client.c - two authenticated nodes against a running
 * `pqlan relay` (used by tests/e2e/check_relay_hostile.sh):
 *
 *   tool_relay_client IP PORT RELAY_PUBKEY [normal|flip|replay|reorder]
 *
 * A and B list each other in RELAY_WATCH (the relay announces and
 * forwards only between nodes that do).
 *
 * normal: A and B authenticate, see each other online, exchange one
 * message each way (payload unchanged, source = the sender's key), and a
 * message to an unknown key comes back UNREACHABLE. The other modes check
 * that a relay started with PQLAN_RELAY_TEST_MANGLE=<mode> really mangles
 * sealed payloads (0x2x) that way and leaves handshake payloads (0x1x)
 * alone. Prints "checked: ..." lines; exit 0 on success, 1 on failure
 * (with the reason on stderr). Every wait is bounded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/identity.h"
#include "relay_client.h"

#define WAIT_MS 5000

struct two {
	struct rc_client a, b;
	size_t want_b;    /* RELAY_RECV count B waits for */
};

static int fail(const char *what)
{
	fprintf(stderr, "tool_relay_client: FAILED: %s\n", what);
	return 1;
}

static bool both_online(struct rc_env *e)
{
	struct two *t = e->arg;

	return t->a.welcomed && t->b.welcomed && rc_count(&t->a, PQ_MSG_PEER_ONLINE) >= 1 &&
	       rc_count(&t->b, PQ_MSG_PEER_ONLINE) >= 1;
}

static bool a_welcomed(struct rc_env *e)
{
	return ((struct two *)e->arg)->a.welcomed || ((struct two *)e->arg)->a.closed;
}

static bool b_got(struct rc_env *e)
{
	struct two *t = e->arg;

	return rc_count(&t->b, PQ_MSG_RELAY_RECV) >= t->want_b;
}

static bool a_got_both(struct rc_env *e)
{
	struct two *t = e->arg;

	return rc_count(&t->a, PQ_MSG_RELAY_RECV) >= 1 && rc_count(&t->a, PQ_MSG_UNREACHABLE) >= 1;
}

/* The nth RELAY_RECV of c: its source is src and its payload p. */
static bool recv_is(const struct rc_client *c, size_t nth, const uint8_t src[32],
		    const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < c->nmsgs; i++) {
		const struct rc_msg *m = &c->msgs[i];
		struct pq_relay_fwd f;

		if (m->buf[0] != PQ_MSG_RELAY_RECV || nth--)
			continue;
		if (pq_relay_recv_decode(&f, m->buf, m->len))
			return false;
		return !memcmp(f.key, src, 32) && f.payload_len == len && !memcmp(f.payload, p, len);
	}
	return false;
}

static int normal(struct rc_env *e, struct two *t)
{
	static const uint8_t p1[] = { 0x20, 'h', 'e', 'l', 'l', 'o' }, p2[] = { 0x10, 'o', 'k' };
	uint8_t nobody[32];

	if (pq_random_bytes(nobody, sizeof(nobody)))
		return fail("random");
	t->want_b = 1;
	if (rc_send(&t->a, t->b.pub, p1, sizeof(p1)) || rc_run(e, b_got, t, WAIT_MS))
		return fail("A -> B not delivered");
	if (!recv_is(&t->b, 0, t->a.pub, p1, sizeof(p1)))
		return fail("A -> B changed on the way");
	if (rc_send(&t->b, t->a.pub, p2, sizeof(p2)) || rc_send(&t->a, nobody, p1, sizeof(p1)) ||
	    rc_run(e, a_got_both, t, WAIT_MS))
		return fail("B -> A or UNREACHABLE not delivered");
	if (!recv_is(&t->a, 0, t->b.pub, p2, sizeof(p2)))
		return fail("B -> A changed on the way");
	printf("checked: two authenticated nodes: online both ways, A->B and B->A forwarded "
	       "unchanged, UNREACHABLE for an unknown key\n");
	return 0;
}

/* Hostile relay modes: what B receives for sealed s1, s2 and handshake h. */
static int mangled(struct rc_env *e, struct two *t, const char *mode)
{
	static const uint8_t h[] = { 0x10, 1, 2, 3 }, s1[] = { 0x20, 'o', 'n', 'e' },
			     s2[] = { 0x20, 't', 'w', 'o' };
	uint8_t s1x[sizeof(s1)];
	bool ok;

	memcpy(s1x, s1, sizeof(s1));
	s1x[sizeof(s1) - 1] ^= 1;
	t->want_b = !strcmp(mode, "replay") ? 4 : 3;
	if (rc_send(&t->a, t->b.pub, h, sizeof(h)) || rc_send(&t->a, t->b.pub, s1, sizeof(s1)) ||
	    rc_send(&t->a, t->b.pub, s2, sizeof(s2)) || rc_run(e, b_got, t, WAIT_MS))
		return fail("messages not delivered");
	ok = recv_is(&t->b, 0, t->a.pub, h, sizeof(h));
	if (!strcmp(mode, "flip"))
		ok = ok && recv_is(&t->b, 1, t->a.pub, s1x, sizeof(s1x));
	else if (!strcmp(mode, "replay"))
		ok = ok && recv_is(&t->b, 1, t->a.pub, s1, sizeof(s1)) &&
		     recv_is(&t->b, 2, t->a.pub, s1, sizeof(s1)) &&
		     recv_is(&t->b, 3, t->a.pub, s2, sizeof(s2));
	else
		ok = ok && recv_is(&t->b, 1, t->a.pub, s2, sizeof(s2)) &&
		     recv_is(&t->b, 2, t->a.pub, s1, sizeof(s1));
	if (!ok)
		return fail("the relay did not mangle as the mode says");
	printf("checked: hostile relay mode %s: handshake payload untouched, sealed payloads "
	       "mangled as expected\n", mode);
	return 0;
}

static int run(struct rc_env *e, const char *mode)
{
	struct two t;
	uint8_t apriv[32], bpriv[32], apub[32], bpub[32];
	int rc;

	memset(&t, 0, sizeof(t));
	/* Both keys up front: each watches the other from its WELCOME on. */
	if (pq_ed25519_generate(apriv) || pq_ed25519_generate(bpriv) ||
	    pq_ed25519_public(apub, apriv) || pq_ed25519_public(bpub, bpriv))
		return fail("keys");
	if (rc_connect(e, &t.a, apriv, RC_AUTH_GOOD) || rc_watch_add(&t.a, bpub) ||
	    rc_run(e, a_welcomed, &t, WAIT_MS) || !t.a.welcomed)
		return fail("A not welcomed");
	if (rc_connect(e, &t.b, bpriv, RC_AUTH_GOOD) || rc_watch_add(&t.b, apub) ||
	    rc_run(e, both_online, &t, WAIT_MS))
		return fail("A and B not both online");
	pq_wipe(apriv, sizeof(apriv));
	pq_wipe(bpriv, sizeof(bpriv));
	rc = !strcmp(mode, "normal") ? normal(e, &t) : mangled(e, &t, mode);
	if (t.a.conn)
		pq_conn_abort(t.a.conn);
	if (t.b.conn)
		pq_conn_abort(t.b.conn);
	return rc;
}

int main(int argc, char **argv)
{
	struct pq_sockaddr addr;
	struct pq_loop *loop = NULL;
	struct rc_env e;
	uint8_t pub[32];
	const char *mode = argc > 4 ? argv[4] : "normal";
	int rc;

	if (argc < 4 || argc > 5 || pq_sockaddr_from_ip(&addr, argv[1], (unsigned)atoi(argv[2])) ||
	    pq_key_from_base64(pub, argv[3], strlen(argv[3])) ||
	    (strcmp(mode, "normal") && strcmp(mode, "flip") && strcmp(mode, "replay") &&
	     strcmp(mode, "reorder"))) {
		fprintf(stderr, "usage: tool_relay_client IP PORT RELAY_PUBKEY "
			"[normal|flip|replay|reorder]\n");
		return 2;
	}
	if (pq_loop_new(&loop) || rc_env_init(&e, &addr, pub, loop))
		return fail("setup");
	rc = run(&e, mode);
	rc_env_free(&e);
	pq_loop_free(loop);
	return rc;
}
