/* The C heap of the bench sample: n chunks of 16..240 bytes, allocated from one thread and
 * kept in a table C owns, every free_every-th one freed again so the bins are not empty. */
#include <stdlib.h>
#include <string.h>
#include "bigc.h"

static void **chunks;
static uint32_t *req;
static size_t nchunks, every;

size_t bigc_alloc(size_t n, uint32_t seed, size_t free_every)
{
	uint32_t x = seed;
	size_t i, freed = 0;

	chunks = malloc(n * sizeof *chunks);
	req = malloc(n * sizeof *req);
	if (chunks == NULL || req == NULL)
		abort();
	for (i = 0; i < n; i++) {
		x = x * 1664525u + 1013904223u;
		req[i] = 16 + (x >> 24) % 225;
		chunks[i] = malloc(req[i]);
		if (chunks[i] == NULL)
			abort();
		memset(chunks[i], (int)(i & 0x7f) | 1, req[i]);
	}
	nchunks = n;
	every = free_every;
	for (i = free_every - 1; free_every > 0 && i < n; i += free_every) {
		free(chunks[i]); /* the table keeps the stale pointer, as buggy C does */
		freed++;
	}
	return freed;
}

void *bigc_chunk(size_t i) { return i < nchunks ? chunks[i] : NULL; }
size_t bigc_req(size_t i) { return i < nchunks ? req[i] : 0; }
int bigc_freed(size_t i) { return every > 0 && i < nchunks && (i + 1) % every == 0; }

void bigc_crash(void)
{
	volatile int *p = NULL;
	*p = 42; /* SIGSEGV in C: Go re-raises it as SIGABRT with GOTRACEBACK=crash */
}
