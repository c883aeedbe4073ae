/* coretool map CORE NAME|ADDR:TYPE: one map's entries, streamed, or its
 * buckets/groups (--layout); then the check of count against live slots. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gomap.h"
#include "govalue.h"


struct map_run {
	struct cli *cli;
	const struct gomap_ctx *ctx;
	struct govalue *gv;
	uint64_t limit, shown;
	bool truncated;
	uint64_t unreadable;
	bool in_table;  /* layout JSON: a table object is open */
	bool groups_open;
	uint64_t live_in_unit; /* layout text: live slots of the current bucket */
};

/* ---- entries ---- */

static bool map_entry(void *arg, const struct gomap *m, const struct gomap_entry *e)
{
	struct map_run *r = arg;
	struct out *o = &r->cli->out;
	uint64_t bad_k = 0, bad_v = 0;
	if (r->shown >= r->limit) {
		r->truncated = true;
		return true; /* keep walking for the health check */
	}
	r->shown++;
	Dwarf_Die kt = m->type.key, vt = m->type.elem;
	if (o->json) {
		out_obj_begin(o);
		out_key(o, "key");
		govalue_render(r->gv, o, &kt, e->key_addr, &bad_k);
		out_key(o, "value");
		govalue_render(r->gv, o, &vt, e->elem_addr, &bad_v);
		out_obj_end(o);
	} else {
		fputs("  ", o->f);
		govalue_render(r->gv, o, &kt, e->key_addr, &bad_k);
		fputs(": ", o->f);
		govalue_render(r->gv, o, &vt, e->elem_addr, &bad_v);
		fputc('\n', o->f);
	}
	r->unreadable += bad_k + bad_v;
	return true;
}

/* ---- layout ---- */

static void map_ctrl_text(const struct gomap_ctx *ctx, const struct gomap *m,
			  const struct gomap_group *g, char *buf, uint64_t *live)
{
	size_t len = 0;
	*live = 0;
	for (unsigned i = 0; i < m->type.slots; i++) {
		unsigned b = g->ctrl[i];
		/* the library's legend: a mark per state, the byte itself for an entry */
		const char *s = gomap_state_mark(m->type.impl, gomap_slot_state(ctx, m->type.impl, b));
		if (s)
			len += sprintf(buf + len, "%s%s", i ? " " : "", s);
		else {
			len += sprintf(buf + len, "%s%02x", i ? " " : "", b);
			(*live)++;
		}
	}
}

static bool map_group(void *arg, const struct gomap *m, const struct gomap_group *g)
{
	struct map_run *r = arg;
	struct out *o = &r->cli->out;
	if (r->shown >= r->limit) {
		r->truncated = true;
		return true;
	}
	r->shown++;
	if (o->json) {
		if (r->in_table && !r->groups_open) {
			out_key(o, "groups");
			out_arr_begin(o);
			r->groups_open = true;
		}
		out_obj_begin(o);
		if (m->type.impl == GO_MAP_CLASSIC)
			out_kstr(o, "kind", g->kind == GOMAP_OLDBUCKET ? "oldbucket" : "bucket");
		out_kuint(o, "index", g->index);
		if (m->type.impl == GO_MAP_CLASSIC)
			out_kuint(o, "chain", g->chain);
		out_khex(o, "addr", g->addr);
		out_key(o, m->type.impl == GO_MAP_CLASSIC ? "tophash" : "ctrl");
		out_arr_begin(o);
		for (unsigned i = 0; i < m->type.slots; i++)
			out_uint(o, g->ctrl[i]);
		out_arr_end(o);
		out_key(o, "slots");
		out_arr_begin(o);
		for (unsigned i = 0; i < m->type.slots; i++)
			out_str(o, gomap_slot_state(r->ctx, m->type.impl, g->ctrl[i]));
		out_arr_end(o);
		if (m->type.impl == GO_MAP_CLASSIC) {
			out_khex(o, "overflow", g->overflow);
			if (g->kind == GOMAP_OLDBUCKET)
				out_kbool(o, "evacuated", g->evacuated);
		}
		out_obj_end(o);
		return true;
	}
	char ctrl[64];
	uint64_t live;
	map_ctrl_text(r->ctx, m, g, ctrl, &live);
	if (m->type.impl == GO_MAP_CLASSIC) {
		char label[64];
		if (g->chain == 0)
			snprintf(label, sizeof(label), "%s %" PRIu64,
				 g->kind == GOMAP_OLDBUCKET ? "old bucket" : "bucket", g->index);
		else
			snprintf(label, sizeof(label), "  overflow %u", g->chain);
		fprintf(r->cli->out.f, "  %-18s 0x%-12" PRIx64 " tophash %s  live %" PRIu64 "%s%s\n", label, g->addr,
		       ctrl, live, g->kind == GOMAP_OLDBUCKET && g->chain == 0 ?
		       (g->evacuated ? "  evacuated" : "  not evacuated") : "",
		       g->overflow ? "  ->" : "");
	} else {
		fprintf(r->cli->out.f, "    group %-5" PRIu64 " 0x%-12" PRIx64 " ctrl %s  full %" PRIu64 "\n", g->index,
		       g->addr, ctrl, live);
	}
	return true;
}

static bool map_table(void *arg, const struct gomap *m, const struct gomap_table *t)
{
	struct map_run *r = arg;
	struct out *o = &r->cli->out;
	(void)m;
	if (o->json) {
		out_obj_begin(o);
		out_khex(o, "addr", t->addr);
		out_kuint(o, "dir_index", t->dir_index);
		out_kuint(o, "dir_count", t->dir_count);
		out_kint(o, "index", t->index);
		out_kuint(o, "local_depth", t->local_depth);
		out_kuint(o, "used", t->used);
		out_kuint(o, "capacity", t->capacity);
		out_kuint(o, "growth_left", t->growth_left);
		out_khex(o, "groups_addr", t->groups);
		out_kuint(o, "ngroups", t->ngroups);
		r->in_table = true;
		r->groups_open = false;
		return true;
	}
	fprintf(r->cli->out.f, "  table 0x%" PRIx64 "  dir[%" PRIu64 "..%" PRIu64 "]  index %" PRId64
	       "  localDepth %u  capacity %u  used %u  growthLeft %u  groups %" PRIu64 " at 0x%" PRIx64
	       "\n",
	       t->addr, t->dir_index, t->dir_index + (t->dir_count ? t->dir_count - 1 : 0), t->index,
	       t->local_depth, t->capacity, t->used, t->growth_left, t->ngroups, t->groups);
	return true;
}

static bool map_table_end(void *arg, const struct gomap *m, const struct gomap_table *t)
{
	struct map_run *r = arg;
	struct out *o = &r->cli->out;
	(void)m;
	if (o->json) {
		if (r->groups_open)
			out_arr_end(o);
		out_kuint(o, "full", t->full);
		out_kuint(o, "deleted", t->deleted);
		out_kuint(o, "empty", t->empty);
		out_obj_end(o);
		r->in_table = r->groups_open = false;
		return true;
	}
	fprintf(r->cli->out.f, "    table totals: %" PRIu64 " full, %" PRIu64 " deleted, %" PRIu64 " empty; load %.3f\n",
	       t->full, t->deleted, t->empty, t->capacity ? (double)t->full / t->capacity : 0.0);
	return true;
}

/* ---- the map ---- */

static struct ct_error *map_resolve(const struct gomap_ctx *ctx, const char *spec,
				    struct gomap *m, char *path, size_t pathcap)
{
	const char *colon = strchr(spec, ':');
	uint64_t addr;
	if (colon) {
		char a[40];
		size_t n = colon - spec;
		if (n < sizeof(a)) {
			memcpy(a, spec, n);
			a[n] = 0;
			if (cli_parse_addr(a, &addr)) {
				struct gomap_type t;
				struct ct_error *err = gomap_type_by_name(ctx, colon + 1, &t);
				if (err)
					return err;
				snprintf(path, pathcap, "(%s)(0x%" PRIx64 ")", t.name, addr);
				return gomap_read(ctx, &t, addr, m);
			}
		}
	}
	snprintf(path, pathcap, "%s", spec);
	return gomap_find_path(ctx, spec, m, NULL);
}

static void map_health_out(struct map_run *r, const struct gomap *m, const struct gomap_health *h)
{
	struct out *o = &r->cli->out;
	const char *cnt = m->type.impl == GO_MAP_CLASSIC ? "count" : "used";
	if (o->json) {
		out_key(o, "health");
		out_obj_begin(o);
		out_kbool(o, "ok", !gomap_health_bad(h));
		out_kuint(o, "count", m->count);
		out_kuint(o, "live", h->live);
		out_kbool(o, "count_matches", h->live == m->count);
		out_kbool(o, "complete", h->complete || h->stopped_by_caller);
		out_kbool(o, "growing", h->growing);
		out_kbool(o, "writing", h->writing);
		if (m->type.impl == GO_MAP_CLASSIC) {
			out_kuint(o, "buckets", h->buckets);
			out_kuint(o, "overflow_buckets", h->overflow_buckets);
			out_kuint(o, "old_buckets", h->old_buckets);
			out_kuint(o, "old_unevacuated", h->old_unevacuated);
		} else {
			out_kuint(o, "tables", h->tables);
			out_kuint(o, "groups", h->groups);
			out_kuint(o, "tombstones", h->deleted);
		}
		out_key(o, "issues");
		out_arr_begin(o);
		for (unsigned i = 0; i < h->nissues; i++)
			out_str(o, h->issues[i]);
		out_arr_end(o);
		if (h->stopped[0] && !h->stopped_by_caller)
			out_kstr(o, "stopped", h->stopped);
		out_obj_end(o);
		return;
	}
	if (m->addr == 0) {
		fprintf(r->cli->out.f, "health: nil map\n");
		return;
	}
	if (h->complete && h->live == m->count)
		fprintf(r->cli->out.f, "health: %s %" PRIu64 " = %" PRIu64 " live slots found", cnt, m->count, h->live);
	else
		fprintf(r->cli->out.f, "health: %s %" PRIu64 ", %" PRIu64 " live slots found%s", cnt, m->count, h->live,
		       h->complete ? "" : " (walk incomplete)");
	if (m->type.impl == GO_MAP_CLASSIC) {
		uint64_t nb = m->buckets && m->B < 64 ? (uint64_t)1 << m->B : 0;
		fprintf(r->cli->out.f, "; %" PRIu64 " buckets + %" PRIu64 " overflow", nb, h->overflow_buckets);
		if (nb)
			fprintf(r->cli->out.f, ", load %.2f per bucket", (double)h->live / nb);
		if (h->growing)
			fprintf(r->cli->out.f, "; growing: %" PRIu64 " of %" PRIu64 " old buckets not evacuated",
			       h->old_unevacuated, h->old_buckets);
	} else if (m->dir_len == 0) {
		fprintf(r->cli->out.f, "; small map (one group of %u slots)", m->type.slots);
	} else {
		fprintf(r->cli->out.f, "; %" PRIu64 " tables, %" PRIu64 " groups, %" PRIu64 " tombstones", h->tables,
		       h->groups, h->deleted);
		uint64_t slots = h->groups * m->type.slots;
		if (slots)
			fprintf(r->cli->out.f, ", load %.2f", (double)h->live / slots);
	}
	fprintf(r->cli->out.f, "\n");
	for (unsigned i = 0; i < h->nissues; i++)
		fprintf(r->cli->out.f, "health: %s\n", h->issues[i]);
	if (h->issues_dropped)
		fprintf(r->cli->out.f, "health: ... %u more issues\n", h->issues_dropped);
	if (h->stopped[0] && !h->stopped_by_caller)
		fprintf(r->cli->out.f, "health: %s\n", h->stopped);
	if (!gomap_health_bad(h) && !h->nissues)
		fprintf(r->cli->out.f, "health: ok\n");
}

static void map_header_text(struct map_run *r, const char *path, const struct gomap *m)
{
	char growth[128], flags[96];
	gomap_growth_str(r->ctx, m, growth, sizeof(growth));
	gomap_flags_str(r->ctx, m, flags, sizeof(flags));
	fprintf(r->cli->out.f, "map %s  0x%" PRIx64 "  %s  %s", path, m->addr, m->type.name,
	       go_map_impl_name(m->type.impl));
	if (!m->addr) {
		fprintf(r->cli->out.f, "  nil\n");
		return;
	}
	fprintf(r->cli->out.f, "  count %" PRIu64, m->count);
	if (m->type.impl == GO_MAP_CLASSIC) {
		fprintf(r->cli->out.f, "  B %u  buckets 0x%" PRIx64, m->B, m->buckets);
		if (m->oldbuckets)
			fprintf(r->cli->out.f, "  oldbuckets 0x%" PRIx64 "  nevacuate %" PRIu64 "  (%s)", m->oldbuckets,
			       m->nevacuate, growth);
		fprintf(r->cli->out.f, "  noverflow %u", m->noverflow);
	} else if (m->dir_ptr && m->dir_len == 0) {
		fprintf(r->cli->out.f, "  small map: one group at 0x%" PRIx64, m->dir_ptr);
	} else if (m->dir_ptr) {
		fprintf(r->cli->out.f, "  dirLen %" PRId64 " (globalDepth %u) at 0x%" PRIx64, m->dir_len,
		       m->global_depth, m->dir_ptr);
	}
	if (flags[0])
		fprintf(r->cli->out.f, "  flags %s", flags);
	fprintf(r->cli->out.f, "\n");
}

int cmd_map(struct cli *cli, const struct cli_args *a)
{
	const char *core = a->pos[0], *spec = a->pos[1];
	uint64_t limit = cli_flag(a, "--limit") ? cli_num(a, "--limit") : UINT64_MAX;
	bool layout = cli_flag(a, "--layout");
	struct target *t;
	struct ct_error *err = cli_open(cli, core, &t);
	if (err)
		return cli_fail(cli, err);
	struct gomap_ctx *ctx = NULL;
	struct govalue *gv = NULL;
	int rc;
	if (!t->go) {
		err = ct_error_fmt(CT_ERR_NOTFOUND, "%s: not a Go program: no maps", core);
		goto fail;
	}
	if ((err = gomap_ctx_create(t->go, &ctx)) || (err = govalue_create(t->go, ctx, NULL, &gv)))
		goto fail;
	struct gomap m;
	char path[512];
	if ((err = map_resolve(ctx, spec, &m, path, sizeof(path))))
		goto fail;
	struct map_run r = { .cli = cli, .ctx = ctx, .gv = gv, .limit = limit };
	struct gomap_visitor v = { .arg = &r };
	if (layout) {
		v.group = map_group;
		v.table = map_table;
		v.table_end = map_table_end;
	} else {
		v.entry = map_entry;
	}
	struct out *o = &cli->out;
	char growth[128], flags[96];
	gomap_growth_str(ctx, &m, growth, sizeof(growth));
	gomap_flags_str(ctx, &m, flags, sizeof(flags));
	if (o->json) {
		out_obj_begin(o);
		out_kstr(o, "path", path);
		out_khex(o, "addr", m.addr);
		out_kstr(o, "type", m.type.name);
		out_kstr(o, "impl", go_map_impl_name(m.type.impl));
		out_kbool(o, "nil", m.addr == 0);
		out_kuint(o, "count", m.count);
		if (m.addr && m.type.impl == GO_MAP_CLASSIC) {
			out_kuint(o, "B", m.B);
			out_khex(o, "buckets", m.buckets);
			out_khex(o, "oldbuckets", m.oldbuckets);
			out_kuint(o, "nevacuate", m.nevacuate);
			out_kuint(o, "noverflow", m.noverflow);
		} else if (m.addr) {
			out_khex(o, "dir_ptr", m.dir_ptr);
			out_kint(o, "dir_len", m.dir_len);
			out_kuint(o, "global_depth", m.global_depth);
		}
		out_kbool(o, "growing", m.oldbuckets != 0);
		out_kstr(o, "growth", growth);
		out_kstr(o, "flags", flags);
		if (!layout)
			out_key(o, "entries");
		else if (m.type.impl == GO_MAP_CLASSIC)
			out_key(o, "buckets");
		else
			out_key(o, m.dir_len == 0 ? "groups" : "tables");
		out_arr_begin(o);
	} else {
		map_header_text(&r, path, &m);
		if (layout && m.addr)
			fprintf(cli->out.f, "  (%s)\n", gomap_legend_line(m.type.impl));
	}
	struct gomap_health h;
	err = gomap_walk(ctx, &m, &v, &h);
	if (o->json) {
		if (r.in_table) { /* the walk stopped inside a table: close it */
			if (r.groups_open)
				out_arr_end(o);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_kuint(o, "shown", r.shown);
		out_kbool(o, "truncated", r.truncated);
		if (r.unreadable)
			out_kuint(o, "unreadable_values", r.unreadable);
		map_health_out(&r, &m, &h);
		out_obj_end(o);
		out_end_line(o);
	} else {
		if (r.truncated)
			fprintf(cli->out.f, "  ... (--limit %" PRIu64 ": %s not shown)\n", limit,
			       layout ? "more buckets/groups" : "more entries");
		map_health_out(&r, &m, &h);
	}
	if (err)
		goto fail;
	rc = cli_warnings(cli, t);
	if (gomap_health_bad(&h) || r.unreadable) {
		if (!cli->quiet) {
			fprintf(cli->err, "coretool: map %s: partial result: %s\n", path,
				gomap_health_bad(&h) ? gomap_health_summary(&h) : "some values unreadable");
			if (h.stopped[0] && !h.stopped_by_caller && h.nissues)
				fprintf(cli->err, "coretool: map %s: %s\n", path, h.stopped);
			if (r.unreadable)
				fprintf(cli->err, "coretool: map %s: %" PRIu64 " key/value reads failed\n",
					path, r.unreadable);
		}
		rc = CT_EXIT_PARTIAL;
	}
	govalue_destroy(gv);
	gomap_ctx_destroy(ctx);
	cli_close(cli, t);
	return rc;
fail:
	govalue_destroy(gv);
	gomap_ctx_destroy(ctx);
	cli_close(cli, t);
	return cli_fail(cli, err);
}
