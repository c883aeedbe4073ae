/* The Go heap: from an address to its span (through the runtime's own arena
 * index, as runtime.spanOfHeap does) and to its slot, allocated or free by the
 * span's allocation bits. Facts: docs/go-runtime.md "Heap". */
#ifndef CT_GOHEAP_H
#define CT_GOHEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "ct_error.h"
#include "dw.h"
#include "goruntime.h"

/* A span as the runtime's mspan holds it. */
struct go_span {
	uint64_t addr; /* the mspan structure */
	uint64_t start, limit, npages, elemsize, nelems, freeindex;
	uint64_t alloc_bits, mark_bits, sweepgen, alloc_count, pinner_bits;
	uint8_t spanclass, state;
};

enum go_span_kind {
	GO_SPAN_NONE,   /* not in a Go heap arena */
	GO_SPAN_FREE,   /* in an arena, but no in-use span covers the page */
	GO_SPAN_INUSE,  /* a heap span (mSpanInUse) */
	GO_SPAN_MANUAL, /* a manually managed span: goroutine stacks, GC work buffers */
};

/* One slot of a heap span. */
struct go_slot {
	uint64_t index, base, offset; /* offset of the address into the slot */
	uint64_t user;                /* where the object starts (base + allocation header) */
	bool beyond;    /* past the last slot (span tail, inline mark bits) */
	bool allocated;
	int marked;     /* 1, 0, or -1 when the mark bits say nothing (GC running, swept) */
	bool garbage;   /* allocated, unmarked after a finished GC, not yet swept */
	bool tiny;      /* a 16-byte block of the tiny allocator */
	bool large;     /* size class 0: one object per span */
	bool has_header;
};

struct go_heap {
	const struct go_rt *rt;
	uint64_t mheap;          /* &runtime.mheap_ */
	uint64_t arenas;         /* &mheap_.arenas: [1 << arenaL1Bits]*[1 << arenaL2Bits]*heapArena */
	uint64_t l1_count, l2_bits;
	uint64_t page_size, arena_bytes, arena_base, pages_per_arena;
	uint64_t ha_spans_off;   /* heapArena.spans */
	uint8_t span_inuse, span_manual;
	uint64_t mspan_size;
	struct dw_field f_start, f_npages, f_freeindex, f_nelems, f_allocbits, f_markbits,
		f_sweepgen, f_alloccount, f_spanclass, f_state, f_elemsize, f_limit;
	uint64_t sweepgen;       /* mheap_.sweepgen at the crash */
	int64_t gcphase;         /* runtime.gcphase; -1 if unreadable */
	int64_t gcoff;           /* the value of _GCoff */
	/* Allocation headers (Go 1.22+): scan objects above this size start with a type pointer. */
	bool headers;
	uint64_t header_min, header_size;
	/* Green Tea (1.25 experiment, default 1.26): marks of small objects live at the span's end. */
	bool inline_marks;
	uint64_t inline_size, inline_marks_off, inline_min, inline_max;
	/* mheap_.allspans, for walks over every span */
	uint64_t allspans_addr;
	/* mspan.pinnerBits (Go 1.21+: runtime.Pinner), 0 size if absent */
	struct dw_field f_pinnerbits;
	/* The mheap_ fields read, for go_heap_layout (heapArena.spans: ha_spans_off). */
	struct dw_field f_mh_arenas, f_mh_allspans, f_mh_sweepgen, f_ha_spans;
	/* The lists of arenas: mheap_.allArenas (to 1.24), heapArenas and
	 * userArenaArenas (1.25+); size 0 if absent. */
	struct dw_field f_mh_arena_lists[2];
	const char *arena_list_names[2];
	/* Those lists at the crash, merged and sorted: the arena indices the
	 * runtime mapped. Read apart from the arena index (mheap_.arenas), so that
	 * an address whose index entry is damaged is still known to be in the heap. */
	uint64_t *arena_list;
	size_t narena_list;
};

struct ct_error *go_heap_open(const struct go_rt *rt, struct go_heap **ret);
/* The layout the model read from DWARF: fn(type, member, offset, size) for
 * each field it uses (member NULL: the type's own size). */
typedef void (*go_layout_fn)(void *arg, const char *type, const char *member, uint64_t off,
			     uint64_t size);
void go_heap_layout(const struct go_heap *h, go_layout_fn fn, void *arg);
void go_heap_close(struct go_heap *h);

/* Finds the span of addr. Errors when memory the answer depends on is
 * missing (CT_ERR_NOT_SAVED / CT_ERR_FAULT) or damaged (CT_ERR_CORRUPT: a
 * span state that does not exist, or an in-use or manual span that fails
 * go_span_check); *span is then zeroed and *kind GO_SPAN_NONE: whether addr is
 * in the heap all the same, go_heap_in_arena says. */
struct ct_error *go_heap_span_of(const struct go_heap *h, uint64_t addr, enum go_span_kind *kind,
				 struct go_span *span);
/* Is addr inside one of the heap arenas the runtime mapped (mheap_.allArenas)?
 * Independent of the arena index, so it still answers where go_heap_span_of
 * cannot read the index (a wild heapArena pointer): such an address is in the
 * Go heap, its state unknown — never another region's. False when
 * mheap_.allArenas could not be read. */
bool go_heap_in_arena(const struct go_heap *h, uint64_t addr);
/* Reads an mspan structure at addr. Reading checks nothing: go_span_check
 * says whether its sizes can be believed. */
struct ct_error *go_span_read(const struct go_heap *h, uint64_t addr, struct go_span *span);
/* The one consistency check of a span, run by every user of a span's sizes
 * (classify through go_span_slot, the census, cgocheck) before it trusts
 * them: npages and startAddr give page-aligned pages that fit the address
 * space and are mapped in the process; limit lies within them; for a heap
 * span (not manual), nelems * elemsize fits the pages (no overflow) and
 * freeindex <= nelems (mheap.go initSpan, mcentral.go grow). CT_ERR_CORRUPT
 * saying which rule failed, or NULL. After it, go_span_bytes and
 * nelems * go_span_elem_bytes cannot overflow. */
struct ct_error *go_span_check(const struct go_heap *h, const struct go_span *span);
/* npages * pageSize (checked by go_span_check). */
uint64_t go_span_bytes(const struct go_heap *h, const struct go_span *span);
/* The slot of addr in an in-use span, with its allocation and mark state
 * (go_span_check first: an inconsistent span is CT_ERR_CORRUPT). */
struct ct_error *go_span_slot(const struct go_heap *h, const struct go_span *span, uint64_t addr,
			      struct go_slot *slot);
/* The bytes of one object of the span: elemsize, or the whole span for a
 * large object (size class 0). */
uint64_t go_span_elem_bytes(const struct go_heap *h, const struct go_span *span);
/* Is slot i allocated (i < freeindex || allocBits[i])? */
struct ct_error *go_span_allocated(const struct go_heap *h, const struct go_span *span,
				   uint64_t i, bool *ret);

/* Calls fn for every span in mheap_.allspans (dead ones too: check state);
 * stops when fn returns false. Spans that cannot be read are counted in
 * *unreadable. */
struct ct_error *go_heap_foreach_span(const struct go_heap *h,
				      bool (*fn)(const struct go_span *s, void *arg), void *arg,
				      uint64_t *unreadable);
/* Number of allocated slots of a span (freeindex, then allocBits), exact. */
struct ct_error *go_span_count_allocated(const struct go_heap *h, const struct go_span *s,
					 uint64_t *ret);

/* Is slot i of the span pinned by a runtime.Pinner? pinnerBits hold two bits
 * per object, the pin bit at 2*i (runtime/pinner.go, ofObject). -1 when the
 * runtime has no pinning (before 1.21) or the bits are unreadable. */
int go_span_pinned(const struct go_heap *h, const struct go_span *span, uint64_t i);

/* The heap constants used where DWARF lacks them (for tests). */
void go_heap_fallbacks(ct_fallback_fn fn, void *arg);

/* Size class and noscan bit of a span class. */
static inline unsigned go_spanclass_sizeclass(uint8_t sc) { return sc >> 1; }
static inline bool go_spanclass_noscan(uint8_t sc) { return sc & 1; }

#endif
