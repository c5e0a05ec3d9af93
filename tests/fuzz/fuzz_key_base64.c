/* fuzz_key_base64.c - the printed-key decoder: never reads out of bounds,
 * and whatever it accepts re-encodes to exactly the input (one printed
 * form per key). Also drives the replay window with the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/identity.h"
#include "crypto/replay.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pq_replay window;
	uint8_t key[32];
	char back[PQ_KEY_B64_LEN + 1];
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size); /* exact-size heap copy: ASan sees overreads */
	if (pq_key_from_base64(key, copy, size) == 0) {
		pq_key_to_base64(back, key);
		if (size != PQ_KEY_B64_LEN || memcmp(back, copy, size) != 0)
			abort();
	}
	free(copy);

	/* Counters from the input; the window must never accept one twice. */
	pq_replay_init(&window);
	for (size_t i = 0; i + 8 <= size; i += 8) {
		uint64_t c;

		memcpy(&c, data + i, 8);
		c >>= data[i] & 63; /* mix small and huge counters */
		if (pq_replay_accept(&window, c) && pq_replay_accept(&window, c))
			abort();
	}
	return 0;
}
