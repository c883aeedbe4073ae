/* Internals of the glibc heap model, shared by cheap.c (finding the malloc
 * state: layouts, main_arena, arenas, heaps) and cheap_walk.c (chunk walks,
 * free lists, lookups). Not part of the library's API. */
#ifndef CT_CHEAP_INT_H
#define CT_CHEAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cheap.h"

/* Limits that keep every walk bounded on hostile input. */
#define CHEAP_MAX_ARENAS 1024     /* glibc's own limit is 8 x cores */
#define CHEAP_MAX_HEAPS 65536     /* heaps of all arenas (64 MiB each: 4 TiB) */
#define CHEAP_MAX_LIST (1u << 24) /* chunks on one free list */
#define CHEAP_CKPT 8              /* a walk keeps every 8th chunk address */
#define CHEAP_MAX_PROBLEMS 64
#define CHEAP_MAX_NFASTBINS 16
#define CHEAP_MAX_TCACHE_BINS 128
#define CHEAP_MMAP_SCAN_MAX (256ull << 20) /* anonymous mappings scanned for mmapped chunks */
/* Pages probed for mmapped chunks over all mappings of one core (8 GiB of
 * mappings): a core of thousands of mid-sized mappings must not cost a read
 * per page of each; past it, mappings are scanned from their start only. */
#define CHEAP_MMAP_SCAN_PAGES (2ull << 20)

/* One row of the layout table (cheap.c): glibc's malloc structures on x86-64. */
struct cheap_layout {
	const char *name;         /* "2.32-2.4x", or "DWARF" */
	int since, until;         /* glibc 2.since .. 2.until */
	/* Chunks (malloc/malloc.c: struct malloc_chunk, MINSIZE, MALLOC_ALIGNMENT). */
	uint32_t size_sz, align, minsize;
	uint32_t nsmallbins;      /* NSMALLBINS: bins 2..63 are small, 64.. large */
	uint32_t pagesize;        /* mmapped chunks are whole pages (munmap_chunk) */
	/* struct malloc_state (malloc/malloc.c) */
	uint32_t ms_mutex, ms_flags;
	int32_t ms_have_fastchunks; /* -1: not in this version */
	uint32_t ms_fastbins, nfastbins, ms_top, ms_last_remainder, ms_bins, nbins, ms_binmap,
		ms_next, ms_next_free, ms_attached_threads, ms_system_mem, ms_max_system_mem,
		ms_size;
	/* heap_info (malloc/arena.c), HEAP_MAX_SIZE (malloc/arena.c) */
	uint32_t hi_ar_ptr, hi_prev, hi_size, hi_mprotect_size, hi_sizeof;
	uint64_t heap_max;
	/* tcache_perthread_struct (malloc/malloc.c), 0 counts_size: no tcache */
	uint32_t tc_bins, tc_counts_size, tc_entries, tc_sizeof;
	bool tc_key;              /* tcache_entry.key (2.29+) */
	bool safe_linking;        /* PROTECT_PTR on tcache and fastbin next (2.32+) */
	/* arena flags (malloc/malloc.c: NONCONTIGUOUS_BIT, ARENA_CORRUPTION_BIT) */
	uint32_t flags_mask;
};

struct cheap_arena {
	uint64_t addr;
	bool is_main;
	unsigned char *state;     /* a copy of the malloc_state, layout L */
	uint64_t top, top_size;
	bool top_read;            /* top's size word was readable */
	uint64_t system_mem;
	uint32_t flags;
};

/* A stretch of a heap walked chunk by chunk: chunks from start up to end,
 * which is either the heap's end (or its top chunk), or where a size was bad. */
struct cheap_run {
	uint64_t start, end;
	uint64_t *ckpt;   /* every CHEAP_CKPT-th chunk address, ckpt[0] = start */
	size_t nckpt, nchunks;
	bool damaged;     /* end is where the walk stopped on a bad size */
	char stop[112];   /* why it stopped, when damaged */
};

struct cheap_heap {
	size_t arena;     /* index in c->arenas */
	uint64_t base;    /* heap_info address; the brk heap's first chunk */
	uint64_t start, end; /* where chunks are */
	bool has_top;     /* the arena's top chunk is in this heap: [top, end) */
	bool walked;
	struct cheap_run *runs;
	size_t nruns, cap_runs;
};

/* What a free list says about one chunk. */
struct cheap_fs_ent {
	uint64_t chunk;   /* 0: empty slot */
	uint64_t size;    /* size word as read when listed */
	uint8_t bin;      /* enum cheap_bin */
	int16_t index;
};

/* Mmapped chunks at the start of an anonymous writable mapping, found once. */
struct cheap_mmregion {
	bool scanned;
	bool whole; /* probed page by page (else from its start only) */
	uint64_t *chunks; /* pairs: address, size */
	size_t n;
};

struct cheap {
	struct ct_warn_sink warn; /* where problems are also reported */
	struct mem mem;
	struct cheap_region *regions;
	size_t nregions;
	struct cheap_mmregion *mm; /* parallel to regions */
	bool mm_planned;           /* cheap_mm_plan ran: mm[].whole decided */
	struct cheap_layout L;
	int glibc_minor;
	int safe_linking;         /* 1, 0, -1 = per pointer */
	int tc_counts_size;       /* 0 = try 2 and 1 */
	const char *found_by;
	uint64_t main_arena, sbrk_base;
	struct cheap_arena *arenas;
	size_t narenas;
	struct cheap_heap *heaps; /* sorted by base */
	size_t nheaps, cap_heaps;
	bool loaded;
	struct cheap_fs_ent *fs;  /* hash set by chunk address */
	size_t fs_cap, fs_n;
	uint64_t *resync;         /* sorted chunk addresses known from bins: walks restart there */
	size_t nresync;
	uint64_t *tcaches;        /* tcache_perthread_struct addresses (user pointers) */
	size_t ntcaches, cap_tcaches;
	/* tcache_entry.key (2.29+): the random tcache_key (2.34+) or the owning
	 * tcache's address, as the listed chunks carry it. */
	uint64_t tc_key;
	bool tc_key_known;
	uint64_t tc_damaged[CHEAP_MAX_TCACHE_BINS / 64]; /* bins whose chain broke */
	uint64_t *tc_cand;        /* chunks that may be a tcache_perthread_struct */
	size_t ntc_cand, tc_cand_cap;
	uint64_t *nma_cand;       /* thread-arena chunks in use without NON_MAIN_ARENA */
	size_t n_nma_cand, cap_nma_cand;
	char **problems;
	size_t nproblems;
};

/* cheap.c */
/* The table row for glibc 2.minor, or NULL. */
const struct cheap_layout *cheap_layout_row(int minor);
void cheap_problem(struct cheap *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const struct cheap_region *cheap_region_of(const struct cheap *c, uint64_t addr);
const struct cheap_heap *cheap_heap_of(const struct cheap *c, uint64_t addr);
uint64_t cheap_ms_u64(const struct cheap *c, const struct cheap_arena *a, uint32_t off);
static inline uint64_t cheap_bin_header(const struct cheap *c, const struct cheap_arena *a, int i)
{
	/* bin_at(m, i): &bins[(i - 1) * 2] minus offsetof(malloc_chunk, fd) */
	return a->addr + c->L.ms_bins + (uint64_t)(i - 1) * 2 * c->L.size_sz - 2 * c->L.size_sz;
}
bool cheap_read_u64(const struct cheap *c, uint64_t addr, uint64_t *ret);

/* cheap_walk.c */
void cheap_walk_free(struct cheap *c);
/* The next pointer stored at pos (a tcache entry or fastbin fd), safe-linked or
 * not; want_size: the chunk size a valid target must have (0: any). */
uint64_t cheap_reveal(const struct cheap *c, uint64_t pos, uint64_t stored, bool user_ptr,
		      uint64_t want_size);

#endif
