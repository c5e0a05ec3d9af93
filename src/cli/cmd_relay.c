/*
 * cmd_relay.c - `pqlan relay -c relay.conf [-v]`: load the configuration
 * and the identity key, run the relay core (relay/relay.h) on an event loop
 * until SIGINT or SIGTERM, then send CLOSE(5) to every node and exit 0.
 *
 * Test-only environment (honoured only with PQLAN_TEST=1, refused
 * otherwise so a production relay cannot be made hostile or lax by an
 * inherited variable):
 *   PQLAN_RELAY_TEST_MANGLE=flip|replay|reorder   hostile relay (relay.h)
 *   PQLAN_RELAY_TEST_OPEN_TIMEOUT_MS=N            TCP+TLS+Upgrade deadline
 *   PQLAN_RELAY_TEST_AUTH_TIMEOUT_MS=N            open -> RELAY_AUTH deadline
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/relay_ops.h"
#include "crypto/ed25519.h"
#include "crypto/identity.h"
#include "crypto/util.h"
#include "relay/config.h"
#include "relay/relay.h"
#include "util/log.h"
#include "util/privdrop.h"
#include "util/sdnotify.h"

struct relay_run {
	struct pq_loop *loop;
	struct pq_relay *relay;
	int sigfd;
	struct relay_ops ops;          /* control socket, metrics, reload (relay_ops.h) */
};

/* A positive decimal below 2^32 from env name; 0 when unset. -1 bad. */
static long long env_ms(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long long n;

	if (!v)
		return 0;
	n = strtoll(v, &end, 10);
	if (!*v || *end || n <= 0 || n > 0xffffffffll)
		return -1;
	return n;
}

static int test_env_opts(struct pq_relay_opts *o)
{
	static const char *const vars[] = { "PQLAN_RELAY_TEST_MANGLE",
					    "PQLAN_RELAY_TEST_OPEN_TIMEOUT_MS",
					    "PQLAN_RELAY_TEST_AUTH_TIMEOUT_MS" };
	const char *test = getenv("PQLAN_TEST"), *mangle = getenv(vars[0]);
	long long open_ms = env_ms(vars[1]), auth_ms = env_ms(vars[2]);
	bool any = false;

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		any = any || getenv(vars[i]);
	if (!any)
		return 0;
	if (!test || strcmp(test, "1")) {
		fprintf(stderr, "pqlan relay: PQLAN_RELAY_TEST_* variables are for tests only "
			"and need PQLAN_TEST=1; unset them\n");
		return -1;
	}
	if (open_ms < 0 || auth_ms < 0) {
		fprintf(stderr, "pqlan relay: a PQLAN_RELAY_TEST_*_TIMEOUT_MS is not a number "
			"of milliseconds, expected 1-4294967295\n");
		return -1;
	}
	o->open_timeout_ms = (uint64_t)open_ms;
	o->auth_timeout_ms = (uint64_t)auth_ms;
	if (!mangle)
		return 0;
	if (!strcmp(mangle, "flip"))
		o->mangle = PQ_RELAY_MANGLE_FLIP;
	else if (!strcmp(mangle, "replay"))
		o->mangle = PQ_RELAY_MANGLE_REPLAY;
	else if (!strcmp(mangle, "reorder"))
		o->mangle = PQ_RELAY_MANGLE_REORDER;
	else {
		fprintf(stderr, "pqlan relay: PQLAN_RELAY_TEST_MANGLE=%s, expected flip, replay "
			"or reorder\n", mangle);
		return -1;
	}
	pq_log(PQ_LOG_WARN, "relay: TEST MODE: mangling forwarded sealed payloads (%s)", mangle);
	return 0;
}

static int parse_args(int argc, char **argv, const char **conf, bool *verbose)
{
	*conf = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			*conf = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			*verbose = true;
		else
			return -1;
	}
	return *conf ? 0 : -1;
}

static void on_signal(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now)
{
	struct relay_run *run = arg;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		relay_ops_reload(&run->ops);
		return;
	}
	(void)pq_sd_notify("STOPPING=1");
	relay_ops_close(&run->ops);
	pq_log(PQ_LOG_INFO, "relay: %s, closing every conn (CLOSE going away)",
	       si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
	/* Once: the loop then ends when the last conn has closed. A failed
	 * del only means it was not watched any more. */
	if (pq_loop_del(loop, fd))
		pq_log(PQ_LOG_DEBUG, "relay: signalfd was not watched");
	pq_relay_shutdown(run->relay);
}

/* Block SIGINT/SIGTERM/SIGHUP and read them from a signalfd on the loop. */
static int watch_signals(struct relay_run *run)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	run->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (run->sigfd < 0)
		return -1;
	return pq_loop_add(run->loop, run->sigfd, PQ_LOOP_READ, on_signal, run) ? -1 : 0;
}

/* STUN (relay_stun.c): its two sockets, or that it is off. */
static void log_stun_start(const struct pq_relay *r)
{
	char a0[PQ_SOCKADDR_TEXT], a1[PQ_SOCKADDR_TEXT];

	if (!pq_relay_stun_addr(r, 0)) {
		pq_log(PQ_LOG_INFO, "relay: stun off");
		return;
	}
	pq_sockaddr_format(pq_relay_stun_addr(r, 0), a0, sizeof(a0));
	pq_sockaddr_format(pq_relay_stun_addr(r, 1), a1, sizeof(a1));
	pq_log(PQ_LOG_INFO, "relay: stun on udp %s and %s", a0, a1);
}

static void log_start(const struct pq_relay *r, size_t allow_count)
{
	char addr[PQ_SOCKADDR_TEXT], key[PQ_KEY_B64_LEN + 1];

	pq_sockaddr_format(pq_relay_addr(r), addr, sizeof(addr));
	pq_key_to_base64(key, pq_relay_public(r));
	if (allow_count) {
		pq_log(PQ_LOG_INFO, "relay: listening on %s, key %s, %zu allowed node keys", addr,
		       key, allow_count);
	} else {
		pq_log(PQ_LOG_INFO, "relay: listening on %s, key %s, any node key", addr, key);
		/* DESIGN §7: an open relay is for tests and public services; memory
		 * is bounded by max_nodes / max_nodes_per_source, not by who may come. */
		pq_log(PQ_LOG_WARN, "relay: OPEN RELAY: no allow line, so anyone who makes a key "
		       "may connect and use it; list your nodes with allow = <key> (docs/relay.md)");
	}
	log_stun_start(r);
}

/* After the listener and STUN are bound and the key read: the configured
 * user, no capabilities, no_new_privs, the allow-list (util/privdrop.h). */
static int drop_privileges(const struct pq_relay_config *cfg, const struct pq_relay *r)
{
	struct pq_privdrop d = { .user = cfg->user, .seccomp = cfg->seccomp, .who = "relay" };
	char err[256];

	if (pq_privdrop(&d, err, sizeof(err))) {
		fprintf(stderr, "pqlan relay: cannot drop privileges: %s\n", err);
		return PQ_E_PERM;
	}
	if (cfg->user[0])
		pq_log(PQ_LOG_INFO, "relay: running as %s%s", cfg->user,
		       cfg->seccomp ? ", system calls limited (seccomp)" : "");
	else if (geteuid() == 0)
		pq_log(PQ_LOG_WARN, "relay: running as root; set user = <account> in relay.conf "
		       "(or start it as that user: port %u needs no privilege if above 1023)",
		       pq_sockaddr_port(pq_relay_addr(r)));
	return 0;
}

static void log_stop(const struct pq_relay *r)
{
	struct pq_relay_stats s;

	pq_relay_stats(r, &s);
	pq_log(PQ_LOG_INFO, "relay: stopped; conns accepted %llu, dropped before open %llu "
	       "(HTTP refusals %llu); authenticated %llu, refused %llu, replaced %llu, "
	       "protocol errors %llu, forwarded %llu, unreachable %llu (of which not mutual %llu), "
	       "dropped %llu; pending conns evicted %llu, refused: relay full %llu, "
	       "source at its cap %llu; stun answered %llu, dropped %llu",
	       (unsigned long long)s.accepted, (unsigned long long)s.failed_before_open,
	       (unsigned long long)s.http_refused, (unsigned long long)s.auth_ok, (unsigned long long)s.auth_failed,
	       (unsigned long long)s.replaced, (unsigned long long)s.protocol_errors,
	       (unsigned long long)s.forwarded, (unsigned long long)s.unreachable,
	       (unsigned long long)s.not_mutual, (unsigned long long)s.dropped,
	       (unsigned long long)s.pending_evicted, (unsigned long long)s.full_refused,
	       (unsigned long long)s.source_refused, (unsigned long long)s.stun_answered,
	       (unsigned long long)s.stun_dropped);
	if (s.fed.outages || s.fed.puts)
		pq_log(PQ_LOG_INFO, "relay: nats: outages %llu, frames out %llu, in %llu, in dropped %llu, "
		       "bad messages %llu, queue drops %llu, down drops %llu, moved %llu, expired %llu",
		       (unsigned long long)s.fed.outages, (unsigned long long)s.fed.fwd_out,
		       (unsigned long long)s.fed.fwd_in, (unsigned long long)s.fed.fwd_in_dropped,
		       (unsigned long long)s.fed.bad_msgs, (unsigned long long)s.fed.queue_dropped,
		       (unsigned long long)s.fed.down_dropped, (unsigned long long)s.fed.moved,
		       (unsigned long long)s.fed.expired);
}

/* Every node holds one connection open, and connections still opening
 * (capped per listener) come on top: the usual soft limit of 1024 fds is
 * too low for a relay, and lets a few slow strangers lock nodes out. Raise
 * it to the hard limit; failing that is not fatal. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			pq_log(PQ_LOG_WARN, "relay: could not raise the open-file limit");
	}
}

/* [relay] stun: a STUN address that was written must open; the default
 * is best effort, so a second relay on one host runs without it. */
static int start_stun(struct pq_relay *r, const struct pq_relay_config *cfg)
{
	struct pq_config_addr want;
	struct pq_sockaddr addr = { 0 };
	char text[PQ_SOCKADDR_TEXT];
	int rc;

	if (!pq_relay_config_stun(cfg, &want))
		return 0;
	memcpy(&addr.ss, &want.ss, sizeof(addr.ss));
	addr.len = want.len;
	rc = pq_relay_stun_start(r, &addr);
	if (!rc)
		return 0;
	pq_sockaddr_format(&addr, text, sizeof(text));
	if (cfg->stun_mode == PQ_RELAY_STUN_SET) {
		fprintf(stderr, "pqlan relay: cannot open stun = %s (and its port + 1): %s\n", text,
			pq_strerror(rc));
		return rc;
	}
	pq_log(PQ_LOG_WARN, "relay: cannot open the default STUN port %s (or its port + 1): %s; "
	       "running without STUN (set stun = HOST:PORT or stun = off)", text, pq_strerror(rc));
	return 0;
}

/* Load, listen, run until a signal. 0 on an orderly stop. */
static int run_relay(struct relay_run *run, const char *conf, struct pq_relay_config *cfg,
		     const struct pq_relay_opts *opts)
{
	uint8_t priv[PQ_ED25519_PRIV_LEN], (*allow)[32] = NULL;
	struct pq_sockaddr listen = { 0 };
	char err[512];
	int rc;

	rc = pq_key_file_load(priv, cfg->private_key, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "pqlan relay: %s\n", err);
		goto out;
	}
	rc = PQ_E_NOMEM;
	if (cfg->allow_count && !(allow = calloc(cfg->allow_count, sizeof(*allow))))
		goto out;
	for (size_t i = 0; i < cfg->allow_count; i++)
		memcpy(allow[i], cfg->allow[i].key, 32);
	memcpy(&listen.ss, &cfg->listen.ss, sizeof(listen.ss));
	listen.len = cfg->listen.len;
	raise_fd_limit();
	rc = pq_loop_new(&run->loop);
	if (!rc)
		rc = pq_relay_new(&run->relay, run->loop, priv, &listen,
				  (const uint8_t(*)[32])allow, cfg->allow_count, opts);
	if (rc) {
		fprintf(stderr, "pqlan relay: cannot listen: %s\n", pq_strerror(rc));
		goto out;
	}
	if ((rc = start_stun(run->relay, cfg)))
		goto out;
	/* NATS (relay_fed_config.c): files read as root, threads after the drop. */
	if ((rc = pq_relay_config_nats(run->relay, cfg, err, sizeof(err)))) {
		fprintf(stderr, "pqlan relay: %s\n", rc == PQ_E_CONFIG ? err : pq_strerror(rc));
		goto out;
	}
	/* The control socket and metrics listener open as the starting user:
	 * after the drop, seccomp would kill the mkdir of the socket's directory. */
	if ((rc = relay_ops_start(&run->ops, run->loop, run->relay, conf, cfg, err, sizeof(err)))) {
		fprintf(stderr, "pqlan relay: %s\n", err);
		goto out;
	}
	cfg = &run->ops.cfg;  /* relay_ops_start took the configuration */
	if ((rc = drop_privileges(cfg, run->relay)) || (cfg->nats.count && (rc = pq_relay_nats_start(run->relay))))
		goto out;
	if (watch_signals(run)) {
		fprintf(stderr, "pqlan relay: cannot watch SIGINT/SIGTERM/SIGHUP\n");
		rc = PQ_E_IO;
		goto out;
	}
	log_start(run->relay, cfg->allow_count);
	run->ops.verbose = opts->verbose;
	if (pq_sd_notify("READY=1") < 0)
		pq_log(PQ_LOG_WARN, "relay: cannot notify systemd ($NOTIFY_SOCKET)");
	rc = pq_loop_run(run->loop);
	log_stop(run->relay);
out:
	pq_wipe(priv, sizeof(priv));
	free(allow);
	return rc;
}

int cmd_relay(int argc, char **argv)
{
	struct relay_run run = { .sigfd = -1 };
	struct pq_relay_config cfg;
	struct pq_relay_opts opts = { 0 };
	const char *conf;
	char err[PQ_CONFIG_ERR_LEN];
	int rc;

	if (parse_args(argc, argv, &conf, &opts.verbose)) {
		return cli_usage(stderr, "relay");
	}
	if (test_env_opts(&opts))
		return 2;
	if (pq_relay_config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "%s", err);
		if (err[0] && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
		return 1;
	}
	opts.max_nodes = cfg.max_nodes;
	opts.max_nodes_per_source = cfg.max_nodes_per_source;
	opts.max_queued = pq_relay_config_max_queued(&cfg);
	/* -v wins over the file's log_level, also across reloads. */
	pq_log_set_level(opts.verbose ? PQ_LOG_DEBUG : (enum pq_log_level)cfg.log_level);
	rc = run_relay(&run, conf, &cfg, &opts);
	relay_ops_stop(&run.ops);
	pq_relay_free(run.relay);
	if (run.sigfd >= 0)
		close(run.sigfd);
	pq_loop_free(run.loop);
	pq_relay_config_free(&cfg);
	return rc ? 1 : 0;
}
