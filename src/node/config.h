/*
 * config.h - the configuration file of `pqlan up` (node.conf), DESIGN §1
 * and §7; relay.conf is relay/config.h, the value checks both share are
 * util/conf_value.h.
 *
 * The loader fills a plain struct owned by the caller; the peer list is a
 * heap array inside it, released by the matching _free()
 * (also safe after a failed load, which frees them itself). Nothing is
 * global. Keys are not loaded here: private_key is a path for
 * pq_key_file_load() (a relative one is relative to the working
 * directory); public keys are decoded with pq_key_from_base64(). A peer
 * listing our own key cannot be detected here; the caller checks that
 * once it has loaded the private key.
 *
 *   [node]                         node.conf
 *   private_key = PATH             required
 *   tap = IFNAME                   required, at most 15 of [A-Za-z0-9_.-]
 *   address = IP/PREFIX            optional, IPv4 /1-32 or IPv6 /1-128
 *   listen = HOST:PORT             required, direct-path listener
 *   control = PATH                 optional, default /run/pqlan/<tap>.sock
 *   retry_interval = SECONDS       optional, 1-86400, default 60
 *   reauth_interval = SECONDS      optional, 10-86400, default 600
 *   metrics = HOST:PORT            optional, Prometheus text endpoint
 *   offload = on | off             optional, default on: TSO/checksum offload
 *                                  on the TAP (net/tap.h)
 *   user = NAME                    optional: run as NAME after set-up
 *                                  (util/privdrop.h)
 *   seccomp = on | off             optional, default off: the system-call
 *                                  allow-list after set-up (util/seccomp.h)
 *   tap_persist = yes | no         optional, default no: leave a TAP we
 *                                  created in place at exit (bridging)
 *   mac = XX:XX:XX:XX:XX:XX        optional, unicast: the TAP's MAC
 *   mtu = BYTES                    optional, 68-16366 (PQ_TAP_MTU_MAX),
 *                                  default 1500
 *   log_level = debug|info|warn|error  optional, default info
 *   listen_udp = HOST:PORT | off   optional, the UDP direct path's socket;
 *                                  default: listen's address and port (none
 *                                  when listen's port is 0)
 *   keepalive_udp = SECONDS        optional, 1-3600, default 25: an idle UDP
 *                                  path is probed this often (NAT mappings)
 *   udp_mtu = BYTES                optional, 1280-9000, default 1500: the
 *                                  largest IP packet the UDP path probes for
 *                                  (proto/pmtu.h); a reload applies it to
 *                                  UDP paths opened after it
 *   stun = HOST:PORT               optional, repeatable (4): more STUN servers
 *                                  to learn our public UDP mapping from
 *   [relay]                        required, repeatable (PQ_CONFIG_MAX_RELAYS):
 *                                  relays of one network (a federation,
 *                                  docs/relay.md); the node uses the first
 *                                  reachable in file order and moves to the
 *                                  next when it fails (node/relay_link.c)
 *   url = wss://HOST[:PORT][/PATH] required
 *   key = PUBKEY                   required, the relay's pinned key
 *   stun = HOST:PORT | off         optional, the relay's STUN responder;
 *                                  default: the relay's address, port 3478
 *   [peer]                         repeatable, zero or more
 *   name = NAME                    optional, 1-32 of [A-Za-z0-9_.-], unique
 *   key = PUBKEY                   required, unique
 *   endpoint = HOST:PORT           optional static direct-path candidate
 *   path = auto | relay | direct   optional, default auto
 *   allowed_mac = MAC[, MAC...]    optional, repeatable: the only source
 *                                  MACs this peer may send from (l2.h),
 *                                  at most PQ_CONFIG_MAX_PEER_MACS
 *   transport = auto | udp | tls   optional, default auto: the kinds of
 *                                  direct path (auto: UDP when it validates,
 *                                  else TLS)
 *
 * HOST:PORT is an IP literal: 192.0.2.7:7443 or [2001:db8::7]:7443 (no
 * DNS, no IPv6 zone). A listener's port may be 0 (the kernel picks one;
 * for tests); other ports are 1-65535. The relay URL's host may be an IP
 * literal or a DNS name: a name is kept as a string for the caller to
 * resolve at connect time (it is also the TLS server name), a literal is
 * parsed into url.addr. The port defaults to 443 and the path to "/"
 * (RFC 6455 §3); a fragment, user info or a ws:// URL is refused.
 *
 * Errors: every loader returns 0 or a negative PQ_E_* code and writes
 * `FILE:LINE: <what was wrong>, expected <what>` into err, one message a
 * line, at most PQ_CONF_MAX_ERRORS (10) and then a count of the rest;
 * PQ_CONFIG_ERR_LEN bytes hold them all. Codes: PQ_E_CONFIG (the file's
 * content), PQ_E_IO (cannot open or read it; err names the file and the
 * errno text), PQ_E_NOMEM, PQ_E_INVAL (NULL arguments). See
 * util/conf_ini.h for the file syntax.
 */
#ifndef PQ_NODE_CONFIG_H
#define PQ_NODE_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/conf_value.h"
#include "util/err.h"

#define PQ_CONFIG_MAX_PEERS 256      /* [peer] sections in node.conf */
#define PQ_CONFIG_MAX_PEER_MACS 32   /* allowed_mac addresses per [peer] */
#define PQ_CONFIG_CONTROL_MAX 107    /* sizeof(sun_path) - 1 */

#define PQ_CONFIG_RETRY_DEFAULT 60
#define PQ_CONFIG_REAUTH_DEFAULT 600

enum pq_config_path { PQ_PATH_AUTO = 0, PQ_PATH_RELAY, PQ_PATH_DIRECT };
enum pq_config_transport { PQ_TRANSPORT_AUTO = 0, PQ_TRANSPORT_UDP, PQ_TRANSPORT_TLS };

#define PQ_CONFIG_MAX_STUN 4
#define PQ_CONFIG_KEEPALIVE_UDP_DEFAULT 25
#define PQ_CONFIG_STUN_PORT 3478

struct pq_config_peer {
	char name[PQ_CONFIG_NAME_MAX + 1];      /* "" when not given */
	uint8_t key[32];
	bool has_key;                           /* internal: key was read */
	bool has_endpoint;
	struct pq_config_addr endpoint;
	enum pq_config_path path;
	uint8_t allowed_mac[PQ_CONFIG_MAX_PEER_MACS][6]; /* allowed_mac_count used */
	size_t allowed_mac_count;               /* 0: any unicast source MAC */
	enum pq_config_transport transport;
	unsigned line;                          /* its [peer] header */
};

/* One [relay] section. */
#define PQ_CONFIG_MAX_RELAYS 8
struct pq_config_relay {
	struct pq_config_url url;
	uint8_t key[32];
	bool stun_off;                           /* stun = off */
	bool has_stun;                           /* stun = HOST:PORT given */
	struct pq_config_addr stun;
	unsigned line;                           /* of its header */
};

struct pq_node_config {
	char private_key[PQ_CONFIG_PATH_MAX + 1];
	char tap[PQ_CONFIG_IFNAME_MAX + 1];
	bool has_address;
	struct pq_config_cidr address;
	struct pq_config_addr listen;
	char control[PQ_CONFIG_CONTROL_MAX + 1]; /* always set after a load */
	uint32_t retry_interval;                 /* seconds */
	uint32_t reauth_interval;                /* seconds */
	bool offload;                            /* TAP offloads (default on) */
	char user[PQ_CONFIG_USER_MAX + 1];       /* "" when not given */
	bool seccomp;
	bool tap_persist;                        /* leave our TAP at exit */
	bool has_mac;
	uint8_t mac[6];
	uint32_t mtu;                            /* 0: the TAP's default */
	int log_level;                           /* util/log.h; default info */
	bool has_metrics;
	struct pq_config_addr metrics;
	bool udp_off;                            /* listen_udp = off */
	bool has_listen_udp;                     /* always after a load unless off */
	struct pq_config_addr listen_udp;
	uint32_t keepalive_udp;                  /* seconds */
	uint32_t udp_mtu;                        /* PMTU search ceiling, bytes */
	struct pq_config_addr stun[PQ_CONFIG_MAX_STUN];
	size_t stun_count;
	/* The first [relay] (every [relay] is in relays[]). */
	struct pq_config_url relay_url;
	uint8_t relay_key[32];
	bool relay_stun_off;                     /* [relay] stun = off */
	bool has_relay_stun;                     /* [relay] stun = HOST:PORT given */
	struct pq_config_addr relay_stun;
	struct pq_config_relay relays[PQ_CONFIG_MAX_RELAYS]; /* in file order */
	size_t relay_count;                      /* >= 1 after a load */
	struct pq_config_peer *peers;            /* peer_count entries, heap */
	size_t peer_count;
	size_t peer_cap;                         /* internal */
};

/* Load node.conf / relay.conf from path; name it path in messages. */
PQ_MUST_CHECK int pq_node_config_load(struct pq_node_config *cfg, const char *path,
				      char *err, size_t err_len);

/* The same from text in memory (len bytes), named name in messages. */
PQ_MUST_CHECK int pq_node_config_parse(struct pq_node_config *cfg, const char *name,
				       const char *text, size_t len, char *err, size_t err_len);

void pq_node_config_free(struct pq_node_config *cfg);

#endif
