/*
 * conf_url.c - the relay URL of node.conf: wss://host[:port][/path].
 *
 * RFC 6455 §3: the scheme is wss (TLS; ws:// is refused), the port
 * defaults to 443, an empty path means "/", and a fragment is not allowed.
 * The host is an IPv4 literal, a bracketed IPv6 literal (RFC 3986 §3.2.2)
 * or a DNS name (RFC 1123 §2.1 labels). A name is kept as a string: it is
 * resolved when connecting, not here.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/conf_value.h"

#define URL_EXAMPLE "wss://198.18.0.1:8443/"

/* A label of [A-Za-z0-9-], 1-63 long, not starting or ending with '-'. */
static int check_label(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return -1;
	}
	return 0;
}

/* A DNS name; digits-and-dots that are not an IPv4 address are refused
 * (a mistyped address must not be sent to the resolver). */
static int check_host_name(const char *s, size_t n, char *why, size_t why_len)
{
	size_t start = 0, i;

	if (strspn(s, "0123456789.") >= n)
		return pq_cv_fail(why, why_len, "has host \"%.*s\", which is not an IPv4 address, "
				  "expected a URL such as " URL_EXAMPLE, (int)n, s);
	if (n > PQ_CONFIG_HOST_MAX)
		return pq_cv_fail(why, why_len, "has a host name longer than %d characters, "
				  "expected a URL such as " URL_EXAMPLE, PQ_CONFIG_HOST_MAX);
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (check_label(s + start, i - start))
			return pq_cv_fail(why, why_len, "has host \"%.*s\", which is not a valid "
					  "host name, expected an IP address or a name of letters, "
					  "digits, '-' and '.' such as relay.example.org", (int)n, s);
		start = i + 1;
	}
	return 0;
}

/* Host part (without brackets) of s/n and where the port text starts;
 * *port stays NULL when there is no ':port'. */
static int split_authority(const char *s, size_t n, const char **host, size_t *host_len,
			   const char **port, char *why, size_t why_len)
{
	const char *close, *colon;

	*port = NULL;
	if (n && s[0] == '[') {
		close = memchr(s, ']', n);
		if (!close || (close + 1 < s + n && close[1] != ':'))
			return pq_cv_fail(why, why_len, "has a malformed [IPv6] host, expected a "
					  "URL such as wss://[2001:db8::1]:8443/");
		*host = s + 1;
		*host_len = (size_t)(close - s - 1);
		if (close + 1 < s + n)
			*port = close + 2;
		return 0;
	}
	colon = memchr(s, ':', n);
	if (colon && memchr(colon + 1, ':', (size_t)(s + n - colon - 1)))
		return pq_cv_fail(why, why_len, "has an IPv6 host without brackets, expected a "
				  "URL such as wss://[2001:db8::1]:8443/");
	*host = s;
	*host_len = colon ? (size_t)(colon - s) : n;
	if (colon)
		*port = colon + 1;
	if (*host_len == 0)
		return pq_cv_fail(why, why_len, "has no host, expected a URL such as " URL_EXAMPLE);
	return 0;
}

static int parse_authority(struct pq_config_url *u, const char *s, size_t n,
			   char *why, size_t why_len)
{
	const char *host = NULL, *port = NULL;
	size_t host_len = 0;
	int rc;

	if (memchr(s, '@', n))
		return pq_cv_fail(why, why_len, "has user information ('@'), expected a URL such "
				  "as " URL_EXAMPLE);
	rc = split_authority(s, n, &host, &host_len, &port, why, why_len);
	if (rc)
		return rc;
	u->port = 443;
	if (port) {
		rc = pq_cv_port(&u->port, port, (size_t)(s + n - port), false, why, why_len);
		if (rc)
			return rc;
	}
	u->host_is_ip = pq_cv_ip(&u->addr, host, host_len, u->port) == 0;
	if (s[0] == '[' && (!u->host_is_ip || u->addr.ss.ss_family != AF_INET6))
		return pq_cv_fail(why, why_len, "has \"%.*s\" in brackets, which is not an IPv6 "
				  "address, expected a URL such as wss://[2001:db8::1]:8443/",
				  (int)host_len, host);
	if (!u->host_is_ip) {
		rc = check_host_name(host, host_len, why, why_len);
		if (rc)
			return rc;
	}
	memcpy(u->host, host, host_len);
	u->host[host_len] = '\0';
	return 0;
}

/* The resource name: "/" when empty, and a leading '/' before a bare
 * "?query"; visible ASCII only. */
static int parse_path(struct pq_config_url *u, const char *s, char *why, size_t why_len)
{
	size_t n = strlen(s), i;
	const char *lead = s[0] == '/' ? "" : "/";

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return pq_cv_fail(why, why_len, "has a space or a non-ASCII character in "
					  "its path, expected a URL such as " URL_EXAMPLE);
	if (n + strlen(lead) > PQ_CONFIG_URL_PATH_MAX)
		return pq_cv_fail(why, why_len, "has a path longer than %d characters, expected a "
				  "URL such as " URL_EXAMPLE, PQ_CONFIG_URL_PATH_MAX);
	snprintf(u->path, sizeof(u->path), "%s%s", lead, s);
	return 0;
}

int pq_cv_wss_url(struct pq_config_url *out, const char *s, char *why, size_t why_len)
{
	struct pq_config_url u;
	const char *auth = s + 6;
	size_t n = strlen(s), auth_len;
	int rc;

	memset(&u, 0, sizeof(u));
	if (n > PQ_CONFIG_PATH_MAX)
		return pq_cv_fail(why, why_len, "is longer than %d characters, expected a URL "
				  "such as " URL_EXAMPLE, PQ_CONFIG_PATH_MAX);
	if (!strncasecmp(s, "ws://", 5))
		return pq_cv_fail(why, why_len, "is not encrypted (ws://), expected a wss:// URL "
				  "such as " URL_EXAMPLE);
	if (strncasecmp(s, "wss://", 6))
		return pq_cv_fail(why, why_len, "is not a wss:// URL, expected wss://host:port/path "
				  "such as " URL_EXAMPLE);
	if (strchr(s, '#'))
		return pq_cv_fail(why, why_len, "has a fragment ('#'), which WebSocket URLs may not "
				  "have, expected a URL such as " URL_EXAMPLE);
	auth_len = strcspn(auth, "/?");
	rc = parse_authority(&u, auth, auth_len, why, why_len);
	if (rc)
		return rc;
	rc = parse_path(&u, auth + auth_len, why, why_len);
	if (rc)
		return rc;
	memcpy(u.text, s, n + 1);
	*out = u;
	return 0;
}
