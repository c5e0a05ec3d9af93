/*
 * indcpa.h - K-PKE, the CPA-secure encryption inside ML-KEM (FIPS 203 §5,
 * Alg. 13-15). Not for use on its own: ML-KEM (kem.c) adds the FO
 * transform. All inputs are assumed checked by the caller (kem.c).
 */
#ifndef PQ_CRYPTO_MLKEM_INDCPA_H
#define PQ_CRYPTO_MLKEM_INDCPA_H

#include <stdint.h>

#include "crypto/mlkem/params.h"

/* Alg. 13 K-PKE.KeyGen(d) */
void pq_mlkem_indcpa_keypair(uint8_t ek[MLKEM_PKE_EK_BYTES], uint8_t dk[MLKEM_PKE_DK_BYTES],
			     const uint8_t d[MLKEM_SYMBYTES]);
/* Alg. 14 K-PKE.Encrypt(ek, m, r) */
void pq_mlkem_indcpa_enc(uint8_t ct[MLKEM_CT_BYTES], const uint8_t ek[MLKEM_PKE_EK_BYTES],
			 const uint8_t m[MLKEM_SYMBYTES], const uint8_t r[MLKEM_SYMBYTES]);
/* Alg. 15 K-PKE.Decrypt(dk, c) */
void pq_mlkem_indcpa_dec(uint8_t m[MLKEM_SYMBYTES], const uint8_t dk[MLKEM_PKE_DK_BYTES],
			 const uint8_t ct[MLKEM_CT_BYTES]);

#endif
