/*
 * compress.c - ByteEncode/ByteDecode (FIPS 203 Alg. 5/6) combined with
 * Compress/Decompress (§4.2.1). Bits are packed little-endian: coefficient
 * i occupies bits d*i .. d*i + d - 1 of the byte string, as in Alg. 5;
 * for d = 5 and 11 the eight values of each d-byte group are written out.
 */
#include "crypto/mlkem/compress.h"

#include "crypto/mlkem/verify.h"
#include "crypto/mlkem/x86/avx2.h"

/* Alg. 5 with d = 12: two coefficients in three bytes. */
void pq_mlkem_poly_tobytes(uint8_t r[MLKEM_POLYBYTES], const pq_mlkem_poly *a)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_tobytes(r, a->coeffs));
	for (unsigned int i = 0; i < MLKEM_N / 2; i++) {
		uint32_t t0 = pq_mlkem_to_unsigned(a->coeffs[2 * i]);
		uint32_t t1 = pq_mlkem_to_unsigned(a->coeffs[2 * i + 1]);
		r[3 * i] = (uint8_t)t0;
		r[3 * i + 1] = (uint8_t)((t0 >> 8) | (t1 << 4));
		r[3 * i + 2] = (uint8_t)(t1 >> 4);
	}
}

/* Alg. 6 with d = 12, leaving out the final reduction mod q. */
void pq_mlkem_poly_frombytes(pq_mlkem_poly *r, const uint8_t a[MLKEM_POLYBYTES])
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_frombytes(r->coeffs, a));
	for (unsigned int i = 0; i < MLKEM_N / 2; i++) {
		const uint8_t *b = &a[3 * i];
		r->coeffs[2 * i] = (int16_t)(b[0] | ((uint16_t)(b[1] & 0x0f) << 8));
		r->coeffs[2 * i + 1] = (int16_t)((b[1] >> 4) | ((uint16_t)b[2] << 4));
	}
}

int pq_mlkem_poly_bytes_reduced(const uint8_t a[MLKEM_POLYBYTES])
{
	pq_mlkem_poly p;
	uint32_t all_below_q = 1;

	pq_mlkem_poly_frombytes(&p, a);
	for (unsigned int i = 0; i < MLKEM_N; i++)
		all_below_q &= ((uint32_t)p.coeffs[i] - MLKEM_Q) >> 31;
	return (int)all_below_q;
}

/* Alg. 5 with d = 5: eight 5-bit values in five bytes. */
void pq_mlkem_poly_compress_dv(uint8_t r[MLKEM_POLY_DV_BYTES], const pq_mlkem_poly *a)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_compress_dv(r, a->coeffs));
	for (unsigned int i = 0; i < MLKEM_N / 8; i++) {
		uint32_t t[8];
		uint8_t *o = &r[5 * i];
		for (unsigned int j = 0; j < 8; j++)
			t[j] = pq_mlkem_compress_d5(pq_mlkem_to_unsigned(a->coeffs[8 * i + j]));
		o[0] = (uint8_t)(t[0] | (t[1] << 5));
		o[1] = (uint8_t)((t[1] >> 3) | (t[2] << 2) | (t[3] << 7));
		o[2] = (uint8_t)((t[3] >> 1) | (t[4] << 4));
		o[3] = (uint8_t)((t[4] >> 4) | (t[5] << 1) | (t[6] << 6));
		o[4] = (uint8_t)((t[6] >> 2) | (t[7] << 3));
	}
}

/* Alg. 6 with d = 5, then Decompress_5. */
void pq_mlkem_poly_decompress_dv(pq_mlkem_poly *r, const uint8_t a[MLKEM_POLY_DV_BYTES])
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_decompress_dv(r->coeffs, a));
	for (unsigned int i = 0; i < MLKEM_N / 8; i++) {
		const uint8_t *b = &a[5 * i];
		uint32_t t[8];
		t[0] = b[0];
		t[1] = (uint32_t)(b[0] >> 5) | ((uint32_t)b[1] << 3);
		t[2] = (uint32_t)b[1] >> 2;
		t[3] = (uint32_t)(b[1] >> 7) | ((uint32_t)b[2] << 1);
		t[4] = (uint32_t)(b[2] >> 4) | ((uint32_t)b[3] << 4);
		t[5] = (uint32_t)b[3] >> 1;
		t[6] = (uint32_t)(b[3] >> 6) | ((uint32_t)b[4] << 2);
		t[7] = (uint32_t)b[4] >> 3;
		for (unsigned int j = 0; j < 8; j++)
			r->coeffs[8 * i + j] = pq_mlkem_decompress_d(t[j] & 31, MLKEM_DV);
	}
}

/* Alg. 5 with d = 11: eight 11-bit values in eleven bytes. */
void pq_mlkem_poly_compress_du(uint8_t r[MLKEM_POLY_DU_BYTES], const pq_mlkem_poly *a)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_compress_du(r, a->coeffs));
	for (unsigned int i = 0; i < MLKEM_N / 8; i++) {
		uint32_t t[8];
		uint8_t *o = &r[11 * i];
		for (unsigned int j = 0; j < 8; j++)
			t[j] = pq_mlkem_compress_d11(pq_mlkem_to_unsigned(a->coeffs[8 * i + j]));
		o[0] = (uint8_t)t[0];
		o[1] = (uint8_t)((t[0] >> 8) | (t[1] << 3));
		o[2] = (uint8_t)((t[1] >> 5) | (t[2] << 6));
		o[3] = (uint8_t)(t[2] >> 2);
		o[4] = (uint8_t)((t[2] >> 10) | (t[3] << 1));
		o[5] = (uint8_t)((t[3] >> 7) | (t[4] << 4));
		o[6] = (uint8_t)((t[4] >> 4) | (t[5] << 7));
		o[7] = (uint8_t)(t[5] >> 1);
		o[8] = (uint8_t)((t[5] >> 9) | (t[6] << 2));
		o[9] = (uint8_t)((t[6] >> 6) | (t[7] << 5));
		o[10] = (uint8_t)(t[7] >> 3);
	}
}

/* Alg. 6 with d = 11, then Decompress_11. */
void pq_mlkem_poly_decompress_du(pq_mlkem_poly *r, const uint8_t a[MLKEM_POLY_DU_BYTES])
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_decompress_du(r->coeffs, a));
	for (unsigned int i = 0; i < MLKEM_N / 8; i++) {
		const uint8_t *b = &a[11 * i];
		uint32_t t[8];
		t[0] = b[0] | ((uint32_t)b[1] << 8);
		t[1] = (uint32_t)(b[1] >> 3) | ((uint32_t)b[2] << 5);
		t[2] = (uint32_t)(b[2] >> 6) | ((uint32_t)b[3] << 2) | ((uint32_t)b[4] << 10);
		t[3] = (uint32_t)(b[4] >> 1) | ((uint32_t)b[5] << 7);
		t[4] = (uint32_t)(b[5] >> 4) | ((uint32_t)b[6] << 4);
		t[5] = (uint32_t)(b[6] >> 7) | ((uint32_t)b[7] << 1) | ((uint32_t)b[8] << 9);
		t[6] = (uint32_t)(b[8] >> 2) | ((uint32_t)b[9] << 6);
		t[7] = (uint32_t)(b[9] >> 5) | ((uint32_t)b[10] << 3);
		for (unsigned int j = 0; j < 8; j++)
			r->coeffs[8 * i + j] = pq_mlkem_decompress_d(t[j] & 2047, MLKEM_DU);
	}
}

/* Decompress_1: bit 1 -> round(q/2) = 1665, by mask, not by branch. */
void pq_mlkem_poly_frommsg(pq_mlkem_poly *r, const uint8_t msg[MLKEM_SYMBYTES])
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_frommsg(r->coeffs, msg));
	for (unsigned int i = 0; i < MLKEM_SYMBYTES; i++)
		for (unsigned int j = 0; j < 8; j++)
			r->coeffs[8 * i + j] = (int16_t)(pq_mlkem_mask_from_bit(msg[i] >> j) & ((MLKEM_Q + 1) / 2));
}

void pq_mlkem_poly_tomsg(uint8_t msg[MLKEM_SYMBYTES], const pq_mlkem_poly *a)
{
	PQ_MLKEM_AVX2_INSTEAD(pq_mlkem_avx2_tomsg(msg, a->coeffs));
	for (unsigned int i = 0; i < MLKEM_SYMBYTES; i++) {
		uint32_t byte = 0;
		for (unsigned int j = 0; j < 8; j++)
			byte |= pq_mlkem_compress_d1(pq_mlkem_to_unsigned(a->coeffs[8 * i + j])) << j;
		msg[i] = (uint8_t)byte;
	}
}
