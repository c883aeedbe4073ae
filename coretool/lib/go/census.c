#include "census.h"

#include <string.h>

struct census_walk {
	const struct go_heap *h;
	struct census *c;
};

static bool census_span(const struct go_span *s, void *arg)
{
	struct census_walk *w = arg;
	struct census *c = w->c;
	uint64_t bytes = s->npages * w->h->page_size;
	if (s->state == w->h->span_manual) {
		c->stack_spans++;
		c->stack_bytes += bytes;
		return true;
	}
	if (s->state != w->h->span_inuse) {
		c->dead++;
		return true;
	}
	uint64_t n;
	struct ct_error *err = go_span_count_allocated(w->h, s, &n);
	if (err) {
		ct_error_destroy(err);
		c->unreadable++;
		return true;
	}
	struct census_class *k = &c->cls[s->spanclass];
	uint64_t esize = s->elemsize ? s->elemsize : bytes;
	k->elemsize = go_spanclass_sizeclass(s->spanclass) ? esize : 0;
	k->spans++;
	k->objects += n;
	k->free += s->nelems > n ? s->nelems - n : 0;
	k->live_bytes += n * esize;
	k->span_bytes += bytes;
	c->spans++;
	c->objects += n;
	c->free += s->nelems > n ? s->nelems - n : 0;
	c->live_bytes += n * esize;
	c->span_bytes += bytes;
	return true;
}

struct ct_error *census_run(const struct go_heap *h, struct census *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct census_walk w = { h, ret };
	uint64_t unreadable = 0;
	mem_advise(h->rt->mem, MEM_ALL, MEM_ACCESS_MANY);
	struct ct_error *err = go_heap_foreach_span(h, census_span, &w, &unreadable);
	ret->unreadable += unreadable;
	return err;
}
