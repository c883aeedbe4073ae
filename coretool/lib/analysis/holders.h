/* Who holds an address: words in the process's writable memory that point at
 * it or into the same object (Go slot or C chunk), each placed by what holds
 * it (a global symbol, a Go heap object, a C chunk, a map entry). */
#ifndef CT_HOLDERS_H
#define CT_HOLDERS_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "target.h"

#define HOLDERS_MAX 64

struct holder {
	uint64_t at;         /* where the pointer is stored */
	uint64_t value;      /* the pointer */
	struct verdict where; /* classification of `at` */
	char desc[256];      /* "main.cache[\"big\"]", "cached_obj+0x0 (libfoo.so .bss)", ... */
	bool is_map_entry;   /* desc names a map entry */
	int rank;            /* holders_rank(): how much the holder says */
};

/* Distinct pointer values among the hits, with how many words hold each. */
#define HOLDERS_MAX_VALUES 8
struct holders_value {
	uint64_t value, count;
};

struct holders {
	struct holder h[HOLDERS_MAX];
	size_t n;
	size_t total;        /* hits found, n of them kept */
	uint64_t lo, hi;     /* the range searched for */
	uint64_t scanned;    /* bytes scanned */
	struct holders_value values[HOLDERS_MAX_VALUES]; /* most hits first */
	size_t nvalues;
	uint64_t other_values; /* hits whose value did not fit in values[] */
};

/* How much a holder says, for ranking: a map entry (4) over a global (3), a
 * live heap object (2), freed heap memory (1), anything else (0): words on
 * stacks are pointers in flight. */
enum {
	HOLDER_RANK_OTHER,
	HOLDER_RANK_FREED_HEAP,
	HOLDER_RANK_HEAP,
	HOLDER_RANK_GLOBAL,
	HOLDER_RANK_MAP_ENTRY,
};
int holders_rank(struct target *t, const struct holder *h);
/* The best-ranked holder (the first of the sorted list), or NULL. */
const struct holder *holders_best(const struct holders *hs);

/* The range that counts as "the same object" as addr: its Go slot or C chunk
 * when it is in one, else the address itself. */
void holders_range(struct target *t, uint64_t addr, uint64_t *lo, uint64_t *hi);
/* Scans every saved writable mapping for pointers into [lo, hi]. Keeps
 * HOLDERS_MAX hits, named ones (map entries, globals) before anonymous words
 * whatever their order in memory, sorted by rank then address. */
void holders_find(struct target *t, uint64_t lo, uint64_t hi, struct holders *ret);
/* The same for n ranges in one pass over memory: ret[i] for r[i]. */
struct holders_range {
	uint64_t lo, hi;
};
void holders_find_many(struct target *t, const struct holders_range *r, size_t n,
		       struct holders *ret);

#endif
