/* coretool bt CORE [--all]: stitched C/Go backtraces. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"
#include "fault.h"
#include "framevars.h"
#include "unwind.h"


/* One thread: C frames from regs, then the Go frames of its current goroutine
 * when that goroutine is in a cgo call or syscall. */
/* Frames with their parameters and locals under each (bt --vars). */
static void bt_vars_text(struct out *o, struct target *t, const struct backtrace *bt, size_t nc,
			 uint64_t goid, const uint64_t *regs)
{
	struct framevar *v = malloc(FRAMEVARS_MAX * sizeof(*v));
	for (size_t i = 0; i < bt->n; i++) {
		if (i == nc && i > 0)
			fprintf(o->f, "    -- cgo call from goroutine %" PRIu64 " --\n", goid);
		unwind_frame_out(o, &bt->frames[i]);
		size_t n = v ? framevars_of(t, bt, i, i == 0 ? regs : NULL, true, v, FRAMEVARS_MAX) : 0;
		for (size_t k = 0; k < n; k++) {
			bool head = k == 0 || v[k].param != v[k - 1].param;
			fprintf(o->f, "%s%s", k == 0 ? "        " : head ? "; " : ", ",
				head ? (v[k].param ? "params: " : "locals: ") : "");
			framevar_out(o, &v[k]);
		}
		if (n)
			fputc('\n', o->f);
	}
	free(v);
	if (bt->stop)
		fprintf(o->f, "    (%s)\n", bt->stop);
}

static void bt_thread(struct cli *cli, struct target *t, const struct go_sched *s, int32_t tid,
		      const uint64_t *regs, const char *why, struct backtrace *bt, bool *g_done, bool vars)
{
	memset(bt, 0, sizeof(*bt));
	unwind_thread(t, tid, regs, bt);
	size_t nc = bt->n;
	const struct go_g *g = NULL;
	if (s) {
		const struct go_m *m = go_sched_m_of_tid(s, tid);
		g = m && m->curg ? go_sched_g_at(s, m->curg) : NULL;
		if (g && g->syscallsp) {
			unwind_goroutine(t, s, g, bt);
			if (g_done)
				g_done[g - s->gs] = true;
		}
	}
	struct out *o = &cli->out;
	if (cli->json) {
		out_obj_begin(o);
		out_kint(o, "thread", tid);
		out_kstr(o, "registers", why);
		out_key(o, "goroutine");
		g ? out_uint(o, g->goid) : out_null(o);
		out_key(o, "frames");
		out_arr_begin(o);
		for (size_t i = 0; i < bt->n; i++)
			unwind_frame_out(o, &bt->frames[i]);
		out_arr_end(o);
		out_obj_end(o);
		return;
	}
	fprintf(cli->out.f, "thread %d (%s)", tid, why);
	if (g)
		fprintf(cli->out.f, ", goroutine %" PRIu64 " (%s)", g->goid, go_g_status_name(s, g->status));
	fputc('\n', cli->out.f);
	if (vars)
		bt_vars_text(o, t, bt, nc, g ? g->goid : 0, regs);
	else
		unwind_backtrace_text(o, bt, nc, g ? g->goid : 0);
}

int cmd_bt(struct cli *cli, const struct cli_args *a)
{
	bool all = cli_flag(a, "--all"), vars = cli_flag(a, "--vars");
	const char *core = a->pos[0];
	struct target *t;
	struct ct_error *err = cli_open(cli, core, &t);
	if (err)
		return cli_fail(cli, err);
	const struct go_sched *s = NULL;
	if (t->go)
		target_go_sched(t, &s);
	struct fault f;
	fault_find(t, &f);
	struct backtrace *bt = malloc(sizeof(*bt));
	bool *g_done = s ? calloc(s->ngs + 1, 1) : NULL;
	if (!bt) {
		cli_close(cli, t);
		return CT_EXIT_FATAL;
	}
	struct out *o = &cli->out;
	if (cli->json)
		out_arr_begin(o);
	bt_thread(cli, t, s, f.tid, f.regs,
		  f.source == FAULT_SOURCE_SIGNAL_FRAME ? "at the fault, from the signal frame"
							: "at the crash", bt, g_done, vars);
	if (all) {
		for (size_t i = 0; i < t->core->nthreads; i++) {
			const struct core_thread *th = &t->core->threads[i];
			if (th->tid == f.tid)
				continue;
			if (!cli->json)
				fputc('\n', cli->out.f);
			bt_thread(cli, t, s, th->tid, th->regs, "thread state in the core", bt, g_done, vars);
		}
		for (size_t i = 0; s && i < s->ngs; i++) {
			const struct go_g *g = &s->gs[i];
			if (g_done[i] || g->status == s->st_dead)
				continue;
			memset(bt, 0, sizeof(*bt));
			unwind_goroutine(t, s, g, bt);
			if (cli->json) {
				out_obj_begin(o);
				out_key(o, "thread");
				out_null(o);
				out_kuint(o, "goroutine", g->goid);
				out_kstr(o, "status", go_g_status_name(s, g->status));
				out_key(o, "frames");
				out_arr_begin(o);
				for (size_t k = 0; k < bt->n; k++)
					unwind_frame_out(o, &bt->frames[k]);
				out_arr_end(o);
				out_obj_end(o);
			} else {
				fprintf(cli->out.f, "\ngoroutine %" PRIu64 " (%s)\n", g->goid, go_g_status_name(s, g->status));
				unwind_backtrace_text(o, bt, 0, g->goid);
			}
		}
	}
	if (cli->json) {
		out_arr_end(o);
		out_end_line(o);
	}
	free(bt);
	free(g_done);
	int rc = cli_warnings(cli, t);
	cli_close(cli, t);
	return rc;
}
