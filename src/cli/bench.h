/*
 * bench.h - the measurements behind `pqlan bench`.
 */
#ifndef PQ_CLI_BENCH_H
#define PQ_CLI_BENCH_H

#define BENCH_MAX_RESULTS 32
#define BENCH_BATCHES 7

struct bench_result {
	const char *key;   /* JSON key, e.g. "mlkem1024_keygen_ns" */
	const char *unit;  /* "ns", "us" or "Gbit/s" */
	double value;
};

/* One operation under test: returns 0 or a negative code. */
typedef int (*bench_op)(void *ctx);

/* Median nanoseconds per call of op, or a negative value on failure. */
double bench_time_op(bench_op op, void *ctx);
/* Append a result; -1 when out is full or v is negative (a failure). */
int bench_add(struct bench_result *out, int *n, int cap, const char *key, const char *unit, double v);

/* The protocol figures (bench_proto.c): handshake_cpu_us, handshake_path_us,
 * rehandshake_cpu_us. */
int bench_handshake(struct bench_result *out, int *n, int cap);
int bench_rehandshake(struct bench_result *out, int *n, int cap);
extern const char *bench_failed;

/* Run every measurement; returns how many results were written, or a
 * negative code when an operation failed (bench_error() says which). */
int bench_run_all(struct bench_result *out, int cap);
const char *bench_error(void);

#endif
