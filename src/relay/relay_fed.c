/*
 * relay_fed.c - federation over NATS, the loop's side (relay_fed_int.h,
 * DESIGN §8, docs/relay.md): start and stop, the inbox from the NATS
 * threads, the hooks relay.c, relay_watch.c and relay_fwd.c call, frames
 * to and from other relays, and the counters.
 *
 * A frame for a node on another relay goes, still sealed end to end, to
 * that relay's subject with the sender's key; the receiving relay delivers
 * it only if its own view agrees: the source is held by the relay the
 * envelope names, and source and destination list each other. A hostile
 * NATS client can therefore make a relay drop frames or deliver a forged
 * envelope, whose sealed payload the destination node then refuses - what
 * a hostile relay can do, and no more (docs/relay.md, "Trust").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/ws.h"
#include "relay/relay_fed_int.h"
#include "util/log.h"

#define FED_TICK_MS 1000

void relay_fed_watching(struct relay_node *n)
{
	struct relay_fed *fed = n->relay->fed;
	uint64_t now = pq_loop_now(n->relay->loop);

	if (!fed || fed->relay->shutting_down)
		return;
	/* Here now: a record from its last relay is history (no PEER_OFFLINE:
	 * its peers here heard PEER_ONLINE with the new address from
	 * relay_watch.c). */
	fed_presence_forget(fed, n->entry.key);
	n->fed.gen = 0;
	n->fed.rev = 0; /* a new conn's record is put, not updated */
	fed_presence_put(fed, n, now);
	fed_presence_announce_to(fed, n);
}

void relay_fed_left(struct relay_node *n)
{
	struct relay_fed *fed = n->relay->fed;
	struct fed_item *it;

	if (!fed || !n->fed.gen || n->fed.moved || !(it = fedq_item(FED_DEL, 0)))
		return;
	memcpy(it->key, n->entry.key, PQ_PUBKEY_LEN);
	it->gen = n->fed.gen;
	(void)fedq_push(&fed->kvbox, it);
}

int relay_fed_forward(struct relay_node *src, const struct pq_relay_fwd *f)
{
	struct relay_fed *fed = src->relay->fed;
	struct pq_fed_forward env = { 0 };
	struct fed_remote *m;
	struct fed_item *it;
	long len;

	if (!fed || !(m = fed_remote_find(fed, f->key)))
		return 0;
	if (!fed_mutual(src, m))
		return -1;
	memcpy(env.relay, fed->name, sizeof(env.relay));
	memcpy(env.src, src->entry.key, PQ_PUBKEY_LEN);
	memcpy(env.dst, f->key, PQ_PUBKEY_LEN);
	env.payload = f->payload;
	env.payload_len = f->payload_len;
	len = pq_fed_forward_encode(&env, fed->buf, sizeof(fed->buf));
	if (len < 0 || !(it = fedq_item(FED_PUBLISH, (size_t)len)))
		return 1; /* cannot happen for a decoded RELAY_SEND; dropped */
	memcpy(it->data, fed->buf, (size_t)len);
	memcpy(it->name, m->relay, sizeof(m->relay));
	if (fedq_push(&fed->fwdbox, it) == 0)
		fed->stats.fwd_out++;
	return 1;
}

/* A frame from another relay: delivered only if our view agrees. */
static void frame_in(struct relay_fed *fed, const struct fed_item *it)
{
	struct pq_relay *r = fed->relay;
	struct pq_fed_forward env;
	struct relay_node *dst;
	struct fed_remote *m;
	size_t len;

	if (pq_fed_forward_decode(&env, it->data, it->len)) {
		fed->stats.bad_msgs++;
		return;
	}
	dst = relay_node_of_key(r, env.dst);
	m = fed_remote_find(fed, env.src);
	if (!dst || !dst->authed || dst->closing || !m || strcmp(m->relay, env.relay) ||
	    !fed_mutual(dst, m)) {
		fed->stats.fwd_in_dropped++;
		return;
	}
	/* RELAY_RECV: type, source key, payload (<= PQ_RELAY_PAYLOAD_MAX,
	 * checked by the decoder), so it fits the scratch buffer. */
	len = 1 + PQ_PUBKEY_LEN + env.payload_len;
	r->scratch[0] = PQ_MSG_RELAY_RECV;
	memcpy(r->scratch + 1, env.src, PQ_PUBKEY_LEN);
	memcpy(r->scratch + 1 + PQ_PUBKEY_LEN, env.payload, env.payload_len);
	fed->stats.fwd_in++;
	(void)relay_send(dst, r->scratch, len);
}

/* NATS is back and the bucket usable: every record of ours, now. */
static void put_all(struct relay_fed *fed, uint64_t now_ms)
{
	for (struct relay_node *n = fed->relay->nodes; n; n = n->next)
		if (n->authed && !n->closing && n->watching && !n->fed.moved &&
		    relay_node_of_key(fed->relay, n->entry.key) == n)
			fed_presence_put(fed, n, now_ms);
}

static void state_up(struct relay_fed *fed, const char *url)
{
	fed->up = true;
	pq_log(PQ_LOG_INFO, "relay: nats: %s %s as relay %s", fed->ever_up ? "reconnected to" : "connected to",
	       url, fed->name);
	fed->ever_up = true;
}

static void state_down(struct relay_fed *fed)
{
	if (!fed->up)
		return;
	fed->up = false;
	fed->stats.outages++;
	pq_log(PQ_LOG_WARN, "relay: nats: connection lost; forwarding to local nodes only until it "
	       "returns (nodes on other relays go offline within %llu ms)",
	       (unsigned long long)fed->ttl_ms);
}

static void dispatch(struct relay_fed *fed, const struct fed_item *it, uint64_t now_ms)
{
	switch (it->type) {
	case FED_KV:
		fed_presence_apply(fed, it, now_ms);
		break;
	case FED_FRAME:
		frame_in(fed, it);
		break;
	case FED_PUT_DONE:
		fed_presence_put_done(fed, it);
		break;
	case FED_STATE_UP:
		state_up(fed, it->name);
		break;
	case FED_STATE_DOWN:
		state_down(fed);
		break;
	case FED_KV_READY:
		put_all(fed, now_ms);
		break;
	case FED_WATCH_START:
		fed_presence_watch_start(fed);
		break;
	case FED_WATCH_SYNCED:
		fed_presence_synced(fed, now_ms);
		break;
	default:
		break;
	}
}

static void on_inbox(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct relay_fed *fed = arg;
	struct fed_item *it;
	size_t n = 0;

	fedq_ack(&fed->inbox);
	while (n < FED_INBOX_BATCH && (it = fedq_pop(&fed->inbox, 0))) {
		dispatch(fed, it, now_ms);
		free(it);
		n++;
	}
	/* More left: come back after the loop's other work. */
	if (n == FED_INBOX_BATCH && pq_loop_timer_start(loop, &fed->tick, 0))
		pq_log(PQ_LOG_ERROR, "relay: nats: cannot arm the tick");
}

static void on_tick(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct relay_fed *fed = arg;

	/* Items the last wake-up left (FED_INBOX_BATCH). */
	on_inbox(loop, fed->inbox.efd, 0, fed, now_ms);
	if (!pq_timer_armed(&fed->tick)) {
		fed_presence_tick(fed, now_ms);
		if (pq_loop_timer_start(loop, &fed->tick, FED_TICK_MS))
			pq_log(PQ_LOG_ERROR, "relay: nats: cannot arm the tick");
	}
}

static void fed_destroy(struct relay_fed *fed)
{
	fed_nats_free(fed->nats);
	fed_presence_free(fed);
	relay_table_free(&fed->remote);
	fedq_destroy(&fed->inbox);
	fedq_destroy(&fed->kvbox);
	fedq_destroy(&fed->fwdbox);
	free(fed);
}

static int fed_queues(struct relay_fed *fed)
{
	int rc = fedq_init(&fed->inbox, FED_INBOX_ITEMS, FED_INBOX_BYTES, true);

	if (!rc)
		rc = fedq_init(&fed->kvbox, FED_KVBOX_ITEMS, FED_KVBOX_BYTES, false);
	if (!rc)
		rc = fedq_init(&fed->fwdbox, FED_FWDBOX_ITEMS, FED_FWDBOX_BYTES, false);
	return rc;
}

int pq_relay_nats_prepare(struct pq_relay *r, const struct pq_relay_nats_opts *o, char *err,
			  size_t err_len)
{
	struct fed_nats_cfg c = { 0 };
	struct relay_fed *fed;
	int rc;

	if (r->fed || r->shutting_down)
		return PQ_E_STATE;
	if (!o->name || !pq_fed_name_valid(o->name) || !o->server_count || !o->ttl_ms) {
		snprintf(err, err_len, "nats: name (1-%d of A-Z a-z 0-9 _ -), a server and a TTL are needed",
			 PQ_FED_NAME_MAX);
		return PQ_E_CONFIG;
	}
	if (!(fed = calloc(1, sizeof(*fed))))
		return PQ_E_NOMEM;
	fed->relay = r;
	fed->ttl_ms = o->ttl_ms;
	snprintf(fed->name, sizeof(fed->name), "%s", o->name);
	pq_timer_init(&fed->tick, on_tick, fed);
	/* Zeroed queues are safe to destroy (fedq_destroy) only once inited:
	 * init all three first. */
	fed->inbox.efd = fed->kvbox.efd = fed->fwdbox.efd = -1;
	if ((rc = fed_queues(fed)) || (rc = relay_table_init(&fed->remote))) {
		fed_destroy(fed);
		return rc;
	}
	snprintf(c.name, sizeof(c.name), "%s", o->name);
	c.servers = o->servers;
	c.server_count = o->server_count;
	c.user = o->user;
	c.password = o->password;
	c.creds_file = o->creds_file;
	c.ca_file = o->ca_file;
	c.cert_file = o->cert_file;
	c.key_file = o->key_file;
	c.ttl_ms = o->ttl_ms;
	c.replicas = o->replicas;
	if ((rc = fed_nats_new(&fed->nats, &c, &fed->inbox, &fed->kvbox, &fed->fwdbox, err, err_len)) ||
	    (rc = pq_loop_add(r->loop, fed->inbox.efd, PQ_LOOP_READ, on_inbox, fed)))
		goto fail;
	fed->inbox_watched = true;
	if ((rc = pq_loop_timer_start(r->loop, &fed->tick, FED_TICK_MS)))
		goto fail;
	r->fed = fed;
	pq_log(PQ_LOG_INFO, "relay: nats: joining as relay %s (%zu server(s), presence TTL %llu ms)",
	       fed->name, o->server_count, (unsigned long long)o->ttl_ms);
	return 0;
fail:
	if (fed->inbox_watched && pq_loop_del(r->loop, fed->inbox.efd))
		pq_log(PQ_LOG_DEBUG, "relay: nats: inbox was not watched");
	pq_loop_timer_cancel(r->loop, &fed->tick);
	fed_destroy(fed);
	return rc;
}

int pq_relay_nats_start(struct pq_relay *r)
{
	if (!r->fed || r->fed->started)
		return PQ_E_STATE;
	if (fed_nats_start(r->fed->nats))
		return PQ_E_IO;
	r->fed->started = true;
	return 0;
}

void relay_fed_shutdown(struct pq_relay *r)
{
	struct relay_fed *fed = r->fed;

	if (!fed)
		return;
	pq_loop_timer_cancel(r->loop, &fed->tick);
	if (fed->inbox_watched && pq_loop_del(r->loop, fed->inbox.efd))
		pq_log(PQ_LOG_DEBUG, "relay: nats: inbox was not watched");
	fed->inbox_watched = false;
}

void relay_fed_free(struct pq_relay *r)
{
	if (!r->fed)
		return;
	relay_fed_shutdown(r);
	fed_destroy(r->fed);
	r->fed = NULL;
}

void relay_fed_stats(const struct pq_relay *r, struct pq_relay_fed_stats *out)
{
	struct relay_fed *fed = r->fed;
	struct fed_nats_counts c;

	memset(out, 0, sizeof(*out));
	if (!fed)
		return;
	*out = fed->stats;
	fed_nats_counts(fed->nats, &c);
	out->connected = fed->up;
	out->remote_nodes = fed->remote_count;
	out->slow_dropped = c.slow;
	out->down_dropped = c.down;
	out->kv_errors = c.kv_errors;
	out->bad_msgs += c.bad_keys;
	out->queue_dropped += fedq_dropped(&fed->inbox) + fedq_dropped(&fed->kvbox) +
			      fedq_dropped(&fed->fwdbox);
}
