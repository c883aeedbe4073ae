/* Leaked goroutines (leaks.h): the typed heap marked from the roots, the
 * blocked goroutines' stacks added as their primitives become reachable. */
#define _GNU_SOURCE
#include "leaks.h"

#include <stdlib.h>
#include <string.h>

#include "heapgraph.h"

/* Is primitive p reachable: a reached heap object, memory outside the heap
 * that is not a goroutine stack (a global), or the stack of a goroutine
 * already live? */
static bool prim_reached(struct hg *hg, const struct go_sched *s, const bool *live_stack,
			 const struct go_g *gs0, uint64_t p)
{
	struct hg_object o;
	if (hg_object_of(hg, p, &o))
		return o.reached;
	const struct go_g *owner = go_sched_g_of_stack(s, p);
	if (owner)
		return live_stack[owner - gs0];
	return true; /* a global's (or C memory's): Go globals are roots */
}

struct ct_error *leaks_find(struct target *t, struct leaks *ret)
{
	memset(ret, 0, sizeof(*ret));
	const struct go_sched *s;
	const struct ct_error *se = target_go_sched(t, &s);
	if (se)
		return ct_error_fmt(se->code, "goroutines: %s", se->msg);
	struct go_block_index *ix;
	struct ct_error *err = go_block_index_open(t->go, s, &ix);
	if (err)
		return err;
	struct hg *hg;
	struct hg_options opt = { 0 };
	if ((err = hg_create(t, &opt, &hg))) {
		go_block_index_close(ix);
		return err;
	}
	hg_skip_type(hg, "runtime.g");
	hg_skip_type(hg, "runtime.sudog");
	bool *live = calloc(s->ngs ? s->ngs : 1, sizeof(*live));
	ret->gs = calloc(s->ngs ? s->ngs : 1, sizeof(*ret->gs));
	if (!live || !ret->gs) {
		err = ct_error_fmt(CT_ERR_NOMEM, "leaks: out of memory");
		goto out;
	}
	/* the g structures are the runtime's bookkeeping: never followed, even
	 * when a word on a running goroutine's stack points at one */
	for (size_t i = 0; i < s->ngs; i++)
		hg_hide(hg, s->gs[i].addr);
	if ((err = hg_add_globals(hg)) || (err = hg_mark(hg)))
		goto out;
	for (size_t i = 0; i < s->ngs; i++) {
		const struct go_g *g = &s->gs[i];
		if (g->status == s->st_dead)
			continue;
		struct go_block b;
		struct ct_error *e = go_block_at(ix, g, &b);
		if (e) {
			ct_error_destroy(e);
			b.kind = GO_BLOCK_OTHER;
		}
		if (b.leaked_by_runtime)
			ret->runtime_marks = true;
		if (go_block_is_candidate(b.kind) || b.leaked_by_runtime) {
			struct leak_g *l = &ret->gs[ret->n++];
			l->g = g;
			l->block = b;
			continue;
		}
		live[i] = true;
		if ((err = hg_add_goroutine(hg, g, g->status == s->st_waiting || g->status == s->st_runnable
						       ? g->sched_sp : 0)))
			goto out;
	}
	if ((err = hg_mark(hg)))
		goto out;
	/* a blocked goroutine whose primitive is reached may be woken: its stack
	 * is a root too, which may reach further primitives */
	for (bool changed = true; changed && ret->rounds < 10000; ret->rounds++) {
		changed = false;
		for (size_t k = 0; k < ret->n; k++) {
			struct leak_g *l = &ret->gs[k];
			size_t gi = l->g - s->gs;
			if (live[gi] || l->block.kind == GO_BLOCK_NILCHAN ||
			    l->block.kind == GO_BLOCK_SELECT_EMPTY)
				continue;
			bool reached = false;
			for (size_t j = 0; j < l->block.nprims && !reached; j++)
				reached = prim_reached(hg, s, live, s->gs, l->block.prims[j]);
			if (!reached)
				continue;
			live[gi] = true;
			changed = true;
			if ((err = hg_add_goroutine(hg, l->g, l->g->sched_sp)))
				goto out;
		}
		if (changed && (err = hg_mark(hg)))
			goto out;
	}
	for (size_t k = 0; k < ret->n; k++) {
		struct leak_g *l = &ret->gs[k];
		l->leaked = !live[l->g - s->gs];
		l->unsure = l->leaked && l->block.partial && l->block.kind != GO_BLOCK_NILCHAN &&
			    l->block.kind != GO_BLOCK_SELECT_EMPTY;
		if (l->leaked)
			ret->nleaked++;
	}
	struct hg_census c;
	if (!hg_census(hg, &c)) {
		ret->unreadable = c.unreadable;
		hg_census_free(&c);
	}
out:
	free(live);
	hg_destroy(hg);
	go_block_index_close(ix);
	if (err)
		leaks_free(ret);
	return err;
}

void leaks_free(struct leaks *l)
{
	free(l->gs);
	memset(l, 0, sizeof(*l));
}
