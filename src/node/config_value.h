/*
 * config_value.h - checks and conversions for the values of node.conf and
 * relay.conf (formats described in node/config.h).
 *
 * Each returns 0 or PQ_E_CONFIG; on failure it writes why, which the INI
 * driver prints after `FILE:LINE: name = "value" `, so it reads "<what was
 * wrong>, expected <what>". On failure an output may be partly written.
 */
#ifndef PQ_NODE_CONFIG_VALUE_H
#define PQ_NODE_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/config.h"

/* Write why; returns PQ_E_CONFIG. */
int pq_cv_fail(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Only the digits 0-9, at most max. what names the unit ("seconds"). */
PQ_MUST_CHECK int pq_cv_uint(uint32_t *out, const char *s, uint32_t min, uint32_t max,
			     const char *what, char *why, size_t why_len);

/* IPv4:port or [IPv6]:port. listener: port 0 allowed. example is shown
 * in messages ("0.0.0.0:7443"). */
PQ_MUST_CHECK int pq_cv_hostport(struct pq_config_addr *out, const char *s, bool listener,
				 const char *example, char *why, size_t why_len);

/* A port of n bytes at s: 1-65535, or 0-65535 if zero_ok. */
PQ_MUST_CHECK int pq_cv_port(uint16_t *out, const char *s, size_t n, bool zero_ok,
			     char *why, size_t why_len);

/* Fill a sockaddr from an IP literal (host_len bytes, no brackets). */
PQ_MUST_CHECK int pq_cv_ip(struct pq_config_addr *out, const char *host, size_t host_len,
			   uint16_t port);

PQ_MUST_CHECK int pq_cv_cidr(struct pq_config_cidr *out, const char *s,
			     char *why, size_t why_len);
PQ_MUST_CHECK int pq_cv_ifname(char out[PQ_CONFIG_IFNAME_MAX + 1], const char *s,
			       char *why, size_t why_len);
PQ_MUST_CHECK int pq_cv_name(char out[PQ_CONFIG_NAME_MAX + 1], const char *s,
			     char *why, size_t why_len);

/* A file path of at most cap - 1 bytes without control characters;
 * absolute: it must start with '/'. */
PQ_MUST_CHECK int pq_cv_path(char *out, size_t cap, const char *s, bool absolute,
			     const char *example, char *why, size_t why_len);

/* A printed public key (pq_key_from_base64); whose: "the peer's". */
PQ_MUST_CHECK int pq_cv_pubkey(uint8_t key[32], const char *s, const char *whose,
			       char *why, size_t why_len);

/* "on" or "off"; anything else: PQ_E_CONFIG, why says so. */
PQ_MUST_CHECK int pq_cv_on_off(bool *out, const char *s, char *why, size_t why_len);
PQ_MUST_CHECK int pq_cv_path_mode(enum pq_config_path *out, const char *s,
				  char *why, size_t why_len);

/* wss://host[:port][/path] (config_url.c). */
PQ_MUST_CHECK int pq_cv_wss_url(struct pq_config_url *out, const char *s,
				char *why, size_t why_len);

#endif
