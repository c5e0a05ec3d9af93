/*
 * fuzz_frag.c - libFuzzer target for DATA_FRAG (src/proto/frag.c): what a
 * peer's DATA_FRAG messages open to, fed to one reassembly, and the
 * input cut and put together again.
 *
 * Input, read twice:
 *   1. A sequence of steps, each a control byte and a piece's plaintext.
 *      Control bits 0-4: the clock moves by step[] of them before the
 *      piece (PQ_FRAG_TTL_MS and its neighbours, and back now and then);
 *      bits 5-6, where the piece comes from:
 *        0  a 2-byte big-endian length and that many bytes (fewer at the
 *           end), as they are;
 *        1  the same, but the piece gets the length its own header
 *           implies (bytes after it from the input, repeated), so the
 *           fuzzer reaches the reassembly without solving the length rule;
 *        2  one byte b: the previous step's header with index b % its
 *           count, the length that implies: a sibling piece, so wholes
 *           complete within a few steps;
 *        3  one byte b: the previous step's header with index b as it is;
 *      bit 7: the id is cut to 0..3, so wholes share ids.
 *   2. The whole input (bounded by PQ_FRAG_MAX_TOTAL, padded to
 *      PQ_DATA_GSO_MIN_LEN) as a whole to send: cut with a max_pt taken
 *      from its first bytes, the pieces added in an order its bytes
 *      shuffle, one of them twice.
 * Checks: no crash, leak or out-of-bounds access; pq_frag_decode's fields
 * are those of a valid cut; pq_frag_rx_add refuses whatever
 * pq_frag_decode refuses and otherwise answers as a naive model of the
 * contract written here does (the same result, a returned whole of
 * the length in its pieces' headers, within PQ_FRAG_MAX_TOTAL, holding
 * the piece just added at its place and byte for byte the model's); a
 * plan follows its rules; a cut whole comes back exactly, once, on its
 * last piece, and a repeated piece is refused.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "proto/frag.h"
#include "fuzz/fuzz.h"
#include "proto/frag_model.h"

#define HDR PQ_FRAG_HDR_LEN
#define MAXT PQ_FRAG_MAX_TOTAL
#define NP PQ_FRAG_MAX_PIECES

static uint8_t piece[HDR + 65536];
static uint8_t whole[MAXT];
static uint8_t cut[NP][HDR + MAXT];
static size_t cut_len[NP];

/* Clock steps, ms: small ones, the TTL and either side of it, backwards. */
static const int64_t step[32] = {
	0, 0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377,
	610, 987, 999, 1000, 1001, 1597, 2000, 2584, 4181, 10000, 65536, -1, -500, -1000, -1001, -5000,
};

static unsigned g16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static size_t ceil_div(size_t a, size_t b)
{
	return (a + b - 1) / b;
}


/* ---- 1. hostile pieces ---- */

/* The length a header implies, or 0 when its numbers give none. */
static size_t implied_len(const uint8_t *h)
{
	size_t total = g16(h + 4), ps = g16(h + 6), index = h[8], count;

	if (ps == 0 || total == 0)
		return 0;
	count = ceil_div(total, ps);
	if (index + 1 < count)
		return ps;
	if (index + 1 == count)
		return total - (count - 1) * ps;
	return 0;
}

static void run_pieces(const uint8_t *data, size_t size)
{
	struct pq_frag_rx rx;
	uint8_t last_hdr[HDR] = { 0 };
	uint64_t now = 0;
	size_t off = 0;

	memset(&rx, 0, sizeof(rx));
	frag_model_reset();
	while (off + 2 <= size) {
		unsigned ctl = data[off++], mode = (ctl >> 5) & 3;
		size_t len, n;
		const uint8_t *w = NULL, *mw = NULL;
		struct pq_frag_piece p;
		long r, mr;
		int d;

		if (mode >= 2) { /* a sibling of the previous piece */
			size_t total = g16(last_hdr + 4), ps = g16(last_hdr + 6);
			unsigned b = data[off++];

			memcpy(piece, last_hdr, HDR);
			piece[8] = (uint8_t)(mode == 2 && ps && total ? b % ceil_div(total, ps) : b);
			len = HDR;
		} else {
			if (off + 2 > size)
				break;
			len = g16(data + off);
			off += 2;
			if (len > size - off)
				len = size - off;
			memcpy(piece, data + off, len);
			off += len;
		}
		if (mode >= 1 && len >= HDR && (n = implied_len(piece)) > 0) {
			for (size_t i = len; i < HDR + n; i++)
				piece[i] = data[(off + i) % size];
			len = HDR + n;
		}
		if ((ctl & 0x80) && len >= 4) {
			memset(piece, 0, 3);
			piece[3] &= 3;
		}
		if (len >= HDR)
			memcpy(last_hdr, piece, HDR);
		if (step[ctl & 0x1f] >= 0)
			now += (uint64_t)step[ctl & 0x1f];
		else
			now = now > (uint64_t)-step[ctl & 0x1f] ? now + (uint64_t)step[ctl & 0x1f] : 0;

		d = pq_frag_decode(&p, piece, len);
		r = pq_frag_rx_add(&rx, piece, len, now, &w);
		if (d) {
			CHECK(d == PQ_E_DECODE);
			CHECK(r == PQ_E_DECODE);
			continue;
		}
		/* a decoded piece is one of a valid cut */
		CHECK(len > HDR && p.data == piece + HDR && p.len == len - HDR);
		CHECK(p.total >= PQ_DATA_GSO_MIN_LEN && p.total <= MAXT);
		CHECK(p.piece_size >= 1 && p.piece_size < p.total);
		CHECK(p.count == ceil_div(p.total, p.piece_size) && p.count >= 2 && p.count <= NP);
		CHECK(p.index < p.count);
		CHECK(p.len == (p.index + 1 < p.count ? p.piece_size : p.total - (p.count - 1) * p.piece_size));
		CHECK(p.id == ((uint32_t)piece[0] << 24 | (uint32_t)piece[1] << 16 | (uint32_t)piece[2] << 8 |
			       piece[3]));

		mr = frag_model_add(&p, now, &mw);
		CHECK(r == mr);
		if (r > 0) {
			CHECK((size_t)r == p.total && (size_t)r <= MAXT);
			CHECK(!memcmp(w + p.index * p.piece_size, p.data, p.len));
			CHECK(!memcmp(w, mw, (size_t)r));
		}
	}
	pq_frag_rx_free(&rx);
}

/* ---- 2. a round trip ---- */

static void round_trip(const uint8_t *data, size_t size)
{
	struct pq_frag_rx rx;
	size_t total = size < PQ_DATA_GSO_MIN_LEN ? PQ_DATA_GSO_MIN_LEN : size > MAXT ? MAXT : size;
	size_t ps = 0, count = 0, max_pt, room, ord[NP], dup_at, dup;
	uint32_t id = 0;
	uint64_t now;
	int r;

	if (size < 8)
		return;
	memset(whole, 0, PQ_DATA_GSO_MIN_LEN);
	memcpy(whole, data, total < size ? total : size);
	/* bit 0 of byte 2: any max_pt; else one that cuts into 2..16 */
	if (data[2] & 1) {
		max_pt = g16(data);
	} else {
		size_t lo = ceil_div(total, NP);

		max_pt = HDR + lo + g16(data) % (total - lo);
	}
	r = pq_frag_plan(total, max_pt, &ps, &count);
	room = max_pt > HDR ? max_pt - HDR : 0;
	if (room == 0 || ceil_div(total, room) > NP) {
		CHECK(r == PQ_E_TOOBIG);
		return;
	}
	if (total <= room) {
		CHECK(r == PQ_E_INVAL);
		return;
	}
	CHECK(r == 0);
	CHECK(count >= 2 && count <= NP && count == ceil_div(total, ps) && count == ceil_div(total, room));
	CHECK(ps >= 1 && HDR + ps <= max_pt);
	CHECK(ps - (total - (count - 1) * ps) < count);

	memcpy(&id, data + 3, sizeof(id));
	for (size_t i = 0; i < count; i++) {
		long n = pq_frag_encode(id, whole, total, ps, i, cut[i], sizeof(cut[i]));

		CHECK(n > HDR && (size_t)n <= max_pt);
		CHECK((size_t)n == HDR + (i + 1 < count ? ps : total - (count - 1) * ps));
		CHECK(!memcmp(cut[i] + HDR, whole + i * ps, (size_t)n - HDR));
		cut_len[i] = (size_t)n;
		ord[i] = i;
	}
	/* shuffle by the input's bytes */
	for (size_t i = count; i > 1; i--) {
		size_t j = data[(7 + i) % size] % i, t = ord[i - 1];

		ord[i - 1] = ord[j];
		ord[j] = t;
	}
	dup_at = data[7] % count;            /* after the dup_at-th add, ... */
	dup = dup_at ? data[6] % dup_at : 0; /* ... add the dup-th again */
	now = (uint64_t)g16(data + 4) << 16;
	memset(&rx, 0, sizeof(rx));
	for (size_t k = 0; k < count; k++) {
		const uint8_t *w = NULL;
		long got = pq_frag_rx_add(&rx, cut[ord[k]], cut_len[ord[k]], now, &w);

		if (k + 1 < count) {
			CHECK(got == 0);
		} else {
			CHECK(got == (long)total);
			CHECK(!memcmp(w, whole, total));
		}
		if (dup_at && k + 1 == dup_at)
			CHECK(pq_frag_rx_add(&rx, cut[ord[dup]], cut_len[ord[dup]], now, &w) == PQ_E_DECODE);
	}
	pq_frag_rx_free(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run_pieces(data, size);
	round_trip(data, size);
	return 0;
}
