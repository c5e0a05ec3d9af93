/*
 * bench.c - timing loops for `pqlan bench`.
 *
 * Each operation runs in batches sized to take about 20 ms; the figure is
 * the median batch. Inputs are fixed random bytes made once, so the timed
 * loop holds only the operation itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bench.h"
#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/keysched.h"
#include "crypto/mlkem.h"
#include "crypto/util.h"
#include "crypto/x25519.h"

const char *bench_failed = "none";

const char *bench_error(void)
{
	return bench_failed;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_time_op(bench_op op, void *ctx)
{
	double per_op[BENCH_BATCHES];
	uint64_t iters = 1, t0, dt;

	/* Calibrate: grow the batch until it takes at least 20 ms. */
	for (;;) {
		t0 = now_ns();
		for (uint64_t i = 0; i < iters; i++)
			if (op(ctx) < 0)
				return -1;
		dt = now_ns() - t0;
		if (dt >= 20000000u || iters >= (1u << 24))
			break;
		iters *= 2;
	}
	for (int b = 0; b < BENCH_BATCHES; b++) {
		t0 = now_ns();
		for (uint64_t i = 0; i < iters; i++)
			if (op(ctx) < 0)
				return -1;
		per_op[b] = (double)(now_ns() - t0) / (double)iters;
	}
	qsort(per_op, BENCH_BATCHES, sizeof(per_op[0]), cmp_double);
	return per_op[BENCH_BATCHES / 2];
}

struct kem_ctx {
	uint8_t ek[PQ_MLKEM1024_EK_LEN], dk[PQ_MLKEM1024_DK_LEN];
	uint8_t ct[PQ_MLKEM1024_CT_LEN], ss[PQ_MLKEM_SS_LEN];
};

static int op_mlkem_keygen(void *c)
{
	struct kem_ctx *k = c;

	return pq_mlkem1024_keypair(k->ek, k->dk);
}

static int op_mlkem_encaps(void *c)
{
	struct kem_ctx *k = c;

	return pq_mlkem1024_encaps(k->ct, k->ss, k->ek);
}

static int op_mlkem_decaps(void *c)
{
	struct kem_ctx *k = c;

	return pq_mlkem1024_decaps(k->ss, k->ct, k->dk);
}

struct dh_ctx {
	uint8_t priv[32], pub[32], peer[32], out[32];
};

static int op_x25519_keygen(void *c)
{
	struct dh_ctx *d = c;

	return pq_x25519_keypair(d->pub, d->priv);
}

static int op_x25519_shared(void *c)
{
	struct dh_ctx *d = c;

	return pq_x25519_shared(d->out, d->priv, d->peer);
}

struct sig_ctx {
	struct pq_signer *signer;
	uint8_t msg[64], sig[PQ_ED25519_SIG_LEN];
};

static int op_ed25519_sign(void *c)
{
	struct sig_ctx *s = c;

	return pq_signer_sign(s->signer, s->sig, s->msg, sizeof(s->msg));
}

static int op_ed25519_verify(void *c)
{
	struct sig_ctx *s = c;

	return pq_ed25519_verify(s->sig, s->msg, sizeof(s->msg), pq_signer_public(s->signer));
}

struct ks_ctx {
	uint8_t ss1[32], ss2[32], th[32];
	struct pq_session_keys keys;
};

static int op_keysched(void *c)
{
	struct ks_ctx *k = c;

	return pq_key_schedule(&k->keys, k->ss1, k->ss2, k->th);
}

struct aead_ctx {
	struct pq_aead *seal, *open;
	uint8_t hdr[13];
	uint8_t buf[9000 + PQ_AEAD_TAG_LEN];
	size_t len;
	uint64_t counter;
};

static int op_aead_seal_open(void *c)
{
	struct aead_ctx *a = c;
	int rc;

	rc = pq_aead_seal(a->seal, a->counter, a->hdr, sizeof(a->hdr), a->buf, a->len, a->buf);
	if (rc < 0)
		return rc;
	rc = pq_aead_open(a->open, a->counter, a->hdr, sizeof(a->hdr), a->buf,
			  a->len + PQ_AEAD_TAG_LEN, a->buf);
	a->counter++;
	return rc;
}

int bench_add(struct bench_result *out, int *n, int cap, const char *key,
	      const char *unit, double v)
{
	if (*n >= cap || v < 0)
		return -1;
	out[*n].key = key;
	out[*n].unit = unit;
	out[*n].value = v;
	(*n)++;
	return 0;
}

static int bench_kem(struct bench_result *out, int *n, int cap)
{
	struct kem_ctx k;
	int rc = -1;

	bench_failed = "ml-kem-1024";
	if (pq_mlkem1024_keypair(k.ek, k.dk) < 0 || pq_mlkem1024_encaps(k.ct, k.ss, k.ek) < 0)
		goto out;
	if (bench_add(out, n, cap, "mlkem1024_keygen_ns", "ns", bench_time_op(op_mlkem_keygen, &k)) ||
	    bench_add(out, n, cap, "mlkem1024_encaps_ns", "ns", bench_time_op(op_mlkem_encaps, &k)) ||
	    bench_add(out, n, cap, "mlkem1024_decaps_ns", "ns", bench_time_op(op_mlkem_decaps, &k)))
		goto out;
	rc = 0;
out:
	pq_wipe(&k, sizeof(k));
	return rc;
}

static int bench_x25519(struct bench_result *out, int *n, int cap)
{
	struct dh_ctx d;
	int rc = -1;

	bench_failed = "x25519";
	if (pq_x25519_keypair(d.pub, d.priv) < 0 || pq_x25519_keypair(d.peer, d.out) < 0)
		goto out;
	if (bench_add(out, n, cap, "x25519_keygen_ns", "ns", bench_time_op(op_x25519_keygen, &d)) ||
	    bench_add(out, n, cap, "x25519_shared_ns", "ns", bench_time_op(op_x25519_shared, &d)))
		goto out;
	rc = 0;
out:
	pq_wipe(&d, sizeof(d));
	return rc;
}

static int bench_ed25519(struct bench_result *out, int *n, int cap)
{
	struct sig_ctx s = { 0 };
	uint8_t priv[PQ_ED25519_PRIV_LEN];
	int rc = -1;

	bench_failed = "ed25519";
	if (pq_ed25519_generate(priv) < 0 || pq_signer_new(&s.signer, priv) < 0)
		goto out;
	if (pq_random_bytes(s.msg, sizeof(s.msg)) < 0 ||
	    pq_signer_sign(s.signer, s.sig, s.msg, sizeof(s.msg)) < 0)
		goto out;
	if (bench_add(out, n, cap, "ed25519_sign_ns", "ns", bench_time_op(op_ed25519_sign, &s)) ||
	    bench_add(out, n, cap, "ed25519_verify_ns", "ns", bench_time_op(op_ed25519_verify, &s)))
		goto out;
	rc = 0;
out:
	pq_signer_free(s.signer);
	pq_wipe(priv, sizeof(priv));
	return rc;
}

static int bench_keysched(struct bench_result *out, int *n, int cap)
{
	struct ks_ctx k;
	int rc = -1;

	bench_failed = "key schedule";
	if (pq_random_bytes(&k, sizeof(k)) < 0)
		goto out;
	if (bench_add(out, n, cap, "hybrid_keysched_ns", "ns", bench_time_op(op_keysched, &k)))
		goto out;
	rc = 0;
out:
	pq_wipe(&k, sizeof(k));
	return rc;
}

static int bench_aead_size(struct bench_result *out, int *n, int cap, size_t len,
			   const char *key)
{
	static struct aead_ctx a;
	uint8_t k[PQ_AEAD_KEY_LEN];
	double ns;
	int rc = -1;

	bench_failed = "aes-256-gcm";
	memset(&a, 0, sizeof(a));
	a.len = len;
	if (pq_random_bytes(k, sizeof(k)) < 0 || pq_random_bytes(a.buf, len) < 0 ||
	    pq_aead_new(&a.seal, k) < 0 || pq_aead_new(&a.open, k) < 0)
		goto out;
	ns = bench_time_op(op_aead_seal_open, &a);
	/* Gbit/s of frames that are both sealed and opened in that time. */
	if (bench_add(out, n, cap, key, "Gbit/s", ns > 0 ? (double)len * 8.0 / ns : -1))
		goto out;
	rc = 0;
out:
	pq_aead_free(a.seal);
	pq_aead_free(a.open);
	pq_wipe(k, sizeof(k));
	return rc;
}

int bench_run_all(struct bench_result *out, int cap)
{
	int n = 0;

	if (bench_kem(out, &n, cap) || bench_x25519(out, &n, cap) ||
	    bench_ed25519(out, &n, cap) || bench_keysched(out, &n, cap) ||
	    bench_aead_size(out, &n, cap, 64, "aead_seal_open_64_gbps") ||
	    bench_aead_size(out, &n, cap, 1420, "aead_seal_open_1420_gbps") ||
	    bench_aead_size(out, &n, cap, 9000, "aead_seal_open_9000_gbps") ||
	    bench_handshake(out, &n, cap) || bench_rehandshake(out, &n, cap))
		return -1;
	bench_failed = "none";
	return n;
}
