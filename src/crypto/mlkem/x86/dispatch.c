/*
 * dispatch.c - chooses between the portable and the AVX2 path of ML-KEM
 * once per process: CPU support (cpuid, via __builtin_cpu_supports) and
 * the PQLAN_MLKEM_PORTABLE=1 override are read on first use under
 * pthread_once, which also builds the AVX2 tables. Both paths give
 * identical bytes (tests/crypto/test_mlkem_paths.c), so the choice is
 * about speed only.
 */
#include "crypto/mlkem/x86/avx2.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t choose_once = PTHREAD_ONCE_INIT;
static int cpu_avx2;
static int env_portable;
static atomic_int forced_portable;

static void choose(void)
{
#if PQ_MLKEM_X86
	const char *env = getenv("PQLAN_MLKEM_PORTABLE");

	__builtin_cpu_init();
	cpu_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	env_portable = env != NULL && strcmp(env, "1") == 0;
	if (cpu_avx2) {
		pq_mlkem_avx2_init_ntt_tables();
		pq_mlkem_avx2_init_rej_tables();
	}
#endif
}

int pq_mlkem_cpu_has_avx2(void)
{
	pthread_once(&choose_once, choose);
	return cpu_avx2;
}

int pq_mlkem_use_avx2(void)
{
	pthread_once(&choose_once, choose);
	return cpu_avx2 && !env_portable && !atomic_load_explicit(&forced_portable, memory_order_relaxed);
}

void pq_mlkem__force_portable(bool portable)
{
	atomic_store(&forced_portable, portable ? 1 : 0);
}
