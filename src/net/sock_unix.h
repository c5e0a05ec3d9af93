/*
 * sock_unix.h - a daemon's UNIX control socket file: parent directories
 * made 0755 (so `pqlan relay-status` finds it), a stale socket (nobody
 * answers) replaced, a live one refused, the socket born 0600. Used by
 * the relay's control socket (cli/relay_ops.c) and the node's
 * (node/control_sock.c).
 */
#ifndef PQ_NET_SOCK_UNIX_H
#define PQ_NET_SOCK_UNIX_H

#include <stddef.h>

#include "util/err.h"

/* A listening, non-blocking stream socket at path in *fd_out. 0, or
 * PQ_E_INVAL (path too long), PQ_E_IO with the reason in err
 * ("... another daemon is running with this socket"). */
PQ_MUST_CHECK int pq_sock_listen_unix(int *fd_out, const char *path, char *err, size_t err_len);

#endif
