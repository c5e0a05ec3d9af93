/*
 * config.h - the configuration file of `pqlan relay` (relay.conf),
 * DESIGN §1 and §7. Value formats and error messages as for node.conf
 * (node/config.h, util/conf_value.h).
 *
 *   [relay]
 *   private_key = PATH             required
 *   listen = HOST:PORT             required
 *   allow = PUBKEY                 repeatable; none: any node key may connect
 *   max_nodes = N                  optional, 1-1000000, default 16384
 *   max_nodes_per_source = N       optional, 1-1000000, default 64
 *   max_queued_mib = N             optional, 1-1048576, default 256: what all
 *                                  conns may hold queued before the ones
 *                                  holding 64 KiB stop growing (relay.h)
 *   user = NAME                    optional: run as NAME once listening
 *   seccomp = on | off             optional, default off: the system-call
 *                                  allow-list once listening (util/seccomp.h)
 *   metrics = HOST:PORT            optional, Prometheus text endpoint
 *   control = PATH                 optional, default PQ_RELAY_CONTROL_DEFAULT
 *                                  (`pqlan relay-status`; not *.sock, so
 *                                  `pqlan status` never takes it for a node;
 *                                  the default is best effort: a second relay
 *                                  on the host runs without it, with a warning)
 *   log_level = debug|info|warn|error  optional, default info
 *   stun = HOST:PORT | off         optional: the STUN responder (relay_stun.c)
 *                                  on PORT and PORT + 1 (PORT 1-65534);
 *                                  default listen's address, port 3478
 *                                  (pq_relay_config_stun)
 *   name = NAME                    with nats: this relay's id in the cluster,
 *                                  1-32 of [A-Za-z0-9_-], unique
 *   nats = nats://HOST:PORT        repeatable (at most 8), tls:// too: the
 *                                  servers of one NATS cluster, tried in
 *                                  order; none: the relay runs alone (the
 *                                  default; docs/relay.md "Federation")
 *
 *   [nats]                         optional, only with nats lines
 *   user = NAME                    NATS user (with password_file)
 *   password_file = PATH           its password, first line of a file that
 *                                  only its owner may read
 *   creds = PATH                   NATS credentials file (JWT and nkey)
 *   ca = PATH                      TLS: the CA of the servers' certificates
 *   cert = PATH, key = PATH        TLS: this relay's client certificate
 *   presence_ttl = SECONDS         3-3600, default 15: a node's record lives
 *                                  this long unless its relay refreshes it
 *                                  (same value on every relay)
 *   replicas = N                   1-5, default 1: copies of the presence
 *                                  bucket (3 in a 3-server cluster survives
 *                                  one server's loss); used by the first
 *                                  relay that makes the bucket
 *
 * seccomp = on is refused together with nats: libnats starts threads
 * after set-up, which the allow-list forbids (docs/relay.md).
 *
 * The loader fills a plain struct owned by the caller; the allow list is
 * a heap array inside it, released by pq_relay_config_free() (also safe
 * after a failed load, which frees it itself).
 */
#ifndef PQ_RELAY_CONFIG_H
#define PQ_RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/conf_value.h"
#include "util/err.h"

#define PQ_CONFIG_MAX_ALLOW 4096     /* allow lines in relay.conf */
#define PQ_RELAY_CONTROL_DEFAULT "/run/pqlan/relay.ctl"
#define PQ_RELAY_CONTROL_MAX 107     /* sizeof(sun_path) - 1 */
#define PQ_RELAY_MAX_NATS 8          /* nats lines */
#define PQ_RELAY_NAME_MAX 32         /* proto/msg_fed.h PQ_FED_NAME_MAX */
#define PQ_RELAY_NATS_USER_MAX 64

/* [nats] and the nats lines; nats_count 0: alone. */
struct pq_relay_nats_config {
	char url[PQ_RELAY_MAX_NATS][PQ_CONFIG_PATH_MAX + 1];
	size_t count;
	char user[PQ_RELAY_NATS_USER_MAX + 1];
	char password_file[PQ_CONFIG_PATH_MAX + 1];
	char creds[PQ_CONFIG_PATH_MAX + 1];
	char ca[PQ_CONFIG_PATH_MAX + 1];
	char cert[PQ_CONFIG_PATH_MAX + 1];
	char key[PQ_CONFIG_PATH_MAX + 1];
	uint32_t presence_ttl_s;     /* 0: PQ_RELAY_NATS_TTL_MS */
	uint32_t replicas;           /* 0: 1 */
	bool section;                /* [nats] was in the file */
};

struct pq_config_allow {
	uint8_t key[32];
	unsigned line;
};

struct pq_relay_config {
	char private_key[PQ_CONFIG_PATH_MAX + 1];
	struct pq_config_addr listen;
	struct pq_config_allow *allow;           /* allow_count entries, heap */
	size_t allow_count;                      /* 0: any node key may connect */
	size_t allow_cap;                        /* internal */
	uint32_t max_nodes;                      /* 0: the relay's default */
	uint32_t max_nodes_per_source;           /* 0: the relay's default */
	uint32_t max_queued_mib;                 /* 0: the relay's default (pq_relay_config_max_queued) */
	char user[PQ_CONFIG_USER_MAX + 1];       /* "" when not given */
	bool seccomp;
	bool has_metrics;
	struct pq_config_addr metrics;
	char control[PQ_RELAY_CONTROL_MAX + 1];  /* always set after a load */
	bool has_control;                        /* control was in the file */
	int log_level;                           /* util/log.h; default info */
	uint8_t stun_mode;                       /* enum pq_relay_stun_mode */
	struct pq_config_addr stun;              /* PQ_RELAY_STUN_SET only */
	char name[PQ_RELAY_NAME_MAX + 1];        /* "" when not given */
	struct pq_relay_nats_config nats;
};

/* stun: not in the file (the default), off, or set. */
enum pq_relay_stun_mode { PQ_RELAY_STUN_DEFAULT = 0, PQ_RELAY_STUN_OFF, PQ_RELAY_STUN_SET };
#define PQ_RELAY_STUN_PORT 3478 /* RFC 8489 §18.6 */

/* The STUN address cfg asks for, defaults applied: false when off. */
bool pq_relay_config_stun(const struct pq_relay_config *cfg, struct pq_config_addr *out);

/* Load relay.conf from path (named path in messages), or the same from
 * text in memory (len bytes) named name. */
PQ_MUST_CHECK int pq_relay_config_load(struct pq_relay_config *cfg, const char *path,
				       char *err, size_t err_len);
PQ_MUST_CHECK int pq_relay_config_parse(struct pq_relay_config *cfg, const char *name,
					const char *text, size_t len, char *err, size_t err_len);
void pq_relay_config_free(struct pq_relay_config *cfg);
/* max_queued_mib in bytes (0: the relay's default), saturated where
 * size_t is 32 bits. */
size_t pq_relay_config_max_queued(const struct pq_relay_config *cfg);

struct pq_relay;
/* relay_fed_config.c: with nats lines, read [nats]'s files (the password
 * file must be mode 0600) and prepare r's federation
 * (pq_relay_nats_prepare; start it after dropping privileges). Without:
 * nothing, 0. PQ_E_CONFIG with err naming the file and what was wrong,
 * or pq_relay_nats_prepare's codes. */
PQ_MUST_CHECK int pq_relay_config_nats(struct pq_relay *r, const struct pq_relay_config *cfg,
				       char *err, size_t err_len);

#endif
