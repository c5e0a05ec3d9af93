/*
 * identity.h - printed keys and key files.
 *
 * A key's printed form is standard base64 (RFC 4648 §4) of its 32 bytes:
 * 44 characters ending in one '='. Decoding is strict (exact length,
 * canonical padding, no stray characters) and does not branch on the key's
 * value. A key file holds one printed private key and an optional newline;
 * it must not be readable or writable by group or others.
 */
#ifndef PQ_CRYPTO_IDENTITY_H
#define PQ_CRYPTO_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PQ_KEY_B64_LEN 44   /* without the terminating NUL */

/* out receives 45 bytes: 44 characters and a NUL. */
void pq_key_to_base64(char out[PQ_KEY_B64_LEN + 1], const uint8_t key[32]);
/* PQ_E_DECODE unless s is exactly one canonical printed key (len chars). */
PQ_MUST_CHECK int pq_key_from_base64(uint8_t key[32], const char *s, size_t len);

/* Read a private key file: a regular file, no access for group or others,
 * owned by the running user or root. On error returns a negative code and
 * writes a message naming the file, the problem and the fix into err. A
 * parent directory others may write to is logged as a warning
 * (pq_key_dir_unsafe). */
PQ_MUST_CHECK int pq_key_file_load(uint8_t key[32], const char *path, char *err, size_t err_len);
/* Whether the directory holding path is writable by group or others (and
 * not sticky): then true, and why says so and how to fix it. */
bool pq_key_dir_unsafe(const char *path, char *why, size_t why_len);

#endif
