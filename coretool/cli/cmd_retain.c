/* coretool heap CORE --by-type and coretool retain CORE ADDR: the typed heap
 * (lib/analysis/heapgraph.c) as a census by Go type and as paths from roots. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "heapgraph.h"
#include "holders.h"
#include "pprof.h"

struct hg_progress {
	FILE *f;
	bool on;
};

static void hg_progress_line(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct hg_progress *p = arg;
	if (!p->on)
		return;
	fprintf(p->f, "\r%s: %" PRIu64 " objects scanned, %" PRIu64 " queued\033[K", phase, done,
		total - done);
	fflush(p->f);
}

/* The typed heap of t from every root, with a progress line on a terminal. */
static struct ct_error *typed_heap_build(struct cli *cli, struct target *t, bool parents,
					 struct cheap_sizes *c_sizes, struct hg_progress *pr,
					 struct hg **ret)
{
	pr->f = cli->err;
	pr->on = isatty(fileno(cli->err)) && !cli->quiet;
	struct hg_options opt = { .parents = parents, .c_sizes = c_sizes,
				  .progress = hg_progress_line, .progress_arg = pr };
	struct ct_error *err = hg_build(t, &opt, ret);
	if (pr->on)
		fprintf(pr->f, "\r\033[K");
	return err;
}

/* The profile: one sample per reached object on its retention chain. */
struct pprof_ctx {
	struct pprof *p;
	struct ct_error *err;
};

static bool pprof_chain(void *arg, const char *const *names, size_t n, uint64_t objects,
			uint64_t bytes)
{
	struct pprof_ctx *c = arg;
	int64_t v[2] = { (int64_t)objects, (int64_t)bytes };
	c->err = pprof_add(c->p, names, n, v);
	return !c->err;
}

static struct ct_error *pprof_export(struct hg *g, const struct cheap_sizes *cs, const char *core,
				     const char *path)
{
	static const char *const types[] = { "inuse_objects", "inuse_space" };
	static const char *const units[] = { "count", "bytes" };
	struct pprof *p;
	struct ct_error *err = pprof_new(types, units, 2, &p);
	if (err)
		return err;
	char line[512];
	snprintf(line, sizeof(line), "coretool heap --by-type: %s", core);
	err = pprof_comment(p, line);
	if (!err)
		err = pprof_comment(p, "each stack: the object's type, then the types of the objects that "
				       "first reached it, then its root");
	struct pprof_ctx c = { p, NULL };
	if (!err && !(err = hg_foreach_chain(g, 64, pprof_chain, &c)))
		err = c.err;
	for (size_t i = 0; !err && i < cs->n; i++) {
		char frame[64];
		snprintf(frame, sizeof(frame), "[C] malloc chunk %" PRIu64 " bytes", cs->v[i].size);
		const char *frames[] = { frame, "[C] glibc heap" };
		int64_t v[2] = { (int64_t)cs->v[i].chunks, (int64_t)cs->v[i].bytes };
		err = pprof_add(p, frames, 2, v);
	}
	if (!err)
		err = pprof_write(p, path);
	pprof_free(p);
	return err;
}

int cmd_heap_by_type(struct cli *cli, const struct cli_args *a, struct target *t)
{
	uint64_t top = cli_num(a, "--top");
	const char *pprof_path = cli_str(a, "--pprof");
	struct hg_progress pr;
	struct hg *g;
	/* glibc's chunks are counted by size on the typed heap's walk of them */
	struct cheap_sizes cs = { 0 };
	struct ct_error *err = typed_heap_build(cli, t, pprof_path != NULL, &cs, &pr, &g);
	if (err) {
		cheap_sizes_free(&cs);
		return cli_fail(cli, err);
	}
	struct hg_census c;
	if ((err = hg_census(g, &c))) {
		cheap_sizes_free(&cs);
		hg_destroy(g);
		return cli_fail(cli, err);
	}
	if (c.unreadable)
		target_warn(t, "typed heap: %" PRIu64 " reads failed (memory not in the core)", c.unreadable);
	if (c.skipped_spans)
		target_warn(t, "typed heap: %" PRIu64 " spans skipped (inconsistent)", c.skipped_spans);
	struct cheap *ch;
	if (!target_cheap(t, &ch) && ch) {
		struct ct_error *e = cs.counted ? cheap_sizes_finish(&cs) : cheap_sizes(ch, &cs);
		if (e && e->code == CT_ERR_NOMEM) {
			hg_census_free(&c);
			hg_destroy(g);
			return cli_fail(cli, e);
		}
		if (e) {
			target_warn(t, "C heap: %s", e->msg);
			ct_error_destroy(e);
		}
		if (cs.truncated)
			target_warn(t, "C heap: more than %d chunk sizes (a damaged heap?): counted the first ones",
				    CHEAP_SIZES_MAX);
	}
	if (pprof_path && (err = pprof_export(g, &cs, a->pos[0], pprof_path))) {
		cheap_sizes_free(&cs);
		hg_census_free(&c);
		hg_destroy(g);
		return cli_fail(cli, err);
	}
	size_t nt = top && top < c.ntypes ? top : c.ntypes;
	size_t nc = top && top < cs.n ? top : cs.n;
	struct out *o = &cli->out;
	if (cli->json) {
		out_obj_begin(o);
		out_kuint(o, "objects", c.objects);
		out_kuint(o, "bytes", c.bytes);
		out_key(o, "by_type");
		out_arr_begin(o);
		for (size_t i = 0; i < nt; i++) {
			out_obj_begin(o);
			out_kstr(o, "type", c.types[i].type);
			out_kuint(o, "objects", c.types[i].objects);
			out_kuint(o, "bytes", c.types[i].bytes);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_kuint(o, "types", c.ntypes);
		out_key(o, "typed");
		out_obj_begin(o);
		out_kuint(o, "objects", c.typed_objects);
		out_kuint(o, "bytes", c.typed_bytes);
		out_obj_end(o);
		out_key(o, "untyped");
		out_obj_begin(o);
		out_kuint(o, "objects", c.untyped_objects);
		out_kuint(o, "bytes", c.untyped_bytes);
		out_key(o, "reasons");
		out_obj_begin(o);
		out_kuint(o, "reached only through words of unknown type", c.untyped_conservative);
		out_kuint(o, "tiny-allocator blocks", c.untyped_tiny);
		out_obj_end(o);
		out_obj_end(o);
		out_key(o, "unreachable");
		out_obj_begin(o);
		out_kuint(o, "objects", c.unreached_objects);
		out_kuint(o, "bytes", c.unreached_bytes);
		out_obj_end(o);
		out_key(o, "reached_only_from_c");
		out_obj_begin(o);
		out_kuint(o, "objects", c.c_only_objects);
		out_kuint(o, "bytes", c.c_only_bytes);
		out_obj_end(o);
		out_key(o, "roots");
		out_obj_begin(o);
		for (int k = 0; k < HG_ROOT_NKINDS; k++)
			out_kuint(o, hg_root_kind_name(k), c.roots[k]);
		out_obj_end(o);
		out_key(o, "stack_frames");
		out_obj_begin(o);
		out_kuint(o, "by_stack_maps", c.frames_precise);
		out_kuint(o, "as_words", c.frames_words);
		out_obj_end(o);
		out_key(o, "c_heap");
		out_arr_begin(o);
		for (size_t i = 0; i < nc; i++) {
			out_obj_begin(o);
			out_kuint(o, "size", cs.v[i].size);
			out_kuint(o, "chunks", cs.v[i].chunks);
			out_kuint(o, "bytes", cs.v[i].bytes);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_obj_end(o);
		out_end_line(o);
	} else {
		FILE *f = o->f;
		fprintf(f, "Go heap: %" PRIu64 " objects (%" PRIu64 " bytes); reached from the roots: %" PRIu64
			   " typed (%" PRIu64 " bytes), %" PRIu64 " untyped (%" PRIu64 " bytes); unreachable: %" PRIu64
			   " (%" PRIu64 " bytes)\n",
			c.objects, c.bytes, c.typed_objects, c.typed_bytes, c.untyped_objects, c.untyped_bytes,
			c.unreached_objects, c.unreached_bytes);
		fprintf(f, "untyped: %" PRIu64 " reached only through words of unknown type, %" PRIu64
			   " tiny-allocator blocks; %" PRIu64 " objects reached only from C memory\n",
			c.untyped_conservative, c.untyped_tiny, c.c_only_objects);
		fprintf(f, "goroutine frames: %" PRIu64 " scanned by the runtime's stack maps, %" PRIu64
			   " as words\n", c.frames_precise, c.frames_words);
		fprintf(f, "%10s %14s  %s\n", "objects", "bytes", "type");
		for (size_t i = 0; i < nt; i++)
			fprintf(f, "%10" PRIu64 " %14" PRIu64 "  %s\n", c.types[i].objects, c.types[i].bytes,
				c.types[i].type);
		if (nc) {
			fprintf(f, "C heap (glibc), live chunks by size:\n%10s %10s %14s\n", "size", "chunks",
				"bytes");
			for (size_t i = 0; i < nc; i++)
				fprintf(f, "%10" PRIu64 " %10" PRIu64 " %14" PRIu64 "\n", cs.v[i].size,
					cs.v[i].chunks, cs.v[i].bytes);
		}
	}
	cheap_sizes_free(&cs);
	hg_census_free(&c);
	hg_destroy(g);
	return cli_warnings(cli, t) != CT_EXIT_OK ? CT_EXIT_PARTIAL : CT_EXIT_OK;
}

struct retain_path {
	struct hg_step steps[128];
	size_t n;
	struct hg_root root;
	char root_via[128];
};

static char *path_text(const struct retain_path *p)
{
	return hg_path_text(p->steps, p->n, &p->root, p->root_via);
}

static void path_json(struct out *o, const struct retain_path *p, const char *text)
{
	out_obj_begin(o);
	out_key(o, "root");
	out_obj_begin(o);
	out_kstr(o, "kind", p->root.kind < HG_ROOT_NKINDS ? hg_root_kind_name(p->root.kind) : "unknown");
	out_kstr(o, "name", p->root.name ? p->root.name : "");
	if (p->root.kind == HG_ROOT_GOROUTINE) {
		out_kuint(o, "goid", p->root.goid);
		out_kstr(o, "func", p->root.func);
		out_kstr(o, "var", p->root.var);
	}
	out_kstr(o, "via", p->root_via);
	out_obj_end(o);
	out_key(o, "steps");
	out_arr_begin(o);
	for (size_t i = p->n; i-- > 0;) {
		out_obj_begin(o);
		out_khex(o, "object", p->steps[i].obj.addr);
		out_kstr(o, "type", p->steps[i].obj.type);
		out_kuint(o, "size", p->steps[i].obj.size);
		out_kstr(o, "via", i > 0 ? p->steps[i - 1].via : "");
		out_obj_end(o);
	}
	out_arr_end(o);
	out_kstr(o, "text", text ? text : "");
	out_obj_end(o);
}

int cmd_retain(struct cli *cli, const struct cli_args *a)
{
	const char *core = a->pos[0];
	uint64_t addr, maxpaths = cli_num(a, "--paths");
	if (!maxpaths)
		maxpaths = 4;
	if (!cli_parse_addr(a->pos[1], &addr))
		return cli_fail(cli, ct_error_fmt(CT_ERR_USAGE, "not an address: %s", a->pos[1]));
	struct target *t;
	struct ct_error *err = cli_open(cli, core, &t);
	if (err)
		return cli_fail(cli, err);
	struct hg_progress pr;
	struct hg *g;
	if ((err = typed_heap_build(cli, t, true, NULL, &pr, &g))) {
		cli_close(cli, t);
		return cli_fail(cli, err);
	}
	struct hg_object obj;
	bool in = hg_object_of(g, addr, &obj);
	struct retain_path *paths = calloc(maxpaths, sizeof(*paths));
	struct holders *hs = calloc(1, sizeof(*hs));
	size_t np = 0;
	if (in && obj.reached && paths && hs) {
		/* the path the mark found first, then one through each other holder
		 * of the object: a word in another reached object that may hold a
		 * pointer, or a root's. An object the mark did not reach has no
		 * path: the words that hold its address are not pointers the GC
		 * follows (a uintptr, a dead stack slot, bytes). */
		struct retain_path *p = &paths[0];
		p->n = hg_path(g, addr, p->steps, 128, &p->root, p->root_via, sizeof(p->root_via));
		if (p->n)
			np++;
		uint64_t first_from = p->n ? p->steps[0].from : 0;
		holders_find(t, obj.addr, obj.addr + (obj.size ? obj.size - 1 : 0), hs);
		for (size_t k = 0; k < hs->n && np < maxpaths; k++) {
			uint64_t at = hs->h[k].at;
			struct hg_object ho;
			if (at == first_from || (at >= obj.addr && at < obj.addr + obj.size))
				continue;
			if (hg_object_of(g, at, &ho) && (!ho.reached || ho.noscan))
				continue; /* garbage or pointer-free memory holding it: not a path */
			p = &paths[np];
			p->n = hg_path_from(g, addr, at, p->steps, 128, &p->root, p->root_via,
					    sizeof(p->root_via));
			if (!p->n || p->root.kind == HG_ROOT_NKINDS)
				continue;
			/* a holder whose own path is one already listed adds nothing */
			bool dup = false;
			for (size_t q = 0; q < np && !dup; q++)
				dup = paths[q].n == p->n && paths[q].n > 1 &&
				      paths[q].steps[1].obj.addr == p->steps[1].obj.addr;
			if (!dup)
				np++;
		}
	}
	uint64_t ret_objs = 0, ret_bytes = 0;
	bool retained = false;
	if (in && obj.reached && cli_flag(a, "--retained")) {
		if ((err = hg_retained(g, addr, &ret_objs, &ret_bytes))) {
			if (err->code == CT_ERR_NOMEM) {
				free(paths);
				free(hs);
				hg_destroy(g);
				cli_close(cli, t);
				return cli_fail(cli, err);
			}
			target_warn(t, "retained size: %s", err->msg);
			ct_error_destroy(err);
		} else {
			retained = true;
		}
	}
	struct out *o = &cli->out;
	if (cli->json) {
		out_obj_begin(o);
		out_khex(o, "addr", addr);
		out_key(o, "object");
		if (in) {
			out_obj_begin(o);
			out_khex(o, "addr", obj.addr);
			out_kuint(o, "size", obj.size);
			out_kstr(o, "type", obj.type);
			out_kbool(o, "reached", obj.reached);
			if (retained) {
				out_key(o, "retained");
				out_obj_begin(o);
				out_kuint(o, "objects", ret_objs);
				out_kuint(o, "bytes", ret_bytes);
				out_obj_end(o);
			}
			out_obj_end(o);
		} else
			out_null(o);
		out_key(o, "paths");
		out_arr_begin(o);
		for (size_t k = 0; k < np; k++) {
			char *text = path_text(&paths[k]);
			path_json(o, &paths[k], text);
			free(text);
		}
		out_arr_end(o);
		out_obj_end(o);
		out_end_line(o);
	} else {
		FILE *f = o->f;
		if (!in)
			fprintf(f, "0x%" PRIx64 ": not in an allocated Go heap object\n", addr);
		else {
			fprintf(f, "0x%" PRIx64 ": in %s @0x%" PRIx64 " (%" PRIu64 " bytes)%s\n", addr,
				obj.type ? obj.type : "an untyped object", obj.addr, obj.size,
				obj.reached ? "" : ", not reachable from any root");
			if (retained)
				fprintf(f, "  retains %" PRIu64 " objects, %" PRIu64
					   " bytes (itself and what only it keeps alive)\n",
					ret_objs, ret_bytes);
			for (size_t k = 0; k < np; k++) {
				char *text = path_text(&paths[k]);
				fprintf(f, "  %s\n", text ? text : "");
				free(text);
			}
		}
	}
	free(paths);
	free(hs);
	hg_destroy(g);
	int rc = cli_warnings(cli, t) != CT_EXIT_OK ? CT_EXIT_PARTIAL : CT_EXIT_OK;
	cli_close(cli, t);
	return rc;
}
