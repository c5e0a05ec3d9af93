/*
 * conf_value.c - value checks for the configuration files: numbers,
 * IP literals with ports, CIDR, interface and peer names, paths, public
 * keys. No DNS: addresses are IP literals read with inet_pton().
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/identity.h"
#include "util/conf_value.h"

#define IP_TEXT_MAX 46  /* INET6_ADDRSTRLEN, NUL included */

int pq_cv_fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return PQ_E_CONFIG;
}

/* Digits only into *out; -1 if a non-digit is found (*bad at it), -2 if
 * the value exceeds max. n == 0 counts as a non-digit at 0. */
static int digits(uint64_t *out, const char *s, size_t n, uint64_t max, size_t *bad)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*bad = i;
			return -1;
		}
		if (v <= max)
			v = v * 10 + (uint64_t)(s[i] - '0'); /* stops growing past max */
	}
	if (n == 0) {
		*bad = 0;
		return -1;
	}
	*out = v;
	return v > max ? -2 : 0;
}

int pq_cv_uint(uint32_t *out, const char *s, uint32_t min, uint32_t max, const char *what,
	       char *why, size_t why_len)
{
	uint64_t v = 0;
	size_t bad = 0;
	int rc = digits(&v, s, strlen(s), max, &bad);

	if (rc == -1 && bad > 0)
		return pq_cv_fail(why, why_len, "has trailing characters \"%s\" after the number, "
				  "expected a whole number of %s from %u to %u", s + bad, what,
				  min, max);
	if (rc == -1)
		return pq_cv_fail(why, why_len, "is not a number, expected a whole number of %s "
				  "from %u to %u", what, min, max);
	if (rc == -2 || v < min)
		return pq_cv_fail(why, why_len, "is out of range, expected a whole number of %s "
				  "from %u to %u", what, min, max);
	*out = (uint32_t)v;
	return 0;
}

int pq_cv_port(uint16_t *out, const char *s, size_t n, bool zero_ok, char *why, size_t why_len)
{
	uint64_t v = 0;
	size_t bad = 0;
	int rc = digits(&v, s, n, 65535, &bad);
	unsigned lo = zero_ok ? 0 : 1;

	if (n == 0)
		return pq_cv_fail(why, why_len, "has an empty port, expected a port from %u to "
				  "65535", lo);
	if (rc == -1)
		return pq_cv_fail(why, why_len, "has a port \"%.*s\" that is not a number, expected "
				  "a port from %u to 65535", (int)n, s, lo);
	if (rc == -2 || v < lo)
		return pq_cv_fail(why, why_len, "has port %.*s, expected a port from %u to 65535",
				  (int)n, s, lo);
	*out = (uint16_t)v;
	return 0;
}

int pq_cv_ip(struct pq_config_addr *out, const char *host, size_t host_len, uint16_t port)
{
	char text[IP_TEXT_MAX];
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
	struct in6_addr a6;
	struct in_addr a4;

	if (host_len >= sizeof(text))
		return PQ_E_CONFIG;
	memcpy(text, host, host_len);
	text[host_len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, &a4) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_addr = a4;
		v4->sin_port = htons(port);
		out->len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_addr = a6;
		v6->sin6_port = htons(port);
		out->len = sizeof(*v6);
		return 0;
	}
	return PQ_E_CONFIG;
}

/* Split "host:port" or "[v6]:port" into host and port text. */
static int split_hostport(const char *s, const char **host, size_t *host_len,
			  const char **port, const char *example, char *why, size_t why_len)
{
	const char *close, *colon;

	if (s[0] == '[') {
		close = strchr(s, ']');
		if (!close)
			return pq_cv_fail(why, why_len, "has no closing ']', expected [IPv6]:port "
					  "such as [::1]:7443");
		if (close[1] != ':')
			return pq_cv_fail(why, why_len, "%s after ']', expected [IPv6]:port such "
					  "as [::1]:7443", close[1] ? "has text" : "has no port");
		*host = s + 1;
		*host_len = (size_t)(close - s - 1);
		*port = close + 2;
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon)
		return pq_cv_fail(why, why_len, "has no port, expected host:port such as %s",
				  example);
	if (strchr(s, ':') != colon)
		return pq_cv_fail(why, why_len, "looks like an IPv6 address without brackets, "
				  "expected [IPv6]:port such as [::1]:7443");
	*host = s;
	*host_len = (size_t)(colon - s);
	*port = colon + 1;
	return 0;
}

int pq_cv_hostport(struct pq_config_addr *out, const char *s, bool listener,
		   const char *example, char *why, size_t why_len)
{
	const char *host = NULL, *port = NULL;
	size_t host_len = 0;
	uint16_t p;
	int rc;

	if (!s[0])
		return pq_cv_fail(why, why_len, "is empty, expected host:port such as %s", example);
	rc = split_hostport(s, &host, &host_len, &port, example, why, why_len);
	if (rc)
		return rc;
	rc = pq_cv_port(&p, port, strlen(port), listener, why, why_len);
	if (rc)
		return rc;
	if (pq_cv_ip(out, host, host_len, p))
		return pq_cv_fail(why, why_len, "has host \"%.*s\", which is not an IP address "
				  "(names are not resolved, IPv6 zones not supported), expected "
				  "host:port such as %s or [::1]:7443", (int)host_len, host, example);
	if (s[0] == '[' && out->ss.ss_family != AF_INET6)
		return pq_cv_fail(why, why_len, "has an IPv4 address in brackets, expected "
				  "host:port such as %s", example);
	return 0;
}

int pq_cv_cidr(struct pq_config_cidr *out, const char *s, char *why, size_t why_len)
{
	const char *slash = strchr(s, '/');
	struct pq_config_addr a;
	uint32_t prefix, max;
	char pwhy[160];

	if (!slash)
		return pq_cv_fail(why, why_len, "has no prefix length, expected address/prefix "
				  "such as 10.77.0.1/24");
	if (pq_cv_ip(&a, s, (size_t)(slash - s), 0))
		return pq_cv_fail(why, why_len, "has \"%.*s\", which is not an IP address, expected "
				  "address/prefix such as 10.77.0.1/24 or fd00::1/64",
				  (int)(slash - s), s);
	max = a.ss.ss_family == AF_INET ? 32 : 128;
	if (pq_cv_uint(&prefix, slash + 1, 1, max, "bits", pwhy, sizeof(pwhy)))
		return pq_cv_fail(why, why_len, "has prefix length \"%s\", which %s",
				  slash + 1, pwhy);
	memset(out, 0, sizeof(*out));
	out->family = a.ss.ss_family;
	if (out->family == AF_INET)
		memcpy(out->addr, &((struct sockaddr_in *)&a.ss)->sin_addr, 4);
	else
		memcpy(out->addr, &((struct sockaddr_in6 *)&a.ss)->sin6_addr, 16);
	out->prefix = prefix;
	return 0;
}

/* The first byte of s outside [A-Za-z0-9_.-], or NULL. */
static const char *bad_name_char(const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return s;
	}
	return NULL;
}

/* Shared by interface and peer names: 1..max of [A-Za-z0-9_.-]. */
static int check_name(const char *s, size_t max, const char *what, const char *example,
		      char *why, size_t why_len)
{
	size_t n = strlen(s);
	const char *bad = bad_name_char(s);

	if (n == 0 || n > max)
		return pq_cv_fail(why, why_len, "is %zu characters long, expected %s of 1 to %zu "
				  "characters such as %s", n, what, max, example);
	if (bad)
		return pq_cv_fail(why, why_len, "contains '%c', expected %s of letters, digits, "
				  "'_', '.' and '-' such as %s", (*bad >= 0x20 && *bad < 0x7f) ?
				  *bad : '?', what, example);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return pq_cv_fail(why, why_len, "is not a usable name, expected %s such as %s",
				  what, example);
	return 0;
}

int pq_cv_ifname(char out[PQ_CONFIG_IFNAME_MAX + 1], const char *s, char *why, size_t why_len)
{
	int rc = check_name(s, PQ_CONFIG_IFNAME_MAX, "an interface name", "pqlan0", why, why_len);

	if (!rc)
		memcpy(out, s, strlen(s) + 1);
	return rc;
}

int pq_cv_name(char out[PQ_CONFIG_NAME_MAX + 1], const char *s, char *why, size_t why_len)
{
	int rc = check_name(s, PQ_CONFIG_NAME_MAX, "a name", "bob", why, why_len);

	if (!rc)
		memcpy(out, s, strlen(s) + 1);
	return rc;
}

int pq_cv_user(char out[PQ_CONFIG_USER_MAX + 1], const char *s, char *why, size_t why_len)
{
	int rc = check_name(s, PQ_CONFIG_USER_MAX, "a user name", "pqlan", why, why_len);

	if (!rc && s[0] == '-')
		rc = pq_cv_fail(why, why_len, "starts with '-', expected a user name such as pqlan");
	if (!rc)
		memcpy(out, s, strlen(s) + 1);
	return rc;
}

int pq_cv_path(char *out, size_t cap, const char *s, bool absolute, const char *example,
	       char *why, size_t why_len)
{
	size_t n = strlen(s), i;

	if (n == 0)
		return pq_cv_fail(why, why_len, "is empty, expected a file path such as %s", example);
	if (n >= cap)
		return pq_cv_fail(why, why_len, "is %zu characters long, expected a path of at "
				  "most %zu characters such as %s", n, cap - 1, example);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return pq_cv_fail(why, why_len, "contains a control character, expected "
					  "a file path such as %s", example);
	if (absolute && s[0] != '/')
		return pq_cv_fail(why, why_len, "is a relative path, expected an absolute path "
				  "such as %s", example);
	memcpy(out, s, n + 1);
	return 0;
}

int pq_cv_pubkey(uint8_t key[32], const char *s, const char *whose, char *why, size_t why_len)
{
	size_t n = strlen(s);

	if (n != PQ_KEY_B64_LEN)
		return pq_cv_fail(why, why_len, "is %zu characters long, expected %s public key: "
				  "%d characters of base64 as printed by `pqlan pubkey`", n, whose,
				  PQ_KEY_B64_LEN);
	if (pq_key_from_base64(key, s, n))
		return pq_cv_fail(why, why_len, "is not a valid printed key, expected %s public "
				  "key: %d characters of standard base64 ending in '=' as printed "
				  "by `pqlan pubkey`", whose, PQ_KEY_B64_LEN);
	return 0;
}

int pq_cv_on_off(bool *out, const char *s, char *why, size_t why_len)
{
	if (!strcmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "off"))
		*out = false;
	else
		return pq_cv_fail(why, why_len, "is not a switch, expected on or off");
	return 0;
}
