/* coretool maps CORE [PATTERN]: every Go map reachable from globals, with its
 * shape and health. */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gomap.h"


struct maps_run {
	struct cli *cli;
	const struct gomap_ctx *ctx;
	const char *pattern;
	bool walk;
	uint64_t nmaps, nbad;
	struct ct_error *err;
};

static void maps_health_json(struct out *o, const struct gomap_health *h, bool walked)
{
	out_key(o, "health");
	out_obj_begin(o);
	out_kbool(o, "ok", !gomap_health_bad(h));
	out_kbool(o, "walked", walked);
	if (walked) {
		out_kuint(o, "live", h->live);
		out_kbool(o, "complete", h->complete);
	}
	out_key(o, "issues");
	out_arr_begin(o);
	for (unsigned i = 0; i < h->nissues; i++)
		out_str(o, h->issues[i]);
	if (h->issues_dropped) {
		char b[64];
		snprintf(b, sizeof(b), "... %u more", h->issues_dropped);
		out_str(o, b);
	}
	out_arr_end(o);
	if (h->stopped[0] && !h->stopped_by_caller)
		out_kstr(o, "stopped", h->stopped);
	out_obj_end(o);
}

static void maps_one_json(struct maps_run *r, const struct gomap_found *f, const struct gomap *m,
			  const struct gomap_health *h, const char *read_err)
{
	struct out *o = &r->cli->out;
	char buf[256];
	const struct gomap_type *t = &m->type;
	out_obj_begin(o);
	out_kstr(o, "path", f->path);
	out_khex(o, "slot", f->slot);
	out_khex(o, "addr", f->addr);
	out_kstr(o, "type", t->name);
	out_kstr(o, "key_type", t->key_name ? t->key_name : "?");
	out_kstr(o, "elem_type", t->elem_name ? t->elem_name : "?");
	out_kstr(o, "impl", go_map_impl_name(t->impl));
	out_kbool(o, "nil", f->addr == 0);
	if (read_err) {
		out_kstr(o, "error", read_err);
		out_obj_end(o);
		return;
	}
	out_kuint(o, "count", m->count);
	if (f->addr && t->impl == GO_MAP_CLASSIC) {
		out_kuint(o, "B", m->B);
		out_khex(o, "buckets", m->buckets);
		out_khex(o, "oldbuckets", m->oldbuckets);
		out_kuint(o, "nevacuate", m->nevacuate);
		out_kuint(o, "noverflow", m->noverflow);
		if (r->walk)
			out_kuint(o, "overflow_buckets", h->overflow_buckets);
	} else if (f->addr) {
		out_kint(o, "dir_len", m->dir_len);
		out_khex(o, "dir_ptr", m->dir_ptr);
		out_kuint(o, "global_depth", m->global_depth);
		if (r->walk) {
			out_kuint(o, "tables", h->tables);
			out_kuint(o, "groups", h->groups);
			out_kuint(o, "tombstones", h->deleted);
		}
	}
	out_kbool(o, "growing", m->oldbuckets != 0);
	gomap_growth_str(r->ctx, m, buf, sizeof(buf));
	out_kstr(o, "growth", buf);
	gomap_flags_str(r->ctx, m, buf, sizeof(buf));
	out_kstr(o, "flags", buf);
	maps_health_json(o, h, r->walk && f->addr);
	out_obj_end(o);
}

static void maps_one_text(struct maps_run *r, const struct gomap_found *f, const struct gomap *m,
			  const struct gomap_health *h, const char *read_err)
{
	const struct gomap_type *t = &m->type;
	char shape[128], growth[128], flags[96];
	fprintf(r->cli->out.f, "%-32s 0x%-12" PRIx64 " %-28s %-7s ", f->path, f->addr, t->name,
	       go_map_impl_name(t->impl));
	if (read_err) {
		fprintf(r->cli->out.f, "unreadable: %s\n", read_err);
		return;
	}
	if (!f->addr) {
		fprintf(r->cli->out.f, "nil\n");
		return;
	}
	if (t->impl == GO_MAP_CLASSIC) {
		if (m->B <= 63)
			snprintf(shape, sizeof(shape), "B %u (%" PRIu64 " buckets%s)", m->B,
				 (uint64_t)1 << m->B, m->buckets ? "" : ", none allocated");
		else
			snprintf(shape, sizeof(shape), "B %u", m->B);
		if (r->walk && h->overflow_buckets)
			snprintf(shape + strlen(shape), sizeof(shape) - strlen(shape),
				 " +%" PRIu64 " overflow", h->overflow_buckets);
	} else if (m->dir_ptr == 0) {
		snprintf(shape, sizeof(shape), "empty");
	} else if (m->dir_len == 0) {
		snprintf(shape, sizeof(shape), "small (1 group)");
	} else if (r->walk) {
		snprintf(shape, sizeof(shape), "dirLen %" PRId64 ", %" PRIu64 " tables, %" PRIu64 " groups",
			 m->dir_len, h->tables, h->groups);
	} else {
		snprintf(shape, sizeof(shape), "dirLen %" PRId64, m->dir_len);
	}
	gomap_growth_str(r->ctx, m, growth, sizeof(growth));
	gomap_flags_str(r->ctx, m, flags, sizeof(flags));
	fprintf(r->cli->out.f, "count %-8" PRIu64 " %s", m->count, shape);
	if (t->impl == GO_MAP_CLASSIC && m->oldbuckets)
		fprintf(r->cli->out.f, "; %s", growth);
	if (t->impl == GO_MAP_SWISS && r->walk && h->deleted)
		fprintf(r->cli->out.f, "; %" PRIu64 " tombstones", h->deleted);
	if (flags[0])
		fprintf(r->cli->out.f, "; flags %s", flags);
	fprintf(r->cli->out.f, "; %s%s\n", r->walk ? "health " : "", r->walk || h->nissues ? gomap_health_summary(h) : "header ok");
	for (unsigned i = 1; i < h->nissues; i++)
		fprintf(r->cli->out.f, "    %s\n", h->issues[i]);
	if (h->issues_dropped)
		fprintf(r->cli->out.f, "    ... %u more issues\n", h->issues_dropped);
	if (h->stopped[0] && !h->stopped_by_caller && h->nissues)
		fprintf(r->cli->out.f, "    %s\n", h->stopped);
}

static bool maps_found(void *arg, const struct gomap_found *f)
{
	struct maps_run *r = arg;
	struct gomap_type t;
	struct gomap m;
	struct gomap_health h;
	char errbuf[GOMAP_MSG];
	const char *read_err = NULL;
	/* "*main.p" (a pointer to a map) matches 'main.*' too */
	const char *bare = f->path;
	while (*bare == '*')
		bare++;
	if (r->pattern && fnmatch(r->pattern, f->path, 0) != 0 && fnmatch(r->pattern, bare, 0) != 0)
		return true;
	memset(&h, 0, sizeof(h));
	h.complete = true;
	struct ct_error *err = gomap_type_from_die(r->ctx, f->type, &t);
	if (err) {
		if (err->code == CT_ERR_NOMEM) {
			r->err = err;
			return false;
		}
		/* A layout we cannot read: say so for this map and go on. */
		memset(&m, 0, sizeof(m));
		m.type.name = dwarf_diename(f->type) ? dwarf_diename(f->type) : "?";
		snprintf(errbuf, sizeof(errbuf), "%s", err->msg);
		ct_error_destroy(err);
		read_err = errbuf;
	} else if (f->unreadable) {
		memset(&m, 0, sizeof(m));
		m.type = t;
		snprintf(errbuf, sizeof(errbuf), "the map pointer at 0x%" PRIx64 " is not in the core",
			 f->slot);
		read_err = errbuf;
	} else if ((err = gomap_read(r->ctx, &t, f->addr, &m))) {
		/* m is not filled on failure: the output below reads its type */
		memset(&m, 0, sizeof(m));
		m.type = t;
		snprintf(errbuf, sizeof(errbuf), "%s", err->msg);
		ct_error_destroy(err);
		read_err = errbuf;
	} else if (r->walk) {
		if ((err = gomap_walk(r->ctx, &m, NULL, &h))) {
			r->err = err;
			return false;
		}
	} else {
		gomap_check_header(r->ctx, &m, &h);
	}
	r->nmaps++;
	bool bad = read_err || gomap_health_bad(&h);
	if (bad) {
		r->nbad++;
		if (!r->cli->quiet)
			fprintf(r->cli->err, "coretool: map %s: %s\n", f->path,
				read_err ? read_err : gomap_health_summary(&h));
	}
	if (r->cli->json)
		maps_one_json(r, f, &m, &h, read_err);
	else
		maps_one_text(r, f, &m, &h, read_err);
	return true;
}

int cmd_maps(struct cli *cli, const struct cli_args *a)
{
	const char *core = a->pos[0], *pattern = a->npos > 1 ? a->pos[1] : NULL;
	struct gomap_find_opts opts = GOMAP_FIND_DEFAULTS;
	bool walk = !cli_flag(a, "--no-walk");
	unsigned depth = (unsigned)cli_num(a, "--depth");
	struct target *t;
	struct ct_error *err = cli_open(cli, core, &t);
	if (err)
		return cli_fail(cli, err);
	if (!t->go) {
		cli_close(cli, t);
		return cli_fail(cli, ct_error_fmt(CT_ERR_NOTFOUND, "%s: not a Go program: no maps",
						  core));
	}
	struct gomap_ctx *ctx;
	if ((err = gomap_ctx_create(t->go, &ctx))) {
		cli_close(cli, t);
		return cli_fail(cli, err);
	}
	opts.max_ptr_depth = depth;
	struct maps_run r = { .cli = cli, .ctx = ctx, .pattern = pattern, .walk = walk };
	struct gomap_find_stats stats;
	struct out *o = &cli->out;
	if (cli->json) {
		out_obj_begin(o);
		out_key(o, "maps");
		out_arr_begin(o);
	}
	err = gomap_foreach_global_map(ctx, &opts, maps_found, &r, &stats);
	if (!err)
		err = r.err;
	if (cli->json) {
		out_arr_end(o);
		out_kuint(o, "globals", stats.globals);
		out_kbool(o, "truncated", stats.truncated);
		if (err)
			out_kstr(o, "error", err->msg);
		out_obj_end(o);
		out_end_line(o);
	} else if (!r.nmaps && !err) {
		fprintf(cli->out.f, "no maps found (%" PRIu64 " globals looked at)\n", stats.globals);
	}
	int rc = cli_warnings(cli, t);
	if (err) {
		fprintf(cli->err, "coretool: %s\n", err->msg);
		ct_error_destroy(err);
		rc = CT_EXIT_FATAL;
	} else if (r.nbad) {
		rc = CT_EXIT_PARTIAL;
	}
	/* Pointers followed on speculation (fields, interfaces) are often stale or
	 * wild: that some could not be read says nothing about the maps found. */
	if (cli->verbose && stats.unreadable)
		fprintf(cli->err, "coretool: %" PRIu64 " pointers on the way to maps were unreadable "
				  "(first: %s)\n",
			stats.unreadable, stats.first_unreadable);
	if (cli->verbose && stats.truncated)
		fprintf(cli->err, "coretool: search bounds reached (objects, elements or depth): "
				"there may be more maps\n");
	gomap_ctx_destroy(ctx);
	cli_close(cli, t);
	return rc;
}
