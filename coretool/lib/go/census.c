#include "census.h"

#include <stdio.h>
#include <string.h>

struct census_walk {
	const struct go_heap *h;
	struct census *c;
};

/* *sum += v, stopping at UINT64_MAX (and saying so) rather than wrapping. */
static void census_add(struct census *c, uint64_t *sum, uint64_t v)
{
	if (__builtin_add_overflow(*sum, v, sum)) {
		*sum = UINT64_MAX;
		c->overflow = true;
	}
}

static bool census_bad(struct census *c, struct ct_error *err)
{
	if (!c->inconsistent++)
		snprintf(c->first_inconsistent, sizeof(c->first_inconsistent), "%s", err->msg);
	ct_error_destroy(err);
	return true;
}

static bool census_span(const struct go_span *s, void *arg)
{
	struct census_walk *w = arg;
	struct census *c = w->c;
	if (s->state != w->h->span_manual && s->state != w->h->span_inuse) {
		c->dead++;
		return true;
	}
	/* The one span check (as classify's): sizes that do not add up are
	 * damage, never bytes. After it, bytes <= 2^48 and n * esize <= bytes. */
	struct ct_error *err = go_span_check(w->h, s);
	if (err)
		return census_bad(c, err);
	uint64_t bytes = go_span_bytes(w->h, s);
	if (s->state == w->h->span_manual) {
		census_add(c, &c->stack_spans, 1);
		census_add(c, &c->stack_bytes, bytes);
		return true;
	}
	uint64_t n;
	err = go_span_count_allocated(w->h, s, &n);
	if (err) {
		if (err->code == CT_ERR_CORRUPT)
			return census_bad(c, err);
		ct_error_destroy(err);
		c->unreadable++;
		return true;
	}
	struct census_class *k = &c->cls[s->spanclass];
	uint64_t esize = go_span_elem_bytes(w->h, s);
	uint64_t nfree = s->nelems > n ? s->nelems - n : 0;
	k->elemsize = go_spanclass_sizeclass(s->spanclass) ? esize : 0;
	census_add(c, &k->spans, 1);
	census_add(c, &k->objects, n);
	census_add(c, &k->free, nfree);
	census_add(c, &k->live_bytes, n * esize);
	census_add(c, &k->span_bytes, bytes);
	census_add(c, &c->spans, 1);
	census_add(c, &c->objects, n);
	census_add(c, &c->free, nfree);
	census_add(c, &c->live_bytes, n * esize);
	census_add(c, &c->span_bytes, bytes);
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
