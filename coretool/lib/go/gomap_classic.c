/* Walking classic Go maps (runtime.hmap): 2^B buckets of 8 slots, overflow
 * chains, and incremental growth (oldbuckets, nevacuate, evacuation marks).
 * The rules are those of go1.22 src/runtime/map.go (mapiternext, evacuate)
 * and go1.24/1.25 src/runtime/map_noswiss.go, which did not change them. */
#include "gomap.h"
#include "gomap_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct classic_walk {
	const struct gomap_ctx *ctx;
	const struct gomap *m;
	const struct gomap_visitor *v;
	struct gomap_health *h;
	unsigned char *buf;
	struct ct_u64set seen; /* overflow buckets visited: cycles and shared chains */
	uint64_t overflow_budget;
	bool halt; /* the caller stopped the walk, or memory ran out */
	struct ct_error *err;
};

enum chain_mode {
	CHAIN_NEW, /* a bucket of the current array: every live slot is an entry */
	CHAIN_OLD, /* an old bucket: live slots not yet evacuated are entries */
};

static const char *classic_status_word(enum mem_status st)
{
	return st == MEM_NOT_SAVED ? "not saved in the core" : "unmapped (wild pointer)";
}

static const char *classic_in_array(const struct classic_walk *w, uint64_t addr)
{
	const struct gomap *m = w->m;
	uint64_t bs = m->type.group_size;
	uint64_t nb = (uint64_t)1 << m->B, nold = gomap_nold(w->ctx, m);
	if (addr >= m->buckets && addr - m->buckets < nb * bs)
		return "bucket array";
	if (nold && addr >= m->oldbuckets && addr - m->oldbuckets < nold * bs)
		return "old bucket array";
	return NULL;
}

/* Walks one bucket and its overflow chain. *first_tophash gets tophash[0] of the
 * first bucket (for the evacuation test), *live the live entries it held;
 * false if the first bucket could not be read. */
static bool classic_chain(struct classic_walk *w, enum chain_mode mode, uint64_t index,
			  uint64_t addr, uint8_t *first_tophash, uint64_t *live)
{
	const struct gomap_type *t = &w->m->type;
	const struct gomap_consts *c = &w->ctx->consts;
	struct gomap_health *h = w->h;
	const char *what = mode == CHAIN_OLD ? "old bucket" : "bucket";
	bool empty_rest = false;
	*live = 0;
	for (unsigned chain = 0; addr; chain++) {
		if (chain > 0) {
			bool seen;
			/* The arrays hold only the 2^B (or old) buckets themselves: the
			 * overflow buckets makeBucketArray preallocates sit past their end. An
			 * overflow pointer into an array loops or cross-links chains. */
			const char *arr = classic_in_array(w, addr);
			if (arr) {
				gomap_issue(h, "overflow pointer of %s %" PRIu64 " (after %u buckets) "
					       "points into the %s at 0x%" PRIx64 ": chain cut there",
					    what, index, chain, arr, addr);
				return true;
			}
			if ((w->err = ct_u64set_add(&w->seen, addr, &seen))) {
				w->halt = true;
				return false;
			}
			if (seen) {
				gomap_issue(h, "overflow chain of %s %" PRIu64 " loops back to 0x%" PRIx64
					       " after %u buckets: chain cut there",
					    what, index, addr, chain);
				return true;
			}
			if (w->overflow_budget == 0) {
				gomap_issue(h, "more overflow buckets than a map of 2^%u buckets can "
					       "have: walk stopped at %s %" PRIu64,
					    w->m->B, what, index);
				gomap_stop(h, "stopped at %s %" PRIu64 " overflow %u (0x%" PRIx64
					      "): overflow bucket budget exhausted",
					   what, index, chain, addr);
				w->halt = true;
				return true;
			}
			w->overflow_budget--;
		}
		enum mem_status st = mem_read(w->ctx->mem, addr, w->buf, t->group_size);
		if (st != MEM_OK) {
			if (chain == 0)
				gomap_issue(h, "%s %" PRIu64 " at 0x%" PRIx64 " is %s", what, index, addr,
					    classic_status_word(st));
			else
				gomap_issue(h, "overflow bucket %u of %s %" PRIu64 " at 0x%" PRIx64
					       " is %s",
					    chain, what, index, addr, classic_status_word(st));
			gomap_stop(h, "stopped at %s %" PRIu64 " overflow %u (0x%" PRIx64 "): %s",
				   what, index, chain, addr, classic_status_word(st));
			return chain > 0;
		}
		if (mode == CHAIN_OLD)
			h->old_buckets += chain == 0;
		else
			h->buckets += chain == 0;
		h->overflow_buckets += chain > 0;
		const uint8_t *tophash = w->buf + t->ctrl_off;
		if (chain == 0)
			*first_tophash = tophash[0];
		uint64_t next = mem_load(w->buf + t->overflow_off, 8);
		if (w->v->group) {
			struct gomap_group g = {
				.kind = mode == CHAIN_OLD ? GOMAP_OLDBUCKET : GOMAP_BUCKET,
				.index = index,
				.chain = chain,
				.addr = addr,
				.overflow = next,
			};
			memcpy(g.ctrl, tophash, t->slots);
			g.evacuated = mode == CHAIN_OLD && tophash[0] > c->empty_one &&
				      tophash[0] < c->min_top_hash;
			if (!w->v->group(w->v->arg, w->m, &g)) {
				w->halt = true;
				h->stopped_by_caller = true;
				gomap_stop(h, "stopped by the caller");
				return true;
			}
		}
		for (unsigned i = 0; i < t->slots; i++) {
			unsigned th = tophash[i];
			if (th == c->empty_rest || th == c->empty_one) {
				empty_rest |= th == c->empty_rest;
				h->empty++;
				continue;
			}
			if (th == c->evacuated_x || th == c->evacuated_y || th == c->evacuated_empty) {
				if (mode == CHAIN_NEW)
					gomap_issue(h, "bucket %" PRIu64 " slot %u (0x%" PRIx64 "): evacuation "
						       "mark %u in the current bucket array",
						    index, chain * t->slots + i, addr, th);
				h->evacuated++;
				continue;
			}
			if (th < c->min_top_hash) {
				gomap_issue(h, "%s %" PRIu64 " slot %u (0x%" PRIx64 "): tophash %u is "
					       "impossible",
					    what, index, chain * t->slots + i, addr, th);
				continue;
			}
			if (empty_rest)
				gomap_issue(h, "%s %" PRIu64 " slot %u (0x%" PRIx64 "): live slot after "
					       "an emptyRest mark",
					    what, index, chain * t->slots + i, addr);
			empty_rest = false;
			h->live++;
			(*live)++;
			if (w->v->entry) {
				struct gomap_entry e;
				gomap_slot_entry(w->ctx, t, addr, w->buf, i, &e);
				e.ctrl = th;
				if (!e.key_ok || !e.elem_ok)
					gomap_issue(h, "%s %" PRIu64 " slot %u: nil indirect %s pointer",
						    what, index, chain * t->slots + i,
						    e.key_ok ? "value" : "key");
				if (!w->v->entry(w->v->arg, w->m, &e)) {
					w->halt = true;
					h->stopped_by_caller = true;
					gomap_stop(h, "stopped by the caller");
					return true;
				}
			}
		}
		addr = next;
	}
	return true;
}

struct ct_error *gomap_walk_classic(const struct gomap_ctx *ctx, const struct gomap *m,
				    const struct gomap_visitor *v, struct gomap_health *h)
{
	const struct gomap_consts *c = &ctx->consts;
	const struct gomap_type *t = &m->type;
	if (!m->buckets)
		return NULL; /* no buckets allocated yet: an empty map */
	uint64_t nb = (uint64_t)1 << m->B;
	uint64_t nold = gomap_nold(ctx, m);
	struct classic_walk w = {
		.ctx = ctx, .m = m, .v = v, .h = h,
		.overflow_budget = 2 * (nb + nold) + 65536,
	};
	w.buf = malloc(t->group_size);
	if (!w.buf)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory walking a map");
	h->growing = nold != 0;
	h->same_size_grow = nold && (m->flags & c->flag_same_size_grow);
	h->writing = m->flags & c->flag_hash_writing;
	h->iterating = m->flags & (c->flag_iterator | c->flag_old_iterator);
	uint8_t th0;
	uint64_t live;
	if (!nold) {
		for (uint64_t i = 0; i < nb && !w.halt; i++)
			classic_chain(&w, CHAIN_NEW, i, m->buckets + i * t->group_size, &th0, &live);
		goto out;
	}
	/* Mid-growth. Old bucket i feeds new buckets i and i + nold (only i for a
	 * same-size grow); the runtime evacuates an old bucket before any write
	 * reaches those new buckets (growWork in mapassign/mapdelete). So each live
	 * entry is either in a not-yet-evacuated old bucket (its slot still live)
	 * or in a new bucket, never both: the runtime's iterator decides which by
	 * rehashing keys, which a core reader cannot do (hash0 seeds a hardware AES
	 * hash), but visiting the live old slots plus every new bucket gives the
	 * same set. */
	for (uint64_t i = 0; i < nold && !w.halt; i++) {
		bool ok = classic_chain(&w, CHAIN_OLD, i, m->oldbuckets + i * t->group_size, &th0,
					&live);
		bool evacuated = ok && th0 > c->empty_one && th0 < c->min_top_hash;
		if (ok && !evacuated)
			h->old_unevacuated++;
		if (ok && i < m->nevacuate && !evacuated)
			gomap_issue(h, "old bucket %" PRIu64 " is below nevacuate %" PRIu64
				       " but not evacuated",
				    i, m->nevacuate);
		for (uint64_t j = i; j < nb && !w.halt; j += nold) {
			uint64_t nlive;
			classic_chain(&w, CHAIN_NEW, j, m->buckets + j * t->group_size, &th0, &nlive);
			if (ok && !evacuated && nlive)
				gomap_issue(h, "new bucket %" PRIu64 " holds %" PRIu64 " entries but its "
					       "old bucket %" PRIu64 " is not evacuated",
					    j, nlive, i);
		}
	}
out:
	ct_u64set_free(&w.seen);
	free(w.buf);
	return w.err;
}
