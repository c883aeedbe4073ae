/* coretool cgocheck CORE: pointers across the cgo boundary, audited. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgocheck.h"
#include "cli.h"
#include "render.h"


#define CGOCHECK_MAX_KEPT 100000

/* cgocheck's exit status says what the audit found, so "partial" cannot be 1
 * as for the other verbs (1 is "something dangles"): it is 3. 2 (fatal) and
 * 64 (usage) are the CLI's. A partial audit may have missed dangling
 * pointers: it is 3 whatever it found (summary.dangling says how many). */
enum {
	CGOCHECK_EXIT_CLEAN = 0,    /* full audit, nothing dangles */
	CGOCHECK_EXIT_DANGLING = 1, /* full audit, something dangles */
	CGOCHECK_EXIT_PARTIAL = 3,  /* memory the audit needed was missing or unreadable (said on stderr) */
};

struct cgocheck_out {
	struct cgocheck_finding *f;
	size_t n, cap;
	bool dropped;
};

static bool cgocheck_keep(void *arg, const struct cgocheck_finding *f)
{
	struct cgocheck_out *o = arg;
	if (o->n >= CGOCHECK_MAX_KEPT) {
		o->dropped = true;
		return true;
	}
	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 64;
		struct cgocheck_finding *n = realloc(o->f, ncap * sizeof(*n));
		if (!n)
			return false;
		o->f = n;
		o->cap = ncap;
	}
	o->f[o->n++] = *f;
	return true;
}

static void cgocheck_json_one(struct out *o, const struct cgocheck_finding *f)
{
	out_obj_begin(o);
	out_kstr(o, "kind", f->kind == CGOCHECK_C_HOLDS_GO ? "c-holds-go" : "go-holds-freed-c");
	out_kstr(o, "verdict", cgocheck_verdict_name(f->verdict));
	out_kstr(o, "place", cgocheck_place_name(f->place));
	out_khex(o, "at", f->at);
	out_khex(o, "value", f->value);
	out_kstr(o, "holder", f->holder);
	out_kbool(o, "conservative", f->conservative);
	out_key(o, "target");
	classify_verdict_out(o, &f->target);
	out_obj_end(o);
}

static void cgocheck_text_one(FILE *fp, const struct cgocheck_finding *f)
{
	const struct verdict *v = &f->target;
	fprintf(fp, "  %-9s 0x%-14" PRIx64 " %s\n            -> 0x%" PRIx64 " %s %s", cgocheck_verdict_name(f->verdict),
		f->at, f->holder, f->value, classify_region_name(v->region), classify_state_name(v->state));
	if (v->region == REGION_GO_HEAP && v->d.heap.kind == GO_SPAN_INUSE)
		fprintf(fp, " (%" PRIu64 "-byte object 0x%" PRIx64 ")", v->d.heap.span.elemsize, v->d.heap.slot.user);
	else if (v->region == REGION_C_HEAP && v->d.chunk.chunk)
		fprintf(fp, " (%" PRIu64 "-byte chunk%s%s)", v->d.chunk.user_size,
			v->d.chunk.state == CHEAP_FREE ? ", in " : "",
			v->d.chunk.state == CHEAP_FREE ? cheap_bin_name(v->d.chunk.bin) : "");
	else if (v->region == REGION_UNMAPPED)
		fprintf(fp, " (a large C chunk's address; free() unmapped it)");
	if (f->conservative)
		fprintf(fp, "  [conservative]");
	fputc('\n', fp);
}

int cmd_cgocheck(struct cli *cli, const struct cli_args *a)
{
	struct target *t;
	struct ct_error *err = cli_open(cli, a->pos[0], &t);
	if (err)
		return cli_fail(cli, err);
	struct cgocheck_out res = { 0 };
	struct cgocheck_stats st;
	if ((err = cgocheck_run(t, cgocheck_keep, &res, &st))) {
		cli_close(cli, t);
		free(res.f);
		return cli_fail(cli, err);
	}
	/* Partial: the audit's own causes, or anything else missing from the
	 * core (what every verb's exit status 1 says). */
	bool partial = st.partial || t->nwarnings;
	struct out *o = &cli->out;
	FILE *fp = o->f;
	if (cli->json) {
		out_obj_begin(o);
		out_key(o, "findings");
		out_arr_begin(o);
		for (size_t i = 0; i < res.n; i++)
			if (res.f[i].place != CGOCHECK_STACK)
				cgocheck_json_one(o, &res.f[i]);
		out_arr_end(o);
		out_key(o, "on_stacks");
		out_arr_begin(o);
		for (size_t i = 0; i < res.n; i++)
			if (res.f[i].place == CGOCHECK_STACK)
				cgocheck_json_one(o, &res.f[i]);
		out_arr_end(o);
		out_key(o, "summary");
		out_obj_begin(o);
		out_kuint(o, "dangling", st.n[CGOCHECK_DANGLING]);
		out_kuint(o, "unpinned", st.n[CGOCHECK_UNPINNED]);
		out_kuint(o, "ok", st.n[CGOCHECK_OK]);
		out_kuint(o, "on_stacks", st.on_stacks);
		out_kuint(o, "c_bytes_scanned", st.c_bytes);
		out_kuint(o, "go_bytes_scanned", st.go_bytes);
		out_kuint(o, "chunks", st.chunks);
		/* The findings are not all there: the list was cut, or the audit is partial. */
		out_kbool(o, "truncated", res.dropped || st.truncated || partial);
		out_obj_end(o);
		out_obj_end(o);
		out_end_line(o);
	} else {
		static const char *const titles[] = { "C memory holding Go pointers",
						      "Go memory holding pointers to freed C memory" };
		/* Typed holders (globals, map entries) before conservative ones. */
		for (int k = 0; k < 2; k++) {
			bool any = false;
			for (size_t j = 0; j < 2 * res.n; j++) {
				size_t i = j % res.n;
				if ((j < res.n) == res.f[i].conservative)
					continue;
				if ((int)res.f[i].kind != k || res.f[i].place == CGOCHECK_STACK)
					continue;
				if (!any)
					fprintf(fp, "%s:\n", titles[k]);
				any = true;
				cgocheck_text_one(fp, &res.f[i]);
			}
		}
		bool any = false;
		for (size_t i = 0; i < res.n; i++) {
			if (res.f[i].place != CGOCHECK_STACK)
				continue;
			if (!any)
				fprintf(fp, "on thread stacks (may be in flight in a call; not counted):\n");
			any = true;
			cgocheck_text_one(fp, &res.f[i]);
		}
		fprintf(fp, "summary: %" PRIu64 " dangling, %" PRIu64 " unpinned, %" PRIu64 " ok"
			    " (%" PRIu64 " on stacks); scanned %" PRIu64 " bytes of C memory (%" PRIu64
			    " chunks and globals), %" PRIu64 " bytes of Go memory%s%s\n",
			st.n[CGOCHECK_DANGLING], st.n[CGOCHECK_UNPINNED], st.n[CGOCHECK_OK], st.on_stacks,
			st.c_bytes, st.chunks, st.go_bytes, res.dropped ? " (findings list truncated)" : "",
			partial ? " (partial: memory the audit needed is missing, see the warnings)" : "");
	}
	free(res.f);
	int rc = partial ? CGOCHECK_EXIT_PARTIAL
		 : st.n[CGOCHECK_DANGLING] ? CGOCHECK_EXIT_DANGLING : CGOCHECK_EXIT_CLEAN;
	cli_warnings(cli, t);
	if (partial && !cli->quiet)
		fprintf(cli->err, "coretool: cgocheck: partial audit (exit status %d): findings may be "
				  "missing, dangling ones included\n", CGOCHECK_EXIT_PARTIAL);
	cli_close(cli, t);
	return rc;
}
