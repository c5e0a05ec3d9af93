/*
 * conf_value.h - the value types of node.conf and relay.conf and the
 * checks that fill them (formats described in node/config.h and
 * relay/config.h; the files' syntax in util/conf_ini.h).
 *
 * Each returns 0 or PQ_E_CONFIG; on failure it writes why, which the INI
 * driver prints after `FILE:LINE: name = "value" `, so it reads "<what was
 * wrong>, expected <what>". On failure an output may be partly written.
 */
#ifndef PQ_UTIL_CONF_VALUE_H
#define PQ_UTIL_CONF_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "util/err.h"

#define PQ_CONFIG_PATH_MAX 200       /* a file path (lines are < 200 chars) */
#define PQ_CONFIG_IFNAME_MAX 15      /* IFNAMSIZ - 1 */
#define PQ_CONFIG_NAME_MAX 32        /* a peer's name */
#define PQ_CONFIG_HOST_MAX 253       /* a DNS name (RFC 1035 §2.3.4) */
#define PQ_CONFIG_URL_PATH_MAX 128   /* the relay URL's path and query */
#define PQ_CONFIG_ERR_LEN 4096       /* room for all reported messages */

/* An IP literal and port, ready for bind() or connect(). */
struct pq_config_addr {
	struct sockaddr_storage ss;   /* AF_INET or AF_INET6, port set */
	socklen_t len;
};

/* An interface address: family AF_INET (4 bytes of addr used) or AF_INET6. */
struct pq_config_cidr {
	int family;
	uint8_t addr[16];
	unsigned prefix;
};

struct pq_config_url {
	char text[PQ_CONFIG_PATH_MAX + 1];      /* as written */
	char host[PQ_CONFIG_HOST_MAX + 1];      /* no brackets; TLS server name */
	uint16_t port;                          /* 443 when not written */
	char path[PQ_CONFIG_URL_PATH_MAX + 1];  /* "/" when not written */
	bool host_is_ip;                        /* addr is valid */
	struct pq_config_addr addr;
};

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

/* A user account name to run as after set-up (util/privdrop.h): 1-32
 * of [A-Za-z0-9_.-], not starting with '-'. Whether it exists is checked
 * when it is used, not here. */
#define PQ_CONFIG_USER_MAX 32
PQ_MUST_CHECK int pq_cv_user(char out[PQ_CONFIG_USER_MAX + 1], const char *s,
			     char *why, size_t why_len);

/* "on" or "off"; anything else: PQ_E_CONFIG, why says so. */
PQ_MUST_CHECK int pq_cv_on_off(bool *out, const char *s, char *why, size_t why_len);

/* wss://host[:port][/path] (conf_url.c). */
PQ_MUST_CHECK int pq_cv_wss_url(struct pq_config_url *out, const char *s,
				char *why, size_t why_len);

/* conf_value_ops.c - values the operations keys use (issue 12). */
/* "yes" or "no". */
PQ_MUST_CHECK int pq_cv_yes_no(bool *out, const char *s, char *why, size_t why_len);
/* A unicast MAC address, XX:XX:XX:XX:XX:XX (hex, either case), not all zero. */
PQ_MUST_CHECK int pq_cv_mac(uint8_t mac[6], const char *s, char *why, size_t why_len);
/* debug, info, warn or error: a util/log.h level as an int. */
PQ_MUST_CHECK int pq_cv_log_level(int *out, const char *s, char *why, size_t why_len);

#endif
