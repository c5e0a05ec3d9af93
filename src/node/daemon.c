/*
 * daemon.c - `pqlan up`: set up from node.conf, run the loop, shut down
 * in order on SIGINT/SIGTERM (DESIGN §1, §7).
 *
 * Setup order: the configuration first (a bad file stops us with its
 * FILE:LINE message before anything touches the network), then the
 * private key (a peer with our own key is refused), the TAP with its
 * address, the control socket, and last the relay connection. Shutdown:
 * CLOSE(going away) to the relay, the TAP closed (the kernel deletes
 * it), the control socket removed, every key wiped, exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "crypto/util.h"
#include "node/harden.h"
#include "node/ifaddr.h"
#include "node/node_int.h"
#include "node/reload.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/sdnotify.h"

#define ERR_LEN PQ_CONFIG_ERR_LEN
/* Housekeeping: expired MAC entries give their room back, half-open
 * handshake slots and our own unanswered initiations (5 s lifetime) are
 * wiped, their ephemeral secrets with them. */
#define HOUSEKEEPING_MS 1000u

static void stop_timer_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	pq_log(PQ_LOG_WARN, "relay close did not finish in time; stopping anyway");
	pq_loop_stop(loop);
}

static void housekeeping_fired(struct pq_loop *loop, struct pq_timer *t, void *arg, uint64_t now_ms)
{
	struct pq_node *node = arg;

	pq_l2_expire(node->l2, now_ms);
	pq_hs_expire(&node->hs, now_ms); /* issue 11: lifetimes on the monotonic clock */
	/* issue 13: refill the handshake's precomputed ephemeral key pairs
	 * while idle (handshake.h); a failure only means the next handshake
	 * makes its own. */
	if (pq_hs_precompute(&node->hs, now_ms) < 0)
		pq_log(PQ_LOG_DEBUG, "handshake key precomputation failed; retried in %u ms", HOUSEKEEPING_MS);
	if (pq_loop_timer_start(loop, t, HOUSEKEEPING_MS))
		pq_log(PQ_LOG_ERROR, "cannot re-arm the housekeeping timer");
}

/* Close the TAP: it disappears with its last fd. */
static void node_close_tap(struct pq_node *node)
{
	if (node->tap.fd < 0)
		return;
	if (pq_loop_del(node->loop, node->tap.fd))
		pq_log(PQ_LOG_DEBUG, "tap was not watched");
	pq_tap_close(&node->tap);
}

void pq_node_stop(struct pq_node *node, const char *why, int status)
{
	if (node->life.stopping)
		return;
	pq_log(status ? PQ_LOG_ERROR : PQ_LOG_INFO, "%s: shutting down", why);
	(void)pq_sd_notify("STOPPING=1");
	node->life.stopping = true;
	node->life.exit_status = status;
	for (size_t i = 0; i < node->peer_count; i++)
		pq_loop_timer_cancel(node->loop, &node->peers[i].timer);
	pq_loop_timer_cancel(node->loop, &node->life.housekeeping);
	pq_tls_path_stop(node);
	pq_udp_path_close(node);
	for (size_t i = 0; i < node->peer_count; i++)
		pq_path_exec_reset(&node->peers[i], pq_loop_now(node->loop));
	node_close_tap(node);
	pq_control_close(node);
	pq_metrics_close(node);
	if (node->life.sig_fd >= 0 && pq_loop_del(node->loop, node->life.sig_fd))
		pq_log(PQ_LOG_DEBUG, "signalfd was not watched");
	if (!node->relay.conn) {
		pq_relay_link_stop(node);
		pq_loop_stop(node->loop);
		return;
	}
	pq_relay_link_stop(node);
	/* relay_on_close stops the loop; this bounds the wait. */
	if (pq_loop_timer_start(node->loop, &node->life.stop_timer, PQ_NODE_STOP_LINGER_MS))
		pq_loop_stop(node->loop);
}

static void signal_event(struct pq_loop *loop, int fd, unsigned events, void *arg, uint64_t now_ms)
{
	struct pq_node *node = arg;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {  /* reload (reload.c logs the outcome) */
		char answer[1024];

		(void)pq_node_reload(node, answer, sizeof(answer));
		return;
	}
	pq_node_stop(node, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM", 0);
}

static int setup_signals(struct pq_node *node, char *err, size_t err_len)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);       /* reload, not the default exit */
	/* A shell starts background jobs with SIGINT ignored, and an ignored
	 * signal never reaches a signalfd: restore the default first (it can
	 * never run, the signals are blocked below). */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (node->life.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		snprintf(err, err_len, "cannot set up signal handling");
		return PQ_E_IO;
	}
	return pq_loop_add(node->loop, node->life.sig_fd, PQ_LOOP_READ, signal_event, node);
}

/* Key, signer, TLS context, handshake state. priv is wiped here. */
static int setup_identity(struct pq_node *node, char *err, size_t err_len)
{
	struct pq_hs_callbacks cb = {
		.ctx = node,
		.lookup = pq_peer_hs_lookup,
		.index_taken = pq_peer_hs_index_taken,
	};
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	int ret;

	if ((ret = pq_key_file_load(priv, node->cfg.private_key, err, err_len)))
		goto out;
	if ((ret = pq_signer_new(&node->signer, priv)) ||
	    (ret = pq_tls_ctx_new(&node->tls, PQ_TLS_CLIENT, priv))) {
		snprintf(err, err_len, "%s: the private key is not usable: %s", node->cfg.private_key,
			 pq_strerror(ret));
		goto out;
	}
	memcpy(node->pub, pq_signer_public(node->signer), PQ_PUBKEY_LEN);
	pq_key_to_base64(node->pub_b64, node->pub);
	if ((ret = pq_peers_init(node, err, err_len)) || (ret = pq_tls_path_start(node, priv, err, err_len)))
		goto out;
	if ((ret = pq_hs_init(&node->hs, node->signer, &cb))) {
		snprintf(err, err_len, "handshake setup failed: %s", pq_strerror(ret));
		goto out;
	}
	node->hs_ready = true;
out:
	pq_wipe(priv, sizeof(priv));
	return ret;
}

static int setup_l2(struct pq_node *node, char *err, size_t err_len)
{
	struct pq_l2_limits lim;
	uint8_t key[PQ_L2_HASH_KEY_LEN];
	int ret;

	/* Every peer a reload may add (reload.c). */
	pq_l2_limits_default(&lim, PQ_CONFIG_MAX_PEERS);
	if ((ret = pq_random_bytes(key, sizeof(key))) || (ret = pq_l2_new(&node->l2, &lim, key)))
		snprintf(err, err_len, "MAC table setup failed: %s", pq_strerror(ret));
	pq_wipe(key, sizeof(key));
	if (ret || (ret = pq_node_pin_macs(node, err, err_len))) /* issue 11: allowed_mac */
		return ret;
	pq_timer_init(&node->life.housekeeping, housekeeping_fired, node);
	return pq_loop_timer_start(node->loop, &node->life.housekeeping, HOUSEKEEPING_MS);
}

static int setup_tap(struct pq_node *node, char *err, size_t err_len)
{
	struct pq_tap_opts opts = { .name = node->cfg.tap, .no_offload = !node->cfg.offload };
	int ret;

	/* Bridging (docs/bridging.md): MTU, MAC, persistence (net/tap.h). */
	opts.mtu = node->cfg.mtu;
	opts.mac = node->cfg.has_mac ? node->cfg.mac : NULL;
	opts.persist = node->cfg.tap_persist;
	if ((ret = pq_tap_open(&node->tap, &opts, err, err_len)))
		return ret;
	if (node->tap.existed)
		pq_log(PQ_LOG_INFO, "tap %s: attached to the existing TAP (left in place at exit)",
		       node->tap.name);
	/* Logged once: without offloads every frame is one MTU-sized read. */
	if (!node->cfg.offload)
		pq_log(PQ_LOG_INFO, "tap %s: offload = off: frames go one by one", node->tap.name);
	else if (!node->tap.offload)
		pq_log(PQ_LOG_WARN, "tap %s: the kernel refused TSO/checksum offload (TUNSETOFFLOAD); "
		       "frames go one by one", node->tap.name);
	if (node->cfg.has_address &&
	    (ret = pq_ifaddr_add(node->tap.name, node->tap.ifindex, &node->cfg.address, err, err_len)))
		return ret;
	if ((ret = pq_tap_set_up(&node->tap, true, err, err_len)))
		return ret;
	if ((ret = pq_loop_add(node->loop, node->tap.fd, PQ_LOOP_READ, pq_datapath_tap_event, node)))
		snprintf(err, err_len, "cannot watch the TAP: %s", pq_strerror(ret));
	return ret;
}

static int node_setup(struct pq_node *node, const char *conf_path, char *err, size_t err_len)
{
	int ret;

	if ((ret = pq_node_config_load(&node->cfg, conf_path, err, err_len)))
		return ret;
	if (!node->opts.verbose)       /* -v wins over log_level */
		pq_log_set_level((enum pq_log_level)node->cfg.log_level);
	if ((ret = setup_identity(node, err, err_len)))
		return ret;
	pq_node_fd_budget(node); /* issue 11: before any fd the budget counts */
	if ((ret = pq_loop_new(&node->loop))) {
		snprintf(err, err_len, "event loop: %s", pq_strerror(ret));
		return ret;
	}
	pq_timer_init(&node->life.stop_timer, stop_timer_fired, node);
	if ((ret = setup_signals(node, err, err_len)) || (ret = setup_l2(node, err, err_len)) ||
	    (ret = setup_tap(node, err, err_len)) || (ret = pq_control_open(node, err, err_len)) ||
	    (ret = pq_metrics_open(node, err, err_len)) || (ret = pq_tls_path_listen(node, err, err_len)) ||
	    (ret = pq_udp_path_open(node, err, err_len)))
		return ret;
	/* issue 11: everything privileged is done (TAP, address, binds): drop */
	if ((ret = pq_node_drop_privileges(node, err, err_len)))
		return ret;
	pq_log(PQ_LOG_INFO, "node %s up on %s, %zu peer(s), relay %s", node->pub_b64, node->tap.name,
	       node->peer_count, node->cfg.relay_url.text);
	pq_relay_link_start(node);
	/* systemd Type=notify: the TAP is up and configured. */
	if (pq_sd_notify("READY=1") < 0)
		pq_log(PQ_LOG_WARN, "cannot notify systemd ($NOTIFY_SOCKET)");
	return 0;
}

static void node_teardown(struct pq_node *node)
{
	if (node->relay.conn) {
		pq_conn_abort(node->relay.conn);
		node->relay.conn = NULL;
	}
	if (node->loop) {
		pq_loop_timer_cancel(node->loop, &node->relay.timer);
		pq_loop_timer_cancel(node->loop, &node->life.stop_timer);
		pq_loop_timer_cancel(node->loop, &node->life.housekeeping);
		node_close_tap(node);
		pq_control_close(node);
		pq_metrics_close(node);
	} else {
		pq_tap_close(&node->tap);
	}
	pq_dconn_free_all(node);
	pq_tls_path_free(node);
	pq_udp_path_close(node);
	pq_peers_free(node);
	if (node->hs_ready)
		pq_hs_wipe(&node->hs);
	pq_l2_free(node->l2);
	pq_signer_free(node->signer);
	pq_tls_ctx_free(node->tls);
	if (node->life.sig_fd >= 0)
		close(node->life.sig_fd);
	pq_loop_free(node->loop);
	pq_node_config_free(&node->cfg);
}

int pq_node_main(const char *conf_path, const struct pq_node_opts *opts)
{
	static struct pq_node node; /* large scratch buffers: not on the stack */
	char err[ERR_LEN] = "";
	int ret, status = 1;

	memset(&node, 0, sizeof(node));
	node.tap.fd = -1;
		node.life.sig_fd = -1;
	node.udp.fd = -1;
	if (opts)
		node.opts = *opts;
	node.conf_path = conf_path;
	if ((ret = node_setup(&node, conf_path, err, sizeof(err)))) {
		fprintf(stderr, "pqlan up: %s\n", err[0] ? err : pq_strerror(ret));
		goto out;
	}
	if ((ret = pq_loop_run(node.loop))) {
		pq_log(PQ_LOG_ERROR, "event loop failed: %s", pq_strerror(ret));
		goto out;
	}
	status = node.life.stopping ? node.life.exit_status : 1;
	pq_log(PQ_LOG_INFO, "stopped");
out:
	node_teardown(&node);
	return status;
}
