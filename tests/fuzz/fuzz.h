/*
 * fuzz.h - what every libFuzzer target here shares: the entry point's
 * prototype (-Wmissing-prototypes) and CHECK, which stops the run with a
 * crash libFuzzer reports when a property the target asserts is false.
 */
#ifndef PQ_TESTS_FUZZ_H
#define PQ_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

#endif
