/* A post-mortem audit of pointers across the cgo boundary (the Go GC cannot
 * see what C keeps; Go cannot tell that C freed what a Go value points to):
 *  - C memory (allocated glibc chunks, C globals) holding Go heap pointers:
 *    dangling (the target is free or garbage), unpinned (live, but nothing
 *    pins it: works by luck), ok (pinned by a runtime.Pinner);
 *  - Go memory (map entries, Go globals, and conservatively live Go heap
 *    objects) holding pointers to freed C chunks.
 * Pointers found on thread or goroutine stacks are reported apart: they may be
 * legitimately in flight during a call. */
#ifndef CT_CGOCHECK_H
#define CT_CGOCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
#include "target.h"

enum cgocheck_kind {
	CGOCHECK_C_HOLDS_GO,      /* a Go pointer stored in C memory */
	CGOCHECK_GO_HOLDS_FREED_C /* a freed C pointer stored in Go memory */
};

enum cgocheck_verdict {
	CGOCHECK_DANGLING,  /* the target is freed: will crash or corrupt */
	CGOCHECK_UNPINNED,  /* live Go object, not pinned: breaks the cgo pointer rules */
	CGOCHECK_OK,        /* pinned */
};

enum cgocheck_place { CGOCHECK_GLOBAL, CGOCHECK_CHUNK, CGOCHECK_MAP, CGOCHECK_GO_HEAP, CGOCHECK_STACK };

struct cgocheck_finding {
	enum cgocheck_kind kind;
	enum cgocheck_verdict verdict;
	enum cgocheck_place place;
	uint64_t at, value;
	char holder[256];        /* "cached_session+0x0 (exe .bss)", "C chunk 0x... +0x10", "main.m[\"k\"] (value)" */
	struct verdict target;   /* the classification of value */
	bool conservative;       /* found by scanning untyped memory: may not be a pointer */
};

struct cgocheck_stats {
	uint64_t c_bytes, go_bytes; /* memory scanned on each side */
	uint64_t chunks, maps_entries;
	uint64_t n[3];              /* findings by verdict (stack ones excluded) */
	uint64_t on_stacks;
	bool truncated;             /* fn stopped the audit: more findings than were kept */
	/* Memory the audit needed was missing or could not be believed (bytes
	 * not in the core, spans that fail go_span_check, Go pointers whose arena
	 * index is unreadable, a walk that stopped): findings may be missing,
	 * dangling ones included. Each cause is a warning on the target. */
	bool partial;
	uint64_t missing_bytes;     /* bytes to scan that neither the core nor a mapped file holds */
};

typedef bool (*cgocheck_fn)(void *arg, const struct cgocheck_finding *f);

/* Runs the audit, calling fn for each finding (stream). Every range scanned
 * is bounded by what the core (or a file it maps) holds, whatever size it
 * claims, and the whole audit by the core's saved bytes; each span's sizes
 * pass go_span_check first. Needs a core target. */
struct ct_error *cgocheck_run(struct target *t, cgocheck_fn fn, void *arg, struct cgocheck_stats *st);

const char *cgocheck_verdict_name(enum cgocheck_verdict v);
const char *cgocheck_place_name(enum cgocheck_place p);

#endif
