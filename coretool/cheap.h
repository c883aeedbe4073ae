/* The C heap: glibc malloc's arenas, heaps, chunks and bins, found without libc
 * debug symbols (a validated search for main_arena in libc's writable data),
 * or through libc's debug info when it happens to be present. Facts:
 * GO-RUNTIME.md "glibc malloc". */
#ifndef CT_CHEAP_H
#define CT_CHEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "ct_error.h"

struct target;

enum cheap_bin {
	CHEAP_BIN_NONE,     /* allocated, or not known */
	CHEAP_BIN_TCACHE,
	CHEAP_BIN_FASTBIN,
	CHEAP_BIN_UNSORTED,
	CHEAP_BIN_SMALL,
	CHEAP_BIN_LARGE,
	CHEAP_BIN_TOP,
};

enum cheap_state { CHEAP_ALLOCATED, CHEAP_FREE, CHEAP_UNKNOWN };

struct cheap_chunk {
	uint64_t arena;      /* malloc_state address; 0 for an mmapped chunk */
	bool main_arena;
	uint64_t heap;       /* start of the heap (brk heap or heap_info) holding the chunk */
	uint64_t chunk;      /* chunk header address */
	uint64_t size;       /* chunk size, flag bits cleared */
	uint64_t user;       /* chunk + 16 */
	uint64_t user_size;  /* usable size */
	bool mmapped;
	enum cheap_state state;
	enum cheap_bin bin;
	int bin_index;       /* tcache/fastbin/bin index, -1 if none */
	char reason[160];    /* why the state is unknown, or a note */
};

struct cheap;

/* Finds glibc's malloc state in the target. A target without glibc malloc (no
 * libc.so.6, static binary) → CT_ERR_NOTFOUND. */
struct ct_error *cheap_open(struct target *t, struct cheap **ret);
void cheap_close(struct cheap *c); /* NULL allowed */

/* The chunk holding addr, if addr lies in a glibc heap (the brk heap, a thread
 * arena's heap, or an mmapped chunk); *found = false otherwise. */
struct ct_error *cheap_lookup(struct cheap *c, uint64_t addr, bool *found, struct cheap_chunk *ret);

/* Every chunk of every heap, in address order per heap; fn returns false to stop. */
struct ct_error *cheap_foreach_chunk(struct cheap *c,
				     bool (*fn)(const struct cheap_chunk *ch, void *arg), void *arg);

const char *cheap_bin_name(enum cheap_bin bin);
const char *cheap_state_name(enum cheap_state st);

#endif
