/* What a blocked goroutine waits on: the model the goroutine-leak check
 * (issue 18) applies Go's leak rule to. A goroutine parked in a channel
 * operation, a select, or a sync primitive is a leak candidate; it is leaked
 * when none of the primitives it waits on is reachable from a root or from a
 * goroutine that may still run (go src/runtime/mgc.go: isMaybeRunnable).
 * This module says, per goroutine, which kind of wait it is and the addresses
 * of those primitives; the reachability is the heap walk's business.
 * docs/go-runtime.md "Blocked goroutines" has the runtime facts, per version. */
#ifndef CT_GOBLOCK_H
#define CT_GOBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_error.h"
#include "goroutine.h"
#include "goruntime.h"

/* Primitives kept per goroutine: a select on more channels than this is
 * returned truncated, with partial set. */
#define GO_BLOCK_MAXPRIMS 64

enum go_block_kind {
	GO_BLOCK_NONE,         /* not blocked: running, runnable, in a syscall, dead, ... */
	GO_BLOCK_CHAN,         /* chan send or receive: prims[0] is the hchan */
	GO_BLOCK_SELECT,       /* select with cases: one hchan per case */
	GO_BLOCK_NILCHAN,      /* send or receive on a nil channel: leaked by definition */
	GO_BLOCK_SELECT_EMPTY, /* select {}: leaked by definition */
	GO_BLOCK_SEMA,         /* sync.Mutex, RWMutex, WaitGroup: prims[0] is the sema word */
	GO_BLOCK_COND,         /* sync.Cond.Wait: prims[0] is the Cond's notifyList */
	GO_BLOCK_OTHER,        /* sleep, IO, GC, runtime-internal: not a leak candidate */
};

struct go_block {
	enum go_block_kind kind;
	/* The primitives' addresses: an hchan, or a word inside the sync
	 * object (the object holding it is what must be reachable). */
	uint64_t prims[GO_BLOCK_MAXPRIMS];
	size_t nprims;
	/* The goroutine's own sudogs (runtime bookkeeping objects on the heap):
	 * a leak check hides them, since a stale word pointing at one would
	 * otherwise make its channel look reachable. */
	uint64_t sudogs[GO_BLOCK_MAXPRIMS];
	size_t nsudogs;
	/* Not every primitive was found (unreadable sudog, a runtime that keeps
	 * no link to it, more than GO_BLOCK_MAXPRIMS): a leak check must not
	 * call this goroutine leaked on the strength of prims alone. note says why. */
	bool partial;
	bool leaked_by_runtime; /* status runtime._Gleaked: the runtime's own detector said so */
	char reason[64];        /* the runtime's wait reason text, or the status name */
	char note[96];
};

/* The layouts, the wait reason values, and an index of the sudogs queued in
 * runtime.semtable by their goroutine, built once: N goroutines cost one
 * walk of the semaphore treaps, not N. */
struct go_block_index;

/* A runtime without the sudog layout in DWARF: CT_ERR_UNSUPPORTED. An
 * unreadable or damaged semtable is not an error: the index is then partial
 * (go_block_index_partial) and the sync waits it could not see are
 * returned with partial set. */
struct ct_error *go_block_index_open(const struct go_rt *rt, const struct go_sched *s,
				     struct go_block_index **ret);
void go_block_index_close(struct go_block_index *ix);
bool go_block_index_partial(const struct go_block_index *ix);
/* Sudogs found in runtime.semtable (for tests and statistics). */
size_t go_block_index_nsudogs(const struct go_block_index *ix);

/* What g waits on. An unreadable goroutine or sudog is not an error: the
 * kind from the wait reason is returned with partial set. */
struct ct_error *go_block_at(const struct go_block_index *ix, const struct go_g *g,
			     struct go_block *ret);

/* One-off form: opens an index for this call (use the index for many). */
struct ct_error *go_block_of(const struct go_rt *rt, const struct go_sched *s,
			     const struct go_g *g, struct go_block *ret);

const char *go_block_kind_name(enum go_block_kind k);
/* The kinds the leak rule applies to (CHAN ... COND). */
bool go_block_is_candidate(enum go_block_kind k);

#endif
