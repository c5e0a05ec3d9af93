/*
 * mlkem.h - ML-KEM-1024 (FIPS 203), pqlan's own implementation.
 *
 * This API is a contract: other code and outside checks link against it
 * through build/libpqlan.a. Every function returns 0 on success or a
 * negative PQ_E_* code. Callers own every buffer. Secrets on the stack are
 * wiped before return; no branch, index or division depends on a secret.
 *
 * encaps refuses an ek that fails the FIPS 203 §7.2 check (PQ_E_KEY);
 * decaps refuses a dk that fails the §7.3 check (PQ_E_KEY). A wrong
 * ciphertext is not an error: decaps then yields the implicit-rejection key.
 */
#ifndef PQ_CRYPTO_MLKEM_H
#define PQ_CRYPTO_MLKEM_H

#include <stdint.h>

#define PQ_MLKEM1024_EK_LEN 1568
#define PQ_MLKEM1024_DK_LEN 3168
#define PQ_MLKEM1024_CT_LEN 1568
#define PQ_MLKEM_SS_LEN 32

/* FIPS 203 Alg. 16 KeyGen_internal(d, z). Errors: PQ_E_INVAL (NULL). */
int pq_mlkem1024_keypair_derand(uint8_t ek[1568], uint8_t dk[3168], const uint8_t d[32], const uint8_t z[32]);
/* Alg. 19, d and z from getrandom(2). Errors: PQ_E_INVAL, PQ_E_RANDOM. */
int pq_mlkem1024_keypair(uint8_t ek[1568], uint8_t dk[3168]);
/* §7.2 check, then Alg. 17 Encaps_internal(ek, m). Errors: PQ_E_INVAL, PQ_E_KEY. */
int pq_mlkem1024_encaps_derand(uint8_t ct[1568], uint8_t ss[32], const uint8_t ek[1568], const uint8_t m[32]);
/* Alg. 20 (m from getrandom(2)). Errors: PQ_E_INVAL, PQ_E_KEY, PQ_E_RANDOM. */
int pq_mlkem1024_encaps(uint8_t ct[1568], uint8_t ss[32], const uint8_t ek[1568]);
/* Alg. 21: §7.3 check, then Alg. 18 Decaps_internal. Errors: PQ_E_INVAL, PQ_E_KEY. */
int pq_mlkem1024_decaps(uint8_t ss[32], const uint8_t ct[1568], const uint8_t dk[3168]);
int pq_mlkem1024_check_ek(const uint8_t ek[1568]);   /* FIPS 203 §7.2 */
int pq_mlkem1024_check_dk(const uint8_t dk[3168]);   /* FIPS 203 §7.3 */

#endif
