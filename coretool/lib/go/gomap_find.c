/* Finding Go maps: every global variable whose type is a map, maps inside
 * global structs and arrays, and maps reachable through pointers and slices
 * from globals (bounded depth and object count). Types that cannot contain a
 * map are never looked into, so the search costs little beyond the maps. */
#define _GNU_SOURCE
#include "gomap.h"
#include "ct_util.h"
#include "gomap_int.h"
#include "govalue.h"
#include "out.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FIND_MAX_NEST = 24, FIND_PATH = 1024, FIND_MAX_TYPE_DEPTH = 48 };

/* Memo of "can a value of this type (through pointers too) hold a map". */
enum { MEMO_UNKNOWN = 0, MEMO_BUSY, MEMO_NO, MEMO_YES };
struct find_memo {
	Dwarf_Off *keys;
	unsigned char *vals;
	size_t cap, n;
};

struct find {
	const struct gomap_ctx *ctx;
	struct govalue *gv; /* dynamic types of interfaces (the finder looks into them) */
	struct gomap_find_opts opts;
	gomap_found_fn fn;
	void *arg;
	struct gomap_find_stats *stats;
	struct find_memo memo;
	struct ct_u64set visited; /* objects reached through pointers */
	char path[FIND_PATH];
	bool stop;
	struct ct_error *err;
};

static unsigned char *memo_slot(struct find *f, Dwarf_Off off)
{
	struct find_memo *m = &f->memo;
	if (2 * (m->n + 1) > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 1024;
		Dwarf_Off *nk = calloc(ncap, sizeof(*nk));
		unsigned char *nv = calloc(ncap, 1);
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return NULL;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->vals[i])
				continue;
			size_t j = ct_hash_slot(m->keys[i], ncap);
			while (nv[j])
				j = (j + 1) & (ncap - 1);
			nk[j] = m->keys[i];
			nv[j] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = nk;
		m->vals = nv;
		m->cap = ncap;
	}
	size_t j = ct_hash_slot(off, m->cap);
	for (; m->vals[j]; j = (j + 1) & (m->cap - 1))
		if (m->keys[j] == off)
			return &m->vals[j];
	m->keys[j] = off;
	m->n++;
	return &m->vals[j];
}

static bool find_attr_die(Dwarf_Die *die, unsigned name, Dwarf_Die *ret)
{
	Dwarf_Attribute a;
	return dwarf_attr(die, name, &a) && dwarf_formref_die(&a, ret);
}


/* The slice element type (DW_AT_go_elem, else the pointee of `array`). */
static bool find_slice_elem(Dwarf_Die *st, Dwarf_Die *elem)
{
	Dwarf_Die m, p;
	if (find_attr_die(st, DW_AT_go_elem, elem))
		return true;
	return dw_member(st, "array", NULL, &m) && dw_type_of(&m, &p) && dw_peel(&p, &p) &&
	       dwarf_tag(&p) == DW_TAG_pointer_type && dw_type_of(&p, elem);
}

static bool find_may_hold_map(struct find *f, Dwarf_Die *type, int depth)
{
	if (depth > FIND_MAX_TYPE_DEPTH)
		return false;
	Dwarf_Die t;
	int kind = govalue_kind(type, &t);
	if (kind == GO_KIND_MAP)
		return true;
	if (kind < 0)
		return false;
	unsigned char *slot = memo_slot(f, dwarf_dieoffset(&t));
	if (!slot)
		return false;
	if (*slot == MEMO_YES || *slot == MEMO_NO || *slot == MEMO_BUSY)
		return *slot == MEMO_YES;
	*slot = MEMO_BUSY;
	bool yes = false;
	Dwarf_Die sub, child;
	int tag = dwarf_tag(&t);
	if (kind == GO_KIND_INTERFACE) {
		/* any dynamic type: looked into when a value is there */
		yes = true;
	} else if (kind == GO_KIND_STRING || kind == GO_KIND_CHAN || kind == GO_KIND_FUNC ||
		   kind == GO_KIND_UNSAFE_POINTER) {
		yes = false;
	} else if (kind == GO_KIND_SLICE) {
		yes = find_slice_elem(&t, &sub) && find_may_hold_map(f, &sub, depth + 1);
	} else if (tag == DW_TAG_pointer_type || tag == DW_TAG_array_type) {
		yes = dw_type_of(&t, &sub) && find_may_hold_map(f, &sub, depth + 1);
	} else if (tag == DW_TAG_structure_type && dwarf_child(&t, &child) == 0) {
		do {
			if (dwarf_tag(&child) == DW_TAG_member && dw_type_of(&child, &sub) &&
			    find_may_hold_map(f, &sub, depth + 1))
				yes = true;
		} while (!yes && dwarf_siblingof(&child, &child) == 0);
	}
	/* The table may have grown (rehashed) during the recursion: look up again. */
	slot = memo_slot(f, dwarf_dieoffset(&t));
	if (slot)
		*slot = yes ? MEMO_YES : MEMO_NO;
	return yes;
}

static void find_explore(struct find *f, Dwarf_Die *type, uint64_t addr, unsigned ptr_depth,
			 unsigned nest);

static void find_unreadable(struct find *f, uint64_t addr)
{
	if (!f->stats->unreadable++)
		snprintf(f->stats->first_unreadable, sizeof(f->stats->first_unreadable),
			 "%s at 0x%" PRIx64, f->path, addr);
}

static bool find_budget(struct find *f)
{
	if (f->stats->objects >= f->opts.max_objects) {
		f->stats->truncated = true;
		return false;
	}
	f->stats->objects++;
	return true;
}

/* Appends to the path; restores it on return through the saved length. */
static size_t path_push(struct find *f, const char *fmt, uint64_t v, const char *s)
{
	size_t len = strlen(f->path);
	if (len < FIND_PATH - 1) {
		if (s)
			snprintf(f->path + len, FIND_PATH - len, fmt, s);
		else
			snprintf(f->path + len, FIND_PATH - len, fmt, v);
	}
	return len;
}

static void find_elems(struct find *f, Dwarf_Die *elem, uint64_t esize, uint64_t base,
		       uint64_t count, unsigned ptr_depth, unsigned nest)
{
	if (!find_may_hold_map(f, elem, 0))
		return;
	if (count > f->opts.max_elems) {
		f->stats->truncated = true;
		count = f->opts.max_elems;
	}
	for (uint64_t i = 0; i < count && !f->stop; i++) {
		size_t len = path_push(f, "[%" PRIu64 "]", i, NULL);
		find_explore(f, elem, base + i * esize, ptr_depth, nest + 1);
		f->path[len] = 0;
	}
}

/* An interface: its dynamic value, written as a type assertion (main.v.(*main.T)). */
static void find_iface(struct find *f, Dwarf_Die *st, uint64_t addr, unsigned ptr_depth,
		       unsigned nest)
{
	struct govalue_iface fi;
	if (ptr_depth >= f->opts.max_ptr_depth)
		return;
	if (govalue_iface(f->gv, st, addr, &fi) != MEM_OK) {
		find_unreadable(f, addr);
		return;
	}
	if (fi.nil || !fi.known || !find_may_hold_map(f, &fi.type, 0))
		return;
	bool behind = fi.value_addr == fi.data; /* not the data word itself */
	if (behind) {
		bool seen;
		if (!fi.data || !find_budget(f))
			return;
		if ((f->err = ct_u64set_add(&f->visited, fi.data ^ dwarf_dieoffset(&fi.type) << 48,
						&seen))) {
			f->stop = true;
			return;
		}
		if (seen)
			return;
	}
	size_t len = path_push(f, ".(%s)", 0, govalue_type_name(&fi.type));
	find_explore(f, &fi.type, fi.value_addr, ptr_depth + behind, nest + 1);
	f->path[len] = 0;
}

/* Maps held in a map's values (map[string]map[string]int, or structs with
 * maps): each entry's value is explored with the path written as an index by
 * the key, main.nested["big"]. Entries looked at are bounded like elements. */
struct find_mapvals {
	struct find *f;
	Dwarf_Die key, elem;
	unsigned ptr_depth, nest;
	uint64_t seen;
};

static bool find_mapval_entry(void *arg, const struct gomap *m, const struct gomap_entry *e)
{
	(void)m;
	struct find_mapvals *mv = arg;
	struct find *f = mv->f;
	if (f->stop)
		return false;
	if (mv->seen++ >= f->opts.max_elems) {
		f->stats->truncated = true;
		return false;
	}
	if (!e->key_ok || !e->elem_ok)
		return true;
	/* The key as Go would write it: "big", 42, main.K{...}. */
	char *text = govalue_text(f->gv, &mv->key, e->key_addr);
	if (text) {
		size_t len = path_push(f, "[%s]", 0, text);
		find_explore(f, &mv->elem, e->elem_addr, mv->ptr_depth, mv->nest + 1);
		f->path[len] = 0;
	}
	free(text);
	return !f->stop;
}

static void find_map_values(struct find *f, Dwarf_Die *md, uint64_t hdr, unsigned ptr_depth,
			    unsigned nest)
{
	struct find_mapvals mv = { .f = f, .ptr_depth = ptr_depth + 1, .nest = nest };
	struct gomap_type mt;
	struct gomap m;
	bool seen;
	if (!f->gv || ptr_depth >= f->opts.max_ptr_depth ||
	    !find_attr_die(md, DW_AT_go_key, &mv.key) || !find_attr_die(md, DW_AT_go_elem, &mv.elem) ||
	    !find_may_hold_map(f, &mv.elem, 0) || !find_budget(f))
		return;
	if ((f->err = ct_u64set_add(&f->visited, hdr ^ dwarf_dieoffset(md) << 48, &seen))) {
		f->stop = true;
		return;
	}
	struct ct_error *err = NULL;
	if (seen || (err = gomap_type_from_die(f->ctx, md, &mt)) || (err = gomap_read(f->ctx, &mt, hdr, &m))) {
		ct_error_destroy(err);
		return;
	}
	struct gomap_visitor v = { .entry = find_mapval_entry, .arg = &mv };
	if ((err = gomap_walk(f->ctx, &m, &v, NULL))) {
		f->err = err;
		f->stop = true;
	}
}

static void find_explore(struct find *f, Dwarf_Die *type, uint64_t addr, unsigned ptr_depth,
			 unsigned nest)
{
	Dwarf_Die t, sub, child;
	if (f->stop || nest > FIND_MAX_NEST)
		return;
	int kind = govalue_kind(type, &t);
	if (kind < 0)
		return;
	if (kind == GO_KIND_MAP) {
		/* the kind sits on the typedef map[K]V, which carries the key/elem */
		Dwarf_Die md = *type;
		for (int i = 0; i < 16 && dw_go_kind(&md) != GO_KIND_MAP; i++)
			if (!dw_type_of(&md, &md))
				break;
		uint64_t p = 0;
		struct ct_error *err = mem_read_u64(f->ctx->mem, addr, &p, "map pointer");
		if (err) {
			ct_error_destroy(err);
			find_unreadable(f, addr);
		}
		struct gomap_found found = { f->path, addr, err ? 0 : p, &md, ptr_depth, err != NULL };
		if (!f->fn(f->arg, &found))
			f->stop = true;
		else if (!err && p)
			find_map_values(f, &md, p, ptr_depth, nest);
		return;
	}
	if (!find_may_hold_map(f, &t, 0))
		return;
	int tag = dwarf_tag(&t);
	if (kind == GO_KIND_INTERFACE) {
		find_iface(f, &t, addr, ptr_depth, nest);
		return;
	}
	if (kind == GO_KIND_SLICE) {
		uint64_t aoff, loff, arr, len;
		uint64_t esize;
		if (ptr_depth >= f->opts.max_ptr_depth || !find_slice_elem(&t, &sub) ||
		    !dw_size(&sub, &esize) || !dw_member(&t, "array", &aoff, NULL) ||
		    !dw_member(&t, "len", &loff, NULL))
			return;
		struct ct_error *err;
		if ((err = mem_read_u64(f->ctx->mem, addr + aoff, &arr, "slice")) ||
		    (err = mem_read_u64(f->ctx->mem, addr + loff, &len, "slice"))) {
			ct_error_destroy(err);
			find_unreadable(f, addr);
			return;
		}
		if (!arr || !len || !find_budget(f))
			return;
		bool seen;
		if ((f->err = ct_u64set_add(&f->visited, arr ^ dwarf_dieoffset(&sub) << 48, &seen))) {
			f->stop = true;
			return;
		}
		if (!seen)
			find_elems(f, &sub, esize, arr, len, ptr_depth + 1, nest);
		return;
	}
	if (tag == DW_TAG_structure_type) {
		struct dw_members it;
		const char *name;
		uint64_t off;
		dw_members_begin(&t, &it);
		while (!f->stop && dw_members_next(&it, &child, &name, &off)) {
			if (!dw_type_of(&child, &sub) || !find_may_hold_map(f, &sub, 0))
				continue;
			size_t len = path_push(f, ".%s", 0, name);
			find_explore(f, &sub, addr + off, ptr_depth, nest + 1);
			f->path[len] = 0;
		}
		return;
	}
	if (tag == DW_TAG_array_type) {
		uint64_t esize, count;
		if (dw_array(&t, &sub, &esize, &count))
			find_elems(f, &sub, esize, addr, count, ptr_depth, nest);
		return;
	}
	if (tag == DW_TAG_pointer_type) {
		uint64_t p;
		if (ptr_depth >= f->opts.max_ptr_depth || !dw_type_of(&t, &sub))
			return;
		struct ct_error *err = mem_read_u64(f->ctx->mem, addr, &p, "pointer");
		if (err) {
			ct_error_destroy(err);
			find_unreadable(f, addr);
			return;
		}
		if (!p || !find_budget(f))
			return;
		bool seen;
		if ((f->err = ct_u64set_add(&f->visited, p ^ dwarf_dieoffset(&sub) << 48, &seen))) {
			f->stop = true;
			return;
		}
		if (seen)
			return;
		/* Go auto-dereferences pointers to structs and arrays (p.f, p[i]); a
		 * pointer to anything else is written *p. */
		Dwarf_Die pt;
		int ptag = dw_peel(&sub, &pt) ? dwarf_tag(&pt) : 0;
		int pkind = dw_go_kind(&pt);
		bool auto_deref = (ptag == DW_TAG_structure_type && pkind == GO_KIND_STRUCT) ||
				  ptag == DW_TAG_array_type;
		size_t len = strlen(f->path);
		if (!auto_deref && len + 1 < FIND_PATH) {
			memmove(f->path + 1, f->path, len + 1);
			f->path[0] = '*';
		}
		find_explore(f, &sub, p, ptr_depth + 1, nest + 1);
		if (!auto_deref && len + 1 < FIND_PATH)
			memmove(f->path, f->path + 1, len + 1);
	}
}

struct find_var {
	const char *name;
	Dwarf_Off off;
};

struct find_vars {
	struct find *f;
	struct find_var *v;
	size_t n, cap;
	bool nomem;
};

/* True if name is the whole of prefix or a prefix ending at a path separator. */
static bool find_prefix_ok(const char *name, const char *path)
{
	while (*path == '*')
		path++;
	size_t n = strlen(name);
	return !strncmp(name, path, n) && (path[n] == 0 || path[n] == '.' || path[n] == '[');
}

static bool find_collect(const struct dw_entry *e, void *arg)
{
	struct find_vars *vs = arg;
	struct find *f = vs->f;
	Dwarf_Die d, t;
	if (f->opts.var_prefix && !find_prefix_ok(e->name, f->opts.var_prefix))
		return true;
	if (!dwarf_offdie(f->ctx->dw->dbg, e->off, &d) || !dw_type_of(&d, &t) ||
	    !find_may_hold_map(f, &t, 0))
		return true;
	if (vs->n == vs->cap) {
		size_t ncap = vs->cap ? vs->cap * 2 : 256;
		struct find_var *nv = realloc(vs->v, ncap * sizeof(*nv));
		if (!nv) {
			vs->nomem = true;
			return false;
		}
		vs->v = nv;
		vs->cap = ncap;
	}
	vs->v[vs->n++] = (struct find_var){ e->name, e->off };
	return true;
}

static int find_var_cmp(const void *a, const void *b)
{
	const struct find_var *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->off > y->off) - (x->off < y->off);
}

struct ct_error *gomap_foreach_global_map(const struct gomap_ctx *ctx,
					  const struct gomap_find_opts *opts, gomap_found_fn fn,
					  void *arg, struct gomap_find_stats *stats)
{
	struct gomap_find_stats local;
	struct find f = { .ctx = ctx, .fn = fn, .arg = arg, .stats = stats ? stats : &local };
	memset(f.stats, 0, sizeof(*f.stats));
	f.opts = (struct gomap_find_opts){ 3, 100000, 4096, NULL };
	if (opts) {
		f.opts.var_prefix = opts->var_prefix;
		f.opts.max_ptr_depth = opts->max_ptr_depth;
		if (opts->max_objects)
			f.opts.max_objects = opts->max_objects;
		if (opts->max_elems)
			f.opts.max_elems = opts->max_elems;
	}
	struct ct_error *err = dw_require(ctx->dw);
	if (err)
		return err;
	struct govalue_opts vo = { .max_string = 256 };
	if ((err = govalue_create(ctx->rt, ctx, &vo, &f.gv)))
		return err;
	struct find_vars vs = { .f = &f };
	dw_foreach(ctx->dw, DW_TAG_variable, find_collect, &vs);
	if (vs.nomem) {
		err = ct_error_fmt(CT_ERR_NOMEM, "out of memory listing global variables");
		goto out;
	}
	if (vs.n)
		qsort(vs.v, vs.n, sizeof(*vs.v), find_var_cmp);
	for (size_t i = 0; i < vs.n && !f.stop; i++) {
		/* Several units may describe the same global: take it once. */
		if (i > 0 && !strcmp(vs.v[i].name, vs.v[i - 1].name))
			continue;
		Dwarf_Die d, t;
		uint64_t addr;
		if (!dwarf_offdie(ctx->dw->dbg, vs.v[i].off, &d) || !dw_type_of(&d, &t))
			continue;
		if ((err = go_var_addr(ctx->rt, vs.v[i].name, &addr))) {
			ct_error_destroy(err);
			err = NULL;
			continue;
		}
		f.stats->globals++;
		snprintf(f.path, sizeof(f.path), "%s", vs.v[i].name);
		find_explore(&f, &t, addr, 0, 0);
	}
	err = f.err;
out:
	free(vs.v);
	free(f.memo.keys);
	free(f.memo.vals);
	ct_u64set_free(&f.visited);
	govalue_destroy(f.gv);
	return err;
}

struct find_path {
	const struct gomap_ctx *ctx;
	const char *path;
	bool found;
	uint64_t slot, addr;
	Dwarf_Die type;
};

static bool find_path_fn(void *arg, const struct gomap_found *fd)
{
	struct find_path *fp = arg;
	if (strcmp(fd->path, fp->path) != 0)
		return true;
	fp->found = true;
	fp->slot = fd->slot;
	fp->addr = fd->addr;
	fp->type = *fd->type;
	return false;
}

struct ct_error *gomap_find_path(const struct gomap_ctx *ctx, const char *path,
				 struct gomap *ret, uint64_t *slot)
{
	struct find_path fp = { .ctx = ctx, .path = path };
	struct gomap_find_opts opts = GOMAP_FIND_DEFAULTS;
	opts.var_prefix = path;
	struct ct_error *err = gomap_foreach_global_map(ctx, &opts, find_path_fn, &fp, NULL);
	if (err)
		return err;
	if (!fp.found)
		return ct_error_fmt(CT_ERR_NOTFOUND,
				    "no map %s reachable from the globals (see `coretool maps`)", path);
	struct gomap_type t;
	if ((err = gomap_type_from_die(ctx, &fp.type, &t)))
		return err;
	if (slot)
		*slot = fp.slot;
	return gomap_read(ctx, &t, fp.addr, ret);
}
