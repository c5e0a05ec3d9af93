/*
 * ctl_client.h - the client side of the daemons' control sockets, for
 * `pqlan status`, `pqlan reload` and `pqlan relay-status`: connect, send
 * one request line, copy the reply to a FILE until the daemon closes.
 * Each read or write waits at most PQ_CONTROL_TIMEOUT_MS (node/node.h).
 *
 * Errors say what happened in the operator's words ("no daemon is
 * listening on PATH", "PATH: the daemon did not answer within 2 s"),
 * never a bare errno text.
 */
#ifndef PQ_CLI_CTL_CLIENT_H
#define PQ_CLI_CTL_CLIENT_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

/* Send req (one line, with its "\n") to the socket at path and copy the
 * reply to out. 0, or PQ_E_IO / PQ_E_INVAL / PQ_E_TIMEOUT-like PQ_E_AGAIN
 * with the reason in err. An empty reply is an error. */
PQ_MUST_CHECK int cli_ctl_request(const char *path, const char *req, FILE *out, char *err,
				  size_t err_len);

/* The control socket named by a node.conf: [node] control, else
 * /run/pqlan/<tap>.sock. The whole file is checked first; when it does not
 * load (being edited, say) only those two keys are read, and *lenient is
 * set so the caller can say so. 0, or PQ_E_CONFIG / PQ_E_IO with err. */
PQ_MUST_CHECK int cli_node_socket(const char *conf, char *out, size_t cap, int *lenient,
				  char *err, size_t err_len);

#endif
