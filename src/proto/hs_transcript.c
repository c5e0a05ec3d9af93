/*
 * hs_transcript.c - transcript hash chain, labelled signatures and key
 * confirmation MACs of the handshake (DESIGN §3).
 */
#include <string.h>

#include "crypto/util.h"
#include "proto/hs_transcript.h"
#include "proto/msg_handshake.h"

/* Every label is distinct and followed by fixed-size fields only, so no
 * input of one use can be read as an input of another. */
static const char label_transcript[] = "pqlan v1 hs transcript";
static const char label_sig_init[] = "pqlan v1 hs sig init";
static const char label_sig_resp[] = "pqlan v1 hs sig resp";
static const char label_confirm_resp[] = "pqlan v1 hs confirm resp";
static const char label_confirm_finish[] = "pqlan v1 hs confirm finish";

#define LABEL_IOV(l) { (l), sizeof(l) - 1 }
#define SIG_LABEL_LEN (sizeof(label_sig_init) - 1)

int pq_hs_transcript_start(uint8_t h[PQ_SHA256_LEN], const uint8_t pub_i[PQ_PUBKEY_LEN],
			   const uint8_t pub_r[PQ_PUBKEY_LEN])
{
	static const uint8_t ids[2] = { PQ_HS_VERSION, PQ_HS_SUITE_HYBRID1 };
	const struct pq_iov iov[] = {
		LABEL_IOV(label_transcript), { ids, sizeof(ids) }, { pub_i, PQ_PUBKEY_LEN }, { pub_r, PQ_PUBKEY_LEN },
	};

	return pq_sha256(h, iov, 4);
}

int pq_hs_transcript_mix(uint8_t h[PQ_SHA256_LEN], const uint8_t *data, size_t len)
{
	uint8_t prev[PQ_SHA256_LEN];
	const struct pq_iov iov[] = { { prev, sizeof(prev) }, { data, len } };

	memcpy(prev, h, sizeof(prev));
	return pq_sha256(h, iov, 2);
}

static void sig_message(uint8_t msg[SIG_LABEL_LEN + PQ_SHA256_LEN], enum pq_hs_sig_role role,
			const uint8_t h[PQ_SHA256_LEN])
{
	_Static_assert(sizeof(label_sig_init) == sizeof(label_sig_resp), "sig labels differ in length");
	memcpy(msg, role == PQ_HS_SIG_INIT ? label_sig_init : label_sig_resp, SIG_LABEL_LEN);
	memcpy(msg + SIG_LABEL_LEN, h, PQ_SHA256_LEN);
}

int pq_hs_sign(const struct pq_signer *signer, enum pq_hs_sig_role role, const uint8_t h[PQ_SHA256_LEN],
	       uint8_t sig[PQ_ED25519_SIG_LEN])
{
	uint8_t msg[SIG_LABEL_LEN + PQ_SHA256_LEN];

	sig_message(msg, role, h);
	return pq_signer_sign(signer, sig, msg, sizeof(msg));
}

int pq_hs_verify(const uint8_t pub[PQ_PUBKEY_LEN], enum pq_hs_sig_role role, const uint8_t h[PQ_SHA256_LEN],
		 const uint8_t sig[PQ_ED25519_SIG_LEN])
{
	uint8_t msg[SIG_LABEL_LEN + PQ_SHA256_LEN];

	sig_message(msg, role, h);
	return pq_ed25519_verify(sig, msg, sizeof(msg), pub) ? PQ_E_AUTH : 0;
}

int pq_hs_resp_mac(uint8_t mac[PQ_HMAC_LEN], const uint8_t key[32], const uint8_t h[PQ_SHA256_LEN])
{
	const struct pq_iov iov[] = { LABEL_IOV(label_confirm_resp), { h, PQ_SHA256_LEN } };

	return pq_hmac_sha256(mac, key, 32, iov, 2);
}

int pq_hs_finish_mac(uint8_t mac[PQ_HMAC_LEN], const uint8_t key[32], const uint8_t h[PQ_SHA256_LEN],
		     const uint8_t resp_mac[PQ_HMAC_LEN], const uint8_t *finish_head, size_t head_len)
{
	const struct pq_iov iov[] = {
		LABEL_IOV(label_confirm_finish), { h, PQ_SHA256_LEN }, { resp_mac, PQ_HMAC_LEN },
		{ finish_head, head_len },
	};

	return pq_hmac_sha256(mac, key, 32, iov, 4);
}
