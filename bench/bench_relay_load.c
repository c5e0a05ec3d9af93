/*
 * bench_relay_load.c - load generator for `pqlan relay` (issue 10): how
 * many idle authenticated nodes one relay holds and in how much memory,
 * how fast it accepts them, and how much it forwards.
 *
 *   1. N clients, each with its own Ed25519 identity, connect (TLS 1.3
 *      pinned to the relay's key + WebSocket, pq_conn_connect) and
 *      authenticate with RELAY_AUTH over the relay's challenge and the
 *      connection's TLS exporter (as src/node/relay_link.c does); at most
 *      C logins are under way at once (the relay evicts the oldest
 *      unauthenticated conn past 32 from one source). Client i goes to
 *      relay i mod R when several relays are given (a federation).
 *   2. Idle clients send one RELAY_WATCH naming a key nobody holds (a
 *      node with peers that are all offline); the first 2K clients are K
 *      pairs (2j, 2j+1) that list each other. Figures: logins per second,
 *      and, with -p, the relay's RSS before and after (per idle node).
 *   3. The pairs wait for PEER_ONLINE both ways, then for S seconds the
 *      even client of each pair sends RELAY_SEND of B payload bytes to the
 *      odd one as fast as its conn takes them (each sender keeps at most
 *      WINDOW bytes queued; a timer tops the queues up every millisecond).
 *      Figures: messages and payload Mbit/s delivered, summed over pairs.
 *
 * One process, one event loop, one thread: the tool's own TLS work
 * competes with the relay for the CPU; both are on this machine.
 *
 * Usage: bench_relay_load [-n N] [-k K] [-s SECS] [-b BYTES] [-c C]
 *        [-p RELAY_PID] [-t TIMEOUT_S] IP:PORT RELAY_PUB_B64 [IP:PORT KEY ...]
 * Prints key=value lines (parsed by the scripts) and a summary; exit 0
 * only if every client authenticated, every pair came online and, with
 * K > 0, every pair delivered messages.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "crypto/ed25519.h"
#include "crypto/identity.h"
#include "crypto/util.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/sock.h"
#include "net/tls.h"
#include "proto/msg_relay.h"
#include "proto/types.h"

#define MAX_RELAYS 8
#define WINDOW (256 * 1024)
#define TICK_MS 1

struct load;

struct client {
	struct load *l;
	unsigned idx, relay;
	uint8_t pub[PQ_PUBKEY_LEN];
	struct pq_signer *signer;      /* freed once welcomed */
	struct pq_conn *conn;
	bool welcomed, online, closed;
	uint64_t rx_msgs, rx_bytes;
};

struct load {
	struct pq_loop *loop;
	struct pq_tls_ctx *tls;        /* one for all: the relay pins no client */
	struct pq_sockaddr addr[MAX_RELAYS];
	uint8_t key[MAX_RELAYS][PQ_PUBKEY_LEN];
	unsigned relays;
	struct client *c;
	unsigned n, k, conc, secs, pid;
	size_t bytes;
	unsigned next, pending, welcomed, online, closed_early;
	uint64_t t_start_ns, t_authed_ns, t_send_ns, t_end_ns;
	bool sending, done;
	struct pq_timer tick, deadline;
	uint8_t nobody[PQ_PUBKEY_LEN];
	uint8_t msg[PQ_MAX_MSG_LEN];
	uint8_t *payload;
	const char *fail;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* VmRSS of pid in KiB (0: unknown). */
static unsigned long rss_kib(unsigned pid)
{
	char path[64], line[256];
	unsigned long kib = 0;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%u/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void load_fail(struct load *l, const char *why)
{
	if (!l->fail)
		l->fail = why;
	pq_loop_stop(l->loop);
}

static bool is_pair(const struct load *l, const struct client *c)
{
	return c->idx < 2 * l->k;
}

static struct client *partner(struct load *l, const struct client *c)
{
	return &l->c[c->idx ^ 1];
}

static int send_watch(struct client *c)
{
	struct load *l = c->l;
	const uint8_t *key = is_pair(l, c) ? partner(l, c)->pub : l->nobody;
	uint8_t out[PQ_RELAY_WATCH_MSG_LEN(1)];
	size_t len;
	int ret;

	if ((ret = pq_relay_watch_build(out, sizeof(out), &len, (const uint8_t(*)[PQ_PUBKEY_LEN])key, 1)))
		return ret;
	return pq_conn_send(c->conn, out, len);
}

static void connect_more(struct load *l);

/* Every client welcomed and every pair online: the idle state. */
static void check_ready(struct load *l)
{
	if (!l->sending && l->welcomed == l->n && l->online == 2 * l->k)
		pq_loop_stop(l->loop);
}

static void on_open(void *ctx, struct pq_conn *conn)
{
}

static void welcomed(struct client *c)
{
	struct load *l = c->l;

	c->welcomed = true;
	pq_signer_free(c->signer);
	c->signer = NULL;
	l->pending--;
	l->welcomed++;
	if (send_watch(c))
		load_fail(l, "cannot queue RELAY_WATCH");
	if (l->welcomed == l->n)
		l->t_authed_ns = now_ns();
	connect_more(l);
	check_ready(l);
}

static void on_message(void *ctx, struct pq_conn *conn, const uint8_t *msg, size_t len)
{
	struct client *c = ctx;
	struct load *l = c->l;
	uint8_t out[PQ_RELAY_AUTH_MSG_LEN];
	struct pq_peer_online on;
	struct pq_relay_fwd f;

	if (!len)
		return;
	switch (msg[0]) {
	case PQ_MSG_RELAY_CHALLENGE:
		if (!c->signer || pq_relay_auth_answer(out, c->signer, msg, len, pq_conn_exporter(conn)) ||
		    pq_conn_send(conn, out, sizeof(out)))
			load_fail(l, "cannot answer a challenge");
		break;
	case PQ_MSG_RELAY_WELCOME:
		welcomed(c);
		break;
	case PQ_MSG_PEER_ONLINE:
		if (pq_peer_online_decode(&on, msg, len) == 0 && is_pair(l, c) &&
		    !memcmp(on.key, partner(l, c)->pub, PQ_PUBKEY_LEN) && !c->online) {
			c->online = true;
			l->online++;
			check_ready(l);
		}
		break;
	case PQ_MSG_RELAY_RECV:
		if (pq_relay_recv_decode(&f, msg, len) == 0 && l->sending) {
			c->rx_msgs++;
			c->rx_bytes += f.payload_len;
		}
		break;
	default:
		break;
	}
}

static void on_close(void *ctx, struct pq_conn *conn, const struct pq_conn_reason *why)
{
	struct client *c = ctx;
	struct load *l = c->l;

	c->closed = true;
	c->conn = NULL;
	if (l->done)
		return;
	l->closed_early++;
	if (!c->welcomed) {
		l->pending--;
		fprintf(stderr, "client %u closed before RELAY_WELCOME (%s, ws %u)\n", c->idx,
			why->err ? pq_strerror(why->err) : "no detail", (unsigned)why->ws_code);
	}
	load_fail(l, "a client's conn closed");
}

static int client_start(struct load *l, struct client *c)
{
	static const struct pq_conn_cbs cbs = { on_open, on_message, on_close };
	struct pq_conn_target tg = { 0 };
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	int ret;

	if ((ret = pq_ed25519_generate(priv)) || (ret = pq_signer_new(&c->signer, priv)))
		goto out;
	memcpy(c->pub, pq_signer_public(c->signer), PQ_PUBKEY_LEN);
	tg.addr = l->addr[c->relay];
	tg.pin = l->key[c->relay];
	tg.path = "/";
	ret = pq_conn_connect(&c->conn, l->loop, l->tls, &tg, NULL, &cbs, c);
out:
	pq_wipe(priv, sizeof(priv));
	return ret;
}

/* Keep l->conc logins under way. The pairs go first: their keys must be
 * known before their partner's RELAY_WATCH, so a pair's two clients are
 * made together. */
static void connect_more(struct load *l)
{
	while (l->next < l->n && l->pending < l->conc) {
		struct client *c = &l->c[l->next];

		if (is_pair(l, c) && !(c->idx & 1)) {
			/* Both keys first, then both dials. */
			struct client *d = partner(l, c);
			int ret;

			if ((ret = client_start(l, c)) || (ret = client_start(l, d))) {
				fprintf(stderr, "client %u: %s\n", c->idx, pq_strerror(ret));
				load_fail(l, "cannot start a client (fd limit?)");
				return;
			}
			l->pending += 2;
			l->next += 2;
			continue;
		}
		if (client_start(l, c)) {
			load_fail(l, "cannot start a client (fd limit?)");
			return;
		}
		l->pending++;
		l->next++;
	}
}

/* The senders' queues, topped up to WINDOW every tick. */
static void top_up(struct load *l)
{
	struct pq_relay_fwd f;
	size_t len;

	for (unsigned j = 0; j < l->k; j++) {
		struct client *c = &l->c[2 * j];

		if (!c->conn)
			continue;
		memcpy(f.key, partner(l, c)->pub, PQ_PUBKEY_LEN);
		f.payload = l->payload;
		f.payload_len = l->bytes;
		if (pq_relay_send_encode(l->msg, sizeof(l->msg), &len, &f))
			return;
		while (pq_conn_queued(c->conn) < WINDOW && pq_conn_send(c->conn, l->msg, len) == 0)
			;
	}
}

static void on_tick(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct load *l = arg;

	if (now_ns() >= l->t_send_ns + (uint64_t)l->secs * 1000000000ull) {
		l->t_end_ns = now_ns();
		pq_loop_stop(loop);
		return;
	}
	top_up(l);
	if (pq_loop_timer_start(loop, t, TICK_MS))
		load_fail(l, "cannot arm the tick");
}

static void on_deadline(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	load_fail(arg, "timed out");
}

static int run_phase(struct load *l, uint64_t timeout_ms)
{
	if (pq_loop_timer_start(l->loop, &l->deadline, timeout_ms))
		return -1;
	if (pq_loop_run(l->loop))
		return -1;
	pq_loop_timer_cancel(l->loop, &l->deadline);
	return l->fail ? -1 : 0;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int parse_relay(struct load *l, const char *hostport, const char *key)
{
	char ip[64];
	const char *colon = strrchr(hostport, ':');
	size_t n = colon ? (size_t)(colon - hostport) : 0;

	if (l->relays == MAX_RELAYS || !colon || n >= sizeof(ip))
		return -1;
	memcpy(ip, hostport, n);
	ip[n] = '\0';
	if (pq_sockaddr_from_ip(&l->addr[l->relays], ip, (unsigned)atoi(colon + 1)) ||
	    pq_key_from_base64(l->key[l->relays], key, strlen(key)))
		return -1;
	l->relays++;
	return 0;
}

static int parse_args(struct load *l, int argc, char **argv, unsigned *timeout_s)
{
	int opt;

	while ((opt = getopt(argc, argv, "n:k:s:b:c:p:t:")) != -1) {
		unsigned long v = strtoul(optarg, NULL, 10);

		switch (opt) {
		case 'n': l->n = (unsigned)v; break;
		case 'k': l->k = (unsigned)v; break;
		case 's': l->secs = (unsigned)v; break;
		case 'b': l->bytes = v; break;
		case 'c': l->conc = (unsigned)v; break;
		case 'p': l->pid = (unsigned)v; break;
		case 't': *timeout_s = (unsigned)v; break;
		default: return -1;
		}
	}
	for (int i = optind; i + 1 < argc; i += 2)
		if (parse_relay(l, argv[i], argv[i + 1]))
			return -1;
	if (!l->relays || (argc - optind) % 2 || l->n < 2 * l->k || !l->n || !l->conc ||
	    l->bytes < PQ_RELAY_PAYLOAD_MIN || l->bytes > PQ_RELAY_PAYLOAD_MAX)
		return -1;
	return 0;
}

static void report(struct load *l, unsigned long rss0, unsigned long rss1)
{
	double auth_s = (double)(l->t_authed_ns - l->t_start_ns) / 1e9;
	uint64_t msgs = 0, bytes = 0;

	printf("nodes=%u\nrelays=%u\nauth_seconds=%.3f\nlogins_per_s=%.0f\n", l->welcomed, l->relays,
	       auth_s, auth_s > 0 ? l->welcomed / auth_s : 0);
	if (l->pid && rss0 && rss1) {
		printf("relay_rss_before_kib=%lu\nrelay_rss_idle_kib=%lu\n", rss0, rss1);
		printf("relay_kib_per_node=%.1f\n", (double)(rss1 > rss0 ? rss1 - rss0 : 0) / l->n);
	}
	printf("tool_rss_kib=%lu\npairs=%u\npairs_online=%u\n", rss_kib(0), l->k, l->online / 2);
	if (!l->k || !l->t_end_ns)
		return;
	for (unsigned j = 0; j < l->k; j++) {
		struct client *d = &l->c[2 * j + 1];

		if (!d->rx_msgs)
			l->fail = l->fail ? l->fail : "a pair delivered nothing";
		msgs += d->rx_msgs;
		bytes += d->rx_bytes;
	}
	double secs = (double)(l->t_end_ns - l->t_send_ns) / 1e9;
	printf("payload_bytes=%zu\nseconds=%.3f\nmessages=%llu\nmessages_per_s=%.0f\nmbit_per_s=%.1f\n",
	       l->bytes, secs, (unsigned long long)msgs, msgs / secs, bytes * 8.0 / secs / 1e6);
}

int main(int argc, char **argv)
{
	struct load l = { .n = 100, .k = 0, .secs = 5, .bytes = 16384, .conc = 16 };
	unsigned timeout_s = 120;
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	unsigned long rss0 = 0, rss1 = 0;
	int rc = 1;

	if (parse_args(&l, argc, argv, &timeout_s)) {
		fprintf(stderr, "usage: bench_relay_load [-n N] [-k PAIRS] [-s SECS] [-b BYTES] [-c CONCURRENT] "
			"[-p RELAY_PID] [-t TIMEOUT_S] IP:PORT RELAY_PUB_B64 [IP:PORT KEY ...]\n");
		return 2;
	}
	raise_fd_limit();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(l.c = calloc(l.n, sizeof(*l.c))) || !(l.payload = malloc(l.bytes)) ||
	    pq_random_bytes(l.nobody, sizeof(l.nobody)) || pq_random_bytes(l.payload, l.bytes) ||
	    pq_ed25519_generate(priv) || pq_tls_ctx_new(&l.tls, PQ_TLS_CLIENT, priv) ||
	    pq_loop_new(&l.loop)) {
		fprintf(stderr, "bench_relay_load: set-up failed\n");
		goto out;
	}
	pq_wipe(priv, sizeof(priv));
	for (unsigned i = 0; i < l.n; i++) {
		l.c[i].l = &l;
		l.c[i].idx = i;
		l.c[i].relay = i % l.relays;
	}
	pq_timer_init(&l.tick, on_tick, &l);
	pq_timer_init(&l.deadline, on_deadline, &l);
	rss0 = rss_kib(l.pid);
	l.t_start_ns = now_ns();
	connect_more(&l);
	if (run_phase(&l, (uint64_t)timeout_s * 1000))
		goto out;
	sleep(1); /* let the relay settle (its replies to RELAY_WATCH) */
	rss1 = rss_kib(l.pid);
	if (l.k) {
		l.sending = true;
		l.t_send_ns = now_ns();
		top_up(&l);
		if (pq_loop_timer_start(l.loop, &l.tick, TICK_MS) ||
		    run_phase(&l, (uint64_t)(l.secs + timeout_s) * 1000))
			goto out;
	}
	rc = 0;
out:
	l.done = true;
	report(&l, rss0, rss1);
	if (l.fail) {
		printf("FAIL: %s (authenticated %u of %u, pairs online %u of %u)\n", l.fail, l.welcomed, l.n,
		       l.online / 2, l.k);
		rc = 1;
	}
	for (unsigned i = 0; l.c && i < l.n; i++) {
		if (l.c[i].conn)
			pq_conn_abort(l.c[i].conn);
		pq_signer_free(l.c[i].signer);
	}
	if (l.loop) {
		pq_loop_timer_cancel(l.loop, &l.tick);
		pq_loop_timer_cancel(l.loop, &l.deadline);
	}
	pq_loop_free(l.loop);
	pq_tls_ctx_free(l.tls);
	free(l.payload);
	free(l.c);
	return rc;
}
