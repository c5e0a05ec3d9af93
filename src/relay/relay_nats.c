/*
 * relay_nats.c - the relay's NATS client (relay_fed_int.h): libnats 3.4
 * (NATS core, JetStream, key-value) driven from threads of its own, so
 * the relay's loop never waits on the network for NATS.
 *
 *   worker     connects (servers in file order, retrying for ever), makes
 *              or binds the presence bucket, subscribes to our subject,
 *              (re)starts the watcher after every (re)connection, carries
 *              out PUT and DEL from kvbox
 *   publisher  sends the frames of fwdbox
 *   watcher    kvWatcher_Next -> inbox (initial values, then updates)
 *   libnats    its callbacks: connection state and our subject's frames
 *              -> inbox
 *
 * While NATS is not connected, PUT, DEL and PUBLISH are dropped (counted):
 * the loop puts every record again when the bucket is back (FED_KV_READY),
 * and a frame late by seconds is worth nothing to a session.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "relay/relay_fed_int.h"
#include "util/log.h"

struct fed_nats {
	char name[PQ_FED_NAME_MAX + 1];
	char subject[sizeof(PQ_FED_SUBJECT_PREFIX) + PQ_FED_NAME_MAX];
	uint64_t ttl_ms;
	int replicas;
	natsOptions *opts;
	natsConnection *nc;
	natsSubscription *sub;
	jsCtx *js;
	kvStore *kv;
	kvWatcher *watcher;
	pthread_t worker, publisher, watch_thread;
	bool worker_on, publisher_on, watch_on;
	atomic_bool stop, watch_quit, rewatch;
	atomic_uint_fast64_t slow, down, kv_errors, bad_keys;
	struct fed_queue *inbox, *kvbox, *fwdbox;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool connected(const struct fed_nats *fn)
{
	return fn->nc && natsConnection_Status(fn->nc) == NATS_CONN_STATUS_CONNECTED;
}

/* A state item for the loop; dropped (counted by the queue) when full. */
static void push_state(struct fed_nats *fn, uint8_t type, const char *text)
{
	struct fed_item *it = fedq_item(type, 0);

	if (!it)
		return;
	if (text)
		snprintf(it->name, sizeof(it->name), "%s", text);
	(void)fedq_push(fn->inbox, it);
}

/* ---- libnats callbacks (its threads) ---- */

static void on_up(natsConnection *nc, void *arg)
{
	struct fed_nats *fn = arg;
	char url[128] = "?";

	(void)natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	atomic_store(&fn->rewatch, true);
	push_state(fn, FED_STATE_UP, url);
}

static void on_down(natsConnection *nc, void *arg)
{
	push_state(arg, FED_STATE_DOWN, NULL);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *arg)
{
	struct fed_nats *fn = arg;

	if (err == NATS_SLOW_CONSUMER)
		atomic_fetch_add(&fn->slow, 1);
}

/* A message on our subject: to the loop as it is (relay_fed.c decodes). */
static void on_frame(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
	struct fed_nats *fn = arg;
	int len = natsMsg_GetDataLength(msg);
	struct fed_item *it;

	/* Oversized ones never reach the queue; the loop counts them as
	 * malformed through a 0-length item. */
	if (len < 0 || (size_t)len > PQ_FED_FORWARD_MAX)
		len = 0;
	it = fedq_item(FED_FRAME, (size_t)len);
	if (it) {
		memcpy(it->data, natsMsg_GetData(msg), (size_t)len);
		(void)fedq_push(fn->inbox, it);
	}
	natsMsg_Destroy(msg);
}

/* ---- the watcher thread ---- */

static void push_entry(struct fed_nats *fn, kvEntry *e)
{
	const char *key = kvEntry_Key(e);
	int vlen = kvEntry_ValueLen(e);
	struct fed_item *it;

	if (vlen < 0 || (size_t)vlen > PQ_FED_PRESENCE_MAX)
		vlen = 0; /* the loop refuses an empty record as malformed */
	it = fedq_item(FED_KV, (size_t)vlen);
	if (!it)
		return;
	if (!key || pq_fed_key_from_hex(it->key, key, strlen(key))) {
		atomic_fetch_add(&fn->bad_keys, 1);
		free(it);
		return;
	}
	it->op = (uint8_t)kvEntry_Operation(e);
	it->rev = kvEntry_Revision(e);
	it->created_ns = kvEntry_Created(e);
	if (vlen)
		memcpy(it->data, kvEntry_Value(e), (size_t)vlen);
	(void)fedq_push(fn->inbox, it);
}

static void *watch_main(void *arg)
{
	struct fed_nats *fn = arg;

	while (!atomic_load(&fn->watch_quit)) {
		kvEntry *e = NULL;
		natsStatus s = kvWatcher_Next(&e, fn->watcher, FED_WATCH_POLL_MS);

		if (s == NATS_TIMEOUT)
			continue;
		if (s != NATS_OK) {
			/* Stopped or broken: the worker makes a new one. */
			atomic_store(&fn->rewatch, true);
			break;
		}
		if (!e) {
			push_state(fn, FED_WATCH_SYNCED, NULL);
			continue;
		}
		push_entry(fn, e);
		kvEntry_Destroy(e);
	}
	return NULL;
}

static void watch_stop(struct fed_nats *fn)
{
	if (!fn->watch_on)
		return;
	atomic_store(&fn->watch_quit, true);
	(void)kvWatcher_Stop(fn->watcher);
	pthread_join(fn->watch_thread, NULL);
	kvWatcher_Destroy(fn->watcher);
	fn->watcher = NULL;
	fn->watch_on = false;
}

/* A new watcher: every current record again, then the updates. The loop
 * forgets what this run does not deliver again (FED_WATCH_SYNCED). */
static void watch_restart(struct fed_nats *fn)
{
	natsStatus s;

	watch_stop(fn);
	atomic_store(&fn->rewatch, false);
	push_state(fn, FED_WATCH_START, NULL);
	s = kvStore_WatchAll(&fn->watcher, fn->kv, NULL);
	if (s != NATS_OK) {
		pq_log(PQ_LOG_WARN, "relay: nats: cannot watch the presence bucket: %s",
		       natsStatus_GetText(s));
		atomic_store(&fn->rewatch, true);
		return;
	}
	atomic_store(&fn->watch_quit, false);
	if (pthread_create(&fn->watch_thread, NULL, watch_main, fn)) {
		kvWatcher_Destroy(fn->watcher);
		fn->watcher = NULL;
		atomic_store(&fn->rewatch, true);
		return;
	}
	fn->watch_on = true;
	push_state(fn, FED_KV_READY, NULL);
}

/* ---- the worker ---- */

/* JetStream and the bucket: made by the first relay, bound by the others
 * (a bucket made with other settings is used as it is, with a warning). */
static int setup_kv(struct fed_nats *fn)
{
	jsOptions jo;
	kvConfig kc;
	natsStatus s;

	if (!fn->js) {
		jsOptions_Init(&jo);
		jo.Wait = FED_JS_WAIT_MS;
		if ((s = natsConnection_JetStream(&fn->js, fn->nc, &jo)) != NATS_OK)
			goto fail;
	}
	kvConfig_Init(&kc);
	kc.Bucket = FED_BUCKET;
	kc.History = 1;
	kc.TTL = (int64_t)fn->ttl_ms * 1000000; /* the stream's MaxAge, in ns */
	kc.Replicas = fn->replicas;
	kc.StorageType = js_MemoryStorage;
	kc.MaxValueSize = (int32_t)PQ_FED_PRESENCE_MAX;
	s = js_CreateKeyValue(&fn->kv, fn->js, &kc);
	if (s != NATS_OK) {
		const char *why = nats_GetLastError(NULL);

		pq_log(PQ_LOG_DEBUG, "relay: nats: cannot make bucket %s: %s", FED_BUCKET,
		       why ? why : natsStatus_GetText(s));
		s = js_KeyValue(&fn->kv, fn->js, FED_BUCKET);
		if (s == NATS_OK)
			pq_log(PQ_LOG_WARN, "relay: nats: bucket %s exists with other settings "
			       "(TTL, replicas); using it as it is", FED_BUCKET);
	}
	if (s != NATS_OK)
		goto fail;
	pq_log(PQ_LOG_INFO, "relay: nats: presence bucket %s ready (TTL %llu ms, %d replica(s))",
	       FED_BUCKET, (unsigned long long)fn->ttl_ms, fn->replicas);
	atomic_store(&fn->rewatch, true);
	return 0;
fail:
	pq_log(PQ_LOG_WARN, "relay: nats: JetStream bucket %s not ready: %s; retrying",
	       FED_BUCKET, natsStatus_GetText(s));
	return PQ_E_IO;
}

static void put_done(struct fed_nats *fn, const struct fed_item *req, uint64_t rev, bool moved)
{
	struct fed_item *it = fedq_item(FED_PUT_DONE, 0);

	if (!it)
		return;
	memcpy(it->key, req->key, PQ_PUBKEY_LEN);
	it->gen = req->gen;
	it->rev = rev;
	it->moved = moved;
	(void)fedq_push(fn->inbox, it);
}

/* The record of hex now, if it is a valid one: *rev and whether it names
 * this relay. false when absent, deleted or malformed. */
static bool current_record(struct fed_nats *fn, const char *hex, uint64_t *rev, bool *mine)
{
	struct pq_fed_presence p;
	kvEntry *e = NULL;
	bool ok;

	if (kvStore_Get(&e, fn->kv, hex) != NATS_OK || !e)
		return false;
	ok = kvEntry_Operation(e) == kvOp_Put && kvEntry_ValueLen(e) > 0 &&
	     pq_fed_presence_decode(&p, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e)) == 0;
	if (ok) {
		*rev = kvEntry_Revision(e);
		*mine = strcmp(p.relay, fn->name) == 0;
	}
	kvEntry_Destroy(e);
	return ok;
}

/* A refresh updates only our own last revision. If that fails the record
 * expired (an outage) or another relay wrote it (the node moved there):
 * put ours again in the first case, report the move in the second. */
static void do_put(struct fed_nats *fn, const struct fed_item *it)
{
	char hex[PQ_FED_KEY_HEX_LEN + 1];
	uint64_t rev = 0, cur = 0;
	bool mine = false;

	pq_fed_key_to_hex(hex, it->key);
	if (it->rev && kvStore_Update(&rev, fn->kv, hex, it->data, (int)it->len, it->rev) == NATS_OK) {
		put_done(fn, it, rev, false);
		return;
	}
	if (it->rev && current_record(fn, hex, &cur, &mine) && !mine && cur > it->rev) {
		put_done(fn, it, cur, true);
		return;
	}
	if (kvStore_Put(&rev, fn->kv, hex, it->data, (int)it->len) != NATS_OK) {
		atomic_fetch_add(&fn->kv_errors, 1);
		rev = 0;
	}
	put_done(fn, it, rev, false);
}

/* Delete the record only while it names us, and only that revision: a
 * node that moved to another relay keeps the record that relay wrote.
 * KV delete = a marker message with KV-Operation: DEL (ADR-8). */
static void do_del(struct fed_nats *fn, const struct fed_item *it)
{
	char hex[PQ_FED_KEY_HEX_LEN + 1], subj[sizeof(FED_KV_SUBJECT_PREFIX) + PQ_FED_KEY_HEX_LEN];
	jsPubOptions po;
	natsMsg *m = NULL;
	uint64_t rev = 0;
	bool mine = false;
	natsStatus s;

	pq_fed_key_to_hex(hex, it->key);
	if (!current_record(fn, hex, &rev, &mine) || !mine)
		return;
	snprintf(subj, sizeof(subj), "%s%s", FED_KV_SUBJECT_PREFIX, hex);
	s = natsMsg_Create(&m, subj, NULL, NULL, 0);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "KV-Operation", "DEL");
	if (s == NATS_OK) {
		jsPubOptions_Init(&po);
		po.ExpectLastSubjectSeq = rev;
		s = js_PublishMsg(NULL, fn->js, m, &po, NULL);
	}
	natsMsg_Destroy(m);
	if (s != NATS_OK)
		atomic_fetch_add(&fn->kv_errors, 1);
}

static void do_kv_item(struct fed_nats *fn, struct fed_item *it)
{
	if (!fn->kv || !connected(fn)) {
		atomic_fetch_add(&fn->down, 1);
		return;
	}
	if (it->type == FED_PUT)
		do_put(fn, it);
	else if (it->type == FED_DEL)
		do_del(fn, it);
}

static void connect_once(struct fed_nats *fn)
{
	natsStatus s = natsConnection_Connect(&fn->nc, fn->opts);

	if (s == NATS_OK) {
		on_up(fn->nc, fn); /* no callback for a connection made at once */
	} else if (s != NATS_NOT_YET_CONNECTED) {
		pq_log(PQ_LOG_WARN, "relay: nats: cannot connect: %s; retrying", natsStatus_GetText(s));
		fn->nc = NULL;
		return;
	} else {
		pq_log(PQ_LOG_WARN, "relay: nats: no server reachable yet; forwarding to local nodes "
		       "only, retrying in the background");
	}
	s = natsConnection_Subscribe(&fn->sub, fn->nc, fn->subject, on_frame, fn);
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(fn->sub, FED_INBOX_ITEMS, (int)FED_INBOX_BYTES);
	if (s != NATS_OK)
		pq_log(PQ_LOG_ERROR, "relay: nats: cannot subscribe to %s: %s", fn->subject,
		       natsStatus_GetText(s));
}

static void *worker_main(void *arg)
{
	struct fed_nats *fn = arg;
	uint64_t next_try = 0, deadline;
	struct fed_item *it;

	while (!atomic_load(&fn->stop)) {
		uint64_t now = mono_ms();

		if (!fn->nc && now >= next_try) {
			connect_once(fn);
			next_try = now + FED_SETUP_RETRY_MS;
		}
		if (fn->nc && !fn->kv && connected(fn) && now >= next_try) {
			if (setup_kv(fn))
				next_try = now + FED_SETUP_RETRY_MS;
		}
		if (fn->kv && connected(fn) && atomic_load(&fn->rewatch))
			watch_restart(fn);
		if ((it = fedq_pop(fn->kvbox, 200))) {
			do_kv_item(fn, it);
			free(it);
		}
	}
	/* Leaving: what the loop queued last (nodes' records to delete). */
	deadline = mono_ms() + FED_STOP_DRAIN_MS;
	while (mono_ms() < deadline && (it = fedq_pop(fn->kvbox, 0))) {
		do_kv_item(fn, it);
		free(it);
	}
	return NULL;
}

static void *publisher_main(void *arg)
{
	struct fed_nats *fn = arg;
	char subj[sizeof(PQ_FED_SUBJECT_PREFIX) + sizeof(((struct fed_item *)0)->name)];
	struct fed_item *it;

	while (!atomic_load(&fn->stop)) {
		if (!(it = fedq_pop(fn->fwdbox, 200)))
			continue;
		snprintf(subj, sizeof(subj), "%s%s", PQ_FED_SUBJECT_PREFIX, it->name);
		if (!connected(fn) ||
		    natsConnection_Publish(fn->nc, subj, it->data, (int)it->len) != NATS_OK)
			atomic_fetch_add(&fn->down, 1);
		free(it);
	}
	return NULL;
}

/* ---- set-up ---- */

static int set_options(struct fed_nats *fn, const struct fed_nats_cfg *c, char *err, size_t err_len)
{
	natsOptions *o = fn->opts;
	char client[sizeof("pqlan-relay-") + PQ_FED_NAME_MAX];
	natsStatus s;

	snprintf(client, sizeof(client), "pqlan-relay-%s", c->name);
	s = natsOptions_SetServers(o, (const char **)c->servers, (int)c->server_count);
	if (s == NATS_OK)
		s = natsOptions_SetNoRandomize(o, true); /* in file order */
	/* Only the servers in relay.conf: which servers a relay may use is
	 * the operator's choice, not what the cluster advertises. */
	if (s == NATS_OK)
		s = natsOptions_SetIgnoreDiscoveredServers(o, true);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, client);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, FED_RECONNECT_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(o, FED_PING_MS);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(o, FED_MAX_PINGS_OUT);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, FED_JS_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(o, true, on_up, fn);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_up, fn);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, on_down, fn);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(o, on_error, fn);
	if (s == NATS_OK && c->user)
		s = natsOptions_SetUserInfo(o, c->user, c->password);
	if (s == NATS_OK && c->creds_file)
		s = natsOptions_SetUserCredentialsFromFiles(o, c->creds_file, NULL);
	if (s != NATS_OK) {
		snprintf(err, err_len, "nats options: %s", natsStatus_GetText(s));
		return PQ_E_CONFIG;
	}
	if (c->ca_file || c->cert_file) {
		s = natsOptions_SetSecure(o, true);
		if (s == NATS_OK && c->ca_file)
			s = natsOptions_LoadCATrustedCertificates(o, c->ca_file);
		if (s == NATS_OK && c->cert_file)
			s = natsOptions_LoadCertificatesChain(o, c->cert_file, c->key_file);
		if (s != NATS_OK) {
			snprintf(err, err_len, "nats TLS files (%s%s%s): %s", c->ca_file ? c->ca_file : "",
				 c->cert_file ? " " : "", c->cert_file ? c->cert_file : "",
				 natsStatus_GetText(s));
			return PQ_E_CONFIG;
		}
	}
	return 0;
}

int fed_nats_new(struct fed_nats **out, const struct fed_nats_cfg *cfg, struct fed_queue *inbox,
		 struct fed_queue *kvbox, struct fed_queue *fwdbox, char *err, size_t err_len)
{
	struct fed_nats *fn;
	sigset_t all, old;
	natsStatus s;
	int rc;

	*out = NULL;
	if (!pq_fed_name_valid(cfg->name) || !cfg->server_count) {
		snprintf(err, err_len, "nats: a valid relay name and at least one server are needed");
		return PQ_E_CONFIG;
	}
	if (!(fn = calloc(1, sizeof(*fn))))
		return PQ_E_NOMEM;
	snprintf(fn->name, sizeof(fn->name), "%s", cfg->name);
	snprintf(fn->subject, sizeof(fn->subject), "%s%s", PQ_FED_SUBJECT_PREFIX, cfg->name);
	fn->ttl_ms = cfg->ttl_ms;
	fn->replicas = cfg->replicas > 0 ? cfg->replicas : 1;
	fn->inbox = inbox;
	fn->kvbox = kvbox;
	fn->fwdbox = fwdbox;
	/* The first natsOptions_Create opens the library, which starts its
	 * own threads (timers, callbacks): with every signal blocked, as in
	 * fed_nats_start. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	s = natsOptions_Create(&fn->opts);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (s != NATS_OK) {
		free(fn);
		return PQ_E_NOMEM;
	}
	if ((rc = set_options(fn, cfg, err, err_len))) {
		fed_nats_free(fn);
		return rc;
	}
	*out = fn;
	return 0;
}

/* Our threads, and every thread libnats starts from them, block every
 * signal: SIGTERM and SIGINT must reach the loop's signalfd
 * (cli/cmd_relay.c), not end the process from a NATS thread. */
int fed_nats_start(struct fed_nats *fn)
{
	sigset_t all, old;
	int rc = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&fn->worker, NULL, worker_main, fn))
		rc = PQ_E_IO;
	else
		fn->worker_on = true;
	if (!rc && pthread_create(&fn->publisher, NULL, publisher_main, fn))
		rc = PQ_E_IO; /* fed_nats_free stops the worker */
	else if (!rc)
		fn->publisher_on = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void fed_nats_free(struct fed_nats *fn)
{
	if (!fn)
		return;
	atomic_store(&fn->stop, true);
	fedq_close(fn->fwdbox);
	if (fn->publisher_on)
		pthread_join(fn->publisher, NULL);
	if (fn->worker_on) {
		/* Wake it; it drains kvbox (closed now: nothing more comes). */
		fedq_close(fn->kvbox);
		pthread_join(fn->worker, NULL);
	}
	watch_stop(fn);
	if (fn->nc)
		natsConnection_Close(fn->nc);
	natsSubscription_Destroy(fn->sub);
	kvStore_Destroy(fn->kv);
	jsCtx_Destroy(fn->js);
	natsConnection_Destroy(fn->nc);
	natsOptions_Destroy(fn->opts);
	/* Closing queues callbacks (disconnected, closed) that libnats runs
	 * later on its own thread, with fn as their argument: only once the
	 * library has stopped every thread may fn go. One relay with NATS
	 * per process (cli/cmd_relay.c), so closing the library is ours. If
	 * it does not stop in time fn is left allocated rather than freed
	 * under a running callback. */
	if (nats_CloseAndWait(FED_STOP_DRAIN_MS) != NATS_OK) {
		pq_log(PQ_LOG_WARN, "relay: nats: the client library did not stop within %d ms",
		       FED_STOP_DRAIN_MS);
		return;
	}
	free(fn);
}

void fed_nats_counts(struct fed_nats *fn, struct fed_nats_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (!fn)
		return;
	out->slow = atomic_load(&fn->slow);
	out->down = atomic_load(&fn->down);
	out->kv_errors = atomic_load(&fn->kv_errors);
	out->bad_keys = atomic_load(&fn->bad_keys);
}
