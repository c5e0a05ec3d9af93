/*
 * params.h - ML-KEM-1024 parameter set (FIPS 203 §8, Table 2) and the byte
 * sizes that follow from it. pqlan implements only ML-KEM-1024.
 */
#ifndef PQ_CRYPTO_MLKEM_PARAMS_H
#define PQ_CRYPTO_MLKEM_PARAMS_H

#define MLKEM_N 256
#define MLKEM_Q 3329
#define MLKEM_K 4
#define MLKEM_ETA1 2
#define MLKEM_ETA2 2
#define MLKEM_DU 11
#define MLKEM_DV 5

#define MLKEM_SYMBYTES 32                       /* seeds, hashes, shared keys */
#define MLKEM_POLYBYTES 384                     /* ByteEncode12 of one polynomial */
#define MLKEM_POLYVECBYTES (MLKEM_K * MLKEM_POLYBYTES)
#define MLKEM_POLY_DU_BYTES (32 * MLKEM_DU)     /* ByteEncode11: 352 */
#define MLKEM_POLY_DV_BYTES (32 * MLKEM_DV)     /* ByteEncode5: 160 */
#define MLKEM_POLYVEC_DU_BYTES (MLKEM_K * MLKEM_POLY_DU_BYTES)
#define MLKEM_CBD_BYTES (64 * MLKEM_ETA1)       /* PRF output for SamplePolyCBD: 128 */

/* K-PKE (FIPS 203 §5) */
#define MLKEM_PKE_EK_BYTES (MLKEM_POLYVECBYTES + MLKEM_SYMBYTES)          /* 1568 */
#define MLKEM_PKE_DK_BYTES MLKEM_POLYVECBYTES                              /* 1536 */
#define MLKEM_CT_BYTES (MLKEM_POLYVEC_DU_BYTES + MLKEM_POLY_DV_BYTES)     /* 1568 */

/* ML-KEM (FIPS 203 §6): dk = dk_pke || ek || H(ek) || z */
#define MLKEM_EK_BYTES MLKEM_PKE_EK_BYTES
#define MLKEM_DK_BYTES (MLKEM_PKE_DK_BYTES + MLKEM_EK_BYTES + 2 * MLKEM_SYMBYTES) /* 3168 */
#define MLKEM_DK_EK_OFFSET MLKEM_PKE_DK_BYTES
#define MLKEM_DK_H_OFFSET (MLKEM_PKE_DK_BYTES + MLKEM_EK_BYTES)
#define MLKEM_DK_Z_OFFSET (MLKEM_DK_H_OFFSET + MLKEM_SYMBYTES)

#endif
