/* Internals shared by gomap*.c: not for other modules. */
#ifndef CT_GOMAP_INT_H
#define CT_GOMAP_INT_H

#include "ct_set.h"
#include "gomap.h"

#define GOMAP_NONE UINT64_MAX

/* Bounds on header values a walk is willing to loop over. Real maps stay far
 * below: 2^40 buckets would be 10 TB of bucket memory; a directory of 2^30
 * tables would hold 10^12 entries. The walk also probes that the arrays these
 * values imply are mapped before it loops over them. */
enum {
	GOMAP_MAX_B = 40,
	GOMAP_MAX_DIRLEN_BITS = 30,
	GOMAP_MAX_DIRLEN = 1 << GOMAP_MAX_DIRLEN_BITS,
	/* old buckets whose states the growth text counts (one byte read each) */
	GOMAP_GROWTH_COUNT_MAX = 1 << 20,
};

struct gomap_ctx {
	const struct go_rt *rt;
	const struct dw *dw;
	const struct mem *mem;
	struct gomap_consts consts;
};

void gomap_issue(struct gomap_health *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Marks the walk incomplete and records the first reason. */
void gomap_stop(struct gomap_health *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool gomap_probe(const struct gomap_ctx *ctx, uint64_t addr, uint64_t len, enum mem_status *st);
/* Number of old buckets of a growing classic map (0 if not growing). */
uint64_t gomap_nold(const struct gomap_ctx *ctx, const struct gomap *m);

struct ct_error *gomap_walk_classic(const struct gomap_ctx *ctx, const struct gomap *m,
				    const struct gomap_visitor *v, struct gomap_health *h);
struct ct_error *gomap_walk_swiss(const struct gomap_ctx *ctx, const struct gomap *m,
				  const struct gomap_visitor *v, struct gomap_health *h);

/* Resolves the key/elem of slot i of a group read into buf (at addr) into *e;
 * indirect keys/values are followed. */
void gomap_slot_entry(const struct gomap_ctx *ctx, const struct gomap_type *t, uint64_t addr,
		      const unsigned char *buf, unsigned i, struct gomap_entry *e);

/* A set of addresses (open addressing), to see a bucket or table twice. */

#endif
