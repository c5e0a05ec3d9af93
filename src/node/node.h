/*
 * node.h - the node daemon's public face (DESIGN §1, §7): what the
 * command line needs to run `pqlan up` and to ask a running node for its
 * status. Everything else of src/node/ is internal (node/node_int.h).
 *
 * Control socket protocol: the client connects to the socket (default
 * /run/pqlan/<tap>.sock, mode 0600: root only), writes one request line,
 * "json\n" or "text\n", and reads the report until the daemon closes the
 * connection. The daemon side is node/control_sock.c, non-blocking on the
 * daemon's loop; the report's format is documented in node/control.c.
 */
#ifndef PQ_NODE_NODE_H
#define PQ_NODE_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

/* Room for a control socket path (NUL included) and for the messages of
 * a failed configuration load. */
#define PQ_NODE_CONTROL_PATH_LEN 108
#define PQ_NODE_ERR_LEN 4096

/* What the command line adds to the configuration file. */
struct pq_node_opts {
	uint64_t test_rekey_ms;        /* PQLAN_TEST=1 only: rekey this often (0: 120 s) */
	bool verbose;                  /* -v: debug, whatever log_level says */
	uint8_t test_hs_version;       /* PQLAN_TEST=1 only: HS_INIT claims this protocol version */
};

/* Run `pqlan up` with the configuration in path (opts may be NULL): the
 * process's exit status (0 after SIGINT/SIGTERM, 1 when setup fails). */
int pq_node_main(const char *conf_path, const struct pq_node_opts *opts);

/* The client waits this long per read or write; the daemon gives a client
 * this long in all, then closes it. */
#define PQ_CONTROL_TIMEOUT_MS 2000
/* Clients the daemon serves at once; more are closed unanswered. */
#define PQ_CONTROL_MAX_CLIENTS 8
/* The longest request line. */
#define PQ_CONTROL_REQ_MAX 16

/* Ask the daemon at path for its status and copy the report to out.
 * 0, or PQ_E_IO (no daemon there, or it stopped answering; err says
 * why), PQ_E_INVAL. */
PQ_MUST_CHECK int pq_control_query(const char *path, bool json, FILE *out, char *err, size_t err_len);

/* The control socket named by the node.conf at conf_path. 0, or the
 * loader's code with its FILE:LINE messages in err. */
PQ_MUST_CHECK int pq_node_control_path(const char *conf_path, char *out, size_t cap, char *err,
				       size_t err_len);

#endif
