/*
 * relay_ops.h - what `pqlan relay` adds around the relay core for its
 * operator (issue 12): the control socket `pqlan relay-status` reads, the
 * Prometheus endpoint ([relay] metrics), reload on SIGHUP (allow list and
 * log level; anything else refused, the old configuration kept) and the
 * systemd notifications (READY=1, RELOADING=1, STOPPING=1).
 *
 * Owns its two servers (net/reqsrv.h); borrows the loop and the relay.
 */
#ifndef PQ_CLI_RELAY_OPS_H
#define PQ_CLI_RELAY_OPS_H

#include <stddef.h>

#include "net/loop.h"
#include "net/reqsrv.h"
#include "relay/config.h"
#include "relay/relay.h"

struct relay_ops {
	struct pq_loop *loop;
	struct pq_relay *relay;
	const char *conf_path;
	struct pq_relay_config cfg;      /* in force: what a reload compares with */
	struct pq_reqsrv *control, *metrics;
	char control_path[PQ_RELAY_CONTROL_MAX + 1];
	int control_bound;
	int verbose;                     /* -v: debug whatever log_level says */
};

/* Start the control socket and, when configured, the metrics endpoint;
 * takes over cfg (freed by relay_ops_stop). 0, or a code with err. */
int relay_ops_start(struct relay_ops *ops, struct pq_loop *loop, struct pq_relay *relay,
		    const char *conf_path, struct pq_relay_config *cfg, char *err, size_t err_len);
/* SIGHUP: re-read conf_path and apply what can change live. */
void relay_ops_reload(struct relay_ops *ops);
/* Stop serving (at SIGTERM, so the loop can end once the relay's conns
 * have closed): both servers closed, the socket file removed. */
void relay_ops_close(struct relay_ops *ops);
/* relay_ops_close, and free the configuration. */
void relay_ops_stop(struct relay_ops *ops);

#endif
