/* The C heap by chunk size: how many live chunks of each size, for the
 * census (`heap --by-type`). Sizes are found again through a hash map, so a
 * heap of millions of chunks costs one lookup per chunk; a heap that claims
 * more distinct sizes than CHEAP_SIZES_MAX (only a corrupt one does) stops
 * the count there. */
#include <stdlib.h>

#include "cheap.h"
#include "ct_util.h"

bool cheap_sizes_add(struct cheap_sizes *w, const struct cheap_chunk *ch)
{
	w->counted = true;
	if (ch->state != CHEAP_ALLOCATED || !ch->size)
		return true;
	uint32_t k;
	if (!ct_u64map_get(&w->index, ch->size, &k)) {
		if (w->n >= CHEAP_SIZES_MAX) {
			w->truncated = true;
			return false;
		}
		struct cheap_size *s = CT_PUSH(w->v, w->n, w->cap);
		if (!s || !ct_u64map_put(&w->index, ch->size, (uint32_t)w->n)) {
			if (s)
				w->n--;
			w->nomem = true;
			return false;
		}
		*s = (struct cheap_size){ ch->size, 0, 0 };
		k = (uint32_t)w->n;
	}
	w->v[k - 1].chunks++;
	w->v[k - 1].bytes += ch->size;
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
	ct_u64map_free(&w->index); /* ranked: indices no longer hold */
	if (w->nomem) {
		cheap_sizes_free(w);
		return ct_error_fmt(CT_ERR_NOMEM, "C heap: out of memory counting chunks by size");
	}
	if (w->n)
		qsort(w->v, w->n, sizeof(*w->v), by_bytes);
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
	ct_u64map_free(&s->index);
	*s = (struct cheap_sizes){ 0 };
}
