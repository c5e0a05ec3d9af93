/*
 * control.c - the daemon's UNIX control socket and the status report.
 *
 * The socket: its directory is made 0755 if missing; a stale socket file
 * (nobody answers on it) is removed, a live one means another daemon
 * serves this TAP and we refuse to start; the socket is created 0600 and
 * removed on exit. A client is served inline: its socket gets
 * PQ_CONTROL_TIMEOUT_MS timeouts and is read and written blocking. That
 * stalls the data path for at most that long per client, and only root
 * can connect (mode 0600), so we keep it this simple.
 *
 * JSON report (one line):
 *   {"node":{"key":K,"tap":T,"relay":"connected"|"connecting"},
 *    "peers":[{"name":null|N,"key":K,"state":"offline"|"handshaking"|
 *    "established","path":"relay"|"direct"|"none","handshake_age_s":null|S,
 *    "rx_bytes":..,"tx_bytes":..,"rx_frames":..,"tx_frames":..,
 *    "dropped_frames":..,"rx_gso_frames":..,"tx_gso_frames":..,
 *    "endpoint":null|"IP:PORT",
 *    "last_rehandshake_age_s":null|S,"last_rehandshake_us":null|US,
 *    "migrations":..,"fallbacks":..,"rehandshakes":..,
 *    "rehandshake_failures":..}]}
 * The gso counters are the frames among rx/tx_frames that carried an
 * offload header (DATA_GSO: a TSO super-frame or a partial checksum).
 * "path" is "direct" while frames take a direct conn whose re-handshake
 * completed, and "endpoint" is the peer's address on it; "none" for an
 * established peer with `path = direct` and no direct conn yet.
 * Keys are base64; names and TAP names are limited by the config loader
 * to [A-Za-z0-9_.-], so no string needs JSON escaping.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "node/control.h"
#include "node/daemon.h"
#include "node/direct.h"
#include "node/log.h"

/* Room for the node line and one peer entry, text or JSON. */
#define STATUS_HEAD_MAX 512
#define STATUS_PEER_MAX 1024

const char *pq_peer_state_name(enum pq_peer_state s)
{
	switch (s) {
	case PQ_PEER_ESTABLISHED:
		return "established";
	case PQ_PEER_HANDSHAKING:
		return "handshaking";
	case PQ_PEER_OFFLINE:
	default:
		return "offline";
	}
}

/* Established frames take the active direct conn, else the relay
 * (never with `path = direct`: then no frame moves until a direct conn
 * is up). */
const char *pq_peer_path_name(const struct pq_node_peer *p, enum pq_peer_state s)
{
	if (s != PQ_PEER_ESTABLISHED)
		return "none";
	if (p->direct.active)
		return "direct";
	return p->cfg->path == PQ_PATH_DIRECT ? "none" : "relay";
}

struct sbuf {
	char *p;
	size_t cap, len;
	bool overflow;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		return;
	}
	b->len += (size_t)n;
}

/* Re-handshakes that failed, whatever the reason. */
uint64_t pq_peer_rehs_failures(const struct pq_node_peer *p)
{
	const struct pq_rehs_counters *c = &p->direct.rehs_count;

	return (uint64_t)c->decode + c->unexpected + c->session_id + c->time + c->replay + c->reflect +
	       c->mac + c->timeout + c->cache_full + c->local + p->direct.rehs_not_started;
}

static void direct_json(struct sbuf *b, const struct pq_node_peer *p, uint64_t now_ms)
{
	const struct pq_peer_direct *d = &p->direct;
	char text[PQ_SOCKADDR_TEXT];

	sb_printf(b, ",\"endpoint\":");
	if (d->active) {
		pq_sockaddr_format(&d->active->addr, text, sizeof(text));
		sb_printf(b, "\"%s\"", text);
	} else {
		sb_printf(b, "null");
	}
	if (d->last_rehs_ms)
		sb_printf(b, ",\"last_rehandshake_age_s\":%" PRIu64 ",\"last_rehandshake_us\":%" PRIu64,
			  (now_ms - d->last_rehs_ms) / 1000, d->last_rehs_us);
	else
		sb_printf(b, ",\"last_rehandshake_age_s\":null,\"last_rehandshake_us\":null");
	sb_printf(b,
		  ",\"migrations\":%" PRIu64 ",\"fallbacks\":%" PRIu64 ",\"rehandshakes\":%" PRIu32
		  ",\"rehandshake_failures\":%" PRIu64,
		  d->migrations, d->fallbacks, d->rehs_count.completed, pq_peer_rehs_failures(p));
}

static void peer_json(struct sbuf *b, const struct pq_node_peer *p, uint64_t now_ms)
{
	enum pq_peer_state st = pq_peer_state(p, now_ms);

	sb_printf(b, "{\"name\":");
	if (p->cfg->name[0])
		sb_printf(b, "\"%s\"", p->cfg->name);
	else
		sb_printf(b, "null");
	sb_printf(b, ",\"key\":\"%s\",\"state\":\"%s\",\"path\":\"%s\",\"handshake_age_s\":", p->key_b64,
		  pq_peer_state_name(st), pq_peer_path_name(p, st));
	if (p->handshake_ms)
		sb_printf(b, "%" PRIu64, (now_ms - p->handshake_ms) / 1000);
	else
		sb_printf(b, "null");
	sb_printf(b,
		  ",\"rx_bytes\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"rx_frames\":%" PRIu64
		  ",\"tx_frames\":%" PRIu64 ",\"dropped_frames\":%" PRIu64
		  ",\"rx_gso_frames\":%" PRIu64 ",\"tx_gso_frames\":%" PRIu64,
		  p->count.rx_bytes, p->count.tx_bytes, p->count.rx_frames, p->count.tx_frames,
		  p->count.dropped_frames, p->count.rx_gso_frames, p->count.tx_gso_frames);
	direct_json(b, p, now_ms);
	sb_printf(b, "}");
}

static void peer_text(struct sbuf *b, const struct pq_node_peer *p, uint64_t now_ms)
{
	enum pq_peer_state st = pq_peer_state(p, now_ms);

	sb_printf(b, "\npeer: %s\n", p->key_b64);
	if (p->cfg->name[0])
		sb_printf(b, "  name: %s\n", p->cfg->name);
	sb_printf(b, "  state: %s\n  path: %s\n", pq_peer_state_name(st), pq_peer_path_name(p, st));
	if (p->handshake_ms)
		sb_printf(b, "  latest handshake: %" PRIu64 " s ago\n", (now_ms - p->handshake_ms) / 1000);
	else
		sb_printf(b, "  latest handshake: none\n");
	sb_printf(b, "  transfer: %" PRIu64 " B received, %" PRIu64 " B sent\n", p->count.rx_bytes,
		  p->count.tx_bytes);
	sb_printf(b, "  frames: %" PRIu64 " received, %" PRIu64 " sent, %" PRIu64 " dropped\n",
		  p->count.rx_frames, p->count.tx_frames, p->count.dropped_frames);
	sb_printf(b, "  offload frames: %" PRIu64 " received, %" PRIu64 " sent\n",
		  p->count.rx_gso_frames, p->count.tx_gso_frames);
	if (p->direct.active) {
		char text[PQ_SOCKADDR_TEXT];

		pq_sockaddr_format(&p->direct.active->addr, text, sizeof(text));
		sb_printf(b, "  endpoint: %s\n", text);
	}
	sb_printf(b, "  direct: %" PRIu64 " migrations, %" PRIu64 " fallbacks, %" PRIu32
		  " re-handshakes (%" PRIu64 " failed)\n",
		  p->direct.migrations, p->direct.fallbacks, p->direct.rehs_count.completed,
		  pq_peer_rehs_failures(p));
	sb_printf(b, "  direct dials: %" PRIu64 " started\n", p->direct.attempts);
}

long pq_control_status(const struct pq_node *node, bool json, char *out, size_t cap, uint64_t now_ms)
{
	struct sbuf b = { .p = out, .cap = cap };
	const char *relay = pq_relay_state_name(node->relay_state);

	if (cap == 0)
		return PQ_E_TOOBIG;
	if (json)
		sb_printf(&b, "{\"node\":{\"key\":\"%s\",\"tap\":\"%s\",\"relay\":\"%s\"},\"peers\":[",
			  node->pub_b64, node->cfg.tap, relay);
	else
		sb_printf(&b, "node: %s\n  tap: %s\n  relay: %s (%s)\n  refused from unknown keys: %" PRIu64 "\n",
			  node->pub_b64, node->cfg.tap, relay, node->cfg.relay_url.text, node->relay_drops);
	for (size_t i = 0; i < node->peer_count; i++) {
		if (json) {
			if (i)
				sb_printf(&b, ",");
			peer_json(&b, &node->peers[i], now_ms);
		} else {
			peer_text(&b, &node->peers[i], now_ms);
		}
	}
	if (json)
		sb_printf(&b, "]}\n");
	return b.overflow ? PQ_E_TOOBIG : (long)b.len;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = PQ_CONTROL_TIMEOUT_MS / 1000,
			      .tv_usec = (PQ_CONTROL_TIMEOUT_MS % 1000) * 1000 };

	/* Best effort: without them a client can only stall us longer. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return PQ_E_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void control_serve(struct pq_node *node, int fd, uint64_t now_ms)
{
	char req[PQ_CONTROL_REQ_MAX + 1];
	size_t cap = STATUS_HEAD_MAX + node->peer_count * STATUS_PEER_MAX;
	ssize_t n;
	long len;
	char *out;
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return;
	set_timeouts(fd);
	n = read(fd, req, PQ_CONTROL_REQ_MAX);
	if (n <= 0)
		return;
	req[n] = 0;
	out = malloc(cap);
	if (!out)
		return;
	len = pq_control_status(node, strncmp(req, "json", 4) == 0, out, cap, now_ms);
	if (len > 0 && write_all(fd, out, (size_t)len))
		pq_log(PQ_LOG_DEBUG, "control: client went away");
	free(out);
}

static void control_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct pq_node *node = arg;

	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (cfd < 0)
			return;
		control_serve(node, cfd, now_ms);
		close(cfd);
	}
}

/* mkdir -p the directory of path, new parts 0755. */
static int make_parent_dirs(const char *path, char *err, size_t err_len)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t len = strlen(path);

	if (len >= sizeof(dir))
		return PQ_E_INVAL;
	memcpy(dir, path, len + 1);
	for (char *s = dir + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(dir, 0755) == 0) {
			/* 0755 whatever the umask: `pqlan status` finds it. */
			if (chmod(dir, 0755) < 0)
				pq_log(PQ_LOG_WARN, "cannot chmod %s: %s", dir, strerror(errno));
		} else if (errno != EEXIST) {
			snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno));
			return PQ_E_IO;
		}
		*s = '/';
	}
	return 0;
}

/* A socket file at sa: refuse if someone answers, else remove it. */
static int remove_stale(const struct sockaddr_un *sa, char *err, size_t err_len)
{
	struct stat st;
	int fd;

	if (lstat(sa->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, err_len, "%s exists and is not a socket", sa->sun_path);
		return PQ_E_IO;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		close(fd);
		snprintf(err, err_len, "%s: another pqlan is running on this TAP", sa->sun_path);
		return PQ_E_IO;
	}
	if (fd >= 0)
		close(fd);
	if (unlink(sa->sun_path) < 0) {
		snprintf(err, err_len, "cannot remove the stale %s: %s", sa->sun_path, strerror(errno));
		return PQ_E_IO;
	}
	return 0;
}

int pq_control_open(struct pq_node *node, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	const char *path = node->cfg.control;
	mode_t old_mask;
	int ret, fd;

	node->ctl_fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return PQ_E_INVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((ret = make_parent_dirs(path, err, err_len)) || (ret = remove_stale(&sa, err, err_len)))
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, err_len, "control socket: %s", strerror(errno));
		return PQ_E_IO;
	}
	old_mask = umask(0177); /* the socket file is born 0600 */
	ret = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret < 0 || listen(fd, 8) < 0) {
		snprintf(err, err_len, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return PQ_E_IO;
	}
	node->ctl_fd = fd;
	node->ctl_bound = true;
	if ((ret = pq_loop_add(node->loop, fd, PQ_LOOP_READ, control_event, node))) {
		snprintf(err, err_len, "cannot watch the control socket");
		return ret;
	}
	return 0;
}

void pq_control_close(struct pq_node *node)
{
	if (node->ctl_fd >= 0) {
		if (pq_loop_del(node->loop, node->ctl_fd))
			pq_log(PQ_LOG_DEBUG, "control: was not watched");
		close(node->ctl_fd);
		node->ctl_fd = -1;
	}
	if (node->ctl_bound && unlink(node->cfg.control) < 0)
		pq_log(PQ_LOG_WARN, "cannot remove %s: %s", node->cfg.control, strerror(errno));
	node->ctl_bound = false;
}

int pq_control_query(const char *path, bool json, FILE *out, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	const char *req = json ? "json\n" : "text\n";
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return PQ_E_INVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, err_len, "%s: %s - is `pqlan up` running?", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return PQ_E_IO;
	}
	set_timeouts(fd);
	if (write_all(fd, req, strlen(req))) {
		snprintf(err, err_len, "%s: cannot send the request", path);
		ret = PQ_E_IO;
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n > 0)
			got += (size_t)n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_len, "%s: %s", path, strerror(errno));
			ret = PQ_E_IO;
			goto out;
		}
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
			snprintf(err, err_len, "cannot write the report");
			ret = PQ_E_IO;
			goto out;
		}
	}
	if (got == 0) {
		snprintf(err, err_len, "%s: the daemon sent no report", path);
		ret = PQ_E_IO;
	}
out:
	close(fd);
	return ret;
}
