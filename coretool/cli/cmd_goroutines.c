/* coretool goroutines CORE: every goroutine, its state and where it is. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"
#include "gview.h"
#include "unwind.h"


int cmd_goroutines(struct cli *cli, const struct cli_args *a)
{
	struct target *t;
	struct ct_error *err = cli_open(cli, a->pos[0], &t);
	if (err)
		return cli_fail(cli, err);
	if (cli_flag(a, "--leaks")) {
		int rc = cmd_goroutine_leaks(cli, t);
		if (rc == CT_EXIT_OK && cli_warnings(cli, t) != CT_EXIT_OK)
			rc = CT_EXIT_PARTIAL;
		cli_close(cli, t);
		return rc;
	}
	const struct go_sched *s;
	const struct ct_error *serr = target_go_sched(t, &s);
	if (serr) {
		err = ct_error_fmt(CT_ERR_UNSUPPORTED, "no goroutines: %s", serr->msg);
		cli_close(cli, t);
		return cli_fail(cli, err);
	}
	struct backtrace *bt = malloc(sizeof(*bt));
	if (!bt) {
		cli_close(cli, t);
		return CT_EXIT_FATAL;
	}
	struct out *o = &cli->out;
	if (cli->json)
		out_arr_begin(o);
	size_t shown = 0;
	for (size_t i = 0; i < s->ngs; i++) {
		const struct go_g *g = &s->gs[i];
		if (g->status == s->st_dead && !cli->verbose)
			continue;
		shown++;
		struct gview v;
		gview_describe(t, s, g, bt, &v);
		const struct frame *uf = v.user;
		const char *reason = v.reason;
		int64_t tid = v.tid;
		if (cli->json) {
			out_obj_begin(o);
			out_kuint(o, "id", g->goid);
			out_khex(o, "g", g->addr);
			out_kstr(o, "status", go_g_status_name(s, g->status));
			out_key(o, "wait_reason");
			reason ? out_str(o, reason) : out_null(o);
			out_key(o, "thread");
			tid >= 0 ? out_int(o, tid) : out_null(o);
			out_khex(o, "stack_lo", g->stack_lo);
			out_khex(o, "stack_hi", g->stack_hi);
			out_key(o, "frame");
			uf ? unwind_frame_out(o, uf) : out_null(o);
			out_obj_end(o);
		} else {
			fprintf(cli->out.f, "goroutine %-6" PRIu64 " %-10s", g->goid, go_g_status_name(s, g->status));
			if (reason)
				fprintf(cli->out.f, " (%s)", reason);
			if (tid >= 0)
				fprintf(cli->out.f, " on thread %" PRId64, tid);
			if (uf && uf->func)
				fprintf(cli->out.f, "  %s%s%s:%d", uf->func, uf->file ? "  " : "", uf->file ? uf->file : "",
				       uf->line);
			fputc('\n', cli->out.f);
		}
	}
	if (cli->json) {
		out_arr_end(o);
		out_end_line(o);
	} else {
		fprintf(cli->out.f, "%zu goroutines\n", shown);
	}
	free(bt);
	int rc = s->partial ? CT_EXIT_PARTIAL : CT_EXIT_OK;
	if (cli_warnings(cli, t) != CT_EXIT_OK)
		rc = CT_EXIT_PARTIAL;
	cli_close(cli, t);
	return rc;
}
