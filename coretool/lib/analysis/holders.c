#include "holders.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap_holders.h"

void holders_range(struct target *t, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	struct verdict v;
	classify_addr(t, addr, &v);
	*lo = *hi = addr;
	const struct go_heap *h = NULL;
	/* A verdict whose state is unknown (a damaged span) gives no object bounds. */
	if (v.region == REGION_GO_HEAP && v.state != VSTATE_UNKNOWN && v.d.heap.kind == GO_SPAN_INUSE &&
	    !v.d.heap.slot.beyond && !target_go_heap(t, &h)) {
		uint64_t esize = go_span_elem_bytes(h, &v.d.heap.span);
		*lo = v.d.heap.slot.base;
		*hi = v.d.heap.slot.base + esize - 1;
	} else if (v.region == REGION_C_HEAP && v.d.chunk.chunk) {
		*lo = v.d.chunk.user;
		*hi = v.d.chunk.user + (v.d.chunk.user_size ? v.d.chunk.user_size - 1 : 0);
	}
}

static void holder_describe(struct target *t, struct holder *h)
{
	classify_addr(t, h->at, &h->where);
	const struct verdict *v = &h->where;
	char *d = h->desc;
	size_t n = sizeof(h->desc);
	if (gomap_holder_describe(t, h->at, d, n)) {
		h->is_map_entry = true;
		return;
	}
	switch (v->region) {
	case REGION_IMAGE:
		if (v->d.image.symbol)
			snprintf(d, n, "%s+0x%" PRIx64 " (%s %s)", v->d.image.symbol,
				 v->d.image.sym_offset, v->d.image.module,
				 v->d.image.section ? v->d.image.section : "");
		else
			snprintf(d, n, "%s %s", v->d.image.module,
				 v->d.image.section ? v->d.image.section : "");
		break;
	case REGION_GO_HEAP:
		if (v->state == VSTATE_UNKNOWN) {
			snprintf(d, n, "Go heap memory (state unknown: %s)", v->note[0] ? v->note : "its span cannot be read");
			break;
		}
		if (v->d.heap.kind != GO_SPAN_INUSE) {
			snprintf(d, n, "free Go heap pages (no span)");
			break;
		}
		snprintf(d, n, "Go heap object 0x%" PRIx64 "+0x%" PRIx64 " (%s, %" PRIu64 " bytes)",
			 v->d.heap.slot.base, v->d.heap.slot.offset, classify_state_name(v->state),
			 v->d.heap.span.elemsize);
		break;
	case REGION_C_HEAP:
		snprintf(d, n, "C chunk 0x%" PRIx64 "+0x%" PRIx64 " (%s, %" PRIu64 " bytes)",
			 v->d.chunk.user, h->at - v->d.chunk.user, classify_state_name(v->state),
			 v->d.chunk.user_size);
		break;
	case REGION_GO_STACK:
		snprintf(d, n, "stack of goroutine %" PRIu64, v->d.stack.goid);
		break;
	case REGION_THREAD_STACK:
		snprintf(d, n, "stack of thread %" PRId64, v->d.tstack.tid);
		break;
	default:
		snprintf(d, n, "%s memory", classify_region_name(v->region));
	}
}

int holders_rank(struct target *t, const struct holder *h)
{
	const struct verdict *w = &h->where;
	if (h->is_map_entry)
		return HOLDER_RANK_MAP_ENTRY;
	/* glibc's own bookkeeping (main_arena's bins and top) is no program's holder */
	if (w->region == REGION_IMAGE)
		return w->d.image.module && strstr(w->d.image.module, "libc.so") ? HOLDER_RANK_OTHER
										 : HOLDER_RANK_GLOBAL;
	/* ... nor a thread's tcache (tcache_perthread_struct), as the C heap model found them */
	struct cheap *ch;
	if (w->region == REGION_C_HEAP && w->d.chunk.chunk && !target_cheap(t, &ch) &&
	    cheap_is_tcache(ch, w->d.chunk.user))
		return HOLDER_RANK_OTHER;
	if (w->region == REGION_GO_HEAP || w->region == REGION_C_HEAP)
		return w->state == VSTATE_ALLOCATED ? HOLDER_RANK_HEAP : HOLDER_RANK_FREED_HEAP;
	return HOLDER_RANK_OTHER;
}

const struct holder *holders_best(const struct holders *hs)
{
	return hs->n && hs->h[0].rank > HOLDER_RANK_OTHER ? &hs->h[0] : NULL;
}

/* The rank a hit can be given during the scan, before it is classified: map
 * slots and module data are named holders; the rest waits. */
static int holders_scan_rank(struct target *t, uint64_t at)
{
	if (gomap_holder_is_slot(t, at))
		return HOLDER_RANK_MAP_ENTRY;
	const struct target_module *m = target_module_of(t, at);
	if (m && !strstr(m->name, "libc.so"))
		return HOLDER_RANK_GLOBAL;
	return HOLDER_RANK_OTHER;
}

static void holders_add(struct target *t, struct holders *h, uint64_t at, uint64_t w)
{
	h->total++;
	size_t v = 0;
	while (v < h->nvalues && h->values[v].value != w)
		v++;
	if (v < h->nvalues)
		h->values[v].count++;
	else if (h->nvalues < HOLDERS_MAX_VALUES)
		h->values[h->nvalues++] = (struct holders_value){ w, 1 };
	else
		h->other_values++;
	int rank = holders_scan_rank(t, at);
	struct holder nh = { .at = at, .value = w, .rank = rank };
	if (h->n < HOLDERS_MAX) {
		h->h[h->n++] = nh;
		return;
	}
	/* Full: a named hit replaces the last anonymous one. */
	if (rank == HOLDER_RANK_OTHER)
		return;
	for (size_t i = h->n; i-- > 0;)
		if (h->h[i].rank == HOLDER_RANK_OTHER) {
			h->h[i] = nh;
			return;
		}
}

static int holders_cmp(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

static int holders_value_cmp(const void *a, const void *b)
{
	const struct holders_value *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->value < y->value ? -1 : x->value > y->value;
}

void holders_find_many(struct target *t, const struct holders_range *r, size_t n,
			struct holders *ret)
{
	uint64_t min = UINT64_MAX, max = 0;
	for (size_t j = 0; j < n; j++) {
		memset(&ret[j], 0, sizeof(ret[j]));
		ret[j].lo = r[j].lo;
		ret[j].hi = r[j].hi;
		if (r[j].lo < min)
			min = r[j].lo;
		if (r[j].hi > max)
			max = r[j].hi;
	}
	if (!t->core || !n)
		return;
	/* One pass over memory for all ranges: a word outside [min, max] is
	 * dismissed with one comparison, the rest are checked range by range. */
	for (size_t i = 0; i < t->core->nsegs; i++) {
		const struct core_segment *s = &t->core->segs[i];
		/* A live process has no file to scan (its memory is a callback's). */
		if (!(s->flags & PF_W) || !s->filesz || !t->core->data)
			continue;
		const unsigned char *p = t->core->data + s->offset;
		uint64_t nw = s->filesz / 8;
		for (size_t j = 0; j < n; j++)
			ret[j].scanned += nw * 8;
		core_advise(t->core, s->vaddr, s->filesz, MEM_ACCESS_WALK);
		for (uint64_t k = 0; k < nw; k++) {
			uint64_t w;
			memcpy(&w, p + k * 8, 8);
			if (w - min > max - min) /* unsigned: w outside [min, max] */
				continue;
			for (size_t j = 0; j < n; j++) {
				struct holders *h = &ret[j];
				uint64_t at = s->vaddr + k * 8;
				if (w - h->lo > h->hi - h->lo || (at >= h->lo && at <= h->hi))
					continue;
				holders_add(t, h, s->vaddr + k * 8, w);
			}
		}
		core_advise(t->core, s->vaddr, s->filesz, MEM_ACCESS_DONE);
	}
	for (size_t j = 0; j < n; j++) {
		for (size_t i = 0; i < ret[j].n; i++) {
			holder_describe(t, &ret[j].h[i]);
			ret[j].h[i].rank = holders_rank(t, &ret[j].h[i]);
		}
		qsort(ret[j].h, ret[j].n, sizeof(ret[j].h[0]), holders_cmp);
		qsort(ret[j].values, ret[j].nvalues, sizeof(ret[j].values[0]), holders_value_cmp);
	}
}

void holders_find(struct target *t, uint64_t lo, uint64_t hi, struct holders *ret)
{
	struct holders_range r = { lo, hi };
	holders_find_many(t, &r, 1, ret);
}
