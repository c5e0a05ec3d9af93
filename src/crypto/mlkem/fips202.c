/*
 * fips202.c - Keccak-f[1600] (FIPS 202 §3) and the sponge (§4) for
 * SHA3-256/512 and SHAKE128/256 (§6). Portable C, little-endian lane
 * order by explicit byte shifts so it is correct on any host.
 */
#include "crypto/mlkem/fips202.h"

#include "crypto/mlkem/verify.h"

#define ROL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/* Round constants for iota (FIPS 202 Alg. 5/6); the AVX2 4-way
 * permutation uses them too. */
const uint64_t pq_keccak_round_consts[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/*
 * Lane complementing (Keccak team, "Keccak implementation overview" §2.2):
 * the permutation keeps lanes 1, 2, 8, 12, 17 and 20 complemented, which
 * lets chi (FIPS 202 §3.2.4, a ^ (~b & c)) be written with one NOT per
 * row instead of five. The and/or pattern of each row below follows from
 * that complement set (derived by checking all 8 input combinations per
 * lane); the SHA3/SHAKE tests against OpenSSL confirm the whole.
 *
 * rho + pi (§3.2.2-3): output lane (X, Y) comes from input lane
 * (x, y) = ((X + 3Y) mod 5, X) rotated by that lane's rho offset; the
 * source index and offset of each lane are written out as constants.
 */
#define COMPLEMENTED_LANES(f) f(1) f(2) f(8) f(12) f(17) f(20)
#define COMPLEMENT_LANE(i) lanes[i] = ~lanes[i];

/* One round: theta, rho, pi, chi, iota from a into e (both complemented). */
static inline __attribute__((always_inline)) void keccak_round(uint64_t e[25], const uint64_t a[25],
							       uint64_t rc)
{
	uint64_t c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];
	uint64_t c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];
	uint64_t c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];
	uint64_t c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];
	uint64_t c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];
	uint64_t d0 = c4 ^ ROL64(c1, 1);
	uint64_t d1 = c0 ^ ROL64(c2, 1);
	uint64_t d2 = c1 ^ ROL64(c3, 1);
	uint64_t d3 = c2 ^ ROL64(c4, 1);
	uint64_t d4 = c3 ^ ROL64(c0, 1);
	uint64_t b0, b1, b2, b3, b4, nb;

	b0 = a[0] ^ d0;
	b1 = ROL64(a[6] ^ d1, 44);
	b2 = ROL64(a[12] ^ d2, 43);
	b3 = ROL64(a[18] ^ d3, 21);
	b4 = ROL64(a[24] ^ d4, 14);
	nb = ~b2;
	e[0] = b0 ^ (b1 | b2) ^ rc;
	e[1] = b1 ^ (nb | b3);
	e[2] = b2 ^ (b3 & b4);
	e[3] = b3 ^ (b4 | b0);
	e[4] = b4 ^ (b0 & b1);

	b0 = ROL64(a[3] ^ d3, 28);
	b1 = ROL64(a[9] ^ d4, 20);
	b2 = ROL64(a[10] ^ d0, 3);
	b3 = ROL64(a[16] ^ d1, 45);
	b4 = ROL64(a[22] ^ d2, 61);
	nb = ~b4;
	e[5] = b0 ^ (b1 | b2);
	e[6] = b1 ^ (b2 & b3);
	e[7] = b2 ^ (b3 | nb);
	e[8] = b3 ^ (b4 | b0);
	e[9] = b4 ^ (b0 & b1);

	b0 = ROL64(a[1] ^ d1, 1);
	b1 = ROL64(a[7] ^ d2, 6);
	b2 = ROL64(a[13] ^ d3, 25);
	b3 = ROL64(a[19] ^ d4, 8);
	b4 = ROL64(a[20] ^ d0, 18);
	nb = ~b3;
	e[10] = b0 ^ (b1 | b2);
	e[11] = b1 ^ (b2 & b3);
	e[12] = b2 ^ (nb & b4);
	e[13] = nb ^ (b4 | b0);
	e[14] = b4 ^ (b0 & b1);

	b0 = ROL64(a[4] ^ d4, 27);
	b1 = ROL64(a[5] ^ d0, 36);
	b2 = ROL64(a[11] ^ d1, 10);
	b3 = ROL64(a[17] ^ d2, 15);
	b4 = ROL64(a[23] ^ d3, 56);
	nb = ~b3;
	e[15] = b0 ^ (b1 & b2);
	e[16] = b1 ^ (b2 | b3);
	e[17] = b2 ^ (nb | b4);
	e[18] = nb ^ (b4 & b0);
	e[19] = b4 ^ (b0 | b1);

	b0 = ROL64(a[2] ^ d2, 62);
	b1 = ROL64(a[8] ^ d3, 55);
	b2 = ROL64(a[14] ^ d4, 39);
	b3 = ROL64(a[15] ^ d0, 41);
	b4 = ROL64(a[21] ^ d1, 2);
	nb = ~b1;
	e[20] = b0 ^ (nb & b2);
	e[21] = nb ^ (b2 | b3);
	e[22] = b2 ^ (b3 & b4);
	e[23] = b3 ^ (b4 | b0);
	e[24] = b4 ^ (b0 & b1);
}

/* FIPS 202 Alg. 7, Keccak-p[1600, 24]. Two rounds per step so the state
 * ping-pongs between two local arrays without a copy. */
void pq_keccak_f1600(uint64_t lanes[25])
{
	uint64_t a[25], e[25];

	COMPLEMENTED_LANES(COMPLEMENT_LANE)
	memcpy(a, lanes, sizeof(a));
	for (int r = 0; r < 24; r += 2) {
		keccak_round(e, a, pq_keccak_round_consts[r]);
		keccak_round(a, e, pq_keccak_round_consts[r + 1]);
	}
	memcpy(lanes, a, sizeof(a));
	COMPLEMENTED_LANES(COMPLEMENT_LANE)
}

/* Lanes are little-endian (FIPS 202 §B.1). On a little-endian host a
 * memcpy is that conversion and compiles to one move. */
static uint64_t load64_le(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
#else
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
#endif
}

static void store64_le(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, sizeof(v));
#else
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static void keccak_init(pq_keccak_state *st, unsigned int rate, uint8_t domain)
{
	memset(st->lanes, 0, sizeof(st->lanes));
	st->pos = 0;
	st->rate = rate;
	st->domain = domain;
}

void pq_shake128_init(pq_keccak_state *st)
{
	keccak_init(st, PQ_SHAKE128_RATE, 0x1f);
}

void pq_shake256_init(pq_keccak_state *st)
{
	keccak_init(st, PQ_SHAKE256_RATE, 0x1f);
}

static void xor_byte(pq_keccak_state *st, unsigned int i, uint8_t b)
{
	st->lanes[i / 8] ^= (uint64_t)b << (8 * (i % 8));
}

/* Sponge absorb (FIPS 202 Alg. 8): whole blocks lane by lane, the rest
 * byte by byte. */
void pq_keccak_absorb(pq_keccak_state *st, const uint8_t *in, size_t len)
{
	while (len > 0) {
		if (st->pos == 0 && len >= st->rate) {
			for (unsigned int i = 0; i < st->rate / 8; i++)
				st->lanes[i] ^= load64_le(in + 8 * i);
			pq_keccak_f1600(st->lanes);
			in += st->rate;
			len -= st->rate;
			continue;
		}
		size_t take = st->rate - st->pos;
		if (take > len)
			take = len;
		for (size_t i = 0; i < take; i++)
			xor_byte(st, st->pos + (unsigned int)i, in[i]);
		st->pos += (unsigned int)take;
		in += take;
		len -= take;
		if (st->pos == st->rate) {
			pq_keccak_f1600(st->lanes);
			st->pos = 0;
		}
	}
}

/* pad10*1 with the domain bits (FIPS 202 §5.1, §6.1-6.2); afterwards the
 * state is ready to squeeze, with no output bytes available yet. */
void pq_keccak_finalize(pq_keccak_state *st)
{
	xor_byte(st, st->pos, st->domain);
	xor_byte(st, st->rate - 1, 0x80);
	st->pos = st->rate;
}

void pq_keccak_squeeze(pq_keccak_state *st, uint8_t *out, size_t len)
{
	while (len > 0) {
		if (st->pos == st->rate) {
			pq_keccak_f1600(st->lanes);
			st->pos = 0;
		}
		if (st->pos == 0 && len >= st->rate) {
			for (unsigned int i = 0; i < st->rate / 8; i++)
				store64_le(out + 8 * i, st->lanes[i]);
			st->pos = st->rate;
			out += st->rate;
			len -= st->rate;
			continue;
		}
		size_t take = st->rate - st->pos;
		if (take > len)
			take = len;
		for (size_t i = 0; i < take; i++) {
			unsigned int j = st->pos + (unsigned int)i;
			out[i] = (uint8_t)(st->lanes[j / 8] >> (8 * (j % 8)));
		}
		st->pos += (unsigned int)take;
		out += take;
		len -= take;
	}
}

void pq_keccak_wipe(pq_keccak_state *st)
{
	pq_mlkem_wipe(st, sizeof(*st));
}

static void sha3(uint8_t *out, size_t outlen, unsigned int rate, const uint8_t *in, size_t len)
{
	pq_keccak_state st;

	keccak_init(&st, rate, 0x06);
	pq_keccak_absorb(&st, in, len);
	pq_keccak_finalize(&st);
	pq_keccak_squeeze(&st, out, outlen);
	pq_keccak_wipe(&st);
}

void pq_sha3_256(uint8_t out[32], const uint8_t *in, size_t len)
{
	sha3(out, 32, PQ_SHA3_256_RATE, in, len);
}

void pq_sha3_512(uint8_t out[64], const uint8_t *in, size_t len)
{
	sha3(out, 64, PQ_SHA3_512_RATE, in, len);
}

void pq_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
	pq_keccak_state st;

	pq_shake256_init(&st);
	pq_keccak_absorb(&st, in, inlen);
	pq_keccak_finalize(&st);
	pq_keccak_squeeze(&st, out, outlen);
	pq_keccak_wipe(&st);
}
