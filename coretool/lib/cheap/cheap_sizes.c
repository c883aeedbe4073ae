/* The C heap by chunk size: how many live chunks of each size, for the
 * census (`heap --by-type`). Sizes are hashed, so a heap of millions of
 * chunks costs one lookup per chunk; a heap that claims more distinct sizes
 * than CHEAP_SIZES_MAX (only a corrupt one does) stops the count there. */
#include <stdlib.h>

#include "cheap.h"

static size_t slot_of(uint64_t size, size_t cap)
{
	return (size_t)((size >> 4) * 0x9e3779b97f4a7c15ULL >> 17) & (cap - 1);
}

static bool grow(struct cheap_sizes *w)
{
	size_t cap = w->cap ? w->cap * 2 : 256;
	struct cheap_size *v = calloc(cap, sizeof(*v));
	if (!v)
		return false;
	for (size_t i = 0; i < w->cap; i++) {
		if (!w->v[i].size)
			continue;
		size_t s = slot_of(w->v[i].size, cap);
		while (v[s].size)
			s = (s + 1) & (cap - 1);
		v[s] = w->v[i];
	}
	free(w->v);
	w->v = v;
	w->cap = cap;
	return true;
}

bool cheap_sizes_add(struct cheap_sizes *w, const struct cheap_chunk *ch)
{
	w->counted = true;
	if (ch->state != CHEAP_ALLOCATED || !ch->size)
		return true;
	if ((w->n + 1) * 2 > w->cap && !grow(w)) {
		w->nomem = true;
		return false;
	}
	size_t s = slot_of(ch->size, w->cap);
	while (w->v[s].size && w->v[s].size != ch->size)
		s = (s + 1) & (w->cap - 1);
	if (!w->v[s].size) {
		if (w->n >= CHEAP_SIZES_MAX) {
			w->truncated = true;
			return false;
		}
		w->v[s].size = ch->size;
		w->n++;
	}
	w->v[s].chunks++;
	w->v[s].bytes += ch->size;
	return true;
}

static bool count_chunk(const struct cheap_chunk *ch, void *arg)
{
	return cheap_sizes_add(arg, ch);
}

static int by_bytes(const void *a, const void *b)
{
	const struct cheap_size *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return (x->size > y->size) - (x->size < y->size);
}

struct ct_error *cheap_sizes_finish(struct cheap_sizes *w)
{
	if (w->nomem) {
		cheap_sizes_free(w);
		return ct_error_fmt(CT_ERR_NOMEM, "C heap: out of memory counting chunks by size");
	}
	size_t n = 0;
	for (size_t i = 0; i < w->cap; i++)
		if (w->v[i].size)
			w->v[n++] = w->v[i];
	if (n)
		qsort(w->v, n, sizeof(*w->v), by_bytes);
	w->n = n;
	w->cap = 0; /* ranked: no longer a table */
	return NULL;
}

struct ct_error *cheap_sizes(struct cheap *c, struct cheap_sizes *ret)
{
	*ret = (struct cheap_sizes){ 0 };
	struct ct_error *err = cheap_foreach_chunk(c, count_chunk, ret);
	struct ct_error *fe = cheap_sizes_finish(ret);
	if (fe) {
		if (err)
			ct_error_destroy(err);
		return fe;
	}
	return err;
}

void cheap_sizes_free(struct cheap_sizes *s)
{
	free(s->v);
	*s = (struct cheap_sizes){ 0 };
}
