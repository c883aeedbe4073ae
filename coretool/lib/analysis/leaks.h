/* Leaked goroutines, post mortem: Go's goroutine-leak rule (runtime/mgc.go,
 * Go 1.26 goroutineleakprofile) applied to a core. A goroutine blocked on
 * channels, a select, a mutex, a WaitGroup or a cond (goblock.h) is leaked
 * when none of its primitives is reachable from the roots — Go globals and
 * the stacks of the goroutines that may still run — where a blocked
 * goroutine's own stack becomes a root only once one of its primitives is
 * reached (iterated to a fixed point). The runtime's bookkeeping of waiters
 * (runtime.g, runtime.sudog) is not followed: it would make every primitive
 * reachable. C memory is not a root (Go's GC does not scan it). */
#ifndef CT_LEAKS_H
#define CT_LEAKS_H

#include <stdbool.h>
#include <stdint.h>

#include "goblock.h"
#include "goroutine.h"
#include "target.h"

struct leak_g {
	const struct go_g *g;
	struct go_block block;
	bool leaked;
	bool unsure;   /* leaked by the rule, but not every primitive was found */
};

struct leaks {
	struct leak_g *gs;  /* every blocked goroutine (leak candidates) */
	size_t n, nleaked;
	size_t rounds;      /* fixed-point rounds */
	bool runtime_marks; /* the runtime has a _Gleaked status */
	uint64_t unreadable;
};

struct ct_error *leaks_find(struct target *t, struct leaks *ret);
void leaks_free(struct leaks *l);

#endif
