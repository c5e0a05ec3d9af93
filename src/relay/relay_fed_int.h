/*
 * relay_fed_int.h - relay federation over NATS (DESIGN §8, docs/relay.md),
 * shared by its files:
 *
 *   file              owns (only writer of)          job
 *   relay_fedq.c      struct fed_queue               bounded FIFO between threads
 *   relay_nats.c      struct fed_nats (its thread)   libnats: connect, subscribe,
 *                                                    KV writes, KV watch thread
 *   relay_fed.c       struct relay_fed (loop side)   start/stop, the inbox, hooks
 *                                                    from relay.c/_watch/_fwd,
 *                                                    frames out and in, counters
 *   relay_presence.c  the remote view (fed->remote)  presence records in and out,
 *                                                    mutual watch across relays,
 *                                                    expiry, refresh
 *
 * Threads: the relay's loop thread owns everything in struct relay_fed but
 * the queues. Threads of relay_nats.c: the worker does every libnats call
 * that can block (connect, JetStream, KV writes), the publisher sends
 * frames (so a slow KV request never holds one up), the watcher waits on
 * the KV watcher; libnats' own threads run its callbacks. They only ever
 * touch the queues: kvbox (loop -> worker: PUT, DEL), fwdbox (loop ->
 * publisher: PUBLISH) and inbox (the others -> loop: KV entries, frames,
 * put results, state), each bounded in items and bytes; a full queue drops
 * the item and counts it. The inbox wakes the loop through an eventfd.
 *
 * Calls: relay.c, relay_watch.c, relay_fwd.c -> relay_fed.c (hooks in
 * relay_internal.h); relay_fed.c -> relay_presence.c, relay_nats.c.
 */
#ifndef PQ_RELAY_FED_INT_H
#define PQ_RELAY_FED_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "proto/msg_fed.h"
#include "relay/relay_internal.h"

/* Queue bounds (items, bytes); fwdbox and inbox carry frames. */
#define FED_KVBOX_ITEMS 65536
#define FED_KVBOX_BYTES (64u << 20)
#define FED_FWDBOX_ITEMS 8192
#define FED_FWDBOX_BYTES (32u << 20)
#define FED_INBOX_ITEMS 16384
#define FED_INBOX_BYTES (32u << 20)
/* Inbox items handled per loop wake-up before the loop's other work. */
#define FED_INBOX_BATCH 512
/* Remote presence records held (the view of the other relays). */
#define FED_MAX_REMOTE 65536
/* The presence bucket (one per cluster) and its stream's subjects. */
#define FED_BUCKET "pqlan_presence"
#define FED_KV_SUBJECT_PREFIX "$KV." FED_BUCKET "."
/* libnats: reconnect pace, liveness pings, request deadlines. */
#define FED_RECONNECT_WAIT_MS 500
#define FED_PING_MS 2000
#define FED_MAX_PINGS_OUT 2
#define FED_JS_WAIT_MS 2000
#define FED_SETUP_RETRY_MS 1000
#define FED_STOP_DRAIN_MS 2000
/* The watcher thread looks at its stop flag this often. */
#define FED_WATCH_POLL_MS 250

enum fed_item_type {
	/* loop -> worker (kvbox) */
	FED_PUT,          /* presence record of key (data); rev: last known, 0 none */
	FED_DEL,          /* delete key's record if it still names this relay */
	/* loop -> publisher (fwdbox) */
	FED_PUBLISH,      /* data to PQ_FED_SUBJECT_PREFIX + name */
	/* worker, watcher, libnats -> loop */
	FED_KV,           /* a bucket entry: key, op, rev, created, data */
	FED_FRAME,        /* a forward message from our subject (data) */
	FED_PUT_DONE,     /* key, gen: rev (0: failed); moved: another relay holds it */
	FED_STATE_UP,     /* connected (name: the server URL) */
	FED_STATE_DOWN,   /* connection lost */
	FED_KV_READY,     /* the bucket is usable (again): put everything */
	FED_WATCH_START,  /* a (new) watcher: its initial values follow */
	FED_WATCH_SYNCED, /* the watcher delivered every initial value */
};

/* One queued item; data[len] follows the header in the same allocation. */
struct fed_item {
	struct fed_item *next;
	uint8_t type;              /* enum fed_item_type */
	uint8_t op;                /* FED_KV: kvOperation */
	bool moved;                /* FED_PUT_DONE */
	uint64_t rev;
	uint64_t gen;              /* FED_PUT/_DONE: which conn of the key */
	int64_t created_ns;        /* FED_KV: server time of the entry */
	uint8_t key[PQ_PUBKEY_LEN];
	char name[128];            /* FED_PUBLISH: relay; FED_KV: raw KV key; STATE_UP: URL */
	size_t len;
	uint8_t data[];
};

struct fed_queue {
	pthread_mutex_t mu;
	pthread_cond_t cond;       /* outbox: wakes the worker */
	int efd;                   /* inbox: eventfd that wakes the loop; -1 outbox */
	struct fed_item *head, *tail;
	size_t items, bytes, max_items, max_bytes;
	uint64_t dropped;          /* full */
	bool closed;               /* no more pushes accepted */
};

/* relay_fedq.c */
PQ_MUST_CHECK int fedq_init(struct fed_queue *q, size_t max_items, size_t max_bytes, bool eventfd);
void fedq_destroy(struct fed_queue *q);
/* A new item with room for len bytes of data (zeroed header). NULL: no memory. */
struct fed_item *fedq_item(uint8_t type, size_t len);
/* Take ownership of it: queued, or freed and counted when full or closed.
 * 0 or PQ_E_LIMIT. Any thread. */
int fedq_push(struct fed_queue *q, struct fed_item *it);
/* The oldest item or NULL; waits up to wait_ms for one (0: no wait). */
struct fed_item *fedq_pop(struct fed_queue *q, uint64_t wait_ms);
void fedq_close(struct fed_queue *q);
uint64_t fedq_dropped(struct fed_queue *q);
/* Inbox: clear the eventfd's count (the loop then pops until empty). */
void fedq_ack(struct fed_queue *q);

/* relay_nats.c: the worker. Copies what it needs from the options. */
struct fed_nats;
struct fed_nats_cfg {
	char name[PQ_FED_NAME_MAX + 1];
	const char *const *servers;
	size_t server_count;
	const char *user, *password, *creds_file, *ca_file, *cert_file, *key_file;
	uint64_t ttl_ms;
	int replicas;
};
/* Make the NATS options (reads TLS and credential files now), start no
 * thread. 0, PQ_E_NOMEM, PQ_E_CONFIG (err says why). */
PQ_MUST_CHECK int fed_nats_new(struct fed_nats **out, const struct fed_nats_cfg *cfg,
			       struct fed_queue *inbox, struct fed_queue *kvbox,
			       struct fed_queue *fwdbox, char *err, size_t err_len);
/* Start the worker and publisher threads (the worker connects, retrying
 * for ever). 0 or PQ_E_IO. */
PQ_MUST_CHECK int fed_nats_start(struct fed_nats *fn);
/* Let the worker carry out what kvbox holds for up to FED_STOP_DRAIN_MS
 * (the records of nodes that just left), stop every thread, close the
 * connection, free. NULL is fine. */
void fed_nats_free(struct fed_nats *fn);
/* Counters kept by the NATS threads (read from any thread). */
struct fed_nats_counts {
	uint64_t slow;       /* messages libnats dropped for us (slow consumer) */
	uint64_t down;       /* items dropped because NATS was not connected */
	uint64_t kv_errors;  /* KV writes that failed */
	uint64_t bad_keys;   /* bucket entries whose key is not a node key */
};
void fed_nats_counts(struct fed_nats *fn, struct fed_nats_counts *out);

/* A node's record as another relay published it (relay_presence.c). */
struct fed_remote {
	struct relay_table_entry entry;    /* key; linked in fed->remote */
	struct fed_remote *prev, *next;    /* fed->remote_list, for expiry */
	char relay[PQ_FED_NAME_MAX + 1];
	struct pq_wire_addr observed;
	uint8_t *watch;                    /* count keys, ascending (heap) */
	size_t count;
	uint64_t rev;
	uint64_t expires_ms;               /* loop time */
	uint32_t epoch;                    /* the watcher run that last saw it */
};

struct relay_fed {
	struct pq_relay *relay;
	char name[PQ_FED_NAME_MAX + 1];
	uint64_t ttl_ms;
	struct fed_queue inbox, kvbox, fwdbox;
	struct fed_nats *nats;
	bool inbox_watched;
	bool started;                      /* threads running */
	struct pq_timer tick;              /* expiry and refresh, every second */
	struct relay_table remote;         /* key -> struct fed_remote */
	struct fed_remote *remote_list;
	size_t remote_count;
	uint32_t epoch;
	uint64_t gen;                      /* last conn generation given out */
	bool up;                           /* connected to NATS */
	bool ever_up;
	uint8_t buf[PQ_FED_FORWARD_MAX];   /* scratch: one record or envelope */
	struct pq_relay_fed_stats stats;
};

/* relay_presence.c */
/* Queue n's record (its key, observed address, watch set). */
void fed_presence_put(struct relay_fed *fed, struct relay_node *n, uint64_t now_ms);
/* A FED_KV item from the watcher. */
void fed_presence_apply(struct relay_fed *fed, const struct fed_item *it, uint64_t now_ms);
/* A FED_PUT_DONE item. */
void fed_presence_put_done(struct relay_fed *fed, const struct fed_item *it);
/* Start of a watcher run / its initial values done: records it did not
 * deliver again are gone. */
void fed_presence_watch_start(struct relay_fed *fed);
void fed_presence_synced(struct relay_fed *fed, uint64_t now_ms);
/* Every second: expire remote records, refresh ours (every ttl / 3). */
void fed_presence_tick(struct relay_fed *fed, uint64_t now_ms);
/* n sent RELAY_WATCH: tell it about its mutual peers on other relays. */
void fed_presence_announce_to(struct relay_fed *fed, struct relay_node *n);
/* The remote record of key, NULL if none. */
struct fed_remote *fed_remote_find(const struct relay_fed *fed, const uint8_t key[PQ_PUBKEY_LEN]);
/* Does local node n (watching) and remote record m list each other? */
bool fed_mutual(const struct relay_node *n, const struct fed_remote *m);
/* Forget key's remote record without announcing it (the node is here). */
void fed_presence_forget(struct relay_fed *fed, const uint8_t key[PQ_PUBKEY_LEN]);
/* Forget every remote record (no announcement: shutdown). */
void fed_presence_free(struct relay_fed *fed);

#endif
