/*
 * reload.h - reload without outage (issue 12; DESIGN §7): SIGHUP or
 * `pqlan reload` re-reads the node's configuration file and applies what
 * can change live, without touching the sessions of unchanged peers:
 *
 *   [peer] added       a new slot, announced to the relay (the relay link
 *                      reconnects at once to send the new RELAY_WATCH; the
 *                      sessions of the other peers survive it, as they
 *                      survive any relay loss, and keep their handshake)
 *   [peer] removed     its direct conns closed, session and handshake
 *                      state wiped, MAC entries forgotten; its slot stays
 *                      (timers and conns point into the peer array) as a
 *                      tombstone (removed) that no lookup, report or
 *                      RELAY_WATCH sees
 *   [peer] changed     name, endpoint, path, transport: the new values; a
 *                      new path policy, transport or endpoint restarts the
 *                      peer's direct path (path_exec.c; session kept)
 *   retry_interval, reauth_interval, keepalive_udp: into every path core;
 *   log_level: at once
 *
 * Anything else that differs (private_key, tap, address, listen,
 * listen_udp, stun, control, metrics, offload, tap_persist, mac, mtu, the
 * relay's url, key or stun) is refused, naming the keys, and nothing
 * changes; so does a file that does not load. systemd hears RELOADING=1
 * then READY=1.
 */
#ifndef PQ_NODE_RELOAD_H
#define PQ_NODE_RELOAD_H

#include <stddef.h>

struct pq_node;

/* Reload node->conf_path. The answer for `pqlan reload` goes into out
 * (cap bytes, NUL-terminated; starts with "ok" or "refused") and is
 * logged. Returns its length. */
size_t pq_node_reload(struct pq_node *node, char *out, size_t cap);

#endif
