/*
 * msg_fed.c - the relay-to-relay records of msg_fed.h. Strict both ways:
 * an encoder refuses what its decoder would refuse, so a relay never
 * publishes a record another relay drops.
 */
#include <string.h>

#include "proto/msg_fed.h"
#include "util/cursor.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool name_bytes_ok(const uint8_t *p, size_t len)
{
	if (len < 1 || len > PQ_FED_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char((char)p[i]))
			return false;
	return true;
}

bool pq_fed_name_valid(const char *name)
{
	return name && name_bytes_ok((const uint8_t *)name, strnlen(name, PQ_FED_NAME_MAX + 1));
}

/* Strictly ascending: sorted and no key twice, one pass. */
static bool keys_ascending(const uint8_t *keys, size_t count)
{
	for (size_t i = 1; i < count; i++)
		if (memcmp(keys + (i - 1) * PQ_PUBKEY_LEN, keys + i * PQ_PUBKEY_LEN, PQ_PUBKEY_LEN) >= 0)
			return false;
	return true;
}

bool pq_fed_watch_has(const uint8_t *watch, size_t count, const uint8_t key[PQ_PUBKEY_LEN])
{
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(watch + mid * PQ_PUBKEY_LEN, key, PQ_PUBKEY_LEN);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void write_name(struct pq_wcursor *wc, const char *name)
{
	size_t n = strlen(name);

	pq_wc_u8(wc, (uint8_t)n);
	pq_wc_bytes(wc, name, n);
}

/* The name field: length byte, then that many valid bytes into out. */
static void read_name(struct pq_rcursor *rc, char out[PQ_FED_NAME_MAX + 1], bool *ok)
{
	size_t n = pq_rc_u8(rc);
	const uint8_t *p = pq_rc_take(rc, n);

	*ok = p && name_bytes_ok(p, n);
	if (*ok) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
}

long pq_fed_presence_encode(const struct pq_fed_presence *m, uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;

	if (!pq_fed_name_valid(m->relay) || !pq_wire_addr_valid(&m->observed) ||
	    m->count > PQ_RELAY_WATCH_MAX || (m->count && !m->watch) ||
	    !keys_ascending(m->watch, m->count))
		return PQ_E_INVAL;
	pq_wc_init(&wc, out, cap);
	pq_wc_u8(&wc, PQ_FED_PRESENCE_V1);
	write_name(&wc, m->relay);
	pq_wc_u8(&wc, m->observed.family);
	pq_wc_bytes(&wc, m->observed.addr, sizeof(m->observed.addr));
	pq_wc_u16(&wc, m->observed.port);
	pq_wc_u16(&wc, (uint16_t)m->count);
	pq_wc_bytes(&wc, m->watch, m->count * PQ_PUBKEY_LEN);
	return pq_wc_finish(&wc);
}

int pq_fed_presence_decode(struct pq_fed_presence *m, const uint8_t *in, size_t len)
{
	struct pq_rcursor rc;
	bool name_ok;
	size_t count;

	memset(m, 0, sizeof(*m));
	if (!in || len < PQ_FED_PRESENCE_MIN || len > PQ_FED_PRESENCE_MAX || in[0] != PQ_FED_PRESENCE_V1)
		return PQ_E_DECODE;
	pq_rc_init(&rc, in, len);
	(void)pq_rc_u8(&rc);
	read_name(&rc, m->relay, &name_ok);
	m->observed.family = pq_rc_u8(&rc);
	pq_rc_bytes(&rc, m->observed.addr, sizeof(m->observed.addr));
	m->observed.port = pq_rc_u16(&rc);
	count = pq_rc_u16(&rc);
	/* The count must match the bytes left exactly, before any is taken. */
	if (!name_ok || count > PQ_RELAY_WATCH_MAX || pq_rc_left(&rc) != count * PQ_PUBKEY_LEN)
		goto bad;
	m->watch = count ? pq_rc_take(&rc, count * PQ_PUBKEY_LEN) : NULL;
	m->count = count;
	if (pq_rc_finish(&rc) || !pq_wire_addr_valid(&m->observed) || !keys_ascending(m->watch, count))
		goto bad;
	return 0;
bad:
	memset(m, 0, sizeof(*m));
	return PQ_E_DECODE;
}

long pq_fed_forward_encode(const struct pq_fed_forward *m, uint8_t *out, size_t cap)
{
	struct pq_wcursor wc;

	if (!pq_fed_name_valid(m->relay) || !m->payload || m->payload_len < PQ_RELAY_PAYLOAD_MIN ||
	    m->payload_len > PQ_RELAY_PAYLOAD_MAX)
		return PQ_E_INVAL;
	pq_wc_init(&wc, out, cap);
	pq_wc_u8(&wc, PQ_FED_FORWARD_V1);
	write_name(&wc, m->relay);
	pq_wc_bytes(&wc, m->src, PQ_PUBKEY_LEN);
	pq_wc_bytes(&wc, m->dst, PQ_PUBKEY_LEN);
	pq_wc_bytes(&wc, m->payload, m->payload_len);
	return pq_wc_finish(&wc);
}

int pq_fed_forward_decode(struct pq_fed_forward *m, const uint8_t *in, size_t len)
{
	struct pq_rcursor rc;
	bool name_ok;

	memset(m, 0, sizeof(*m));
	if (!in || len < PQ_FED_FORWARD_MIN || len > PQ_FED_FORWARD_MAX || in[0] != PQ_FED_FORWARD_V1)
		return PQ_E_DECODE;
	pq_rc_init(&rc, in, len);
	(void)pq_rc_u8(&rc);
	read_name(&rc, m->relay, &name_ok);
	pq_rc_bytes(&rc, m->src, PQ_PUBKEY_LEN);
	pq_rc_bytes(&rc, m->dst, PQ_PUBKEY_LEN);
	m->payload_len = pq_rc_left(&rc);
	if (!name_ok || m->payload_len < PQ_RELAY_PAYLOAD_MIN || m->payload_len > PQ_RELAY_PAYLOAD_MAX)
		goto bad;
	m->payload = pq_rc_take(&rc, m->payload_len);
	if (pq_rc_finish(&rc) || !m->payload || !memcmp(m->src, m->dst, PQ_PUBKEY_LEN))
		goto bad;
	return 0;
bad:
	memset(m, 0, sizeof(*m));
	return PQ_E_DECODE;
}

void pq_fed_key_to_hex(char out[PQ_FED_KEY_HEX_LEN + 1], const uint8_t key[PQ_PUBKEY_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < PQ_PUBKEY_LEN; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 15];
	}
	out[PQ_FED_KEY_HEX_LEN] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* uppercase too: one spelling per key */
}

int pq_fed_key_from_hex(uint8_t key[PQ_PUBKEY_LEN], const char *hex, size_t len)
{
	if (!hex || len != PQ_FED_KEY_HEX_LEN)
		return PQ_E_DECODE;
	for (size_t i = 0; i < PQ_PUBKEY_LEN; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			memset(key, 0, PQ_PUBKEY_LEN);
			return PQ_E_DECODE;
		}
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
