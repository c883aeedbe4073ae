/* The Go heap census: in-use spans by size class, objects, free slots, bytes. */
#ifndef CT_CENSUS_H
#define CT_CENSUS_H

#include <stdbool.h>
#include <stdint.h>

#include "goheap.h"

#define CENSUS_NCLASSES 256 /* spanclass is a uint8: sizeclass << 1 | noscan */

struct census_class {
	uint64_t spans, objects, free, live_bytes, span_bytes, elemsize;
};

struct census {
	struct census_class cls[CENSUS_NCLASSES]; /* by spanclass */
	uint64_t spans, objects, free, live_bytes, span_bytes;
	uint64_t stack_spans, stack_bytes;       /* manual spans (stacks, GC buffers) */
	uint64_t unreadable;                      /* spans whose metadata was missing */
	uint64_t dead;                            /* spans in allspans no longer in use */
	/* Spans that fail go_span_check (sizes that do not add up): skipped, not
	 * counted anywhere else; the first one's reason. */
	uint64_t inconsistent;
	char first_inconsistent[256];
	/* A total would pass 2^64 (spans listed many times over): the totals
	 * stop at UINT64_MAX. */
	bool overflow;
};

/* Walks mheap_.allspans. Every span passes go_span_check before its sizes are
 * added (in 64 bits, with overflow checks); the caller reports inconsistent,
 * unreadable and overflow as a partial result. */
struct ct_error *census_run(const struct go_heap *h, struct census *ret);

#endif
