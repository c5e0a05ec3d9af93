/*
 * pqlan bench [--json] - time the primitives pqlan is built on.
 *
 * Each figure is the median of several timed batches, so one noisy batch
 * (another process on the same core) does not move it much. Figures are
 * whole-operation wall-clock times on one core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/bench.h"

int cmd_bench(int argc, char **argv)
{
	struct bench_result res[BENCH_MAX_RESULTS];
	int json = 0, n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return cli_usage(stderr, "bench");
	}
	n = bench_run_all(res, BENCH_MAX_RESULTS);
	if (n < 0) {
		fprintf(stderr, "pqlan bench: an operation failed (%s)\n", bench_error());
		return 1;
	}
	if (json) {
		printf("{");
		for (int i = 0; i < n; i++)
			printf("%s\"%s\":%.3f", i ? "," : "", res[i].key, res[i].value);
		printf("}\n");
	} else {
		printf("%-32s %14s  %s\n", "figure", "value", "unit");
		for (int i = 0; i < n; i++)
			printf("%-32s %14.3f  %s\n", res[i].key, res[i].value, res[i].unit);
		printf("\n(median of %d batches; command: pqlan bench)\n", BENCH_BATCHES);
	}
	return 0;
}
