#include "goheap.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Values for linux/amd64 used only when a binary's DWARF lacks the constant
 * (the compiler emits only constants the program uses). Checked against
 * runtime/malloc.go, mheap.go, mbitmap.go of Go 1.19-1.27. */
static const struct {
	const char *name;
	int64_t value;
} go_heap_fallback[] = {
	{ "runtime.heapArenaBytes", 64 << 20 },
	{ "runtime.pageSize", 8192 },
	{ "runtime.arenaBaseOffsetUintptr", (int64_t)0xffff800000000000ULL },
	{ "runtime.arenaL1Bits", 0 },
	{ "runtime.arenaL2Bits", 22 },
	{ "runtime.pagesPerArena", 8192 },
	{ "runtime.mSpanInUse", 1 },
	{ "runtime.mSpanManual", 2 },
	{ "runtime._GCoff", 0 },
	{ "runtime.minSizeForMallocHeader", 512 }, /* mbitmap.go, 1.22+ */
	{ "runtime.mallocHeaderSize", 8 },         /* mbitmap.go, 1.22+ */
};

void go_heap_fallbacks(ct_fallback_fn fn, void *arg)
{
	for (size_t i = 0; i < sizeof(go_heap_fallback) / sizeof(go_heap_fallback[0]); i++)
		fn(arg, go_heap_fallback[i].name, go_heap_fallback[i].value);
}

/* amd64 heap addresses are below 2^48 (heapAddrBits, malloc.go): no span's
 * pages reach past it. */
#define GO_SPAN_MAX_BYTES (1ULL << 48)
/* The most slots a span has: size class 1 (8 bytes) in one 8 KiB page is
 * 1024; far above that is damage (go_span_count_allocated's bit buffer
 * holds 65536). */
#define GO_SPAN_MAX_NELEMS 65536

static int64_t go_heap_const(const struct go_rt *rt, const char *name)
{
	int64_t v;
	struct ct_error *err = dw_const(rt->dw, name, &v);
	if (!err)
		return v;
	ct_error_destroy(err);
	for (size_t i = 0; i < sizeof(go_heap_fallback) / sizeof(go_heap_fallback[0]); i++)
		if (!strcmp(go_heap_fallback[i].name, name))
			return go_heap_fallback[i].value;
	return 0;
}

/* The mspan fields the model reads (runtime/mheap.go), each from DWARF: the
 * one list, for reading them and for showing them (go_heap_layout). */
static const struct {
	const char *member;
	size_t field; /* offsetof(struct go_heap, f_...) */
} go_mspan_fields[] = {
	{ "startAddr", offsetof(struct go_heap, f_start) },
	{ "npages", offsetof(struct go_heap, f_npages) },
	{ "freeindex", offsetof(struct go_heap, f_freeindex) },
	{ "nelems", offsetof(struct go_heap, f_nelems) },
	{ "allocBits", offsetof(struct go_heap, f_allocbits) },
	{ "gcmarkBits", offsetof(struct go_heap, f_markbits) },
	{ "sweepgen", offsetof(struct go_heap, f_sweepgen) },
	{ "allocCount", offsetof(struct go_heap, f_alloccount) },
	{ "spanclass", offsetof(struct go_heap, f_spanclass) },
	{ "state", offsetof(struct go_heap, f_state) },
	{ "elemsize", offsetof(struct go_heap, f_elemsize) },
	{ "limit", offsetof(struct go_heap, f_limit) },
};

static struct ct_error *go_heap_read_mspan_fields(const struct dw *dw, struct go_heap *h)
{
	for (size_t i = 0; i < sizeof(go_mspan_fields) / sizeof(go_mspan_fields[0]); i++) {
		struct dw_field *f = (struct dw_field *)((char *)h + go_mspan_fields[i].field);
		struct ct_error *err = dw_field(dw, "runtime.mspan", go_mspan_fields[i].member, f);
		if (err)
			return err;
	}
	return NULL;
}

void go_heap_layout(const struct go_heap *h, go_layout_fn fn, void *arg)
{
	fn(arg, "runtime.mspan", NULL, 0, h->mspan_size);
	for (size_t i = 0; i < sizeof(go_mspan_fields) / sizeof(go_mspan_fields[0]); i++) {
		const struct dw_field *f = (const struct dw_field *)((const char *)h + go_mspan_fields[i].field);
		fn(arg, "runtime.mspan", go_mspan_fields[i].member, f->off, f->size);
	}
	if (h->f_pinnerbits.size)
		fn(arg, "runtime.mspan", "pinnerBits", h->f_pinnerbits.off, h->f_pinnerbits.size);
	fn(arg, "runtime.mheap", "arenas", h->f_mh_arenas.off, h->f_mh_arenas.size);
	fn(arg, "runtime.mheap", "allspans", h->f_mh_allspans.off, h->f_mh_allspans.size);
	fn(arg, "runtime.mheap", "sweepgen", h->f_mh_sweepgen.off, h->f_mh_sweepgen.size);
	for (size_t i = 0; i < 2; i++)
		if (h->f_mh_arena_lists[i].size)
			fn(arg, "runtime.mheap", h->arena_list_names[i], h->f_mh_arena_lists[i].off,
			   h->f_mh_arena_lists[i].size);
	fn(arg, "runtime.heapArena", "spans", h->f_ha_spans.off, h->f_ha_spans.size);
}

/* Far above any real heap: 2^20 arenas of 64 MiB are 64 TiB. */
#define GO_MAX_ARENAS (1ULL << 20)

static int go_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* mheap_.allArenas / heapArenas + userArenaArenas ([]arenaIdx): the arenas
 * the runtime mapped, merged and sorted. A list unreadable or absurd: no list
 * (go_heap_in_arena then knows nothing). */
static void go_heap_read_arena_list(struct go_heap *h)
{
	const struct mem *m = h->rt->mem;
	uint64_t ptr[2] = { 0 }, len[2] = { 0 }, total = 0;
	for (size_t i = 0; i < 2; i++) {
		if (!h->f_mh_arena_lists[i].size)
			continue;
		uint64_t a = h->mheap + h->f_mh_arena_lists[i].off;
		struct ct_error *err = mem_read_u64(m, a, &ptr[i], "mheap_ arena list");
		if (!err)
			err = mem_read_u64(m, a + 8, &len[i], "mheap_ arena list length");
		if (err || len[i] > GO_MAX_ARENAS) {
			ct_error_destroy(err);
			return;
		}
		total += len[i];
	}
	if (!total)
		return;
	uint64_t *list = malloc(total * sizeof(*list));
	if (!list)
		return;
	for (size_t i = 0, n = 0; i < 2; n += len[i], i++) {
		if (!len[i])
			continue;
		struct ct_error *err = mem_read_err(m, ptr[i], list + n, len[i] * sizeof(*list),
						    "mheap_ arena list array");
		if (err) {
			ct_error_destroy(err);
			free(list);
			return;
		}
	}
	qsort(list, total, sizeof(*list), go_u64_cmp);
	h->arena_list = list;
	h->narena_list = total;
}

struct ct_error *go_heap_open(const struct go_rt *rt, struct go_heap **ret)
{
	struct ct_error *err;
	struct go_heap *h = calloc(1, sizeof(*h));
	if (!h)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	h->rt = rt;
	const struct dw *dw = rt->dw;
	if ((err = go_var_addr(rt, "runtime.mheap_", &h->mheap)) ||
	    (err = dw_field(dw, "runtime.mheap", "arenas", &h->f_mh_arenas)) ||
	    (err = dw_field(dw, "runtime.mheap", "sweepgen", &h->f_mh_sweepgen)) ||
	    (err = dw_field(dw, "runtime.mheap", "allspans", &h->f_mh_allspans)) ||
	    (err = dw_member_offset(dw, "runtime.heapArena", "spans", &h->f_ha_spans.off)) ||
	    (err = dw_struct_size(dw, "runtime.mspan", &h->mspan_size)) ||
	    (err = go_heap_read_mspan_fields(dw, h))) {
		free(h);
		return ct_error_wrap(err, "Go heap model");
	}
	if (h->mspan_size > 4096) {
		uint64_t size = h->mspan_size;
		free(h);
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "runtime.mspan is %" PRIu64 " bytes: unexpected", size);
	}
	struct ct_error *opt = dw_field(dw, "runtime.mspan", "pinnerBits", &h->f_pinnerbits);
	if (opt) {
		ct_error_destroy(opt);
		h->f_pinnerbits.size = 0;
	}
	/* allArenas to 1.24; heapArenas and userArenaArenas from 1.25 (mheap.go). */
	static const char *const lists[][2] = { { "allArenas", NULL }, { "heapArenas", "userArenaArenas" } };
	for (size_t k = 0; k < 2 && !h->f_mh_arena_lists[0].size; k++) {
		for (size_t i = 0; i < 2 && lists[k][i]; i++) {
			struct dw_field *f = &h->f_mh_arena_lists[i];
			opt = dw_field(dw, "runtime.mheap", lists[k][i], f);
			if (opt || f->size != 24) { /* a slice: array, len, cap */
				ct_error_destroy(opt);
				f->size = 0;
				continue;
			}
			h->arena_list_names[i] = lists[k][i];
		}
	}
	h->arenas = h->mheap + h->f_mh_arenas.off;
	h->allspans_addr = h->mheap + h->f_mh_allspans.off;
	h->ha_spans_off = h->f_ha_spans.off;
	opt = dw_field(dw, "runtime.heapArena", "spans", &h->f_ha_spans); /* its size, for the layout */
	ct_error_destroy(opt);
	h->f_ha_spans.off = h->ha_spans_off;
	h->page_size = go_heap_const(rt, "runtime.pageSize");
	h->arena_bytes = go_heap_const(rt, "runtime.heapArenaBytes");
	h->arena_base = (uint64_t)go_heap_const(rt, "runtime.arenaBaseOffsetUintptr");
	h->l1_count = 1ULL << go_heap_const(rt, "runtime.arenaL1Bits");
	h->l2_bits = go_heap_const(rt, "runtime.arenaL2Bits");
	h->pages_per_arena = go_heap_const(rt, "runtime.pagesPerArena");
	h->span_inuse = go_heap_const(rt, "runtime.mSpanInUse");
	h->span_manual = go_heap_const(rt, "runtime.mSpanManual");
	h->gcoff = go_heap_const(rt, "runtime._GCoff");
	if (!h->page_size || !h->arena_bytes || !h->pages_per_arena || h->l2_bits > 40 ||
	    h->l1_count > (1 << 20)) {
		free(h);
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "Go heap constants out of range");
	}
	/* The state field is an mSpanStateBox {s uint8} in 1.19+; its first byte is the state. */
	h->f_state.size = 1;
	Dwarf_Die d;
	/* Allocation headers came with Go 1.22 (mallocHeaderSize in mbitmap.go). */
	h->headers = dw_lookup(dw, "runtime.mallocHeaderSize", 0, &d) ||
		     dw_lookup(dw, "runtime.minSizeForMallocHeader", 0, &d) ||
		     (rt->major == 1 && rt->minor >= 22);
	h->header_min = go_heap_const(rt, "runtime.minSizeForMallocHeader");
	h->header_size = go_heap_const(rt, "runtime.mallocHeaderSize");
	/* Green Tea: the type exists only in builds that use it (1.25 experiment,
	 * 1.26 default). gcUsesSpanInlineMarkBits: 16 <= size <= minSizeForMallocHeader. */
	if (dw_type(dw, "runtime.spanInlineMarkBits", &d) && dw_size(&d, &h->inline_size) &&
	    dw_member(&d, "marks", &h->inline_marks_off, NULL)) {
		h->inline_marks = true;
		h->inline_min = 16;
		h->inline_max = h->header_min;
	}
	h->gcphase = -1;
	unsigned char b4[4], b8[8];
	if (mem_read(rt->mem, h->mheap + h->f_mh_sweepgen.off, b8, 8) == MEM_OK)
		h->sweepgen = (uint32_t)mem_load(b8, 8);
	uint64_t gcphase_addr;
	struct ct_error *e = go_var_addr(rt, "runtime.gcphase", &gcphase_addr);
	if (!e && mem_read(rt->mem, gcphase_addr, b4, 4) == MEM_OK)
		h->gcphase = (int64_t)mem_load(b4, 4);
	ct_error_destroy(e);
	go_heap_read_arena_list(h);
	*ret = h;
	return NULL;
}

void go_heap_close(struct go_heap *h)
{
	if (h)
		free(h->arena_list);
	free(h);
}

/* arenaIndex: (p - arenaBaseOffset) / heapArenaBytes, unsigned wrap (mheap.go). */
static uint64_t go_arena_index(const struct go_heap *h, uint64_t addr)
{
	return (addr - h->arena_base) / h->arena_bytes;
}

bool go_heap_in_arena(const struct go_heap *h, uint64_t addr)
{
	uint64_t ai = go_arena_index(h, addr);
	return h->narena_list &&
	       bsearch(&ai, h->arena_list, h->narena_list, sizeof(ai), go_u64_cmp) != NULL;
}

struct ct_error *go_span_read(const struct go_heap *h, uint64_t addr, struct go_span *s)
{
	unsigned char buf[4096];
	struct ct_error *err = mem_read_err(h->rt->mem, addr, buf, h->mspan_size, "mspan");
	if (err)
		return err;
#define F(f) mem_load(buf + h->f.off, h->f.size)
	memset(s, 0, sizeof(*s));
	s->addr = addr;
	s->start = F(f_start);
	s->npages = F(f_npages);
	s->freeindex = F(f_freeindex);
	s->nelems = F(f_nelems);
	s->alloc_bits = F(f_allocbits);
	s->mark_bits = F(f_markbits);
	s->sweepgen = F(f_sweepgen);
	s->alloc_count = F(f_alloccount);
	s->spanclass = F(f_spanclass);
	s->state = F(f_state);
	s->elemsize = F(f_elemsize);
	s->limit = F(f_limit);
	s->pinner_bits = h->f_pinnerbits.size ? F(f_pinnerbits) : 0;
#undef F
	return NULL;
}

struct ct_error *go_heap_span_of(const struct go_heap *h, uint64_t addr, enum go_span_kind *kind,
				 struct go_span *span)
{
	struct ct_error *err;
	*kind = GO_SPAN_NONE;
	uint64_t ai = go_arena_index(h, addr);
	uint64_t l1 = h->l2_bits >= 64 ? 0 : ai >> h->l2_bits;
	uint64_t l2 = ai & ((1ULL << h->l2_bits) - 1);
	if (l1 >= h->l1_count)
		return NULL;
	uint64_t l2arr, ha, sp;
	if ((err = mem_read_u64(h->rt->mem, h->arenas + l1 * 8, &l2arr, "mheap_.arenas")))
		return err;
	if (!l2arr)
		return NULL;
	if ((err = mem_read_u64(h->rt->mem, l2arr + l2 * 8, &ha, "heap arena index")))
		return err;
	if (!ha)
		return NULL;
	uint64_t page = (addr / h->page_size) % h->pages_per_arena;
	if ((err = mem_read_u64(h->rt->mem, ha + h->ha_spans_off + page * 8, &sp, "heapArena.spans")))
		return err;
	*kind = GO_SPAN_FREE;
	if (!sp)
		return NULL;
	if ((err = go_span_read(h, sp, span)))
		goto fail;
	/* spans[] entries go stale when spans are freed: trust one only if it is in
	 * use and covers the address (as runtime.spanOfHeap checks). */
	if (addr < span->start || addr >= span->limit || span->npages == 0)
		return NULL;
	if (span->state != h->span_inuse && span->state != h->span_manual) {
		if (span->state == 0) /* mSpanDead; no other state exists (mheap.go) */
			return NULL;
		err = ct_error_fmt(CT_ERR_CORRUPT, "span 0x%" PRIx64 " covering 0x%" PRIx64
				   " has state %u, not a span state", span->addr, addr, span->state);
		goto fail;
	}
	/* A span in use whose sizes do not add up is damage, not an answer: no
	 * caller gets its sizes (the one check, as every walk of spans runs it). */
	if ((err = go_span_check(h, span)))
		goto fail;
	*kind = span->state == h->span_inuse ? GO_SPAN_INUSE : GO_SPAN_MANUAL;
	return NULL;
fail:
	*kind = GO_SPAN_NONE;
	memset(span, 0, sizeof(*span));
	return err;
}

static struct ct_error *go_bit(const struct go_heap *h, uint64_t bits, uint64_t i, bool *ret,
			       const char *what)
{
	unsigned char b;
	enum mem_status st = mem_read(h->rt->mem, bits + i / 8, &b, 1);
	if (st != MEM_OK)
		return mem_error(st, bits + i / 8, 1, what);
	*ret = (b >> (i % 8)) & 1;
	return NULL;
}

struct ct_error *go_span_allocated(const struct go_heap *h, const struct go_span *span,
				   uint64_t i, bool *ret)
{
	/* freeindex: every slot below it is allocated, whatever allocBits says
	 * (allocBits lags behind fresh allocations until the next sweep). */
	if (i < span->freeindex) {
		*ret = true;
		return NULL;
	}
	if (!span->alloc_bits)
		return ct_error_fmt(CT_ERR_CORRUPT, "span 0x%" PRIx64 " has no allocBits", span->addr);
	return go_bit(h, span->alloc_bits, i, ret, "span allocBits");
}

struct ct_error *go_span_slot(const struct go_heap *h, const struct go_span *span, uint64_t addr,
			      struct go_slot *slot)
{
	memset(slot, 0, sizeof(*slot));
	slot->marked = -1;
	unsigned sizeclass = go_spanclass_sizeclass(span->spanclass);
	bool noscan = go_spanclass_noscan(span->spanclass);
	slot->large = sizeclass == 0;
	/* The tiny allocator packs several noscan objects into 16-byte blocks of
	 * size class 2 (tinySpanClass, malloc.go). */
	slot->tiny = sizeclass == 2 && noscan;
	/* A span that breaks the mspan invariants is damaged: its bits would
	 * give a confident wrong answer. */
	struct ct_error *err = go_span_check(h, span);
	if (err)
		return err;
	if (addr < span->start)
		return ct_error_fmt(CT_ERR_CORRUPT, "span 0x%" PRIx64 " starts at 0x%" PRIx64 ", after 0x%" PRIx64,
				    span->addr, span->start, addr);
	uint64_t esize = go_span_elem_bytes(h, span);
	slot->index = (addr - span->start) / esize;
	slot->base = span->start + slot->index * esize;
	slot->offset = addr - slot->base;
	slot->user = slot->base;
	uint64_t nelems = span->nelems ? span->nelems : 1;
	if (slot->index >= nelems) {
		slot->beyond = true;
		return NULL;
	}
	if (h->headers && !noscan && !slot->large && esize > h->header_min) {
		slot->has_header = true;
		slot->user = slot->base + h->header_size;
	}
	err = go_span_allocated(h, span, slot->index, &slot->allocated);
	if (err)
		return err;
	/* Marks mean "dead" only after a finished GC in a span not yet swept:
	 * sweepgen == h.sweepgen-2 (unswept) or h.sweepgen+1 (cached, unswept). */
	bool unswept = span->sweepgen == (uint32_t)(h->sweepgen - 2) ||
		       span->sweepgen == (uint32_t)(h->sweepgen + 1);
	if (slot->allocated && unswept && h->gcphase == h->gcoff) {
		bool m;
		uint64_t bits = span->mark_bits;
		if (h->inline_marks && esize >= h->inline_min && esize <= h->inline_max) {
			uint64_t ib = span->start + go_span_bytes(h, span) - h->inline_size;
			err = go_bit(h, ib + h->inline_marks_off, slot->index, &m, "span inline mark bits");
		} else if (bits) {
			err = go_bit(h, bits, slot->index, &m, "span gcmarkBits");
		} else {
			return NULL;
		}
		if (err) {
			ct_error_destroy(err); /* marks are extra evidence, not the verdict */
			return NULL;
		}
		slot->marked = m;
		slot->garbage = !m;
	}
	return NULL;
}

/* Far above any real heap (2^26 spans is 512 GiB of 8 KiB spans). */
#define GO_MAX_SPANS (1ULL << 26)

struct ct_error *go_heap_foreach_span(const struct go_heap *h,
				      bool (*fn)(const struct go_span *s, void *arg), void *arg,
				      uint64_t *unreadable)
{
	uint64_t arr, len;
	struct ct_error *err;
	*unreadable = 0;
	if ((err = mem_read_u64(h->rt->mem, h->allspans_addr, &arr, "mheap_.allspans")) ||
	    (err = mem_read_u64(h->rt->mem, h->allspans_addr + 8, &len, "mheap_.allspans length")))
		return err;
	if (len > GO_MAX_SPANS)
		return ct_error_fmt(CT_ERR_CORRUPT, "mheap_.allspans claims %" PRIu64 " spans", len);
	/* Read the pointer array in chunks: one read per 512 spans. */
	uint64_t ptrs[512];
	for (uint64_t i = 0; i < len; i += 512) {
		uint64_t n = len - i < 512 ? len - i : 512;
		if ((err = mem_read_err(h->rt->mem, arr + i * 8, ptrs, n * 8, "mheap_.allspans array")))
			return err;
		for (uint64_t k = 0; k < n; k++) {
			struct go_span s;
			struct ct_error *e = ptrs[k] ? go_span_read(h, ptrs[k], &s) : NULL;
			if (!ptrs[k] || e) {
				ct_error_destroy(e);
				(*unreadable)++;
				continue;
			}
			if (!fn(&s, arg))
				return NULL;
		}
	}
	return NULL;
}

struct ct_error *go_span_count_allocated(const struct go_heap *h, const struct go_span *s,
					 uint64_t *ret)
{
	struct ct_error *cerr = go_span_check(h, s);
	if (cerr)
		return cerr;
	uint64_t nelems = s->nelems, fi = s->freeindex;
	if (nelems > GO_SPAN_MAX_NELEMS || fi > nelems) /* checked; the bits buffer relies on it */
		return ct_error_fmt(CT_ERR_CORRUPT, "span 0x%" PRIx64 ": nelems %" PRIu64 ", freeindex %" PRIu64,
				    s->addr, nelems, fi);
	uint64_t count = fi;
	if (fi < nelems) {
		unsigned char bits[8192];
		uint64_t nbytes = (nelems + 7) / 8;
		struct ct_error *err = mem_read_err(h->rt->mem, s->alloc_bits, bits, nbytes, "span allocBits");
		if (err)
			return err;
		for (uint64_t i = fi; i < nelems; i++)
			count += (bits[i / 8] >> (i % 8)) & 1;
	}
	*ret = count;
	return NULL;
}

int go_span_pinned(const struct go_heap *h, const struct go_span *span, uint64_t i)
{
	if (!h->f_pinnerbits.size)
		return -1;
	if (!span->pinner_bits)
		return 0; /* no object of the span was ever pinned */
	bool b;
	struct ct_error *err = go_bit(h, span->pinner_bits, 2 * i, &b, "span pinnerBits");
	if (err) {
		ct_error_destroy(err);
		return -1;
	}
	return b;
}

uint64_t go_span_bytes(const struct go_heap *h, const struct go_span *span)
{
	return span->npages <= GO_SPAN_MAX_BYTES / h->page_size ? span->npages * h->page_size : 0;
}

uint64_t go_span_elem_bytes(const struct go_heap *h, const struct go_span *span)
{
	/* A large object's span (size class 0) is the object: elemsize may be 0 there. */
	return span->elemsize ? span->elemsize : go_span_bytes(h, span);
}

struct ct_error *go_span_check(const struct go_heap *h, const struct go_span *s)
{
	const char *why = NULL;
	uint64_t bytes = go_span_bytes(h, s);
	if (!s->npages)
		why = "no pages";
	else if (!bytes)
		why = "more pages than the address space holds";
	else if (s->start % h->page_size)
		why = "startAddr is not page-aligned";
	else if (s->start >= GO_SPAN_MAX_BYTES || bytes > GO_SPAN_MAX_BYTES - s->start)
		why = "its pages run past the address space";
	else if (s->limit < s->start || s->limit - s->start > bytes)
		why = "limit is outside its pages";
	if (!why && s->state != h->span_manual) { /* a heap span's slots (manual spans have none) */
		uint64_t esize = go_span_elem_bytes(h, s);
		uint64_t nelems = s->nelems ? s->nelems : 1;
		if (nelems > GO_SPAN_MAX_NELEMS)
			why = "more slots than any size class has";
		else if (esize > bytes || nelems > bytes / esize)
			why = "nelems * elemsize exceeds its pages";
		else if (s->freeindex > nelems)
			why = "freeindex is past nelems";
	}
	if (!why) {
		/* An in-use or manual span's pages are mapped (sysMap'd): pages
		 * outside every mapping of the process mean a damaged npages or
		 * startAddr (a bound from the memory the core describes, not from
		 * the span's own claims). */
		if (mem_probe(h->rt->mem, s->start) == MEM_UNMAPPED ||
		    mem_probe(h->rt->mem, s->start + bytes - 1) == MEM_UNMAPPED)
			why = "its pages are not mapped in the process";
	}
	if (!why)
		return NULL;
	return ct_error_fmt(CT_ERR_CORRUPT,
			    "span 0x%" PRIx64 " is inconsistent: npages %" PRIu64 ", elemsize %" PRIu64
			    ", nelems %" PRIu64 ", freeindex %" PRIu64 ", limit 0x%" PRIx64 ": %s",
			    s->addr, s->npages, s->elemsize, s->nelems, s->freeindex, s->limit, why);
}
