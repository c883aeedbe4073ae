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
	/* Which goroutines are leak candidates, first: their sudogs must be
	 * hidden before anything is marked. */
	for (size_t i = 0; i < s->ngs; i++) {
		const struct go_g *g = &s->gs[i];
		if (g->status == s->st_dead)
			continue;
		struct leak_g *l = &ret->gs[ret->n];
		struct ct_error *e = go_block_at(ix, g, &l->block);
		if (e) {
			ct_error_destroy(e);
			l->block.kind = GO_BLOCK_OTHER;
		}
		if (l->block.leaked_by_runtime)
			ret->runtime_marks = true;
		if (go_block_is_candidate(l->block.kind) || l->block.leaked_by_runtime) {
			l->g = g;
			ret->n++;
		} else {
			live[i] = true;
		}
	}
	/* The runtime's bookkeeping is never followed, even when a stale word
	 * on some stack points at it: the g structures, and the sudogs through
	 * which a parked goroutine's channel would otherwise look reachable. */
	for (size_t i = 0; i < s->ngs; i++)
		hg_hide(hg, s->gs[i].addr);
	for (size_t k = 0; k < ret->n; k++)
		for (size_t j = 0; j < ret->gs[k].block.nsudogs; j++)
			hg_hide(hg, ret->gs[k].block.sudogs[j]);
	if ((err = hg_add_globals(hg)))
		goto out;
	for (size_t i = 0; i < s->ngs; i++)
		if (live[i] && (err = hg_add_goroutine_live(hg, &s->gs[i])))
			goto out;
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
			if ((err = hg_add_goroutine_live(hg, l->g)))
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
