/* The C heap: glibc malloc's arenas, heaps, chunks and bins, found without libc
 * debug symbols (a validated search for main_arena in libc's writable data),
 * or through libc's debug info when it happens to be present. Facts:
 * docs/glibc-malloc.md; every layout number is in cheap.c's table.
 *
 * Environment: CORETOOL_CHEAP_NO_DEBUGINFO=1 ignores libc's debug info (symbol
 * main_arena, DWARF struct malloc_state) and uses the search and the table, as
 * on a machine without libc6-dbg; the tests compare the two.
 * CORETOOL_CHEAP_GLIBC_VERSION=2.NN says which glibc the process ran, for a
 * libc.so.6 that is not at hand; 0 says "unknown" (layouts, safe-linking and
 * the tcache counts' width are then told from the data). */
#ifndef CT_CHEAP_H
#define CT_CHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <elfutils/libdwfl.h>

#include "ct_error.h"
#include "ct_set.h"
#include "mem.h"

#define CHEAP_ENV_NO_DEBUGINFO "CORETOOL_CHEAP_NO_DEBUGINFO"
#define CHEAP_ENV_GLIBC_VERSION "CORETOOL_CHEAP_GLIBC_VERSION"

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
	uint64_t chunk;      /* chunk header address; 0 when the address is in no chunk */
	uint64_t size;       /* chunk size, flag bits cleared */
	uint64_t user;       /* chunk + 16 */
	uint64_t user_size;  /* usable size (malloc_usable_size) */
	bool mmapped;
	enum cheap_state state;
	enum cheap_bin bin;
	int bin_index;       /* tcache/fastbin/bin index, -1 if none */
	char reason[160];    /* why the state is unknown, or a note */
};

struct cheap;

void cheap_close(struct cheap *c); /* NULL allowed */

/* The chunk holding addr, if addr lies in a glibc heap (the brk heap, a thread
 * arena's heap, or an mmapped chunk); *found = false otherwise. A chunk that
 * cannot be told (the walk of its heap stopped at a corrupt size, bytes not in
 * the core, lists that contradict the chunk headers) is found with state
 * CHEAP_UNKNOWN and the reason. The first 8 bytes of a chunk (its prev_size)
 * belong to the chunk before, in use or free (its usable size reaches them);
 * a heap's heap_info + malloc_state are found as allocated with chunk 0.
 * Walks every heap and every free list once, on the first call (cheap_load). */
struct ct_error *cheap_lookup(struct cheap *c, uint64_t addr, bool *found, struct cheap_chunk *ret);

/* Every chunk of every heap, in address order per heap, the top chunks, then
 * the mmapped chunks; fn returns false to stop. */
struct ct_error *cheap_foreach_chunk(struct cheap *c,
				     bool (*fn)(const struct cheap_chunk *ch, void *arg), void *arg);

/* Live chunks counted by chunk size, largest share of bytes first. A walk
 * that stopped (damage, bytes not in the core) returns what it counted with
 * the error; truncated: more distinct sizes than CHEAP_SIZES_MAX. */
#define CHEAP_SIZES_MAX 100000
struct cheap_size {
	uint64_t size, chunks, bytes;
};
struct cheap_sizes {
	struct cheap_size *v; /* n of them; ranked once finished */
	size_t n, cap;
	struct ct_u64map index; /* while counting: size -> index in v + 1 */
	bool truncated, nomem;
	bool counted; /* a walk went through cheap_sizes_add */
};
struct ct_error *cheap_sizes(struct cheap *c, struct cheap_sizes *ret);
/* The same, counted on a walk of one's own (zeroed s; every chunk of
 * cheap_foreach_chunk to _add; false: stop, out of memory or too many
 * sizes), then _finish ranks them (CT_ERR_NOMEM if memory ran out). */
bool cheap_sizes_add(struct cheap_sizes *s, const struct cheap_chunk *ch);
struct ct_error *cheap_sizes_finish(struct cheap_sizes *s);
void cheap_sizes_free(struct cheap_sizes *s);

/* Walks the heaps and the free lists now (lookups do it on first use). Damage
 * found on the way becomes problems (cheap_problems), not an error. */
struct ct_error *cheap_load(struct cheap *c);

/* What was found, for `info` and the tests. */
struct cheap_summary {
	uint64_t main_arena;
	const char *found_by;  /* "debuginfo" (libc's symbol) or "search" */
	const char *layout;    /* the table row used, or "DWARF" */
	int glibc_minor;       /* 36 for glibc 2.36; 0 if the version is unknown */
	uint64_t sbrk_base;    /* mp_.sbrk_base (debug info only), else 0 */
	size_t narenas, nheaps, ntcaches;
	int safe_linking;      /* 1, 0, or -1 when decided per pointer */
};
void cheap_summarize(const struct cheap *c, struct cheap_summary *ret);
/* Is user the user pointer of a tcache_perthread_struct the walks found so far
 * (the heap holding it was walked: any lookup into it did)? */
bool cheap_is_tcache(const struct cheap *c, uint64_t user);
/* Damage seen in the malloc state so far (cycles, sizes that leave the heap,
 * bins that point outside the arena), one sentence each. */
size_t cheap_problems(const struct cheap *c, const char *const **ret);

/* A seam for tests and for front ends without a core: the process's mappings,
 * where main_arena may be, and what is known about libc. */
struct cheap_region {
	uint64_t start, end;
	bool writable;
	bool file; /* backed by a file (NT_FILE): never a heap */
};
struct cheap_source {
	struct mem mem;
	const struct cheap_region *regions; /* sorted, non-overlapping; may be empty */
	size_t nregions;
	const struct cheap_region *search; /* ranges to search for main_arena */
	size_t nsearch;
	uint64_t main_arena;  /* known (debug info): 0 = search */
	uint64_t sbrk_base;   /* known mp_.sbrk_base, or 0 */
	int glibc_minor;      /* 0 = unknown: layouts and safe-linking are tried */
	struct ct_warn_sink warn; /* problems found are also said here (fn may be NULL) */
};
struct ct_error *cheap_open_source(const struct cheap_source *src, struct cheap **ret);

/* A loaded module as the C heap model needs it: libc.so.6, or a static
 * executable that carries malloc itself. */
#define CHEAP_BUILD_ID_MAX 64
struct cheap_module {
	const char *name;     /* path as the process had it */
	Dwfl_Module *dwmod;   /* its file and debug info, or NULL */
	uint64_t start, end;
	const unsigned char *build_id;
	size_t build_id_len;  /* at most CHEAP_BUILD_ID_MAX */
};
/* A process as the C heap model needs it. */
struct cheap_process {
	struct mem mem;
	const struct cheap_region *regions; /* every mapping, sorted */
	size_t nregions;
	const struct cheap_module *libc;    /* NULL: none (a static binary) */
	const struct cheap_module *exe;     /* NULL: unknown */
	struct ct_warn_sink warn;
	/* Overrides, for tests and for cores of an unusual libc: the glibc
	 * version to assume ("2.36"; NULL: libc's banner says), and whether to
	 * ignore libc's debug info (then main_arena is searched for). The
	 * session takes them from CHEAP_ENV_GLIBC_VERSION / CHEAP_ENV_NO_DEBUGINFO. */
	const char *glibc_version;
	bool no_debuginfo;
};
/* Finds glibc's malloc state in a process: main_arena from libc's debug info
 * when it is found (cached per build ID), else by searching libc's writable
 * data. No libc.so.6 and no malloc state in the executable → CT_ERR_NOTFOUND. */
struct ct_error *cheap_open_process(const struct cheap_process *p, struct cheap **ret);
/* glibc's mmapped chunks (large allocations) begin on a page, their header
 * being prev_size and size: the user pointer is 2*SIZE_SZ into the page
 * (malloc.c, chunk2mem). free() unmaps them at once, so a pointer of this
 * shape into nothing is likely a freed large chunk. */
#define CHEAP_MMAP_USER_OFFSET 16u
static inline bool cheap_mmapped_user_shape(uint64_t addr)
{
	return (addr & 0xfff) == CHEAP_MMAP_USER_OFFSET;
}
/* libc.so.6 (or libc-2.N.so) by its path. */
bool cheap_is_libc(const char *path);

const char *cheap_bin_name(enum cheap_bin bin);
const char *cheap_state_name(enum cheap_state st);

#endif
