/*
 * control.h - the node's UNIX control socket (DESIGN §7), client side.
 *
 * Protocol: the client connects to the socket (default
 * /run/pqlan/<tap>.sock, mode 0600: root only), writes one request line,
 * "json\n" or "text\n", and reads the report until the daemon closes the
 * connection. The daemon side lives in control_sock.c (pq_control_open,
 * daemon.h), non-blocking on the daemon's loop; the report format is
 * documented in control.c.
 */
#ifndef PQ_NODE_CONTROL_H
#define PQ_NODE_CONTROL_H

#include <stdbool.h>
#include <stdio.h>

#include "util/err.h"

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

#endif
