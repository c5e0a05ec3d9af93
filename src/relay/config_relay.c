/*
 * config_relay.c - relay.conf for `pqlan relay`: one [relay] section with
 * the private key path, the listen address, the optional allow list of
 * node public keys (format in node/config.h) and the STUN address.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/config.h"
#include "util/conf_ini.h"
#include "util/conf_value.h"
#include "util/log.h"

static int set_private_key(struct pq_conf_arg *a)
{
	struct pq_relay_config *cfg = a->cfg;

	return pq_cv_path(cfg->private_key, sizeof(cfg->private_key), a->value, false,
			  "/etc/pqlan/relay.key", a->why, a->why_len);
}

static int set_listen(struct pq_conf_arg *a)
{
	return pq_cv_hostport(&((struct pq_relay_config *)a->cfg)->listen, a->value, true,
			      "0.0.0.0:8443", a->why, a->why_len);
}

static int grow_allow(struct pq_relay_config *cfg)
{
	struct pq_config_allow *grown;
	size_t cap;

	if (cfg->allow_count < cfg->allow_cap)
		return 0;
	cap = cfg->allow_cap ? cfg->allow_cap * 2 : 16;
	grown = realloc(cfg->allow, cap * sizeof(*grown));
	if (!grown)
		return PQ_E_NOMEM;
	cfg->allow = grown;
	cfg->allow_cap = cap;
	return 0;
}

/* Public keys: memcmp is fine. A repeat is refused because it is almost
 * always a copy-paste slip that hides a missing key. The scan is linear;
 * at most PQ_CONFIG_MAX_ALLOW^2 / 2 compares once, at startup. */
static int add_allow(struct pq_conf_arg *a)
{
	struct pq_relay_config *cfg = a->cfg;
	uint8_t key[32];
	size_t i;
	int rc = pq_cv_pubkey(key, a->value, "a node's", a->why, a->why_len);

	if (rc)
		return rc;
	if (cfg->allow_count == PQ_CONFIG_MAX_ALLOW)
		return pq_cv_fail(a->why, a->why_len, "is allow line %d, expected at most %d",
				  PQ_CONFIG_MAX_ALLOW + 1, PQ_CONFIG_MAX_ALLOW);
	for (i = 0; i < cfg->allow_count; i++)
		if (!memcmp(cfg->allow[i].key, key, sizeof(key)))
			return pq_cv_fail(a->why, a->why_len, "is already allowed at line %u, "
					  "expected each key once", cfg->allow[i].line);
	rc = grow_allow(cfg);
	if (rc)
		return rc;
	memcpy(cfg->allow[cfg->allow_count].key, key, sizeof(key));
	cfg->allow[cfg->allow_count++].line = a->line;
	return 0;
}

static int set_max_nodes(struct pq_conf_arg *a)
{
	return pq_cv_uint(&((struct pq_relay_config *)a->cfg)->max_nodes, a->value, 1, 1000000,
			  "nodes", a->why, a->why_len);
}

static int set_max_nodes_per_source(struct pq_conf_arg *a)
{
	return pq_cv_uint(&((struct pq_relay_config *)a->cfg)->max_nodes_per_source, a->value, 1,
			  1000000, "nodes", a->why, a->why_len);
}

static int set_max_queued_mib(struct pq_conf_arg *a)
{
	return pq_cv_uint(&((struct pq_relay_config *)a->cfg)->max_queued_mib, a->value, 1, 1048576,
			  "MiB", a->why, a->why_len);
}

size_t pq_relay_config_max_queued(const struct pq_relay_config *cfg)
{
#if (SIZE_MAX >> 20) < 1048576 /* a 32-bit size_t: the key's top does not fit */
	if (cfg->max_queued_mib > (SIZE_MAX >> 20))
		return SIZE_MAX;
#endif
	return (size_t)cfg->max_queued_mib << 20;
}

static int set_user(struct pq_conf_arg *a)
{
	return pq_cv_user(((struct pq_relay_config *)a->cfg)->user, a->value, a->why, a->why_len);
}

static int set_seccomp(struct pq_conf_arg *a)
{
	return pq_cv_on_off(&((struct pq_relay_config *)a->cfg)->seccomp, a->value, a->why,
			    a->why_len);
}

static int set_metrics(struct pq_conf_arg *a)
{
	struct pq_relay_config *cfg = a->cfg;
	int rc = pq_cv_hostport(&cfg->metrics, a->value, true, "127.0.0.1:9465", a->why, a->why_len);

	cfg->has_metrics = rc == 0;
	return rc;
}

static int set_control(struct pq_conf_arg *a)
{
	struct pq_relay_config *cfg = a->cfg;
	int rc = pq_cv_path(cfg->control, sizeof(cfg->control), a->value, true,
			    PQ_RELAY_CONTROL_DEFAULT, a->why, a->why_len);

	cfg->has_control = rc == 0;
	return rc;
}

static int set_log_level(struct pq_conf_arg *a)
{
	return pq_cv_log_level(&((struct pq_relay_config *)a->cfg)->log_level, a->value, a->why,
			       a->why_len);
}

static unsigned addr_port(const struct pq_config_addr *a)
{
	return ntohs(a->ss.ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)&a->ss)->sin6_port :
						   ((const struct sockaddr_in *)&a->ss)->sin_port);
}

/* stun = HOST:PORT | off: two sockets, PORT and PORT + 1. */
static int set_stun(struct pq_conf_arg *a)
{
	struct pq_relay_config *cfg = a->cfg;
	int rc;

	if (!strcmp(a->value, "off")) {
		cfg->stun_mode = PQ_RELAY_STUN_OFF;
		return 0;
	}
	rc = pq_cv_hostport(&cfg->stun, a->value, false, "0.0.0.0:3478, or off", a->why,
			    a->why_len);
	if (!rc && addr_port(&cfg->stun) > 65534)
		rc = pq_cv_fail(a->why, a->why_len, "leaves no port + 1 for the second STUN "
				"socket, expected a port of 1-65534, or off");
	if (!rc)
		cfg->stun_mode = PQ_RELAY_STUN_SET;
	return rc;
}

/* A relay name: one NATS subject token, as proto/msg_fed.h wants it. */
static int set_name(struct pq_conf_arg *a)
{
	char *out = ((struct pq_relay_config *)a->cfg)->name;
	size_t n = strlen(a->value);

	if (n < 1 || n > PQ_RELAY_NAME_MAX || strspn(a->value, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		return pq_cv_fail(a->why, a->why_len, "is not a relay name, expected 1-%d letters, "
				  "digits, '_' or '-' such as relay-eu1", PQ_RELAY_NAME_MAX);
	memcpy(out, a->value, n + 1);
	return 0;
}

/* nats://HOST:PORT or tls://HOST:PORT; HOST a name or an IP literal
 * (libnats resolves it). */
static int check_nats_url(const char *v, char *why, size_t why_len)
{
	const char *host, *colon;
	uint16_t port;

	if (!strncmp(v, "nats://", 7))
		host = v + 7;
	else if (!strncmp(v, "tls://", 6))
		host = v + 6;
	else
		return pq_cv_fail(why, why_len, "is not a NATS URL, expected nats://HOST:PORT "
				  "such as nats://10.0.0.5:4222 (or tls://)");
	colon = strrchr(host, ':');
	if (!colon || colon == host || strpbrk(host, "/@?# ") ||
	    pq_cv_port(&port, colon + 1, strlen(colon + 1), false, why, why_len))
		return pq_cv_fail(why, why_len, "has no host and port, expected nats://HOST:PORT "
				  "such as nats://10.0.0.5:4222 (credentials go in [nats])");
	return 0;
}

static int add_nats(struct pq_conf_arg *a)
{
	struct pq_relay_nats_config *n = &((struct pq_relay_config *)a->cfg)->nats;
	int rc;

	if (n->count == PQ_RELAY_MAX_NATS)
		return pq_cv_fail(a->why, a->why_len, "is nats line %d, expected at most %d",
				  PQ_RELAY_MAX_NATS + 1, PQ_RELAY_MAX_NATS);
	if ((rc = check_nats_url(a->value, a->why, a->why_len)))
		return rc;
	if (strlen(a->value) > PQ_CONFIG_PATH_MAX)
		return pq_cv_fail(a->why, a->why_len, "is too long, expected at most %d characters",
				  PQ_CONFIG_PATH_MAX);
	snprintf(n->url[n->count++], sizeof(n->url[0]), "%s", a->value);
	return 0;
}

static struct pq_relay_nats_config *nats_of(struct pq_conf_arg *a)
{
	return &((struct pq_relay_config *)a->cfg)->nats;
}

static int set_nats_user(struct pq_conf_arg *a)
{
	char *out = nats_of(a)->user;
	size_t n = strlen(a->value);

	if (n < 1 || n > PQ_RELAY_NATS_USER_MAX || strpbrk(a->value, " \t\"'"))
		return pq_cv_fail(a->why, a->why_len, "is not a NATS user name, expected 1-%d "
				  "characters without spaces or quotes", PQ_RELAY_NATS_USER_MAX);
	memcpy(out, a->value, n + 1);
	return 0;
}

#define NATS_PATH_KEY(fn, field, example)                                                  \
	static int fn(struct pq_conf_arg *a)                                               \
	{                                                                                  \
		return pq_cv_path(nats_of(a)->field, sizeof(nats_of(a)->field), a->value, \
				  true, example, a->why, a->why_len);                     \
	}
NATS_PATH_KEY(set_nats_password_file, password_file, "/etc/pqlan/nats.password")
NATS_PATH_KEY(set_nats_creds, creds, "/etc/pqlan/relay.creds")
NATS_PATH_KEY(set_nats_ca, ca, "/etc/pqlan/nats-ca.pem")
NATS_PATH_KEY(set_nats_cert, cert, "/etc/pqlan/nats-relay.pem")
NATS_PATH_KEY(set_nats_key, key, "/etc/pqlan/nats-relay.key")

static int set_presence_ttl(struct pq_conf_arg *a)
{
	return pq_cv_uint(&nats_of(a)->presence_ttl_s, a->value, 3, 3600, "seconds", a->why,
			  a->why_len);
}

static int set_replicas(struct pq_conf_arg *a)
{
	return pq_cv_uint(&nats_of(a)->replicas, a->value, 1, 5, "replicas", a->why, a->why_len);
}

static int open_nats(void *cfg, unsigned line, void **sec, char *why, size_t why_len)
{
	((struct pq_relay_config *)cfg)->nats.section = true;
	*sec = cfg;
	return 0;
}

static const struct pq_conf_key relay_keys[] = {
	{ "private_key", set_private_key, PQ_CONF_REQUIRED, "/etc/pqlan/relay.key" },
	{ "listen", set_listen, PQ_CONF_REQUIRED, "0.0.0.0:8443" },
	{ "allow", add_allow, PQ_CONF_REPEAT, "<node public key>" },
	{ "max_nodes", set_max_nodes, 0, "16384" },
	{ "max_nodes_per_source", set_max_nodes_per_source, 0, "64" },
	{ "max_queued_mib", set_max_queued_mib, 0, "256" },
	{ "user", set_user, 0, "pqlan" },
	{ "seccomp", set_seccomp, 0, "on" },
	{ "metrics", set_metrics, 0, "127.0.0.1:9465" },
	{ "control", set_control, 0, PQ_RELAY_CONTROL_DEFAULT },
	{ "log_level", set_log_level, 0, "info" },
	{ "stun", set_stun, 0, "0.0.0.0:3478" },
	{ "name", set_name, 0, "relay-eu1" },
	{ "nats", add_nats, PQ_CONF_REPEAT, "nats://10.0.0.5:4222" },
};

static const struct pq_conf_key nats_keys[] = {
	{ "user", set_nats_user, 0, "pqlan-relay" },
	{ "password_file", set_nats_password_file, 0, "/etc/pqlan/nats.password" },
	{ "creds", set_nats_creds, 0, "/etc/pqlan/relay.creds" },
	{ "ca", set_nats_ca, 0, "/etc/pqlan/nats-ca.pem" },
	{ "cert", set_nats_cert, 0, "/etc/pqlan/nats-relay.pem" },
	{ "key", set_nats_key, 0, "/etc/pqlan/nats-relay.key" },
	{ "presence_ttl", set_presence_ttl, 0, "15" },
	{ "replicas", set_replicas, 0, "3" },
};

static const struct pq_conf_section relay_sections[] = {
	{ "relay", relay_keys, sizeof(relay_keys) / sizeof(relay_keys[0]), PQ_CONF_REQUIRED,
	  NULL },
	{ "nats", nats_keys, sizeof(nats_keys) / sizeof(nats_keys[0]), 0, open_nats },
};

/* Defaults, and what holds only across keys: federation needs a name;
 * [nats] and its pairs make sense only together; seccomp cannot run
 * libnats' threads. */
static void relay_finish(struct pq_conf *p, void *vcfg)
{
	struct pq_relay_config *cfg = vcfg;
	const struct pq_relay_nats_config *n = &cfg->nats;
	unsigned last = pq_conf_last_line(p);

	if (!cfg->control[0])
		snprintf(cfg->control, sizeof(cfg->control), "%s", PQ_RELAY_CONTROL_DEFAULT);
	if (n->count && !cfg->name[0])
		pq_conf_error(p, last, "[relay] has nats but no name, expected name = <this relay's "
			      "id in the cluster> such as name = relay-eu1");
	if (!n->count && (n->section || cfg->name[0]))
		pq_conf_error(p, last, "%s without any nats line, expected nats = nats://HOST:PORT "
			      "in [relay] (or neither, to run alone)", n->section ? "[nats]" : "name");
	if (n->count && cfg->seccomp)
		pq_conf_error(p, last, "seccomp = on with nats, expected seccomp = off: libnats "
			      "starts threads the system-call allow-list forbids");
	if (!n->user[0] != !n->password_file[0])
		pq_conf_error(p, last, "[nats] has %s without %s, expected both or neither",
			      n->user[0] ? "user" : "password_file", n->user[0] ? "password_file" : "user");
	if (!n->cert[0] != !n->key[0])
		pq_conf_error(p, last, "[nats] has %s without %s, expected both or neither",
			      n->cert[0] ? "cert" : "key", n->cert[0] ? "key" : "cert");
}

static const struct pq_conf_schema relay_schema = { relay_sections, 2, relay_finish };

static void relay_init(struct pq_relay_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = PQ_LOG_INFO;
}

/* The default is listen's address: the interface the operator chose for
 * the relay (a relay on 127.0.0.1 opens no STUN port to the world), and
 * the one nodes reach it at. */
bool pq_relay_config_stun(const struct pq_relay_config *cfg, struct pq_config_addr *out)
{
	if (cfg->stun_mode == PQ_RELAY_STUN_OFF)
		return false;
	*out = cfg->stun_mode == PQ_RELAY_STUN_SET ? cfg->stun : cfg->listen;
	if (cfg->stun_mode == PQ_RELAY_STUN_SET)
		return true;
	if (out->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons(PQ_RELAY_STUN_PORT);
	else
		((struct sockaddr_in *)&out->ss)->sin_port = htons(PQ_RELAY_STUN_PORT);
	return true;
}

void pq_relay_config_free(struct pq_relay_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->allow);
	cfg->allow = NULL;
	cfg->allow_count = cfg->allow_cap = 0;
}

int pq_relay_config_parse(struct pq_relay_config *cfg, const char *name, const char *text,
			  size_t len, char *err, size_t err_len)
{
	int rc;

	if (!cfg || !name || !text)
		return PQ_E_INVAL;
	relay_init(cfg);
	rc = pq_conf_parse(&relay_schema, cfg, name, text, len, err, err_len);
	if (rc)
		pq_relay_config_free(cfg);
	return rc;
}

int pq_relay_config_load(struct pq_relay_config *cfg, const char *path, char *err,
			 size_t err_len)
{
	int rc;

	if (!cfg || !path)
		return PQ_E_INVAL;
	relay_init(cfg);
	rc = pq_conf_load(&relay_schema, cfg, path, err, err_len);
	if (rc)
		pq_relay_config_free(cfg);
	return rc;
}
