/* Names map entries for the holders scan: an index, built once per target,
 * of where every live entry's key and value of every map reachable from
 * globals lie, searched by address. */
#define _GNU_SOURCE
#include "gomap_holders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap.h"
#include "govalue.h"

/* Bound on indexed entries (48 bytes each): past it, later maps are not named. */
#define GOMAP_HOLDERS_MAX_ENTRIES (1u << 21)

struct gomap_holder_entry {
	uint64_t lo, hi;   /* [lo, hi) of the key or the value */
	uint32_t map;      /* index into maps[] */
	bool is_key;
	uint64_t key_addr;
};

struct gomap_holder_map {
	char *path;
	uint64_t header;
	struct gomap_type type;
};

struct gomap_holders {
	struct gomap_ctx *ctx;
	struct govalue *gv;
	struct gomap_holder_entry *e;
	size_t n, cap;
	struct gomap_holder_map *maps;
	size_t nmaps;
	bool truncated;
};

struct gomap_holders_walk {
	struct gomap_holders *h;
	uint32_t map;
};

static bool gomap_holders_add(struct gomap_holders *h, uint64_t lo, uint64_t size, uint32_t map,
			      bool is_key, uint64_t key_addr)
{
	if (h->n >= GOMAP_HOLDERS_MAX_ENTRIES) {
		h->truncated = true;
		return false;
	}
	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 4096;
		struct gomap_holder_entry *n = realloc(h->e, ncap * sizeof(*n));
		if (!n)
			return false;
		h->e = n;
		h->cap = ncap;
	}
	h->e[h->n++] = (struct gomap_holder_entry){ lo, lo + (size ? size : 1), map, is_key, key_addr };
	return true;
}

static bool gomap_holders_entry(void *arg, const struct gomap *m, const struct gomap_entry *e)
{
	struct gomap_holders_walk *w = arg;
	if (e->key_ok && !gomap_holders_add(w->h, e->key_addr, m->type.key_size, w->map, true, e->key_addr))
		return false;
	if (e->elem_ok &&
	    !gomap_holders_add(w->h, e->elem_addr, m->type.elem_size, w->map, false, e->key_addr))
		return false;
	return true;
}

static bool gomap_holders_found(void *arg, const struct gomap_found *f)
{
	struct gomap_holders *h = arg;
	if (!f->addr)
		return true;
	struct gomap_holder_map *nm = realloc(h->maps, (h->nmaps + 1) * sizeof(*nm));
	if (!nm)
		return false;
	h->maps = nm;
	struct gomap_holder_map *hm = &h->maps[h->nmaps];
	struct gomap m;
	struct ct_error *err = gomap_type_from_die(h->ctx, f->type, &hm->type);
	if (!err)
		err = gomap_read(h->ctx, &hm->type, f->addr, &m);
	if (err) {
		ct_error_destroy(err);
		return true;
	}
	hm->path = strdup(f->path);
	hm->header = f->addr;
	struct gomap_holders_walk w = { h, (uint32_t)h->nmaps };
	h->nmaps++;
	struct gomap_visitor v = { .entry = gomap_holders_entry, .arg = &w };
	err = gomap_walk(h->ctx, &m, &v, NULL);
	ct_error_destroy(err);
	return !h->truncated;
}

static int gomap_holders_cmp(const void *a, const void *b)
{
	const struct gomap_holder_entry *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static struct gomap_holders *gomap_holders_build(struct target *t)
{
	struct gomap_holders *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	if (!t->go)
		return h;
	struct ct_error *err = gomap_ctx_create(t->go, &h->ctx);
	if (!err)
		err = govalue_create(t->go, h->ctx, NULL, &h->gv);
	if (!err)
		err = gomap_foreach_global_map(h->ctx, NULL, gomap_holders_found, h, NULL);
	ct_error_destroy(err);
	if (h->n)
		qsort(h->e, h->n, sizeof(*h->e), gomap_holders_cmp);
	return h;
}

static void gomap_holders_free(void *p)
{
	struct gomap_holders *h = p;
	if (!h)
		return;
	for (size_t i = 0; i < h->nmaps; i++)
		free(h->maps[i].path);
	free(h->maps);
	free(h->e);
	govalue_destroy(h->gv);
	gomap_ctx_destroy(h->ctx);
	free(h);
}

/* The index of t, built on first use and kept on the target. */
static struct gomap_holders *gomap_holders_of(struct target *t)
{
	struct target_ext *x = &t->ext[TARGET_EXT_MAP_HOLDERS];
	if (!x->p) {
		x->p = gomap_holders_build(t);
		x->free = gomap_holders_free;
	}
	return x->p;
}

/* The indexed key or value slot holding `at`, or NULL. */
static const struct gomap_holder_entry *gomap_holder_entry_at(struct gomap_holders *h, uint64_t at)
{
	if (!h || !h->n)
		return NULL;
	/* Entries do not overlap: the last one starting at or below `at`. */
	size_t lo = 0, hi = h->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->e[mid].lo <= at)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || at >= h->e[lo - 1].hi)
		return NULL;
	return &h->e[lo - 1];
}

bool gomap_holder_is_slot(struct target *t, uint64_t at)
{
	return t->go && gomap_holder_entry_at(gomap_holders_of(t), at) != NULL;
}

bool gomap_holder_describe(struct target *t, uint64_t at, char *buf, size_t n)
{
	struct gomap_holders *h = gomap_holders_of(t);
	const struct gomap_holder_entry *e = gomap_holder_entry_at(h, at);
	if (!e)
		return false;
	const struct gomap_holder_map *m = &h->maps[e->map];
	/* Render the key as Go would print it: main.cache["big"]. */
	char *key = govalue_text(h->gv, &((struct gomap_type *)&m->type)->key, e->key_addr);
	snprintf(buf, n, "%s[%s] (%s)", m->path, key ? key : "?", e->is_key ? "key" : "value");
	free(key);
	return true;
}

struct gomap_writing_walk {
	const struct gomap_ctx *ctx;
	char *buf;
	size_t n;
	uint64_t *addr;
	bool found;
};

static bool gomap_writing_found(void *arg, const struct gomap_found *f)
{
	struct gomap_writing_walk *w = arg;
	struct gomap_type type;
	struct gomap m;
	if (!f->addr)
		return true;
	struct ct_error *err = gomap_type_from_die(w->ctx, f->type, &type);
	if (!err)
		err = gomap_read(w->ctx, &type, f->addr, &m);
	if (err) {
		ct_error_destroy(err);
		return true;
	}
	/* A writer was inside when the process died: Swiss maps' writing byte,
	 * classic maps' hashWriting flag. */
	bool writing = type.impl == GO_MAP_SWISS ? m.writing != 0 :
		       (m.flags & gomap_ctx_consts(w->ctx)->flag_hash_writing) != 0;
	if (!writing)
		return true;
	snprintf(w->buf, w->n, "%s", f->path);
	*w->addr = f->addr;
	w->found = true;
	return false;
}

bool gomap_writing_map(struct target *t, char *buf, size_t n, uint64_t *addr)
{
	struct gomap_holders *h = gomap_holders_of(t);
	if (!h || !h->ctx)
		return false;
	struct gomap_writing_walk w = { h->ctx, buf, n, addr, false };
	struct ct_error *err = gomap_foreach_global_map(h->ctx, NULL, gomap_writing_found, &w, NULL);
	ct_error_destroy(err);
	return w.found;
}

bool gomap_map_with_header(struct target *t, uint64_t header, char *buf, size_t n)
{
	struct gomap_holders *h = gomap_holders_of(t);
	for (size_t i = 0; h && i < h->nmaps; i++)
		if (h->maps[i].header == header && h->maps[i].path) {
			snprintf(buf, n, "%s", h->maps[i].path);
			return true;
		}
	return false;
}
