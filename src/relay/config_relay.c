/*
 * config_relay.c - relay.conf for `pqlan relay`: one [relay] section with
 * the private key path, the listen address, the optional allow list of
 * node public keys (format in node/config.h) and the STUN address.
 */
#include <stdio.h>
#include <netinet/in.h>
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

static const struct pq_conf_key relay_keys[] = {
	{ "private_key", set_private_key, PQ_CONF_REQUIRED, "/etc/pqlan/relay.key" },
	{ "listen", set_listen, PQ_CONF_REQUIRED, "0.0.0.0:8443" },
	{ "allow", add_allow, PQ_CONF_REPEAT, "<node public key>" },
	{ "max_nodes", set_max_nodes, 0, "16384" },
	{ "max_nodes_per_source", set_max_nodes_per_source, 0, "64" },
	{ "user", set_user, 0, "pqlan" },
	{ "seccomp", set_seccomp, 0, "on" },
	{ "metrics", set_metrics, 0, "127.0.0.1:9465" },
	{ "control", set_control, 0, PQ_RELAY_CONTROL_DEFAULT },
	{ "log_level", set_log_level, 0, "info" },
	{ "stun", set_stun, 0, "0.0.0.0:3478" },
};

static const struct pq_conf_section relay_sections[] = {
	{ "relay", relay_keys, sizeof(relay_keys) / sizeof(relay_keys[0]), PQ_CONF_REQUIRED,
	  NULL },
};

static void relay_finish(struct pq_conf *p, void *vcfg)
{
	struct pq_relay_config *cfg = vcfg;

	if (!cfg->control[0])
		snprintf(cfg->control, sizeof(cfg->control), "%s", PQ_RELAY_CONTROL_DEFAULT);
}

static const struct pq_conf_schema relay_schema = { relay_sections, 1, relay_finish };

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
