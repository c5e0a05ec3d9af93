/*
 * tool_relay_flood.c - the memory attack on an open relay of issue 11,
 * for tests/e2e/check_attack_relay.sh: one host makes fresh keys, pairs
 * them (each pair lists each other, so the relay forwards between them),
 * and in every pair one side sends 16 KiB messages as fast as it can
 * while the other never reads. Before the fix each such pair pinned ~4 MiB
 * of the relay (user-space queue + kernel buffer), with no cap on keys.
 *
 *   tool_relay_flood IP PORT RELAY_PUBKEY PAIRS SECONDS
 *
 * Prints one line at the end:
 *   flood: clients N, welcomed W, refused R, pairs forwarding P, MiB sent S
 * and exits 0 (the relay's side is what the test measures). Every wait is
 * bounded by SECONDS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/identity.h"
#include "net/conn_internal.h"
#include "relay_client.h"

#define MSG_LEN 16384
#define MAX_PAIRS 512

struct flood {
	struct rc_env env;
	struct rc_client *c;   /* 2 * pairs: even senders, odd readers that stop */
	size_t pairs;
	size_t started;        /* pairs connected so far (a few at a time) */
	bool *muted;           /* reader i/2 stopped reading */
	uint64_t sent;
	struct pq_timer tick;
	uint8_t msg[MSG_LEN];
};

/* A reader that is online with its sender: stop reading (its kernel still
 * ACKs until its buffer is full; then the relay's queue fills). */
static void mute(struct flood *f, size_t p)
{
	struct rc_client *r = &f->c[2 * p + 1];

	if (f->muted[p] || !r->conn || r->closed || !rc_count(r, PQ_MSG_PEER_ONLINE))
		return;
	if (pq_loop_del(f->env.loop, r->conn->fd) == 0)
		f->muted[p] = true;
}

static int start_pair(struct flood *f, size_t p);

/* Clients still connecting or authenticating. */
static size_t in_flight(const struct flood *f)
{
	size_t n = 0;

	for (size_t i = 0; i < 2 * f->started; i++)
		n += f->c[i].conn && !f->c[i].closed && !f->c[i].welcomed;
	return n;
}

static void on_tick(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now)
{
	struct flood *f = arg;

	/* like a patient attacker: a few logins at a time, not past the
	 * listener's pending cap */
	while (f->started < f->pairs && in_flight(f) < 16)
		if (start_pair(f, f->started++))
			break;

	for (size_t p = 0; p < f->pairs; p++) {
		struct rc_client *s = &f->c[2 * p];

		mute(f, p);
		if (!f->muted[p] || !s->conn || s->closed)
			continue;
		for (int i = 0; i < 16 && rc_send(s, f->c[2 * p + 1].pub, f->msg, sizeof(f->msg)) == 0; i++)
			f->sent += sizeof(f->msg);
	}
	if (pq_loop_timer_start(loop, t, 5))
		pq_loop_stop(loop);
}

static bool never(struct rc_env *e)
{
	return false;
}

static int start_pair(struct flood *f, size_t p)
{
	struct rc_client *a = &f->c[2 * p], *b = &f->c[2 * p + 1];
	uint8_t apriv[32], bpriv[32], apub[32], bpub[32];
	int rc = -1;

	if (!pq_ed25519_generate(apriv) && !pq_ed25519_generate(bpriv) &&
	    !pq_ed25519_public(apub, apriv) && !pq_ed25519_public(bpub, bpriv) &&
	    !rc_connect(&f->env, a, apriv, RC_AUTH_GOOD) && !rc_watch_add(a, bpub) &&
	    !rc_connect(&f->env, b, bpriv, RC_AUTH_GOOD) && !rc_watch_add(b, apub))
		rc = 0;
	pq_wipe(apriv, sizeof(apriv));
	pq_wipe(bpriv, sizeof(bpriv));
	return rc;
}

int main(int argc, char **argv)
{
	struct pq_sockaddr addr;
	struct pq_loop *loop = NULL;
	struct flood *f = calloc(1, sizeof(*f));
	uint8_t pub[32];
	size_t welcomed = 0, refused = 0, forwarding = 0;
	long seconds;

	if (!f || argc != 6 || pq_sockaddr_from_ip(&addr, argv[1], (unsigned)atoi(argv[2])) ||
	    pq_key_from_base64(pub, argv[3], strlen(argv[3])) ||
	    (f->pairs = (size_t)atol(argv[4])) == 0 || f->pairs > MAX_PAIRS ||
	    (seconds = atol(argv[5])) <= 0 || seconds > 600) {
		fprintf(stderr, "usage: tool_relay_flood IP PORT RELAY_PUBKEY PAIRS(1-%d) SECONDS\n",
			MAX_PAIRS);
		return 2;
	}
	f->c = calloc(2 * f->pairs, sizeof(*f->c));
	f->muted = calloc(f->pairs, sizeof(*f->muted));
	if (!f->c || !f->muted || pq_loop_new(&loop) || rc_env_init(&f->env, &addr, pub, loop)) {
		fprintf(stderr, "tool_relay_flood: setup failed\n");
		return 1;
	}
	memset(f->msg, 0xa5, sizeof(f->msg));
	f->msg[0] = PQ_MSG_RELAY_SEND; /* overwritten by rc_send's encoder: any payload will do */
	pq_timer_init(&f->tick, on_tick, f);
	if (pq_loop_timer_start(loop, &f->tick, 5))
		return 1;
	/* rc_run returns -1 at the deadline: that is the end of the attack */
	(void)rc_run(&f->env, never, f, (uint64_t)seconds * 1000);
	pq_loop_timer_cancel(loop, &f->tick);
	for (size_t i = 0; i < 2 * f->pairs; i++) {
		welcomed += f->c[i].welcomed;
		refused += !f->c[i].welcomed && f->c[i].close_reason == PQ_CLOSE_AUTH_FAILED;
	}
	for (size_t p = 0; p < f->pairs; p++)
		forwarding += f->muted[p];
	printf("flood: clients %zu, welcomed %zu, refused %zu, pairs forwarding %zu, MiB sent %llu\n",
	       2 * f->pairs, welcomed, refused, forwarding, (unsigned long long)(f->sent >> 20));
	fflush(stdout);
	for (size_t i = 0; i < 2 * f->pairs; i++)
		if (f->c[i].conn)
			pq_conn_abort(f->c[i].conn);
	rc_env_free(&f->env);
	pq_loop_free(loop);
	free(f->c);
	free(f->muted);
	free(f);
	return 0;
}
