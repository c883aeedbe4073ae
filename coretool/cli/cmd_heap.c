/* coretool heap CORE: the Go heap census by size class. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "cli.h"


static int heap_cmp_live(const void *a, const void *b, void *arg)
{
	const struct census *c = arg;
	uint64_t x = c->cls[*(const int *)a].live_bytes, y = c->cls[*(const int *)b].live_bytes;
	return x < y ? 1 : x > y ? -1 : *(const int *)a - *(const int *)b;
}

int cmd_heap(struct cli *cli, const struct cli_args *a)
{
	uint64_t top = cli_num(a, "--top"); /* 0: not given */
	const char *core = a->pos[0];
	if (cli_str(a, "--pprof") && !cli_flag(a, "--by-type"))
		return cli_usage(cli, "--pprof goes with --by-type");
	struct target *t;
	struct ct_error *err = cli_open(cli, core, &t);
	if (err)
		return cli_fail(cli, err);
	if (cli_flag(a, "--by-type")) {
		int rc = cmd_heap_by_type(cli, a, t);
		cli_close(cli, t);
		return rc;
	}
	const struct go_heap *h;
	const struct ct_error *herr = target_go_heap(t, &h);
	if (herr) {
		err = ct_error_fmt(herr->code == CT_ERR_NOMEM ? CT_ERR_NOMEM : CT_ERR_UNSUPPORTED,
				   "no Go heap: %s", herr->msg);
		cli_close(cli, t);
		return cli_fail(cli, err);
	}
	struct census *c = malloc(sizeof(*c));
	if (!c) {
		cli_close(cli, t);
		return CT_EXIT_FATAL;
	}
	/* What makes the census partial goes to the target's warnings: said on
	 * stderr by cli_warnings, exit status 1. */
	if ((err = census_run(h, c))) {
		target_warn(t, "heap walk stopped: %s", err->msg);
		ct_error_destroy(err);
	}
	if (c->unreadable)
		target_warn(t, "%" PRIu64 " spans could not be read", c->unreadable);
	if (c->inconsistent)
		target_warn(t, "%" PRIu64 " span%s skipped: sizes that do not add up (first: %s)",
			    c->inconsistent, c->inconsistent == 1 ? "" : "s", c->first_inconsistent);
	if (c->overflow)
		target_warn(t, "heap totals pass 2^64 (spans listed more than once?): they stop at %" PRIu64,
			    UINT64_MAX);
	int rc = CT_EXIT_OK;
	int order[CENSUS_NCLASSES], n = 0;
	for (int i = 0; i < CENSUS_NCLASSES; i++)
		if (c->cls[i].spans)
			order[n++] = i;
	qsort_r(order, n, sizeof(order[0]), heap_cmp_live, c);
	if (top && top < (uint64_t)n)
		n = (int)top;
	struct out *o = &cli->out;
	if (cli->json) {
		out_obj_begin(o);
		out_kuint(o, "spans", c->spans);
		out_kuint(o, "objects", c->objects);
		out_kuint(o, "free_slots", c->free);
		out_kuint(o, "live_bytes", c->live_bytes);
		out_kuint(o, "span_bytes", c->span_bytes);
		out_kuint(o, "stack_spans", c->stack_spans);
		out_kuint(o, "stack_bytes", c->stack_bytes);
		out_kuint(o, "unreadable_spans", c->unreadable);
		out_key(o, "classes");
		out_arr_begin(o);
		for (int i = 0; i < n; i++) {
			const struct census_class *k = &c->cls[order[i]];
			out_obj_begin(o);
			out_kuint(o, "spanclass", order[i]);
			out_kuint(o, "sizeclass", go_spanclass_sizeclass(order[i]));
			out_kbool(o, "noscan", go_spanclass_noscan(order[i]));
			out_kuint(o, "elemsize", k->elemsize);
			out_kuint(o, "spans", k->spans);
			out_kuint(o, "objects", k->objects);
			out_kuint(o, "free_slots", k->free);
			out_kuint(o, "live_bytes", k->live_bytes);
			out_kuint(o, "span_bytes", k->span_bytes);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_obj_end(o);
		out_end_line(o);
	} else {
		fprintf(cli->out.f, "Go heap: %" PRIu64 " spans in use (%" PRIu64 " bytes), %" PRIu64
		       " live objects (%" PRIu64 " bytes), %" PRIu64 " free slots\n",
		       c->spans, c->span_bytes, c->objects, c->live_bytes, c->free);
		fprintf(cli->out.f, "stacks and other manual spans: %" PRIu64 " spans (%" PRIu64 " bytes)\n",
		       c->stack_spans, c->stack_bytes);
		fprintf(cli->out.f, "%6s %-6s %8s %7s %10s %10s %12s %12s\n", "class", "kind", "size", "spans",
		       "objects", "free", "live-bytes", "span-bytes");
		for (int i = 0; i < n; i++) {
			const struct census_class *k = &c->cls[order[i]];
			unsigned sc = go_spanclass_sizeclass(order[i]);
			char size[24];
			if (sc)
				snprintf(size, sizeof(size), "%" PRIu64, k->elemsize);
			else
				snprintf(size, sizeof(size), "large");
			fprintf(cli->out.f, "%6u %-6s %8s %7" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n",
			       sc, go_spanclass_noscan(order[i]) ? "noscan" : "scan", size, k->spans,
			       k->objects, k->free, k->live_bytes, k->span_bytes);
		}
	}
	free(c);
	if (cli_warnings(cli, t) != CT_EXIT_OK)
		rc = CT_EXIT_PARTIAL;
	cli_close(cli, t);
	return rc;
}
