#include "holders.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gomap_holders.h"

void holders_range(struct target *t, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	struct verdict v;
	classify_addr(t, addr, &v);
	*lo = *hi = addr;
	const struct go_heap *h = NULL;
	if (v.region == REGION_GO_HEAP && v.d.heap.kind == GO_SPAN_INUSE && !v.d.heap.slot.beyond &&
	    !target_go_heap(t, &h)) {
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
		if (!(s->flags & PF_W) || !s->filesz)
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
				if (w - h->lo > h->hi - h->lo)
					continue;
				h->total++;
				if (h->n < HOLDERS_MAX)
					h->h[h->n++] = (struct holder){ .at = s->vaddr + k * 8, .value = w };
			}
		}
		core_advise(t->core, s->vaddr, s->filesz, MEM_ACCESS_DONE);
	}
	for (size_t j = 0; j < n; j++)
		for (size_t i = 0; i < ret[j].n; i++)
			holder_describe(t, &ret[j].h[i]);
}

void holders_find(struct target *t, uint64_t lo, uint64_t hi, struct holders *ret)
{
	struct holders_range r = { lo, hi };
	holders_find_many(t, &r, 1, ret);
}
