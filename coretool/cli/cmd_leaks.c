/* coretool goroutines CORE --leaks: goroutines blocked on primitives nothing
 * live can reach (lib/analysis/leaks.c), grouped by their stacks. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gview.h"
#include "leaks.h"
#include "unwind.h"

#define LEAK_STACK_FRAMES 16

/* A leaked goroutine's stack as a key: its functions, innermost first. */
struct leak_row {
	const struct leak_g *l;
	char *stack;  /* "f1\nf2\n..." */
	char reason[128];
};

static int row_cmp(const void *a, const void *b)
{
	const struct leak_row *x = a, *y = b;
	int c = strcmp(x->stack, y->stack);
	return c ? c : (x->l->g->goid > y->l->g->goid) - (x->l->g->goid < y->l->g->goid);
}

static char *stack_key(const struct backtrace *bt)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; i < bt->n && i < LEAK_STACK_FRAMES; i++)
		fprintf(f, "%s\n", bt->frames[i].func ? bt->frames[i].func : "?");
	fclose(f);
	return s;
}

int cmd_goroutine_leaks(struct cli *cli, struct target *t)
{
	const struct go_sched *s;
	const struct ct_error *serr = target_go_sched(t, &s);
	if (serr)
		return cli_fail(cli, ct_error_fmt(CT_ERR_UNSUPPORTED, "no goroutines: %s", serr->msg));
	struct leaks lk;
	struct ct_error *err = leaks_find(t, &lk);
	if (err)
		return cli_fail(cli, err);
	struct backtrace *bt = malloc(sizeof(*bt));
	struct leak_row *rows = calloc(lk.nleaked ? lk.nleaked : 1, sizeof(*rows));
	if (!bt || !rows) {
		free(bt);
		free(rows);
		leaks_free(&lk);
		return cli_fail(cli, ct_error_fmt(CT_ERR_NOMEM, "out of memory"));
	}
	size_t n = 0;
	for (size_t i = 0; i < lk.n; i++) {
		if (!lk.gs[i].leaked)
			continue;
		struct gview v;
		gview_describe(t, s, lk.gs[i].g, bt, &v);
		rows[n].l = &lk.gs[i];
		rows[n].stack = stack_key(bt);
		snprintf(rows[n].reason, sizeof(rows[n].reason), "%s",
			 v.reason ? v.reason : lk.gs[i].block.reason);
		if (!rows[n].stack)
			rows[n].stack = strdup("");
		n++;
	}
	if (n)
		qsort(rows, n, sizeof(*rows), row_cmp);
	size_t unsure = 0;
	for (size_t i = 0; i < n; i++)
		unsure += rows[i].l->unsure;
	struct out *o = &cli->out;
	if (cli->json) {
		out_obj_begin(o);
		out_key(o, "leaked");
		out_arr_begin(o);
		for (size_t i = 0; i < n; i++) {
			const struct leak_g *l = rows[i].l;
			out_obj_begin(o);
			out_kuint(o, "goid", l->g->goid);
			out_kstr(o, "wait_reason", rows[i].reason);
			out_kstr(o, "blocks_on", go_block_kind_name(l->block.kind));
			out_key(o, "primitives");
			out_arr_begin(o);
			for (size_t k = 0; k < l->block.nprims; k++)
				out_hex(o, l->block.prims[k]);
			out_arr_end(o);
			out_kbool(o, "unsure", l->unsure);
			out_kbool(o, "leaked_by_runtime", l->block.leaked_by_runtime);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_key(o, "groups");
		out_arr_begin(o);
		for (size_t i = 0; i < n;) {
			size_t j = i;
			while (j < n && !strcmp(rows[j].stack, rows[i].stack))
				j++;
			out_obj_begin(o);
			out_kuint(o, "count", j - i);
			out_kstr(o, "wait_reason", rows[i].reason);
			out_key(o, "goids");
			out_arr_begin(o);
			for (size_t k = i; k < j; k++)
				out_uint(o, rows[k].l->g->goid);
			out_arr_end(o);
			out_key(o, "stack");
			out_arr_begin(o);
			for (char *p = rows[i].stack, *e; *p && (e = strchr(p, '\n')); p = e + 1)
				out_strn(o, p, (size_t)(e - p));
			out_arr_end(o);
			out_obj_end(o);
			i = j;
		}
		out_arr_end(o);
		out_kuint(o, "blocked", lk.n);
		out_kuint(o, "reachable_blocked", lk.n - lk.nleaked);
		out_kuint(o, "unsure", unsure);
		out_kbool(o, "runtime_marks", lk.runtime_marks);
		out_obj_end(o);
		out_end_line(o);
	} else {
		FILE *f = o->f;
		fprintf(f, "%zu leaked goroutine%s of %zu blocked on a channel, select or sync primitive%s\n",
			lk.nleaked, lk.nleaked == 1 ? "" : "s", lk.n,
			unsure ? " (some unsure: a primitive could not be found)" : "");
		for (size_t i = 0; i < n;) {
			size_t j = i;
			while (j < n && !strcmp(rows[j].stack, rows[i].stack))
				j++;
			fprintf(f, "\n%zu goroutine%s [%s]:", j - i, j - i == 1 ? "" : "s", rows[i].reason);
			for (size_t k = i; k < j && k < i + 20; k++)
				fprintf(f, " %" PRIu64 "%s", rows[k].l->g->goid, rows[k].l->unsure ? "?" : "");
			fprintf(f, "%s\n", j - i > 20 ? " ..." : "");
			for (char *p = rows[i].stack, *e; *p && (e = strchr(p, '\n')); p = e + 1)
				fprintf(f, "    %.*s\n", (int)(e - p), p);
			i = j;
		}
	}
	if (lk.unreadable)
		target_warn(t, "leaks: %" PRIu64 " reads failed: what they held was not followed", lk.unreadable);
	for (size_t i = 0; i < n; i++)
		free(rows[i].stack);
	free(rows);
	free(bt);
	leaks_free(&lk);
	return CT_EXIT_OK;
}
