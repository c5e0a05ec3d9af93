/*
 * relay_fed_config.c - relay.conf's nats lines and [nats] section
 * (relay/config.h) turned into pq_relay_nats_opts, with the password read
 * from its file (refused when others may read it, like a private key).
 * The password is wiped once libnats holds its copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/util.h"
#include "relay/config.h"
#include "relay/relay.h"

#define NATS_PASSWORD_MAX 256

/* The first line of path, without its newline. */
static int read_password(const char *path, char out[NATS_PASSWORD_MAX + 1], char *err, size_t err_len)
{
	struct stat st;
	ssize_t n;
	int fd, rc = PQ_E_CONFIG;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, err_len, "%s: cannot read the NATS password: %s", path, strerror(errno));
		return PQ_E_CONFIG;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s: not a regular file, expected the NATS password", path);
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, err_len, "%s: readable by group or others (mode %03o), expected mode "
			 "0600 (chmod 600 %s)", path, (unsigned)(st.st_mode & 0777), path);
		goto out;
	}
	n = read(fd, out, NATS_PASSWORD_MAX);
	if (n <= 0) {
		snprintf(err, err_len, "%s: empty, expected the NATS password on its first line", path);
		goto out;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (!out[0]) {
		snprintf(err, err_len, "%s: empty first line, expected the NATS password", path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int pq_relay_config_nats(struct pq_relay *r, const struct pq_relay_config *cfg, char *err, size_t err_len)
{
	const struct pq_relay_nats_config *n = &cfg->nats;
	const char *servers[PQ_RELAY_MAX_NATS];
	char password[NATS_PASSWORD_MAX + 1];
	struct pq_relay_nats_opts o = { 0 };
	int rc;

	if (!n->count)
		return 0;
	for (size_t i = 0; i < n->count; i++)
		servers[i] = n->url[i];
	o.name = cfg->name;
	o.servers = servers;
	o.server_count = n->count;
	if (n->user[0]) {
		if ((rc = read_password(n->password_file, password, err, err_len)))
			return rc;
		o.user = n->user;
		o.password = password;
	}
	o.creds_file = n->creds[0] ? n->creds : NULL;
	o.ca_file = n->ca[0] ? n->ca : NULL;
	o.cert_file = n->cert[0] ? n->cert : NULL;
	o.key_file = n->key[0] ? n->key : NULL;
	o.ttl_ms = n->presence_ttl_s ? (uint64_t)n->presence_ttl_s * 1000u : PQ_RELAY_NATS_TTL_MS;
	o.replicas = n->replicas ? (int)n->replicas : 1;
	rc = pq_relay_nats_prepare(r, &o, err, err_len);
	if (n->user[0])
		pq_wipe(password, sizeof(password));
	return rc;
}
