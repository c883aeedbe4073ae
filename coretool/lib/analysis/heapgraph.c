/* The typed heap (heapgraph.h): an index of every slot of every in-use span,
 * a mark from the roots that types objects as the pointers to them say, and
 * the paths back to the roots. */
#define _GNU_SOURCE
#include "heapgraph.h"

#include <dwarf.h>
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_set.h"
#include "ct_util.h"
#include "framevars.h"
#include "gomap_holders.h"
#include "gochan.h"
#include "gofunc.h"
#include "gomap.h"
#include "govalue.h"
#include "gview.h"

#define HG_CHUNK (64 * 1024)
#define HG_MAX_OPS 4096      /* pointer fields of one type, flattened */
#define HG_MAX_DEPTH 24      /* nesting of types followed when flattening */
#define HG_MAX_ELEMS (1u << 26) /* elements of one typed object scanned */

/* Object states (one byte per slot). */
enum {
	ST_ALLOC = 1,     /* the slot is allocated */
	ST_REACHED = 2,
	ST_TYPED = 4,     /* a type is known (type index set) */
	ST_SCANNED_T = 8, /* scanned by its type */
	ST_SCANNED_C = 16, /* scanned conservatively */
	ST_C_ONLY = 32,   /* first reached from C memory */
	ST_TINY = 64,     /* a tiny-allocator block */
};

struct hg_span {
	uint64_t start, end, elemsize, nelems;
	uint64_t first;      /* index of slot 0 in the object arrays */
	uint64_t mspan;
	uint64_t user_off;   /* allocation header size, 0 if none */
	uint8_t spanclass;
	bool noscan, large, tiny;
};

enum op_kind { OP_PTR, OP_SLICE, OP_STRING, OP_IFACE, OP_MAP, OP_CHAN, OP_FUNC, OP_WORD,
	       OP_RANGE };

struct hg_op {
	uint64_t off, len; /* len: OP_RANGE's bytes */
	uint8_t kind;
	uint8_t resolved;  /* bit 0: ty[0] known, bit 1: ty[1] known */
	Dwarf_Off die;     /* OP_PTR: pointee; OP_SLICE: element; OP_IFACE: the struct;
			    * OP_MAP / OP_CHAN / OP_FUNC: the type itself */
	uint32_t ty[2];    /* the type die gives one value, [1] an array of them (op_type) */
};

struct hg_layout {
	struct hg_op *ops;
	size_t n;
};

/* A type objects are given: a DWARF type, as one value or as an array of
 * values (a slice's backing array, an allocation of n values). */
enum tspecial { TS_NONE, TS_MAPHDR, TS_MAPINT, TS_CHAN, TS_CLOSURE, TS_STRING };
struct hg_type {
	Dwarf_Off die;    /* 0: a name only (map internals, string bytes) */
	bool array;
	enum tspecial special;
	Dwarf_Off aux;    /* TS_MAPHDR / TS_CHAN: the map or chan type */
	char *name;
	uint64_t size;    /* of one value */
	int32_t layout;   /* index in g->layouts, -1 not built */
	bool skip;        /* hg_skip_type: not followed */
	int8_t kind;      /* govalue_kind of die, cached (scan_typed); -2 not yet */
};

#define HG_PREFETCH 16

struct hg_work {
	uint64_t addr;
	uint64_t count;   /* typed: values; conservative: bytes */
	uint32_t type;    /* 0: conservative */
};

struct hg {
	struct target *t;
	const struct go_rt *rt;
	const struct go_heap *h;
	struct govalue *gv;
	struct gomap_ctx *mctx;
	Dwarf *dbg;
	struct hg_options opt;
	struct hg_span *spans;
	size_t nspans;
	uint64_t nobj;
	uint8_t *st;
	uint32_t *ty;
	uint64_t *parent;  /* opt.parents: the word that first pointed at it (or the root's) */
	uint64_t heap_lo, heap_hi;
	size_t last_span;
	struct hg_type *types;
	size_t ntypes, cap_types;
	struct ct_u64map type_by_die, type_by_arr, type_by_rtype, layout_by_die;
	struct hg_layout *layouts;
	size_t nlayouts, cap_layouts;
	struct hg_work *work;
	size_t wn, wcap, whead;
	struct hg_root *roots;
	size_t nroots, cap_roots;
	bool roots_sorted;
	uint64_t nroot_kind[HG_ROOT_NKINDS];
	enum hg_root_kind cur_root;
	uint64_t large_type_off;
	bool has_large_type;
	uint64_t unreadable, skipped_spans;
	/* the runtime's stack maps (NULL: not readable, stacks scanned as words) */
	struct go_funcs *funcs;
	bool funcs_tried;
	uint32_t *page_span; /* page_index_build: page -> span, UINT32_MAX none */
	uint64_t npages;
	struct go_frame_map *fmap;
	uint64_t frames_precise, frames_words;
	uint32_t t_string, t_mapint, t_closure;
	char **skip_names;
	size_t nskip;
	uint8_t buf[HG_CHUNK];
	uint8_t buf2[HG_CHUNK];
};

const char *hg_root_kind_name(enum hg_root_kind k)
{
	static const char *const names[] = { "global", "goroutine", "finalizer", "c-global", "c-data",
					     "c-heap", "thread-stack" };
	return k < HG_ROOT_NKINDS ? names[k] : "?";
}

static struct ct_error *nomem(void)
{
	return ct_error_fmt(CT_ERR_NOMEM, "typed heap: out of memory");
}

/* ---- the object index ---- */

struct span_collect {
	struct hg *g;
	struct ct_error *err;
	size_t cap;
};

static bool collect_span(const struct go_span *s, void *arg)
{
	struct span_collect *c = arg;
	struct hg *g = c->g;
	if (s->state != g->h->span_inuse)
		return true;
	struct ct_error *e = go_span_check(g->h, s);
	if (e) {
		ct_error_destroy(e);
		g->skipped_spans++;
		return true;
	}
	if (g->nspans == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 1024;
		struct hg_span *n = realloc(g->spans, nc * sizeof(*n));
		if (!n) {
			c->err = nomem();
			return false;
		}
		g->spans = n;
		c->cap = nc;
	}
	struct hg_span *x = &g->spans[g->nspans++];
	memset(x, 0, sizeof(*x));
	x->start = s->start;
	x->end = s->start + go_span_bytes(g->h, s);
	x->elemsize = go_span_elem_bytes(g->h, s);
	x->nelems = go_spanclass_sizeclass(s->spanclass) ? s->nelems : 1;
	x->mspan = s->addr;
	x->spanclass = s->spanclass;
	x->noscan = go_spanclass_noscan(s->spanclass);
	x->large = go_spanclass_sizeclass(s->spanclass) == 0;
	x->tiny = x->noscan && go_spanclass_sizeclass(s->spanclass) == 2;
	if (g->h->headers && !x->noscan && !x->large && x->elemsize > g->h->header_min)
		x->user_off = g->h->header_size;
	return true;
}

static int span_cmp(const void *a, const void *b)
{
	const struct hg_span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The allocation bits of every span into st[] (i < freeindex || allocBits[i]). */
static void load_alloc_bits(struct hg *g)
{
	for (size_t i = 0; i < g->nspans; i++) {
		struct hg_span *x = &g->spans[i];
		struct go_span s;
		struct ct_error *e = go_span_read(g->h, x->mspan, &s);
		if (e) {
			ct_error_destroy(e);
			g->unreadable++;
			continue;
		}
		uint64_t n = x->nelems, nbytes = (n + 7) / 8;
		for (uint64_t off = 0; off < nbytes; off += HG_CHUNK) {
			size_t len = nbytes - off < HG_CHUNK ? nbytes - off : HG_CHUNK;
			bool ok = mem_read(g->rt->mem, s.alloc_bits + off, g->buf, len) == MEM_OK;
			if (!ok)
				g->unreadable++;
			for (uint64_t b = 0; b < len * 8 && off * 8 + b < n; b++) {
				uint64_t slot = off * 8 + b;
				bool a = slot < s.freeindex || (ok && (g->buf[b / 8] >> (b % 8) & 1));
				if (a)
					g->st[x->first + slot] = ST_ALLOC | (x->tiny ? ST_TINY : 0);
			}
		}
	}
}

static void page_index_build(struct hg *g);

struct ct_error *hg_create(struct target *t, const struct hg_options *opt, struct hg **ret)
{
	*ret = NULL;
	if (!t->go)
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "not a Go program: no typed heap");
	const struct go_heap *h;
	const struct ct_error *herr = target_go_heap(t, &h);
	if (herr)
		return ct_error_fmt(herr->code == CT_ERR_NOMEM ? CT_ERR_NOMEM : CT_ERR_UNSUPPORTED,
				    "no Go heap: %s", herr->msg);
	struct hg *g = calloc(1, sizeof(*g));
	if (!g)
		return nomem();
	g->t = t;
	g->rt = t->go;
	g->h = h;
	g->dbg = t->dw->dbg;
	if (opt)
		g->opt = *opt;
	struct ct_error *err = govalue_create(g->rt, NULL, NULL, &g->gv);
	if (!err) {
		struct ct_error *me = gomap_ctx_create(g->rt, &g->mctx);
		if (me) { /* maps are then scanned conservatively */
			target_warn(t, "typed heap: maps not typed: %s", me->msg);
			ct_error_destroy(me);
		}
	}
	struct dw_field lt;
	struct ct_error *le = dw_field(g->rt->dw, "runtime.mspan", "largeType", &lt);
	if (!le) {
		g->has_large_type = true;
		g->large_type_off = lt.off;
	} else
		ct_error_destroy(le);
	struct span_collect c = { g, NULL, 0 };
	uint64_t unreadable = 0;
	if (!err) {
		err = go_heap_foreach_span(h, collect_span, &c, &unreadable);
		if (!err)
			err = c.err;
		else
			ct_error_destroy(c.err);
	}
	g->unreadable += unreadable;
	if (err) {
		hg_destroy(g);
		return err;
	}
	if (g->nspans) /* qsort's pointer must not be NULL */
		qsort(g->spans, g->nspans, sizeof(g->spans[0]), span_cmp);
	/* allspans may list a span twice (damage): keep the first of overlapping ones */
	size_t w = 0;
	for (size_t i = 0; i < g->nspans; i++) {
		if (w && g->spans[i].start < g->spans[w - 1].end) {
			g->skipped_spans++;
			continue;
		}
		g->spans[w++] = g->spans[i];
	}
	g->nspans = w;
	for (size_t i = 0; i < g->nspans; i++) {
		g->spans[i].first = g->nobj;
		g->nobj += g->spans[i].nelems;
	}
	if (g->nspans) {
		g->heap_lo = g->spans[0].start;
		g->heap_hi = g->spans[g->nspans - 1].end;
		page_index_build(g);
	}
	g->st = calloc(g->nobj ? g->nobj : 1, 1);
	g->ty = calloc(g->nobj ? g->nobj : 1, sizeof(*g->ty));
	if (g->opt.parents)
		g->parent = calloc(g->nobj ? g->nobj : 1, sizeof(*g->parent));
	/* type 0 is "none" */
	g->cap_types = 64;
	g->types = calloc(g->cap_types, sizeof(*g->types));
	if (!g->st || !g->ty || (g->opt.parents && !g->parent) || !g->types) {
		hg_destroy(g);
		return nomem();
	}
	g->ntypes = 1;
	g->types[0].name = strdup("?");
	load_alloc_bits(g);
	*ret = g;
	return NULL;
}

void hg_destroy(struct hg *g)
{
	if (!g)
		return;
	free(g->spans);
	free(g->st);
	free(g->ty);
	free(g->parent);
	go_funcs_close(g->funcs);
	free(g->fmap);
	free(g->page_span);
	for (size_t i = 0; i < g->ntypes; i++)
		free(g->types[i].name);
	free(g->types);
	for (size_t i = 0; i < g->nlayouts; i++)
		free(g->layouts[i].ops);
	free(g->layouts);
	ct_u64map_free(&g->type_by_die);
	ct_u64map_free(&g->type_by_arr);
	ct_u64map_free(&g->type_by_rtype);
	ct_u64map_free(&g->layout_by_die);
	free(g->work);
	for (size_t i = 0; i < g->nroots; i++)
		free((char *)g->roots[i].name);
	free(g->roots);
	for (size_t i = 0; i < g->nskip; i++)
		free(g->skip_names[i]);
	free(g->skip_names);
	gomap_ctx_destroy(g->mctx);
	govalue_destroy(g->gv);
	free(g);
}

void hg_skip_type(struct hg *g, const char *name)
{
	char **n = realloc(g->skip_names, (g->nskip + 1) * sizeof(*n));
	if (!n)
		return;
	g->skip_names = n;
	if ((n[g->nskip] = strdup(name)))
		g->nskip++;
}

/* The span holding addr, or NULL. */
/* Heap pages (8 KiB, as the runtime's) to spans, when the heap's address
 * range is small enough for a table of one word per page: the lookup every
 * pointer of the heap needs, without a search (the runtime's spans array). */
#define HG_PAGE_SHIFT 13
#define HG_MAX_PAGE_INDEX (1u << 24) /* 128 GiB of address range, a 64 MiB table */

static void page_index_build(struct hg *g)
{
	uint64_t npages = ((g->heap_hi - g->heap_lo) >> HG_PAGE_SHIFT) + 1;
	if (npages > HG_MAX_PAGE_INDEX || g->nspans >= UINT32_MAX)
		return;
	uint32_t *ix = malloc(npages * sizeof(*ix));
	if (!ix)
		return; /* the binary search still works */
	memset(ix, 0xff, npages * sizeof(*ix));
	for (size_t k = 0; k < g->nspans; k++) {
		uint64_t a = (g->spans[k].start - g->heap_lo) >> HG_PAGE_SHIFT;
		uint64_t b = (g->spans[k].end - 1 - g->heap_lo) >> HG_PAGE_SHIFT;
		for (uint64_t p = a; p <= b && p < npages; p++)
			if (ix[p] == UINT32_MAX)
				ix[p] = (uint32_t)k;
	}
	g->page_span = ix;
	g->npages = npages;
}

static const struct hg_span *span_of(struct hg *g, uint64_t addr)
{
	if (addr < g->heap_lo || addr >= g->heap_hi || !g->nspans)
		return NULL;
	if (g->page_span) {
		uint32_t k = g->page_span[(addr - g->heap_lo) >> HG_PAGE_SHIFT];
		/* a page two spans share (spans need not be page-aligned in a
		 * damaged heap): the search below decides */
		if (k != UINT32_MAX && addr >= g->spans[k].start && addr < g->spans[k].end)
			return &g->spans[k];
		if (k == UINT32_MAX)
			return NULL;
	}
	const struct hg_span *l = &g->spans[g->last_span];
	if (addr >= l->start && addr < l->end)
		return l;
	size_t lo = 0, hi = g->nspans;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->spans[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < g->nspans && addr >= g->spans[lo].start) {
		g->last_span = lo;
		return &g->spans[lo];
	}
	return NULL;
}

/* The object (index) holding addr; *user its start. false: in no allocated
 * slot, or on its allocation header. */
static bool obj_of(struct hg *g, uint64_t addr, uint64_t *idx, uint64_t *user,
		   const struct hg_span **sp)
{
	const struct hg_span *s = span_of(g, addr);
	if (!s)
		return false;
	uint64_t slot = (addr - s->start) / s->elemsize;
	if (slot >= s->nelems)
		return false;
	uint64_t i = s->first + slot;
	if (!(g->st[i] & ST_ALLOC))
		return false;
	uint64_t base = s->start + slot * s->elemsize;
	if (addr < base + s->user_off)
		return false;
	*idx = i;
	*user = base + s->user_off;
	*sp = s;
	return true;
}

static uint64_t obj_size(const struct hg_span *s)
{
	return s->elemsize - s->user_off;
}

/* ---- types and their pointer layouts ---- */

static uint32_t type_add(struct hg *g, Dwarf_Off die, bool array, enum tspecial sp, const char *name,
			 uint64_t size)
{
	if (g->ntypes == g->cap_types) {
		size_t nc = g->cap_types * 2;
		struct hg_type *n = realloc(g->types, nc * sizeof(*n));
		if (!n)
			return 0;
		g->types = n;
		g->cap_types = nc;
	}
	struct hg_type *x = &g->types[g->ntypes];
	memset(x, 0, sizeof(*x));
	x->die = die;
	x->array = array;
	x->special = sp;
	x->size = size;
	x->layout = -1;
	x->kind = -2;
	if (array) {
		if (asprintf(&x->name, "[]%s", name) < 0)
			x->name = NULL;
	} else
		x->name = strdup(name);
	if (!x->name)
		return 0;
	for (size_t i = 0; i < g->nskip; i++)
		if (!strcmp(g->skip_names[i], x->name))
			x->skip = true;
	return (uint32_t)g->ntypes++;
}

/* A named-only type (no DWARF): map internals, string bytes, closures. */
static uint32_t type_named(struct hg *g, uint32_t *cache, enum tspecial sp, const char *name)
{
	if (!*cache)
		*cache = type_add(g, 0, false, sp, name, 0);
	return *cache;
}

/* The type record of a DWARF type (as one value or an array of them). */
static uint32_t type_of_die(struct hg *g, Dwarf_Die *die, bool array)
{
	Dwarf_Off off = dwarf_dieoffset(die);
	uint32_t v;
	struct ct_u64map *m = array ? &g->type_by_arr : &g->type_by_die;
	if (ct_u64map_get(m, off, &v))
		return v;
	Dwarf_Die under;
	int kind = govalue_kind(die, &under);
	uint64_t size = 0;
	if (!dw_size(&under, &size))
		dw_size(die, &size);
	const char *name = govalue_type_name(die);
	v = type_add(g, off, array, TS_NONE, name ? name : "?", size);
	if (v)
		(void)kind, ct_u64map_put(m, off, v);
	return v;
}

static bool ops_push(struct hg_layout *l, size_t *cap, uint8_t kind, uint64_t off, uint64_t len,
		     Dwarf_Off die)
{
	if (l->n >= HG_MAX_OPS)
		return false;
	if (l->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct hg_op *n = realloc(l->ops, nc * sizeof(*n));
		if (!n)
			return false;
		l->ops = n;
		*cap = nc;
	}
	l->ops[l->n++] = (struct hg_op){ .off = off, .len = len, .kind = kind, .die = die };
	return true;
}

/* Flattens the pointer fields of type at base into l. false: too many (the
 * caller scans the type's bytes conservatively instead). */
static bool layout_build(struct hg *g, Dwarf_Die *type, uint64_t base, struct hg_layout *l,
			 size_t *cap, int depth)
{
	if (depth > HG_MAX_DEPTH)
		return false;
	Dwarf_Die under, sub;
	int kind = govalue_kind(type, &under);
	uint64_t size = 0;
	dw_size(&under, &size);
	switch (kind) {
	case GO_KIND_POINTER:
		if (dw_type_of(&under, &sub))
			return ops_push(l, cap, OP_PTR, base, 0, dwarf_dieoffset(&sub));
		return ops_push(l, cap, OP_WORD, base, 0, 0);
	case GO_KIND_UNSAFE_POINTER:
		return ops_push(l, cap, OP_WORD, base, 0, 0);
	case GO_KIND_STRING:
		return ops_push(l, cap, OP_STRING, base, 0, 0);
	case GO_KIND_SLICE: {
		Dwarf_Die arr, elem;
		uint64_t aoff;
		if (dw_member(&under, "array", &aoff, &arr) && dw_type_of(&arr, &arr) &&
		    dw_peel(&arr, &arr) && dw_type_of(&arr, &elem))
			return ops_push(l, cap, OP_SLICE, base + aoff, 0, dwarf_dieoffset(&elem));
		return ops_push(l, cap, OP_WORD, base, 0, 0);
	}
	case GO_KIND_INTERFACE:
		return ops_push(l, cap, OP_IFACE, base, 0, dwarf_dieoffset(&under));
	case GO_KIND_MAP:
		return ops_push(l, cap, OP_MAP, base, 0, dwarf_dieoffset(type));
	case GO_KIND_CHAN:
		return ops_push(l, cap, OP_CHAN, base, 0, dwarf_dieoffset(type));
	case GO_KIND_FUNC:
		return ops_push(l, cap, OP_FUNC, base, 0, dwarf_dieoffset(type));
	case GO_KIND_ARRAY: {
		Dwarf_Die elem;
		uint64_t esize, count;
		if (!dw_array(&under, &elem, &esize, &count) || !count)
			return true;
		size_t before = l->n;
		if (!layout_build(g, &elem, base, l, cap, depth + 1))
			goto range;
		size_t per = l->n - before;
		if (!per)
			return true;
		if (per * count > HG_MAX_OPS / 4) {
			l->n = before;
			goto range;
		}
		for (uint64_t i = 1; i < count; i++)
			for (size_t k = 0; k < per; k++) {
				struct hg_op o = l->ops[before + k];
				if (!ops_push(l, cap, o.kind, o.off + i * esize, o.len, o.die)) {
					l->n = before;
					goto range;
				}
			}
		return true;
	range:
		return esize && count <= UINT64_MAX / esize &&
		       ops_push(l, cap, OP_RANGE, base, esize * count, 0);
	}
	case GO_KIND_STRUCT:
	case -1: {
		int tag = dwarf_tag(&under);
		if (tag == DW_TAG_pointer_type) /* a C pointer */
			return ops_push(l, cap, OP_WORD, base, 0, 0);
		if (tag != DW_TAG_structure_type)
			return true;
		if (kind == -1 && size > 8 * 1024) /* a C struct: scanned as words */
			return ops_push(l, cap, OP_RANGE, base, size, 0);
		struct dw_members it;
		Dwarf_Die mem, mt;
		const char *mname;
		uint64_t moff;
		dw_members_begin(&under, &it);
		size_t before = l->n;
		while (dw_members_next(&it, &mem, &mname, &moff))
			if (dw_type_of(&mem, &mt) && !layout_build(g, &mt, base + moff, l, cap, depth + 1)) {
				l->n = before;
				return size && ops_push(l, cap, OP_RANGE, base, size, 0);
			}
		return true;
	}
	default:
		return true; /* numbers, bools: no pointers */
	}
}

static const struct hg_layout *layout_of(struct hg *g, Dwarf_Off off)
{
	uint32_t v;
	if (ct_u64map_get(&g->layout_by_die, off, &v))
		return &g->layouts[v];
	if (g->nlayouts == g->cap_layouts) {
		size_t nc = g->cap_layouts ? g->cap_layouts * 2 : 64;
		struct hg_layout *n = realloc(g->layouts, nc * sizeof(*n));
		if (!n)
			return NULL;
		g->layouts = n;
		g->cap_layouts = nc;
	}
	struct hg_layout *l = &g->layouts[g->nlayouts];
	memset(l, 0, sizeof(*l));
	Dwarf_Die die;
	size_t cap = 0;
	if (dwarf_offdie(g->dbg, off, &die) && !layout_build(g, &die, 0, l, &cap, 0)) {
		uint64_t size = 0;
		Dwarf_Die under;
		govalue_kind(&die, &under);
		l->n = 0;
		if (dw_size(&under, &size) && size)
			ops_push(l, &cap, OP_RANGE, 0, size, 0);
	}
	if (!ct_u64map_put(&g->layout_by_die, off, (uint32_t)g->nlayouts))
		return NULL;
	return &g->layouts[g->nlayouts++];
}

/* ---- marking ---- */

static void push(struct hg *g, uint64_t addr, uint64_t count, uint32_t type)
{
	if (g->wn == g->wcap) {
		/* compact what is done before growing */
		if (g->whead > g->wcap / 2) {
			memmove(g->work, g->work + g->whead, (g->wn - g->whead) * sizeof(*g->work));
			g->wn -= g->whead;
			g->whead = 0;
		} else {
			size_t nc = g->wcap ? g->wcap * 2 : 4096;
			struct hg_work *n = realloc(g->work, nc * sizeof(*n));
			if (!n) {
				g->unreadable++; /* counted: the census is then partial */
				return;
			}
			g->work = n;
			g->wcap = nc;
		}
	}
	g->work[g->wn++] = (struct hg_work){ addr, count, type };
}

/* The type an object's allocation header or span names (Go 1.22+), or 0. */
static uint32_t header_type(struct hg *g, const struct hg_span *s, uint64_t user, uint64_t *count)
{
	uint64_t rtype = 0;
	if (s->noscan)
		return 0;
	if (s->user_off) {
		if (mem_read_u64(g->rt->mem, user - s->user_off, &rtype, NULL)) {
			g->unreadable++;
			return 0;
		}
	} else if (s->large && g->has_large_type) {
		if (mem_read(g->rt->mem, s->mspan + g->large_type_off, &rtype, 8) != MEM_OK) {
			g->unreadable++;
			return 0;
		}
	} else
		return 0;
	if (!rtype)
		return 0;
	uint32_t v;
	if (!ct_u64map_get(&g->type_by_rtype, rtype, &v)) {
		Dwarf_Die die;
		v = govalue_type_of_rtype(g->gv, rtype, &die) ? type_of_die(g, &die, false) : 0;
		ct_u64map_put(&g->type_by_rtype, rtype, v);
	}
	if (!v || !g->types[v].size)
		return v;
	uint64_t n = obj_size(s) / g->types[v].size;
	if (n >= 2) {
		/* several values: an array of them (a slice's backing array) */
		Dwarf_Die die;
		if (dwarf_offdie(g->dbg, g->types[v].die, &die))
			v = type_of_die(g, &die, true);
		*count = n;
	} else
		*count = 1;
	return v;
}

/* A pointer p found at `from`. type/count: what the word's type says the
 * pointee is (0: nothing known). */
static void reach(struct hg *g, uint64_t p, uint64_t from, uint32_t type, uint64_t count)
{
	uint64_t i, user;
	const struct hg_span *s;
	if (!obj_of(g, p, &i, &user, &s))
		return;
	uint8_t st = g->st[i];
	bool at_start = p == user;
	if (!(st & ST_REACHED)) {
		st |= ST_REACHED;
		if (g->cur_root >= HG_ROOT_C_GLOBAL)
			st |= ST_C_ONLY;
		if (g->parent)
			g->parent[i] = from;
		uint64_t hcount = 0;
		uint32_t ht = header_type(g, s, user, &hcount);
		if (ht) {
			g->ty[i] = ht;
			st |= ST_TYPED;
			type = ht;
			count = hcount;
			at_start = true;
		}
		g->st[i] = st;
	}
	if (!(st & ST_TYPED) && type && at_start) {
		/* count: a slice's cap, else as many values as the slot holds */
		struct hg_type *tt = &g->types[type];
		if (!count && tt->size)
			count = obj_size(s) / tt->size;
		if (!count)
			count = 1;
		if (count >= 2 && !tt->array && tt->die) {
			Dwarf_Die die;
			if (dwarf_offdie(g->dbg, tt->die, &die))
				type = type_of_die(g, &die, true);
		}
		g->ty[i] = type;
		g->st[i] = st |= ST_TYPED;
		if (!(st & ST_SCANNED_T) && !s->noscan) {
			g->st[i] |= ST_SCANNED_T;
			push(g, user, count, type);
		}
		return;
	}
	if ((st & ST_TYPED) && !(st & ST_SCANNED_T) && !s->noscan) {
		/* typed by its header: scanned by that type */
		g->st[i] |= ST_SCANNED_T;
		push(g, user, count ? count : 1, g->ty[i]);
		return;
	}
	if (!(st & (ST_SCANNED_T | ST_SCANNED_C | ST_TYPED)) && !s->noscan) {
		g->st[i] |= ST_SCANNED_C;
		push(g, user, obj_size(s), 0);
	}
}

static uint64_t ld64(const uint8_t *b)
{
	uint64_t v;
	memcpy(&v, b, 8);
	return v;
}

/* Words at [addr, addr+len): each one that points into an object reaches it. */
static void scan_words(struct hg *g, uint64_t addr, uint64_t len)
{
	addr = (addr + 7) & ~7ULL;
	for (uint64_t off = 0; off + 8 <= len;) {
		size_t n = len - off < HG_CHUNK ? (size_t)(len - off) & ~7ULL : HG_CHUNK;
		/* in place where the core has the bytes: the heap is not copied */
		const uint8_t *b = mem_view(g->rt->mem, addr + off, n, g->buf2);
		if (!b) {
			/* page by page, so that one unsaved page does not lose the rest */
			if (n > 4096) {
				n = 4096 - ((addr + off) & 4095);
				if (!(b = mem_view(g->rt->mem, addr + off, n, g->buf2))) {
					g->unreadable++;
					off += n;
					continue;
				}
			} else {
				g->unreadable++;
				off += n;
				continue;
			}
		}
		for (size_t k = 0; k + 8 <= n; k += 8) {
			uint64_t w = ld64(b + k);
			if (w >= g->heap_lo && w < g->heap_hi)
				reach(g, w, addr + off + k, 0, 0);
		}
		off += n;
	}
}

static void scan_typed_value(struct hg *g, uint64_t addr, const uint8_t *b, uint64_t blen,
			     const struct hg_layout *l);

static bool map_entry(void *arg, const struct gomap *m, const struct gomap_entry *e);
static bool map_group(void *arg, const struct gomap *m, const struct gomap_group *gr);
static bool map_table(void *arg, const struct gomap *m, const struct gomap_table *t);

struct map_walk {
	struct hg *g;
	uint32_t kt, vt;
	bool kind, vind;
	uint64_t from;
	const struct gomap_type *mt;
};

/* The word that points at a map's group, bucket array or table: the
 * header's dirPtr (a small Swiss map's one group, or the directory), the
 * directory's slot of a table, the header's buckets or oldbuckets. Else
 * the header (a paths' "via" then names its start). */
static uint64_t map_word(const struct map_walk *w, const struct gomap *m, uint64_t obj,
			 const struct gomap_table *t)
{
	const struct gomap_type *mt = w->mt;
	if (m->dir_ptr && obj == m->dir_ptr && mt->off_dir_ptr != UINT64_MAX)
		return m->addr + mt->off_dir_ptr;
	if (t && obj == t->addr && m->dir_ptr && m->dir_len > 0)
		return m->dir_ptr + 8 * t->dir_index;
	if (m->buckets && obj == m->buckets && mt->off_buckets != UINT64_MAX)
		return m->addr + mt->off_buckets;
	if (m->oldbuckets && obj == m->oldbuckets && mt->off_oldbuckets != UINT64_MAX)
		return m->addr + mt->off_oldbuckets;
	return m->addr;
}

/* A map header at p (the map value's word at from): its buckets or groups
 * and tables become reached map internals, its entries typed scans. */
static void scan_map(struct hg *g, uint64_t p, uint64_t from, Dwarf_Off map_die)
{
	uint64_t i, user;
	const struct hg_span *s;
	if (!obj_of(g, p, &i, &user, &s) || p != user)
		return reach(g, p, from, 0, 0);
	if (g->st[i] & (ST_SCANNED_T | ST_SCANNED_C)) {
		if (!(g->st[i] & ST_REACHED))
			reach(g, p, from, 0, 0);
		return;
	}
	Dwarf_Die die, hdr;
	struct gomap_type mt;
	struct ct_error *e;
	if (!g->mctx || !dwarf_offdie(g->dbg, map_die, &die) ||
	    (e = gomap_type_from_die(g->mctx, &die, &mt)) != NULL) {
		if (g->mctx && dwarf_offdie(g->dbg, map_die, &die))
			ct_error_destroy(gomap_type_from_die(g->mctx, &die, &mt));
		return reach(g, p, from, 0, 0);
	}
	/* the header: typed as the map type's pointee (hash<K,V>, Map) */
	Dwarf_Die under;
	govalue_kind(&die, &under);
	uint32_t ht = 0;
	if (dwarf_tag(&under) == DW_TAG_pointer_type && dw_type_of(&under, &hdr))
		ht = type_of_die(g, &hdr, false);
	bool was = g->st[i] & ST_REACHED;
	if (!was) {
		g->st[i] |= ST_REACHED | (g->cur_root >= HG_ROOT_C_GLOBAL ? ST_C_ONLY : 0);
		if (g->parent)
			g->parent[i] = from;
	}
	if (ht && !(g->st[i] & ST_TYPED)) {
		g->ty[i] = ht;
		g->st[i] |= ST_TYPED;
	}
	g->st[i] |= ST_SCANNED_C;
	struct gomap m;
	if ((e = gomap_read(g->mctx, &mt, p, &m))) {
		ct_error_destroy(e);
		g->unreadable++;
		push(g, user, obj_size(s), 0);
		return;
	}
	struct map_walk w = { g, 0, 0, mt.key_indirect, mt.elem_indirect, p, &mt };
	w.kt = type_of_die(g, &mt.key, false);
	w.vt = type_of_die(g, &mt.elem, false);
	struct gomap_visitor v = { map_entry, map_group, map_table, NULL, &w };
	struct gomap_health health;
	if ((e = gomap_walk(g->mctx, &m, &v, &health)))
		ct_error_destroy(e);
	if (m.dir_ptr)
		reach(g, m.dir_ptr, p + (mt.off_dir_ptr != UINT64_MAX ? mt.off_dir_ptr : 0), type_named(g, &g->t_mapint, TS_MAPINT, "map internals"), 1);
	/* the rest of the header (extra, oldbuckets' overflow): as words */
	push(g, user, obj_size(s), 0);
}

static void typed_at(struct hg *g, uint64_t addr, uint32_t type)
{
	if (!type || !g->types[type].die)
		return;
	push(g, addr, 1, type | 0x80000000u); /* a value inside a reached object */
}

static bool map_entry(void *arg, const struct gomap *m, const struct gomap_entry *e)
{
	(void)m;
	struct map_walk *w = arg;
	if (e->key_ok) {
		if (w->kind)
			reach(w->g, e->key_addr, e->group, w->kt, 1);
		else
			typed_at(w->g, e->key_addr, w->kt);
	}
	if (e->elem_ok) {
		if (w->vind)
			reach(w->g, e->elem_addr, e->group, w->vt, 1);
		else
			typed_at(w->g, e->elem_addr, w->vt);
	}
	return true;
}

static void reach_internal(struct hg *g, uint64_t p, uint64_t from)
{
	uint64_t i, user;
	const struct hg_span *s;
	if (!obj_of(g, p, &i, &user, &s))
		return;
	if (!(g->st[i] & ST_REACHED)) {
		g->st[i] |= ST_REACHED | (g->cur_root >= HG_ROOT_C_GLOBAL ? ST_C_ONLY : 0);
		if (g->parent)
			g->parent[i] = from;
	}
	if (!(g->st[i] & ST_TYPED)) {
		g->ty[i] = type_named(g, &g->t_mapint, TS_MAPINT, "map internals");
		g->st[i] |= ST_TYPED | ST_SCANNED_T; /* its entries come from the walk */
	}
}

static bool map_group(void *arg, const struct gomap *m, const struct gomap_group *gr)
{
	struct map_walk *w = arg;
	reach_internal(w->g, gr->addr, map_word(w, m, gr->addr, NULL));
	return true;
}

static bool map_table(void *arg, const struct gomap *m, const struct gomap_table *t)
{
	struct map_walk *w = arg;
	reach_internal(w->g, t->addr, map_word(w, m, t->addr, t));
	if (t->groups)
		reach_internal(w->g, t->groups, t->addr);
	return true;
}

/* A channel at p: the hchan typed, its buffer as an array of T. */
static void scan_chan(struct hg *g, uint64_t p, uint64_t from, Dwarf_Off chan_die)
{
	Dwarf_Die die, under, hdr;
	uint32_t ht = 0;
	if (dwarf_offdie(g->dbg, chan_die, &die)) {
		govalue_kind(&die, &under);
		if (dwarf_tag(&under) == DW_TAG_pointer_type && dw_type_of(&under, &hdr))
			ht = type_of_die(g, &hdr, false);
	}
	uint64_t i, user;
	const struct hg_span *s;
	bool fresh = obj_of(g, p, &i, &user, &s) && p == user && !(g->st[i] & (ST_SCANNED_T | ST_SCANNED_C));
	reach(g, p, from, ht, 1);
	if (!fresh)
		return;
	struct gochan c;
	struct ct_error *e = gochan_read(g->rt, &die, p, &c);
	if (e) {
		ct_error_destroy(e);
		return;
	}
	if (c.buf && c.dataqsiz && c.elem_ok && !c.bad[0])
		reach(g, c.buf, p, type_of_die(g, &c.elem, false), c.dataqsiz);
}

/* An interface's two words at b (addr in memory). */
static void scan_iface(struct hg *g, uint64_t addr, const uint8_t *b, Dwarf_Off st_off)
{
	uint64_t tword = ld64(b), data = ld64(b + 8);
	if (!data)
		return;
	Dwarf_Die st;
	struct govalue_iface fi;
	bool direct = false;
	if (!tword || !dwarf_offdie(g->dbg, st_off, &st) ||
	    !govalue_iface_words(g->gv, &st, tword, data, &fi, &direct) || !fi.known)
		return reach(g, data, addr + 8, 0, 0);
	if (!direct)
		return reach(g, data, addr + 8, type_of_die(g, &fi.type, false), 1);
	/* the data word is the value: a pointer-shaped type */
	const struct hg_layout *l = layout_of(g, dwarf_dieoffset(&fi.type));
	if (l && l->n == 1 && l->ops[0].off == 0 && l->ops[0].kind != OP_RANGE) {
		uint8_t w[8];
		memcpy(w, b + 8, 8);
		scan_typed_value(g, addr + 8, w, 8, l);
	} else
		reach(g, data, addr + 8, 0, 0);
}

/* One value at addr whose bytes are b[0..blen) (blen >= the layout's extent
 * or ops beyond it are read from memory). */
/* The type an op's die gives (one value, or an array of them), interned once
 * per op: the scan of millions of objects does no DWARF lookup. */
static uint32_t op_type(struct hg *g, struct hg_op *o, bool array)
{
	unsigned k = array ? 1 : 0;
	if (!(o->resolved & (1u << k))) {
		Dwarf_Die die;
		o->ty[k] = dwarf_offdie(g->dbg, o->die, &die) ? type_of_die(g, &die, array) : 0;
		o->resolved |= (uint8_t)(1u << k);
	}
	return o->ty[k];
}

static void scan_typed_value(struct hg *g, uint64_t addr, const uint8_t *b, uint64_t blen,
			     const struct hg_layout *l)
{
	for (size_t k = 0; k < l->n; k++) {
		const struct hg_op *o = &l->ops[k];
		uint8_t tmp[24];
		const uint8_t *w;
		size_t need = o->kind == OP_SLICE ? 24 : o->kind == OP_IFACE || o->kind == OP_STRING ? 16 : 8;
		if (o->kind == OP_RANGE) {
			scan_words(g, addr + o->off, o->len);
			continue;
		}
		if (o->off + need <= blen)
			w = b + o->off;
		else if (mem_read(g->rt->mem, addr + o->off, tmp, need) == MEM_OK)
			w = tmp;
		else {
			g->unreadable++;
			continue;
		}
		uint64_t p = ld64(w);
		if (o->kind != OP_IFACE && (p < g->heap_lo || p >= g->heap_hi))
			continue;
		struct hg_op *mo = (struct hg_op *)o; /* its type cache */
		switch (o->kind) {
		case OP_PTR:
			reach(g, p, addr + o->off, op_type(g, mo, false), 0);
			break;
		case OP_SLICE: {
			uint64_t cap = ld64(w + 16);
			reach(g, p, addr + o->off, cap ? op_type(g, mo, cap > 1) : 0, cap);
			break;
		}
		case OP_STRING:
			if (ld64(w + 8))
				reach(g, p, addr + o->off, type_named(g, &g->t_string, TS_STRING, "string"), 1);
			break;
		case OP_IFACE:
			scan_iface(g, addr + o->off, w, o->die);
			break;
		case OP_MAP:
			scan_map(g, p, addr + o->off, o->die);
			break;
		case OP_CHAN:
			scan_chan(g, p, addr + o->off, o->die);
			break;
		case OP_FUNC:
			reach(g, p, addr + o->off, op_type(g, mo, false), 1);
			break;
		default:
			reach(g, p, addr + o->off, 0, 0);
		}
	}
}

/* count values of type (an array's element, or the type) from addr. */
static void scan_typed(struct hg *g, uint64_t addr, uint64_t count, uint32_t type)
{
	struct hg_type *tt = &g->types[type];
	if (tt->skip)
		return;
	if (!tt->die) {
		if (tt->special == TS_NONE) /* closures: words after the code pointer */
			scan_words(g, addr, tt->size);
		return;
	}
	if (tt->kind == -2) {
		Dwarf_Die die, under;
		tt->kind = dwarf_offdie(g->dbg, tt->die, &die) ? (int8_t)govalue_kind(&die, &under) : -3;
	}
	if (tt->kind == -3)
		return;
	if (tt->kind == GO_KIND_FUNC && !tt->array) {
		/* a closure: its captured variables follow the code pointer, untyped */
		uint64_t i, user;
		const struct hg_span *s;
		if (obj_of(g, addr, &i, &user, &s) && obj_size(s) > 8)
			scan_words(g, addr + 8, obj_size(s) - 8);
		return;
	}
	const struct hg_layout *l = layout_of(g, tt->die);
	if (!l || !l->n)
		return;
	uint64_t size = tt->size ? tt->size : 8;
	if (count > HG_MAX_ELEMS)
		count = HG_MAX_ELEMS;
	if (size > HG_CHUNK) {
		for (uint64_t e = 0; e < count; e++)
			scan_typed_value(g, addr + e * size, NULL, 0, l);
		return;
	}
	uint64_t per = HG_CHUNK / size;
	for (uint64_t e = 0; e < count; e += per) {
		uint64_t n = count - e < per ? count - e : per;
		/* in place where the core has the bytes; else g->buf (nested
		 * work is queued, not scanned here: nothing else uses it meanwhile) */
		const uint8_t *b = mem_view(g->rt->mem, addr + e * size, n * size, g->buf);
		bool ok = b != NULL;
		for (uint64_t k = 0; k < n; k++) {
			if (ok)
				scan_typed_value(g, addr + (e + k) * size, b + k * size, size, l);
			else
				scan_typed_value(g, addr + (e + k) * size, NULL, 0, l);
		}
	}
}

struct ct_error *hg_mark(struct hg *g)
{
	uint64_t done = 0;
	const struct mem *m = g->rt->mem;
	while (g->whead < g->wn) {
		/* the object scanned a few items from now: its first line on the way
		 * into the cache (a mark is bound by misses, not by work) */
		if (m->view && g->whead + HG_PREFETCH < g->wn) {
			const void *v = m->view(m->arg, g->work[g->whead + HG_PREFETCH].addr, 8);
			if (v)
				__builtin_prefetch(v);
		}
		struct hg_work w = g->work[g->whead++];
		if (!w.type)
			scan_words(g, w.addr, w.count);
		else
			scan_typed(g, w.addr, w.count, w.type & 0x7fffffffu);
		if (!(++done & 0xffff)) {
			if (g->opt.progress)
				g->opt.progress(g->opt.progress_arg, "marking", done, done + (g->wn - g->whead));
			/* every 1M objects: the core's pages back to the page cache */
			if (!(done & 0xfffff) && g->t->core)
				core_drop_pages(g->t->core);
		}
	}
	g->whead = g->wn = 0;
	return NULL;
}

/* ---- roots ---- */

static struct hg_root *root_add(struct hg *g, enum hg_root_kind kind, uint64_t lo, uint64_t hi,
				const char *name)
{
	if (g->nroots == g->cap_roots) {
		size_t nc = g->cap_roots ? g->cap_roots * 2 : 1024;
		struct hg_root *n = realloc(g->roots, nc * sizeof(*n));
		if (!n)
			return NULL;
		g->roots = n;
		g->cap_roots = nc;
	}
	struct hg_root *r = &g->roots[g->nroots];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->lo = lo;
	r->hi = hi;
	r->name = strdup(name ? name : "");
	if (!r->name)
		return NULL;
	g->nroots++;
	g->roots_sorted = false;
	g->nroot_kind[kind]++;
	return r;
}

struct globals_walk {
	struct hg *g;
	struct ct_error *err;
};

static bool global_var(const struct dw_entry *e, void *arg)
{
	struct globals_walk *w = arg;
	struct hg *g = w->g;
	Dwarf_Die die, type;
	if (!e->name || !dwarf_offdie(g->dbg, e->off, &die) || !dw_type_of(&die, &type))
		return true;
	uint64_t addr, size = 0;
	if (!dw_static_addr(&die, &addr))
		return true;
	addr += g->rt->bias;
	Dwarf_Die under;
	int kind = govalue_kind(&type, &under);
	dw_size(&under, &size);
	if (!size)
		return true;
	bool go = kind >= 0;
	if (!root_add(g, go ? HG_ROOT_GLOBAL : HG_ROOT_C_GLOBAL, addr, addr + size, e->name)) {
		w->err = nomem();
		return false;
	}
	if (!go)
		return true; /* C variables: with the C roots */
	g->cur_root = HG_ROOT_GLOBAL;
	uint32_t t = type_of_die(g, &type, false);
	if (t)
		push(g, addr, 1, t | 0x80000000u);
	return true;
}

struct ct_error *hg_add_globals(struct hg *g)
{
	struct globals_walk w = { g, NULL };
	g->cur_root = HG_ROOT_GLOBAL;
	dw_foreach(g->rt->dw, DW_TAG_variable, global_var, &w);
	return w.err;
}

/* The part of a goroutine's stack in use: from sp (when it is on the stack)
 * to the top. False when the bounds are not a stack's. */
static bool goroutine_span(const struct go_g *gr, uint64_t sp, uint64_t *lo)
{
	*lo = sp && sp >= gr->stack_lo && sp < gr->stack_hi ? sp : gr->stack_lo;
	return gr->stack_hi > *lo && gr->stack_hi - *lo <= (1ULL << 32);
}

/* The goroutine's stack [lo, stack_hi) as the root what is found in it
 * is reached from. */
static bool goroutine_root(struct hg *g, const struct go_g *gr, uint64_t lo)
{
	char name[32];
	snprintf(name, sizeof(name), "goroutine %" PRIu64, gr->goid);
	struct hg_root *r = root_add(g, HG_ROOT_GOROUTINE, lo, gr->stack_hi, name);
	if (!r)
		return false;
	r->goid = gr->goid;
	r->g = gr;
	g->cur_root = HG_ROOT_GOROUTINE;
	return true;
}

struct ct_error *hg_add_goroutine(struct hg *g, const struct go_g *gr, uint64_t sp)
{
	uint64_t lo;
	if (!goroutine_span(gr, sp, &lo))
		return NULL;
	if (!goroutine_root(g, gr, lo))
		return nomem();
	push(g, lo, gr->stack_hi - lo, 0);
	return NULL;
}

/* The typed locals of a goroutine's frames, where DWARF says where they are
 * at the frame's pc: a variable in memory is scanned by its type, a pointer
 * variable reaches its target typed. The stack itself is scanned as words
 * too (hg_add_goroutine): what DWARF does not place is still found. */
static void add_frame_vars(struct hg *g, const struct backtrace *bt, struct framevar *vars)
{
	for (size_t i = 0; i < bt->n; i++) {
		if (!bt->frames[i].go)
			continue;
		size_t n = framevars_of(g->t, bt, i, NULL, true, vars, FRAMEVARS_MAX);
		for (size_t k = 0; k < n; k++) {
			struct framevar *v = &vars[k];
			if (v->state != FRAMEVAR_OK || !v->has_type)
				continue;
			uint32_t t = type_of_die(g, &v->type_die, false);
			if (!t)
				continue;
			if (v->by_address) {
				push(g, v->value, 1, t | 0x80000000u);
				continue;
			}
			Dwarf_Die under, pointee;
			if (govalue_kind(&v->type_die, &under) == GO_KIND_POINTER &&
			    dw_type_of(&under, &pointee) && v->value >= g->heap_lo && v->value < g->heap_hi)
				reach(g, v->value, bt->frames[i].sp, type_of_die(g, &pointee, false), 0);
		}
	}
}

/* The words of a frame the stack map says hold pointers. */
static void push_bitmap(struct hg *g, uint64_t base, const uint8_t *bits, uint32_t n)
{
	for (uint32_t b = 0; b < n; b++)
		if (bits[b / 8] & (1u << (b % 8)))
			push(g, base + 8ull * b, 8, 0);
}

/* One frame the function table describes (m, at sp; the stack ends at hi):
 * the words its stack maps say are live pointers (locals below varp, args
 * above fp) and its stack objects' pointer words (the GC scans only the
 * objects a live pointer reaches; here each is), all their pointer bytes
 * where no mask was read. */
static void push_frame_map(struct hg *g, const struct go_frame_map *m, uint64_t sp, uint64_t hi)
{
	push_bitmap(g, m->varp - 8ull * m->nlocals, m->locals, m->nlocals);
	push_bitmap(g, m->argp, m->args, m->nargs);
	for (uint32_t j = 0; j < m->nobjs; j++) {
		const struct go_stack_object *o = &m->objs[j];
		if (!o->ptr_bytes || o->addr < sp || o->addr + o->ptr_bytes > hi)
			continue;
		if (o->masked)
			push_bitmap(g, o->addr, m->mask + o->mask_off, o->ptr_bytes / 8);
		else
			push(g, o->addr, o->ptr_bytes, 0);
	}
	g->frames_precise++;
}

/* A goroutine's stack from sp, frame by frame as the GC scans it (see
 * push_frame_map). A frame the maps do not describe (the running frame,
 * assembly, an unreadable table) is scanned as words, up to the next frame's
 * sp; what lies beyond the last frame the unwinder reached too. */
static struct ct_error *add_goroutine_stack(struct hg *g, const struct go_g *gr, uint64_t sp,
					    const struct backtrace *bt)
{
	uint64_t lo, hi = gr->stack_hi;
	if (!goroutine_span(gr, sp, &lo))
		return NULL;
	if (!g->funcs_tried) {
		g->funcs_tried = true;
		struct ct_error *e = go_funcs_open(g->rt, &g->funcs);
		if (e) {
			if (e->code == CT_ERR_NOMEM)
				return e;
			target_warn(g->t, "typed heap: stacks scanned as words: %s", e->msg);
			ct_error_destroy(e);
		} else if (!(g->fmap = malloc(sizeof(*g->fmap)))) {
			return nomem();
		}
	}
	if (!g->funcs || !g->fmap)
		return hg_add_goroutine(g, gr, sp);
	if (!goroutine_root(g, gr, lo))
		return nomem();
	/* the physical Go frames on this stack, innermost first */
	size_t idx[UNWIND_MAX_FRAMES], n = 0;
	for (size_t i = 0; i < bt->n; i++) {
		const struct frame *f = &bt->frames[i];
		if (f->go && !f->inlined && f->sp >= lo && f->sp < hi && (!n || f->sp > bt->frames[idx[n - 1]].sp))
			idx[n++] = i;
	}
	uint64_t cur = lo;
	bool lost = !n;
	for (size_t k = 0; k < n && !lost; k++) {
		const struct frame *f = &bt->frames[idx[k]];
		uint64_t next = k + 1 < n ? bt->frames[idx[k + 1]].sp : hi;
		if (f->sp > cur) { /* a gap the unwinder skipped: as words */
			push(g, cur, f->sp - cur, 0);
			g->frames_words++;
		}
		struct go_frame_map *m = g->fmap;
		if (f->activation || !go_frame_map_at(g->funcs, f->pc, f->sp, m) ||
		    m->fp > next || m->fp + 8ull * m->nargs > hi) {
			push(g, f->sp, next - f->sp, 0);
			g->frames_words++;
			cur = next;
			continue;
		}
		push_frame_map(g, m, f->sp, hi);
		/* the caller's frame starts at fp: its outgoing args are ours */
		cur = m->fp;
		if (k + 1 == n && (bt->truncated || bt->stop) && cur < hi)
			lost = true;
	}
	if (lost && cur < hi) {
		push(g, cur, hi - cur, 0);
		g->frames_words++;
	}
	return NULL;
}

/* One goroutine from where gview says its frames start, with its typed locals. */
static struct ct_error *add_goroutine_view(struct hg *g, const struct go_sched *s,
					   const struct go_g *gr, struct backtrace *bt,
					   struct framevar *vars)
{
	struct gview v;
	gview_describe(g->t, s, gr, bt, &v);
	struct ct_error *e = add_goroutine_stack(g, gr, v.sp, bt);
	if (!e)
		add_frame_vars(g, bt, vars);
	return e;
}

/* gs: the goroutines to add, or NULL for every one not dead. */
static struct ct_error *add_goroutines(struct hg *g, const struct go_g *const *gs, size_t n)
{
	const struct go_sched *s;
	const struct ct_error *se = target_go_sched(g->t, &s);
	if (se)
		return ct_error_fmt(se->code, "goroutines: %s", se->msg);
	struct backtrace *bt = malloc(sizeof(*bt));
	struct framevar *vars = calloc(FRAMEVARS_MAX, sizeof(*vars));
	struct ct_error *e = NULL;
	if (!bt || !vars)
		e = nomem();
	size_t total = gs ? n : s->ngs;
	for (size_t i = 0; !e && i < total; i++) {
		const struct go_g *gr = gs ? gs[i] : &s->gs[i];
		if (gr->status == s->st_dead || !gr->stack_hi)
			continue;
		e = add_goroutine_view(g, s, gr, bt, vars);
	}
	free(bt);
	free(vars);
	return e;
}

struct ct_error *hg_add_goroutines(struct hg *g)
{
	return add_goroutines(g, NULL, 0);
}

struct ct_error *hg_add_goroutine_live(struct hg *g, const struct go_g *gr)
{
	return add_goroutines(g, &gr, 1);
}

/* Bounds on mspan.specials: a list per span, all lists together. */
#define HG_MAX_SPECIALS_PER_SPAN 65536
#define HG_MAX_SPECIALS (1u << 22)

struct ct_error *hg_add_specials(struct hg *g)
{
	const struct dw *dw = g->rt->dw;
	struct dw_field sp, next, offset, kind, ffn, fot = { 0, 0 }, cfn = { 0, 0 };
	int64_t k_fin = 1, k_clean = -1; /* _KindSpecialFinalizer is 1 in every version */
	if (dw_field(dw, "runtime.mspan", "specials", &sp) ||
	    dw_field(dw, "runtime.special", "next", &next) ||
	    dw_field(dw, "runtime.special", "offset", &offset) ||
	    dw_field(dw, "runtime.special", "kind", &kind) ||
	    dw_field(dw, "runtime.specialfinalizer", "fn", &ffn) || offset.size > 8 ||
	    kind.size != 1)
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "finalizers: runtime.special not in DWARF");
	struct ct_error *e = dw_const(dw, "runtime._KindSpecialFinalizer", &k_fin);
	if (e)
		ct_error_destroy(e);
	/* the object's pointer type, as SetFinalizer recorded it */
	bool have_ot = !(e = dw_field(dw, "runtime.specialfinalizer", "ot", &fot));
	if (e)
		ct_error_destroy(e);
	/* Go 1.24+: runtime.AddCleanup */
	if (!(e = dw_field(dw, "runtime.specialCleanup", "fn", &cfn))) {
		if ((e = dw_const(dw, "runtime._KindSpecialCleanup", &k_clean)))
			k_clean = -1;
	}
	if (e)
		ct_error_destroy(e);
	size_t total = 0;
	g->cur_root = HG_ROOT_FINALIZER;
	for (size_t i = 0; i < g->nspans && total < HG_MAX_SPECIALS; i++) {
		const struct hg_span *s = &g->spans[i];
		uint64_t rec;
		if (mem_read(g->rt->mem, s->mspan + sp.off, &rec, 8)) {
			g->unreadable++;
			continue;
		}
		for (size_t n = 0; rec && n < HG_MAX_SPECIALS_PER_SPAN && total < HG_MAX_SPECIALS;
		     n++, total++) {
			uint64_t nx = 0, off = 0, fn = 0;
			uint8_t kd = 0;
			if (mem_read(g->rt->mem, rec + next.off, &nx, 8) ||
			    mem_read(g->rt->mem, rec + offset.off, &off, offset.size) ||
			    mem_read(g->rt->mem, rec + kind.off, &kd, 1)) {
				g->unreadable++;
				break;
			}
			bool fin = kd == k_fin, clean = k_clean >= 0 && kd == k_clean;
			if ((fin || clean) &&
			    !mem_read(g->rt->mem, rec + (fin ? ffn.off : cfn.off), &fn, 8)) {
				uint64_t hi = rec + (fin ? ffn.off : cfn.off) + 8;
				if (!root_add(g, HG_ROOT_FINALIZER, rec, hi, fin ? "finalizer" : "cleanup"))
					return nomem();
				/* the function value: a closure's captured words, untyped */
				if (fn)
					reach(g, fn, rec + (fin ? ffn.off : cfn.off), 0, 0);
				/* the finalizer's object, at offset from the span's base,
				 * typed by the *T SetFinalizer was given */
				uint32_t ty = 0;
				uint64_t ot = 0;
				Dwarf_Die pd, under, elem;
				if (fin && have_ot && !mem_read(g->rt->mem, rec + fot.off, &ot, 8) && ot &&
				    govalue_type_of_rtype(g->gv, ot, &pd)) {
					govalue_kind(&pd, &under);
					if (dwarf_tag(&under) == DW_TAG_pointer_type && dw_type_of(&under, &elem))
						ty = type_of_die(g, &elem, false);
				}
				if (fin && off < s->end - s->start)
					reach(g, s->start + off, rec + offset.off, ty, ty ? 1 : 0);
			}
			rec = nx;
		}
	}
	return hg_mark(g);
}

static bool c_chunk(const struct cheap_chunk *ch, void *arg)
{
	struct hg *g = arg;
	if (g->opt.c_sizes && !cheap_sizes_add(g->opt.c_sizes, ch))
		g->opt.c_sizes = NULL; /* the count stopped (said by cheap_sizes_finish) */
	if (ch->state != CHEAP_ALLOCATED || !ch->user_size || ch->user_size > (1ULL << 32))
		return true;
	/* one root per chunk would be a million entries: chunks are found again
	 * by address (cheap_lookup) when a path is asked for */
	g->nroot_kind[HG_ROOT_C_HEAP]++;
	push(g, ch->user, ch->user_size, 0);
	return true;
}

struct ct_error *hg_add_c_roots(struct hg *g)
{
	struct target *t = g->t;
	/* C variables of the executable (found with the globals) */
	size_t nr = g->nroots;
	for (size_t i = 0; i < nr; i++)
		if (g->roots[i].kind == HG_ROOT_C_GLOBAL) {
			g->cur_root = HG_ROOT_C_GLOBAL;
			push(g, g->roots[i].lo, g->roots[i].hi - g->roots[i].lo, 0);
		}
	hg_mark(g);
	/* writable data of the libraries */
	if (t->core)
		for (size_t i = 0; i < t->nmodules; i++) {
			const struct target_module *m = &t->modules[i];
			if (m->is_exe)
				continue;
			for (size_t k = 0; k < t->core->nsegs; k++) {
				const struct core_segment *sg = &t->core->segs[k];
				if (!(sg->flags & PF_W) || sg->vaddr < m->start || sg->vaddr >= m->end ||
				    !sg->filesz)
					continue;
				const char *base = strrchr(m->name, '/');
				char name[256];
				snprintf(name, sizeof(name), "%s data", base ? base + 1 : m->name);
				if (!root_add(g, HG_ROOT_C_DATA, sg->vaddr, sg->vaddr + sg->memsz, name))
					return nomem();
				g->cur_root = HG_ROOT_C_DATA;
				push(g, sg->vaddr, sg->memsz, 0);
			}
		}
	hg_mark(g);
	/* live glibc chunks */
	struct cheap *c;
	if (!target_cheap(t, &c) && c) {
		g->cur_root = HG_ROOT_C_HEAP;
		struct ct_error *e = cheap_foreach_chunk(c, c_chunk, g);
		if (e && g->opt.c_sizes)
			target_warn(t, "C heap: %s", e->msg);
		if (e)
			ct_error_destroy(e);
		hg_mark(g);
	}
	/* thread stacks that no goroutine owns (C threads, system stacks) */
	const struct target_tstack *ts;
	size_t nts;
	target_thread_stacks(t, &ts, &nts);
	for (size_t i = 0; i < nts; i++) {
		uint64_t lo = ts[i].sp ? ts[i].sp : ts[i].lo;
		if (ts[i].hi <= lo || ts[i].hi - lo > (1ULL << 30))
			continue;
		char name[64];
		snprintf(name, sizeof(name), "thread %" PRId64 " stack", ts[i].tid);
		if (!root_add(g, HG_ROOT_THREAD_STACK, lo, ts[i].hi, name))
			return nomem();
		g->cur_root = HG_ROOT_THREAD_STACK;
		push(g, lo, ts[i].hi - lo, 0);
	}
	return NULL;
}

/* Every root, marked in order; what fails (but memory) is said when warn. */
static struct ct_error *mark_all_roots(struct hg *g, bool warn)
{
	struct ct_error *(*steps[])(struct hg *) = { hg_add_globals, hg_mark, hg_add_goroutines,
						     hg_mark, hg_add_specials, hg_add_c_roots, hg_mark };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct ct_error *err = steps[i](g);
		if (!err)
			continue;
		if (err->code == CT_ERR_NOMEM)
			return err;
		if (warn)
			target_warn(g->t, "typed heap: %s", err->msg);
		ct_error_destroy(err);
	}
	return NULL;
}

struct ct_error *hg_build(struct target *t, const struct hg_options *opt, struct hg **ret)
{
	struct hg *g;
	struct ct_error *err = hg_create(t, opt, &g);
	if (err)
		return err;
	if ((err = mark_all_roots(g, true))) {
		hg_destroy(g);
		return err;
	}
	*ret = g;
	return NULL;
}

struct ct_error *hg_retained(struct hg *g, uint64_t addr, uint64_t *objects, uint64_t *bytes)
{
	*objects = *bytes = 0;
	uint64_t oi, ouser;
	const struct hg_span *os;
	if (!obj_of(g, addr, &oi, &ouser, &os) || !(g->st[oi] & ST_REACHED))
		return ct_error_fmt(CT_ERR_NOTFOUND, "0x%" PRIx64 ": not in a reached Go heap object", addr);
	struct hg_options opt = { 0 };
	struct hg *g2;
	struct ct_error *err = hg_create(g->t, &opt, &g2);
	if (err)
		return err;
	hg_hide(g2, addr); /* reached, never followed: as if it were gone */
	if ((err = mark_all_roots(g2, false))) {
		hg_destroy(g2);
		return err;
	}
	if (g2->nobj != g->nobj) {
		hg_destroy(g2);
		return ct_error_fmt(CT_ERR_CORRUPT, "typed heap: the object index differs between marks");
	}
	*objects = 1;
	*bytes = obj_size(os);
	for (size_t k = 0; k < g->nspans; k++) {
		const struct hg_span *s = &g->spans[k];
		for (uint64_t j = 0; j < s->nelems; j++) {
			uint64_t i = s->first + j;
			if (i != oi && (g->st[i] & ST_REACHED) && !(g2->st[i] & ST_REACHED)) {
				(*objects)++;
				*bytes += obj_size(s);
			}
		}
	}
	hg_destroy(g2);
	return NULL;
}

/* ---- answers ---- */

void hg_hide(struct hg *g, uint64_t addr)
{
	uint64_t i, user;
	const struct hg_span *s;
	if (obj_of(g, addr, &i, &user, &s))
		g->st[i] |= ST_REACHED | ST_SCANNED_T | ST_SCANNED_C | ST_TYPED;
}

bool hg_reached(const struct hg *g, uint64_t addr)
{
	uint64_t i, user;
	const struct hg_span *s;
	return obj_of((struct hg *)g, addr, &i, &user, &s) && (g->st[i] & ST_REACHED);
}

bool hg_object_of(const struct hg *g, uint64_t addr, struct hg_object *ret)
{
	uint64_t i, user;
	const struct hg_span *s;
	memset(ret, 0, sizeof(*ret));
	if (!obj_of((struct hg *)g, addr, &i, &user, &s))
		return false;
	ret->addr = user;
	ret->size = obj_size(s);
	ret->allocated = true;
	ret->reached = g->st[i] & ST_REACHED;
	ret->noscan = s->noscan;
	ret->type = g->st[i] & ST_TYPED ? g->types[g->ty[i]].name : NULL;
	ret->first_root = g->st[i] & ST_C_ONLY ? HG_ROOT_C_DATA : HG_ROOT_GLOBAL;
	return true;
}

static int count_cmp(const void *a, const void *b)
{
	const struct hg_type_count *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->type, y->type);
}

struct ct_error *hg_census(const struct hg *g, struct hg_census *c)
{
	memset(c, 0, sizeof(*c));
	uint64_t *objs = calloc(g->ntypes, sizeof(*objs)), *bytes = calloc(g->ntypes, sizeof(*bytes));
	if (!objs || !bytes) {
		free(objs);
		free(bytes);
		return nomem();
	}
	for (size_t k = 0; k < g->nspans; k++) {
		const struct hg_span *s = &g->spans[k];
		for (uint64_t j = 0; j < s->nelems; j++) {
			uint8_t st = g->st[s->first + j];
			if (!(st & ST_ALLOC))
				continue;
			c->objects++;
			c->bytes += s->elemsize;
			if (!(st & ST_REACHED)) {
				c->unreached_objects++;
				c->unreached_bytes += s->elemsize;
				continue;
			}
			if (st & ST_C_ONLY) {
				c->c_only_objects++;
				c->c_only_bytes += s->elemsize;
			}
			if (st & ST_TYPED) {
				uint32_t t = g->ty[s->first + j];
				objs[t]++;
				bytes[t] += s->elemsize;
				c->typed_objects++;
				c->typed_bytes += s->elemsize;
			} else {
				c->untyped_objects++;
				c->untyped_bytes += s->elemsize;

				if (st & ST_TINY)
					c->untyped_tiny++;
				else
					c->untyped_conservative++;
			}
		}
	}
	c->types = calloc(g->ntypes, sizeof(*c->types));
	if (!c->types) {
		free(objs);
		free(bytes);
		return nomem();
	}
	/* the same name may come from several DIEs (a type in two units): summed */
	for (size_t t = 1; t < g->ntypes; t++) {
		if (!objs[t])
			continue;
		size_t k;
		for (k = 0; k < c->ntypes; k++)
			if (!strcmp(c->types[k].type, g->types[t].name))
				break;
		if (k == c->ntypes) {
			c->types[k].type = g->types[t].name;
			c->ntypes++;
		}
		c->types[k].objects += objs[t];
		c->types[k].bytes += bytes[t];
	}
	free(objs);
	free(bytes);
	if (c->ntypes)
		qsort(c->types, c->ntypes, sizeof(*c->types), count_cmp);
	memcpy(c->roots, g->nroot_kind, sizeof(c->roots));
	c->unreadable = g->unreadable;
	c->frames_precise = g->frames_precise;
	c->frames_words = g->frames_words;
	c->spans = g->nspans;
	c->skipped_spans = g->skipped_spans;
	return NULL;
}

void hg_census_free(struct hg_census *c)
{
	free(c->types);
	memset(c, 0, sizeof(*c));
}

/* ---- paths ---- */

static int root_cmp(const void *a, const void *b)
{
	const struct hg_root *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static const struct hg_root *root_of(struct hg *g, uint64_t addr)
{
	if (!g->roots_sorted) {
		if (g->nroots)
			qsort(g->roots, g->nroots, sizeof(*g->roots), root_cmp);
		g->roots_sorted = true;
	}
	/* the last root starting at or below addr, then back over overlapping ones */
	size_t lo = 0, hi = g->nroots;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->roots[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo, n = 0; k-- > 0 && n < 64; n++)
		if (addr >= g->roots[k].lo && addr < g->roots[k].hi)
			return &g->roots[k];
	return NULL;
}

/* The field at byte off of a value of DWARF type die: ".name", "[i]", nested;
 * "+0x.." where the type does not say. */
static void field_path(struct hg *g, Dwarf_Off die_off, bool array, uint64_t off, char *buf,
		       size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	Dwarf_Die die;
	if (!die_off || !dwarf_offdie(g->dbg, die_off, &die)) {
		snprintf(buf, cap, "+0x%" PRIx64, off);
		return;
	}
	if (array) {
		uint64_t size = 0;
		Dwarf_Die under;
		govalue_kind(&die, &under);
		if (dw_size(&under, &size) && size) {
			n += snprintf(buf + n, cap - n, "[%" PRIu64 "]", off / size);
			off %= size;
		}
	}
	for (int depth = 0; depth < 16 && n < cap; depth++) {
		Dwarf_Die under;
		int kind = govalue_kind(&die, &under);
		if (kind == GO_KIND_STRUCT || (kind == -1 && dwarf_tag(&under) == DW_TAG_structure_type)) {
			struct dw_members it;
			Dwarf_Die mem, mt, best_t;
			const char *mname, *best = NULL;
			uint64_t moff, best_off = 0;
			dw_members_begin(&under, &it);
			while (dw_members_next(&it, &mem, &mname, &moff))
				if (moff <= off && dw_type_of(&mem, &mt)) {
					best = mname;
					best_off = moff;
					best_t = mt;
				}
			if (!best)
				break;
			/* Go names an embedded field by its type: keep it, as Go's selectors do */
			n += snprintf(buf + n, cap - n, ".%s", best);
			off -= best_off;
			die = best_t;
			continue;
		}
		if (kind == GO_KIND_ARRAY) {
			Dwarf_Die elem;
			uint64_t esize, count;
			if (!dw_array(&under, &elem, &esize, &count) || !esize)
				break;
			n += snprintf(buf + n, cap - n, "[%" PRIu64 "]", off / esize);
			off %= esize;
			die = elem;
			continue;
		}
		break;
	}
	if (off && n < cap)
		snprintf(buf + n, cap - n, "+0x%" PRIx64, off);
}

/* The frame of goroutine root r holding the word at `from`, and the local
 * variable whose value is the pointer stored there. */
static void name_frame(struct hg *g, struct hg_root *r, uint64_t from)
{
	const struct go_sched *s;
	if (!r->g || target_go_sched(g->t, &s))
		return;
	struct backtrace *bt = malloc(sizeof(*bt));
	struct framevar *vars = calloc(FRAMEVARS_MAX, sizeof(*vars));
	if (bt && vars) {
		struct gview v;
		gview_describe(g->t, s, r->g, bt, &v);
		uint64_t ptr = 0;
		mem_read(g->rt->mem, from, &ptr, 8);
		for (size_t i = 0; i < bt->n; i++) {
			uint64_t hi = i + 1 < bt->n ? bt->frames[i + 1].sp : r->g->stack_hi;
			if (from < bt->frames[i].sp || from >= hi)
				continue;
			snprintf(r->func, sizeof(r->func), "%s", bt->frames[i].func ? bt->frames[i].func : "?");
			size_t n = framevars_of(g->t, bt, i, NULL, true, vars, FRAMEVARS_MAX);
			for (size_t k = 0; k < n; k++)
				if (vars[k].state == FRAMEVAR_OK && !vars[k].by_address && vars[k].size == 8 &&
				    vars[k].value == ptr && vars[k].name) {
					snprintf(r->var, sizeof(r->var), "%s", vars[k].name);
					break;
				}
			break;
		}
	}
	free(bt);
	free(vars);
}

size_t hg_path(struct hg *g, uint64_t addr, struct hg_step *steps, size_t max,
	       struct hg_root *root, char *root_via, size_t root_via_cap)
{
	return hg_path_from(g, addr, 0, steps, max, root, root_via, root_via_cap);
}

size_t hg_path_from(struct hg *g, uint64_t addr, uint64_t first_from, struct hg_step *steps,
		    size_t max, struct hg_root *root, char *root_via, size_t root_via_cap)
{
	memset(root, 0, sizeof(*root));
	root->kind = HG_ROOT_NKINDS;
	if (root_via_cap)
		root_via[0] = 0;
	if (!g->parent || !max)
		return 0;
	uint64_t i, user;
	const struct hg_span *s;
	if (!obj_of(g, addr, &i, &user, &s) || (!first_from && !(g->st[i] & ST_REACHED)))
		return 0;
	size_t n = 0;
	uint64_t cur = addr;
	while (n < max) {
		if (!obj_of(g, cur, &i, &user, &s))
			break;
		struct hg_step *st = &steps[n++];
		hg_object_of(g, cur, &st->obj);
		uint64_t from = n == 1 && first_from ? first_from : g->parent[i];
		st->from = from;
		st->via[0] = 0;
		uint64_t j, fuser;
		const struct hg_span *fs;
		if (from && obj_of(g, from, &j, &fuser, &fs) && j != i) {
			const struct hg_type *ft = g->st[j] & ST_TYPED ? &g->types[g->ty[j]] : NULL;
			/* a map's slot: named by the map and the entry's key */
			if (!(ft && ft->special == TS_MAPINT &&
			      gomap_holder_describe(g->t, from, st->via, sizeof(st->via))))
				field_path(g, ft ? ft->die : 0, ft && ft->array, from - fuser, st->via,
					   sizeof(st->via));
			cur = from;
			continue;
		}
		/* from a root */
		const struct hg_root *r = from ? root_of(g, from) : NULL;
		if (r) {
			*root = *r;
			if (r->kind == HG_ROOT_GOROUTINE)
				name_frame(g, root, from);
			if (root_via_cap) {
				if (r->kind == HG_ROOT_GLOBAL) {
					Dwarf_Die die, type;
					uint32_t t = 0;
					if (dw_lookup(g->rt->dw, r->name, DW_TAG_variable, &die) &&
					    dw_type_of(&die, &type))
						t = type_of_die(g, &type, false);
					field_path(g, t ? g->types[t].die : 0, false, from - r->lo, root_via,
						   root_via_cap);
					if (!strncmp(root_via, "+0x0", 4) && !root_via[4])
						root_via[0] = 0;
				} else
					snprintf(root_via, root_via_cap, "+0x%" PRIx64, from - r->lo);
			}
		} else if (from) {
			struct cheap *c;
			bool found = false;
			struct cheap_chunk ch;
			if (!target_cheap(g->t, &c) && c) {
				struct ct_error *e = cheap_lookup(c, from, &found, &ch);
				ct_error_destroy(e);
			}
			if (found) {
				root->kind = HG_ROOT_C_HEAP;
				root->lo = ch.user;
				root->hi = ch.user + ch.user_size;
				root->name = "";
				if (root_via_cap)
					snprintf(root_via, root_via_cap, "+0x%" PRIx64, from - ch.user);
			}
		}
		break;
	}
	return n;
}

/* The chains of hg_foreach_chain as a tree, shared from the root down: a
 * node is a name on top of its parent's chain (names are the graph's own
 * strings, told apart by address). */
struct chain_node {
	const char *name;
	uint32_t parent; /* node index + 1; 0: none (a root's name) */
	uint32_t depth;  /* names in the chain, this one included */
	uint64_t objects, bytes;
};
struct chains {
	struct chain_node *v;
	size_t n, cap;
	uint32_t *tab; /* open addressing: node index + 1 */
	size_t tcap;
};

static size_t chain_slot(const char *name, uint32_t parent, size_t cap)
{
	uint64_t h = ((uint64_t)(uintptr_t)name * 0x9e3779b97f4a7c15ULL) ^ (parent * 0xff51afd7ed558ccdULL);
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* The node for name on top of parent, made if new; 0 when out of memory. */
static uint32_t chain_node(struct chains *c, const char *name, uint32_t parent)
{
	if ((c->n + 1) * 2 > c->tcap) {
		size_t cap = c->tcap ? c->tcap * 2 : 1024;
		uint32_t *t = calloc(cap, sizeof(*t));
		if (!t)
			return 0;
		for (size_t i = 0; i < c->n; i++) {
			size_t s = chain_slot(c->v[i].name, c->v[i].parent, cap);
			while (t[s])
				s = (s + 1) & (cap - 1);
			t[s] = (uint32_t)i + 1;
		}
		free(c->tab);
		c->tab = t;
		c->tcap = cap;
	}
	size_t s = chain_slot(name, parent, c->tcap);
	for (; c->tab[s]; s = (s + 1) & (c->tcap - 1)) {
		const struct chain_node *n = &c->v[c->tab[s] - 1];
		if (n->name == name && n->parent == parent)
			return c->tab[s];
	}
	if (c->n >= UINT32_MAX - 1)
		return 0;
	struct chain_node *n = CT_PUSH(c->v, c->n, c->cap);
	if (!n)
		return 0;
	*n = (struct chain_node){ name, parent, parent ? c->v[parent - 1].depth + 1 : 1, 0, 0 };
	c->tab[s] = (uint32_t)c->n;
	return (uint32_t)c->n;
}

/* name on top of the chain parent, cut as hg_foreach_chain says when it
 * would pass max names. */
static uint32_t chain_push(struct chains *c, const char *name, uint32_t parent, uint32_t max)
{
	if (parent && c->v[parent - 1].depth + 1 > max) {
		while (parent && c->v[parent - 1].depth > max - 2)
			parent = c->v[parent - 1].parent;
		if (!(parent = chain_node(c, "(more holders)", parent)))
			return 0;
	}
	return chain_node(c, name, parent);
}

/* The name a chain ends with: where the root-most object was reached from. */
static const char *chain_root_name(struct hg *g, uint64_t oi)
{
	uint64_t from = g->parent[oi];
	const struct hg_root *r = from ? root_of(g, from) : NULL;
	if (r && r->kind == HG_ROOT_GLOBAL && r->name)
		return r->name;
	return r ? hg_root_kind_name(r->kind) : "c-heap";
}

/* The chain node of object i, from the nearest holder whose node is known:
 * node[] holds node + 1 per object (0: not yet). */
static uint32_t chain_of(struct hg *g, struct chains *c, uint32_t *node, uint64_t i, uint32_t max,
			 uint64_t **path, size_t *cap)
{
	size_t n = 0;
	uint64_t oi = i;
	uint32_t top = 0;
	for (;;) { /* up to a known node or the root (parents form a tree: each was set once) */
		if (node[oi]) {
			top = node[oi];
			break;
		}
		if (n == *cap) {
			size_t nc = *cap ? *cap * 2 : 256;
			uint64_t *p = realloc(*path, nc * sizeof(*p));
			if (!p)
				return 0;
			*path = p;
			*cap = nc;
		}
		(*path)[n++] = oi;
		uint64_t from = g->parent[oi], fi, fu;
		const struct hg_span *fs;
		if (!from || !obj_of(g, from, &fi, &fu, &fs) || fi == oi || n > g->nobj)
			break;
		oi = fi;
	}
	if (!top && !(top = chain_node(c, chain_root_name(g, oi), 0)))
		return 0;
	while (n--) {
		uint64_t k = (*path)[n];
		const char *name = g->st[k] & ST_TYPED ? g->types[g->ty[k]].name : "(untyped)";
		if (!(top = chain_push(c, name, top, max)))
			return 0;
		node[k] = top;
	}
	return top;
}

struct ct_error *hg_foreach_chain(struct hg *g, size_t max_depth, hg_chain_fn fn, void *arg)
{
	if (!g->parent)
		return ct_error_fmt(CT_ERR_USAGE, "typed heap built without paths");
	uint32_t max = max_depth > HG_CHAIN_MAX ? HG_CHAIN_MAX : max_depth < 3 ? 3 : (uint32_t)max_depth;
	struct chains c = { 0 };
	uint32_t *node = calloc(g->nobj ? g->nobj : 1, sizeof(*node));
	uint64_t *path = NULL;
	size_t pcap = 0;
	struct ct_error *err = NULL;
	if (!node)
		err = nomem();
	for (size_t k = 0; !err && k < g->nspans; k++) {
		const struct hg_span *s = &g->spans[k];
		for (uint64_t j = 0; j < s->nelems; j++) {
			uint64_t i = s->first + j;
			if ((g->st[i] & (ST_ALLOC | ST_REACHED)) != (ST_ALLOC | ST_REACHED))
				continue;
			uint32_t at = chain_of(g, &c, node, i, max, &path, &pcap);
			if (!at) {
				err = nomem();
				break;
			}
			c.v[at - 1].objects++;
			c.v[at - 1].bytes += s->elemsize;
		}
	}
	free(path);
	free(node);
	free(c.tab);
	const char *names[HG_CHAIN_MAX + 1];
	for (size_t k = 0; !err && k < c.n; k++) {
		if (!c.v[k].objects)
			continue;
		size_t n = 0;
		for (uint32_t at = (uint32_t)k + 1; at && n < HG_CHAIN_MAX + 1; at = c.v[at - 1].parent)
			names[n++] = c.v[at - 1].name;
		if (!fn(arg, names, n, c.v[k].objects, c.v[k].bytes))
			break;
	}
	free(c.v);
	return err;
}

static void root_text(FILE *f, const struct hg_root *r, const char *via)
{
	switch (r->kind) {
	case HG_ROOT_GLOBAL:
	case HG_ROOT_C_GLOBAL:
		fprintf(f, "%s%s", r->name ? r->name : "", via);
		break;
	case HG_ROOT_GOROUTINE:
		fprintf(f, "goroutine %" PRIu64 " %s%s%s", r->goid, r->func[0] ? r->func : "stack",
			r->var[0] ? " " : "", r->var);
		break;
	case HG_ROOT_FINALIZER: /* the record: its words are not the program's */
		fprintf(f, "%s record @0x%" PRIx64, r->name ? r->name : "finalizer", r->lo);
		break;
	case HG_ROOT_NKINDS:
		fputs("(unknown root)", f);
		break;
	default:
		fprintf(f, "%s %s%s", hg_root_kind_name(r->kind), r->name ? r->name : "", via);
	}
}

bool hg_field_at(struct hg *g, uint64_t addr, char *buf, size_t cap)
{
	uint64_t i, user;
	const struct hg_span *s;
	if (!cap || !obj_of(g, addr, &i, &user, &s))
		return false;
	const struct hg_type *t = g->st[i] & ST_TYPED ? &g->types[g->ty[i]] : NULL;
	if (!(t && t->special == TS_MAPINT && gomap_holder_describe(g->t, addr, buf, cap)))
		field_path(g, t ? t->die : 0, t && t->array, addr - user, buf, cap);
	return true;
}

char *hg_path_text(const struct hg_step *steps, size_t n, const struct hg_root *root,
		   const char *root_via)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *tf = open_memstream(&text, &tlen);
	if (!tf)
		return NULL;
	root_text(tf, root, root_via ? root_via : "");
	for (size_t i = n; i-- > 0;) {
		fprintf(tf, " → %s @0x%" PRIx64, steps[i].obj.type ? steps[i].obj.type : "?",
			steps[i].obj.addr);
		if (i > 0 && steps[i - 1].via[0])
			fprintf(tf, " %s", steps[i - 1].via);
	}
	if (fclose(tf)) {
		free(text);
		return NULL;
	}
	return text;
}
