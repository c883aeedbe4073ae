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
};

struct ct_error *census_run(const struct go_heap *h, struct census *ret);

#endif
