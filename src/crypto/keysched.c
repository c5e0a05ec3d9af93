/*
 * keysched.c - the hybrid combiner and key schedule (DESIGN §3).
 *
 *   ikm = ss_mlkem || ss_x25519
 *   prk = HKDF-Extract(salt = transcript hash, ikm)        RFC 5869 §2.2
 *   key = HKDF-Expand(prk, label, len)                     RFC 5869 §2.3
 *
 * Labels (ASCII, no terminating NUL), one per purpose:
 *   "pqlan v1 key i2r"      traffic key, initiator -> responder
 *   "pqlan v1 key r2i"      traffic key, responder -> initiator
 *   "pqlan v1 confirm i2r"  handshake key-confirmation MAC key
 *   "pqlan v1 confirm r2i"
 *   "pqlan v1 rehs i2r"     re-handshake MAC key (DESIGN §5)
 *   "pqlan v1 rehs r2i"
 *   "pqlan v1 session id"   16-byte session identifier
 */
#include <stddef.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/keysched.h"
#include "crypto/util.h"

struct label_out {
	const char *label;
	size_t offset;
	size_t len;
};

#define OUT(label, field) \
	{ label, offsetof(struct pq_session_keys, field), sizeof(((struct pq_session_keys *)0)->field) }

static const struct label_out outputs[] = {
	OUT("pqlan v1 key i2r", key_i2r),
	OUT("pqlan v1 key r2i", key_r2i),
	OUT("pqlan v1 confirm i2r", confirm_i2r),
	OUT("pqlan v1 confirm r2i", confirm_r2i),
	OUT("pqlan v1 rehs i2r", rehs_i2r),
	OUT("pqlan v1 rehs r2i", rehs_r2i),
	OUT("pqlan v1 session id", session_id),
};

int pq_key_schedule(struct pq_session_keys *out, const uint8_t ss_mlkem[32],
		    const uint8_t ss_x25519[32], const uint8_t transcript_hash[32])
{
	uint8_t ikm[64], prk[PQ_SHA256_LEN];
	int ret;

	memcpy(ikm, ss_mlkem, 32);
	memcpy(ikm + 32, ss_x25519, 32);
	ret = pq_hkdf_extract(prk, transcript_hash, 32, ikm, sizeof(ikm));
	for (size_t i = 0; ret == 0 && i < sizeof(outputs) / sizeof(outputs[0]); i++)
		ret = pq_hkdf_expand((uint8_t *)out + outputs[i].offset, outputs[i].len, prk,
				     (const uint8_t *)outputs[i].label, strlen(outputs[i].label));
	if (ret)
		pq_session_keys_wipe(out);
	pq_wipe(ikm, sizeof(ikm));
	pq_wipe(prk, sizeof(prk));
	return ret;
}

void pq_session_keys_wipe(struct pq_session_keys *k)
{
	pq_wipe(k, sizeof(*k));
}
