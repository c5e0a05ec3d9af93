/*
 * conf_value_ops.c - value checks for the operations keys (tap_persist,
 * mac, log_level); conf_value.h has the contract.
 */
#include <stdio.h>
#include <string.h>

#include "util/conf_value.h"
#include "util/log.h"

int pq_cv_yes_no(bool *out, const char *s, char *why, size_t why_len)
{
	if (!strcmp(s, "yes"))
		*out = true;
	else if (!strcmp(s, "no"))
		*out = false;
	else
		return pq_cv_fail(why, why_len, "is not yes or no, expected yes or no");
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pq_cv_mac(uint8_t mac[6], const char *s, char *why, size_t why_len)
{
	uint8_t m[6];
	int hi, lo;

	if (strlen(s) != 17)
		goto bad;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;

		if ((hi = hex_digit(p[0])) < 0 || (lo = hex_digit(p[1])) < 0 || (i < 5 && p[2] != ':'))
			goto bad;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	/* IEEE 802 §8.2: the I/G bit of the first octet marks a group address. */
	if (m[0] & 1)
		return pq_cv_fail(why, why_len, "is a multicast MAC, expected a unicast one "
				  "(first octet even, e.g. 02:00:00:00:00:01)");
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return pq_cv_fail(why, why_len, "is the all-zero MAC, expected a real address "
				  "(e.g. 02:00:00:00:00:01)");
	memcpy(mac, m, sizeof(m));
	return 0;
bad:
	return pq_cv_fail(why, why_len, "is not a MAC address, expected six hex pairs like "
			  "02:00:00:00:00:01");
}

int pq_cv_log_level(int *out, const char *s, char *why, size_t why_len)
{
	enum pq_log_level level;

	if (pq_log_level_parse(s, &level))
		return pq_cv_fail(why, why_len, "is not a log level, expected debug, info, warn or error");
	*out = (int)level;
	return 0;
}
