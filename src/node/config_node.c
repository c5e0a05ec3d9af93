/*
 * config_node.c - node.conf for `pqlan up`: the schema (sections, keys,
 * their checks) and the cross-checks between peers. Format in config.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/tap.h"
#include "node/config.h"
#include "node/node.h"
#include "proto/pmtu.h"
#include "util/conf_ini.h"
#include "util/conf_value.h"
#include "util/log.h"

#define PEER_KEY "the peer's"

/* [node] */

static int path_mode(enum pq_config_path *out, const char *s, char *why, size_t why_len)
{
	if (!strcmp(s, "auto"))
		*out = PQ_PATH_AUTO;
	else if (!strcmp(s, "relay"))
		*out = PQ_PATH_RELAY;
	else if (!strcmp(s, "direct"))
		*out = PQ_PATH_DIRECT;
	else
		return pq_cv_fail(why, why_len, "is not a path mode, expected auto, relay or direct");
	return 0;
}

static int set_private_key(struct pq_conf_arg *a)
{
	struct pq_node_config *cfg = a->cfg;

	return pq_cv_path(cfg->private_key, sizeof(cfg->private_key), a->value, false,
			  "/etc/pqlan/node.key", a->why, a->why_len);
}

static int set_tap(struct pq_conf_arg *a)
{
	return pq_cv_ifname(((struct pq_node_config *)a->cfg)->tap, a->value, a->why, a->why_len);
}

static int set_address(struct pq_conf_arg *a)
{
	struct pq_node_config *cfg = a->cfg;
	int rc = pq_cv_cidr(&cfg->address, a->value, a->why, a->why_len);

	cfg->has_address = rc == 0;
	return rc;
}

static int set_listen(struct pq_conf_arg *a)
{
	return pq_cv_hostport(&((struct pq_node_config *)a->cfg)->listen, a->value, true,
			      "0.0.0.0:7443", a->why, a->why_len);
}

static int set_control(struct pq_conf_arg *a)
{
	struct pq_node_config *cfg = a->cfg;

	return pq_cv_path(cfg->control, sizeof(cfg->control), a->value, true,
			  "/run/pqlan/pqlan0.sock", a->why, a->why_len);
}

static int set_retry(struct pq_conf_arg *a)
{
	return pq_cv_uint(&((struct pq_node_config *)a->cfg)->retry_interval, a->value, 1,
			  86400, "seconds", a->why, a->why_len);
}

static int set_reauth(struct pq_conf_arg *a)
{
	return pq_cv_uint(&((struct pq_node_config *)a->cfg)->reauth_interval, a->value, 10,
			  86400, "seconds", a->why, a->why_len);
}

static int set_offload(struct pq_conf_arg *a)
{
	return pq_cv_on_off(&((struct pq_node_config *)a->cfg)->offload, a->value, a->why, a->why_len);
}

static int set_user(struct pq_conf_arg *a)
{
	return pq_cv_user(((struct pq_node_config *)a->cfg)->user, a->value, a->why, a->why_len);
}

static int set_seccomp(struct pq_conf_arg *a)
{
	return pq_cv_on_off(&((struct pq_node_config *)a->cfg)->seccomp, a->value, a->why,
			    a->why_len);
}

static int set_metrics(struct pq_conf_arg *a)
{
	struct pq_node_config *cfg = a->cfg;
	int rc = pq_cv_hostport(&cfg->metrics, a->value, true, "127.0.0.1:9464",
				a->why, a->why_len);

	cfg->has_metrics = rc == 0;
	return rc;
}

static int set_tap_persist(struct pq_conf_arg *a)
{
	return pq_cv_yes_no(&((struct pq_node_config *)a->cfg)->tap_persist, a->value, a->why,
			    a->why_len);
}

static int set_mac(struct pq_conf_arg *a)
{
	struct pq_node_config *cfg = a->cfg;
	int rc = pq_cv_mac(cfg->mac, a->value, a->why, a->why_len);

	cfg->has_mac = rc == 0;
	return rc;
}

static int set_mtu(struct pq_conf_arg *a)
{
	return pq_cv_uint(&((struct pq_node_config *)a->cfg)->mtu, a->value, PQ_TAP_MTU_MIN,
			  PQ_TAP_MTU_MAX, "bytes", a->why, a->why_len);
}

static int set_log_level(struct pq_conf_arg *a)
{
	return pq_cv_log_level(&((struct pq_node_config *)a->cfg)->log_level, a->value, a->why,
			       a->why_len);
}

static int set_listen_udp(struct pq_conf_arg *a)
{
	struct pq_node_config *cfg = a->cfg;
	int rc;

	if (!strcmp(a->value, "off")) {
		cfg->udp_off = true;
		return 0;
	}
	rc = pq_cv_hostport(&cfg->listen_udp, a->value, true, "0.0.0.0:7443", a->why, a->why_len);
	cfg->has_listen_udp = rc == 0;
	return rc;
}

static int set_keepalive_udp(struct pq_conf_arg *a)
{
	return pq_cv_uint(&((struct pq_node_config *)a->cfg)->keepalive_udp, a->value, 1, 3600, "seconds",
			  a->why, a->why_len);
}

static int set_udp_mtu(struct pq_conf_arg *a)
{
	return pq_cv_uint(&((struct pq_node_config *)a->cfg)->udp_mtu, a->value, PQ_PMTU_MIN, PQ_PMTU_MAX,
			  "bytes", a->why, a->why_len);
}

static int set_stun(struct pq_conf_arg *a)
{
	struct pq_node_config *cfg = a->cfg;
	int rc;

	if (cfg->stun_count == PQ_CONFIG_MAX_STUN)
		return pq_cv_fail(a->why, a->why_len, "is one STUN server too many, expected at most %d",
				  PQ_CONFIG_MAX_STUN);
	rc = pq_cv_hostport(&cfg->stun[cfg->stun_count], a->value, false, "192.0.2.1:3478", a->why, a->why_len);
	if (rc == 0)
		cfg->stun_count++;
	return rc;
}

/* [relay] */

/* Each [relay] header appends a zeroed relay, which its keys then fill. */
static int open_relay(void *vcfg, unsigned line, void **sec, char *why, size_t why_len)
{
	struct pq_node_config *cfg = vcfg;

	if (cfg->relay_count == PQ_CONFIG_MAX_RELAYS)
		return pq_cv_fail(why, why_len, "is relay section %d, expected at most %d",
				  PQ_CONFIG_MAX_RELAYS + 1, PQ_CONFIG_MAX_RELAYS);
	*sec = &cfg->relays[cfg->relay_count];
	memset(*sec, 0, sizeof(cfg->relays[0]));
	cfg->relays[cfg->relay_count++].line = line;
	return 0;
}

static int set_relay_stun(struct pq_conf_arg *a)
{
	struct pq_config_relay *r = a->sec;
	int rc;

	if (!strcmp(a->value, "off")) {
		r->stun_off = true;
		return 0;
	}
	rc = pq_cv_hostport(&r->stun, a->value, false, "198.18.0.1:3478", a->why, a->why_len);
	r->has_stun = rc == 0;
	return rc;
}

static int set_relay_url(struct pq_conf_arg *a)
{
	return pq_cv_wss_url(&((struct pq_config_relay *)a->sec)->url, a->value, a->why, a->why_len);
}

static int set_relay_key(struct pq_conf_arg *a)
{
	return pq_cv_pubkey(((struct pq_config_relay *)a->sec)->key, a->value, "the relay's", a->why,
			    a->why_len);
}

/* [peer] */

/* Each [peer] header appends a zeroed peer, which its keys then fill. */
static int open_peer(void *vcfg, unsigned line, void **sec, char *why, size_t why_len)
{
	struct pq_node_config *cfg = vcfg;
	struct pq_config_peer *grown;
	size_t cap;

	if (cfg->peer_count == PQ_CONFIG_MAX_PEERS)
		return pq_cv_fail(why, why_len, "more than %d [peer] sections, expected at most %d",
				  PQ_CONFIG_MAX_PEERS, PQ_CONFIG_MAX_PEERS);
	if (cfg->peer_count == cfg->peer_cap) {
		cap = cfg->peer_cap ? cfg->peer_cap * 2 : 8;
		grown = realloc(cfg->peers, cap * sizeof(*grown));
		if (!grown)
			return PQ_E_NOMEM;
		cfg->peers = grown;
		cfg->peer_cap = cap;
	}
	*sec = &cfg->peers[cfg->peer_count];
	memset(*sec, 0, sizeof(cfg->peers[0]));
	cfg->peers[cfg->peer_count++].line = line;
	return 0;
}

static int set_peer_name(struct pq_conf_arg *a)
{
	struct pq_node_config *cfg = a->cfg;
	struct pq_config_peer *peer = a->sec, *other;
	char name[PQ_CONFIG_NAME_MAX + 1];
	int rc = pq_cv_name(name, a->value, a->why, a->why_len);

	if (rc)
		return rc;
	for (other = cfg->peers; other < peer; other++)
		if (!strcmp(other->name, name))
			return pq_cv_fail(a->why, a->why_len, "is already the name of the [peer] at "
					  "line %u, expected a different name for each peer",
					  other->line);
	memcpy(peer->name, name, sizeof(name));
	return 0;
}

/* Public keys: memcmp is fine (nothing secret). Only earlier peers are
 * compared, so each repeat is reported once, at the later one. */
static int set_peer_key(struct pq_conf_arg *a)
{
	struct pq_node_config *cfg = a->cfg;
	struct pq_config_peer *peer = a->sec, *other;
	uint8_t key[32];
	int rc = pq_cv_pubkey(key, a->value, PEER_KEY, a->why, a->why_len);

	if (rc)
		return rc;
	for (other = cfg->peers; other < peer; other++)
		if (other->has_key && !memcmp(other->key, key, sizeof(key)))
			return pq_cv_fail(a->why, a->why_len, "is already the key of the [peer] at "
					  "line %u, expected one [peer] section per key",
					  other->line);
	memcpy(peer->key, key, sizeof(key));
	peer->has_key = true;
	return 0;
}

static int set_peer_endpoint(struct pq_conf_arg *a)
{
	struct pq_config_peer *peer = a->sec;
	int rc = pq_cv_hostport(&peer->endpoint, a->value, false, "192.0.2.7:7443",
				a->why, a->why_len);

	peer->has_endpoint = rc == 0;
	return rc;
}

static int set_peer_transport(struct pq_conf_arg *a)
{
	struct pq_config_peer *peer = a->sec;

	if (!strcmp(a->value, "auto"))
		peer->transport = PQ_TRANSPORT_AUTO;
	else if (!strcmp(a->value, "udp"))
		peer->transport = PQ_TRANSPORT_UDP;
	else if (!strcmp(a->value, "tls"))
		peer->transport = PQ_TRANSPORT_TLS;
	else
		return pq_cv_fail(a->why, a->why_len, "is not a transport, expected auto, udp or tls");
	return 0;
}

static int set_peer_path(struct pq_conf_arg *a)
{
	return path_mode(&((struct pq_config_peer *)a->sec)->path, a->value,
			       a->why, a->why_len);
}

/* One or more MACs separated by ',' (spaces around them are fine). A
 * repeat within the peer is refused: it is a slip that hides a missing one. */
static int add_peer_macs(struct pq_conf_arg *a)
{
	struct pq_config_peer *peer = a->sec;
	char item[32];
	const char *p = a->value;

	for (;;) {
		size_t n;
		uint8_t mac[6];
		int rc;

		p += strspn(p, " \t");
		n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n >= sizeof(item))
			n = sizeof(item) - 1; /* pq_cv_mac refuses it by its length */
		memcpy(item, p, n);
		item[n] = '\0';
		if ((rc = pq_cv_mac(mac, item, a->why, a->why_len)))
			return rc;
		for (size_t i = 0; i < peer->allowed_mac_count; i++)
			if (!memcmp(peer->allowed_mac[i], mac, 6))
				return pq_cv_fail(a->why, a->why_len, "lists %s twice for this peer, "
						  "expected each MAC once", item);
		if (peer->allowed_mac_count == PQ_CONFIG_MAX_PEER_MACS)
			return pq_cv_fail(a->why, a->why_len, "makes more than %d allowed MACs, "
					  "expected at most %d per peer", PQ_CONFIG_MAX_PEER_MACS,
					  PQ_CONFIG_MAX_PEER_MACS);
		memcpy(peer->allowed_mac[peer->allowed_mac_count++], mac, 6);
		p = strchr(p, ',');
		if (!p)
			return 0;
		p++;
	}
}

static const struct pq_conf_key node_keys[] = {
	{ "private_key", set_private_key, PQ_CONF_REQUIRED, "/etc/pqlan/node.key" },
	{ "tap", set_tap, PQ_CONF_REQUIRED, "pqlan0" },
	{ "address", set_address, 0, "10.77.0.1/24" },
	{ "listen", set_listen, PQ_CONF_REQUIRED, "0.0.0.0:7443" },
	{ "control", set_control, 0, "/run/pqlan/pqlan0.sock" },
	{ "retry_interval", set_retry, 0, "60" },
	{ "reauth_interval", set_reauth, 0, "600" },
	{ "metrics", set_metrics, 0, "127.0.0.1:9464" },
	{ "offload", set_offload, 0, "on" },
	{ "user", set_user, 0, "pqlan" },
	{ "seccomp", set_seccomp, 0, "on" },
	{ "tap_persist", set_tap_persist, 0, "yes" },
	{ "mac", set_mac, 0, "02:00:00:00:00:01" },
	{ "mtu", set_mtu, 0, "1500" },
	{ "log_level", set_log_level, 0, "info" },
	{ "listen_udp", set_listen_udp, 0, "0.0.0.0:7443" },
	{ "keepalive_udp", set_keepalive_udp, 0, "25" },
	{ "udp_mtu", set_udp_mtu, 0, "1500" },
	{ "stun", set_stun, PQ_CONF_REPEAT, "192.0.2.1:3478" },
};

static const struct pq_conf_key relay_keys[] = {
	{ "url", set_relay_url, PQ_CONF_REQUIRED, "wss://198.18.0.1:8443/" },
	{ "key", set_relay_key, PQ_CONF_REQUIRED, "<relay public key>" },
	{ "stun", set_relay_stun, 0, "198.18.0.1:3478" },
};

static const struct pq_conf_key peer_keys[] = {
	{ "name", set_peer_name, 0, "bob" },
	{ "key", set_peer_key, PQ_CONF_REQUIRED, "<peer public key>" },
	{ "endpoint", set_peer_endpoint, 0, "192.0.2.7:7443" },
	{ "path", set_peer_path, 0, "auto" },
	{ "allowed_mac", add_peer_macs, PQ_CONF_REPEAT, "52:54:00:12:34:56" },
	{ "transport", set_peer_transport, 0, "auto" },
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static const struct pq_conf_section node_sections[] = {
	{ "node", node_keys, NKEYS(node_keys), PQ_CONF_REQUIRED, NULL },
	{ "relay", relay_keys, NKEYS(relay_keys), PQ_CONF_REQUIRED | PQ_CONF_REPEAT, open_relay },
	{ "peer", peer_keys, NKEYS(peer_keys), PQ_CONF_REPEAT, open_peer },
};

/* Defaults that depend on other keys. */
static void node_finish(struct pq_conf *p, void *vcfg)
{
	struct pq_node_config *cfg = vcfg;

	/* The first [relay] under its old names (status, logs). */
	if (cfg->relay_count) {
		const struct pq_config_relay *r = &cfg->relays[0];

		cfg->relay_url = r->url;
		memcpy(cfg->relay_key, r->key, sizeof(cfg->relay_key));
		cfg->relay_stun_off = r->stun_off;
		cfg->has_relay_stun = r->has_stun;
		cfg->relay_stun = r->stun;
	}
	for (size_t i = 1; i < cfg->relay_count; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(cfg->relays[i].url.text, cfg->relays[j].url.text))
				pq_conf_error(p, cfg->relays[i].line, "[relay] url %s is already the "
					      "relay at line %u, expected each relay once",
					      cfg->relays[i].url.text, cfg->relays[j].line);
	if (!cfg->control[0] && cfg->tap[0])
		snprintf(cfg->control, sizeof(cfg->control), "/run/pqlan/%s.sock", cfg->tap);
	/* The UDP socket shares the TLS listener's address and port number;
	 * a listener on port 0 (tests: no direct path) has none by default. */
	if (!cfg->udp_off && !cfg->has_listen_udp && cfg->listen.len &&
	    ntohs(((const struct sockaddr_in *)&cfg->listen.ss)->sin_port) != 0) {
		cfg->listen_udp = cfg->listen;
		cfg->has_listen_udp = true;
	}
}

static const struct pq_conf_schema node_schema = {
	node_sections, NKEYS(node_sections), node_finish,
};

static void node_init(struct pq_node_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->retry_interval = PQ_CONFIG_RETRY_DEFAULT;
	cfg->reauth_interval = PQ_CONFIG_REAUTH_DEFAULT;
	cfg->offload = true;
	cfg->log_level = PQ_LOG_INFO;
	cfg->keepalive_udp = PQ_CONFIG_KEEPALIVE_UDP_DEFAULT;
	cfg->udp_mtu = PQ_PMTU_DEFAULT;
}

void pq_node_config_free(struct pq_node_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->peers);
	cfg->peers = NULL;
	cfg->peer_count = cfg->peer_cap = 0;
}

int pq_node_config_parse(struct pq_node_config *cfg, const char *name, const char *text,
			 size_t len, char *err, size_t err_len)
{
	int rc;

	if (!cfg || !name || !text)
		return PQ_E_INVAL;
	node_init(cfg);
	rc = pq_conf_parse(&node_schema, cfg, name, text, len, err, err_len);
	if (rc)
		pq_node_config_free(cfg);
	return rc;
}

int pq_node_config_load(struct pq_node_config *cfg, const char *path, char *err, size_t err_len)
{
	int rc;

	if (!cfg || !path)
		return PQ_E_INVAL;
	node_init(cfg);
	rc = pq_conf_load(&node_schema, cfg, path, err, err_len);
	if (rc)
		pq_node_config_free(cfg);
	return rc;
}

_Static_assert(PQ_NODE_CONTROL_PATH_LEN == PQ_CONFIG_CONTROL_MAX + 1, "node.h and config.h agree");
_Static_assert(PQ_NODE_ERR_LEN == PQ_CONFIG_ERR_LEN, "node.h and conf_value.h agree");

int pq_node_control_path(const char *conf_path, char *out, size_t cap, char *err, size_t err_len)
{
	struct pq_node_config cfg;
	int ret;

	memset(&cfg, 0, sizeof(cfg));
	if ((ret = pq_node_config_load(&cfg, conf_path, err, err_len)))
		goto out;
	if (strlen(cfg.control) >= cap) {
		ret = PQ_E_TOOBIG;
		snprintf(err, err_len, "%s: control socket path too long", conf_path);
		goto out;
	}
	memcpy(out, cfg.control, strlen(cfg.control) + 1);
out:
	pq_node_config_free(&cfg);
	return ret;
}
