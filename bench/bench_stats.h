/*
 * bench_stats.h - what the benchmark tools share: nearest-rank
 * percentiles of a set of samples and the one line they print per set.
 * Header-only (each tool is one .c file compiled by its script).
 */
#ifndef PQ_BENCH_STATS_H
#define PQ_BENCH_STATS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static inline int bench_cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* Nearest-rank percentile of a sorted array of n > 0 samples. */
static inline double bench_pct(const double *v, int n, double p)
{
	int rank = (int)ceil(p / 100.0 * n);

	return v[rank < 1 ? 0 : rank - 1];
}

/* Sort v (n > 0 samples) and print "WHAT p50 .. p90 .. p99 .. min .. max"
 * with decimals digits after the point. */
static inline void bench_print_line(const char *what, double *v, int n, int decimals)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	printf("%-30s p50 %8.*f  p90 %8.*f  p99 %8.*f  min %8.*f  max %8.*f\n", what, decimals,
	       bench_pct(v, n, 50), decimals, bench_pct(v, n, 90), decimals, bench_pct(v, n, 99),
	       decimals, v[0], decimals, v[n - 1]);
}

#endif
