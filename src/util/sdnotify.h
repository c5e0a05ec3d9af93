/*
 * sdnotify.h - tell systemd how a Type=notify service is doing, without
 * libsystemd: one datagram with "READY=1", "RELOADING=1", "STOPPING=1" or
 * "STATUS=..." lines to the AF_UNIX socket named by $NOTIFY_SOCKET
 * (sd_notify(3); a leading '@' names an abstract socket). Without
 * NOTIFY_SOCKET (not under systemd) it does nothing.
 */
#ifndef PQ_UTIL_SDNOTIFY_H
#define PQ_UTIL_SDNOTIFY_H

/* Send state (newline-separated assignments). 0 sent, 1 not under
 * systemd, -1 the send failed (the caller logs; the service goes on). */
int pq_sd_notify(const char *state);

#endif
