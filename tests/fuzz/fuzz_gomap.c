/* Harness (c): the Go map walkers (classic buckets and Swiss tables/groups),
 * their header checks and health, the search for maps from globals, and the
 * rendering of keys and values (govalue) as JSON, over a memory image recorded
 * from a real sample core (mkseed gomap) with the fuzzer's changes, and the
 * real executable's DWARF. The JSON written must stay valid whatever memory
 * holds.
 *
 * Input: u8 exe index | u64 load bias | u8 flags (bit 0: search the globals)
 *        | u8 n | n x { u8 len | type name ("map[string]int") | u64 header }
 *        | image records (fuzz_common.h). */
#include "fuzz_common.h"

#include "gomap.h"
#include "govalue.h"
#include "out.h"

static struct fz_exes exes;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_exes_open(&exes);
	fz_record_init();
	return 0;
}

struct walk {
	struct govalue *gv;
	struct out *o;
	uint64_t entries, groups, tables;
};

static bool on_entry(void *arg, const struct gomap *m, const struct gomap_entry *e)
{
	struct walk *w = arg;
	if (++w->entries > 64)
		return w->entries < 100000; /* render a few, walk on for the health */
	Dwarf_Die kt = m->type.key, vt = m->type.elem;
	uint64_t bad = 0;
	out_obj_begin(w->o);
	out_key(w->o, "key");
	govalue_render(w->gv, w->o, &kt, e->key_addr, &bad);
	out_key(w->o, "value");
	govalue_render(w->gv, w->o, &vt, e->elem_addr, &bad);
	out_obj_end(w->o);
	return true;
}

static bool on_group(void *arg, const struct gomap *m, const struct gomap_group *g)
{
	(void)m;
	struct walk *w = arg;
	if (g->table && g->table->ngroups == 0)
		abort(); /* a group of a table without groups */
	return ++w->groups < 1000000;
}

static bool on_table(void *arg, const struct gomap *m, const struct gomap_table *t)
{
	(void)m;
	(void)t;
	struct walk *w = arg;
	return ++w->tables < 100000;
}

static void walk_map(const struct gomap_ctx *ctx, struct govalue *gv, struct out *o,
		     const struct gomap_type *type, uint64_t addr)
{
	struct gomap m;
	struct ct_error *err = gomap_read(ctx, type, addr, &m);
	if (err) {
		FZ_DROP(err);
		return;
	}
	char buf[256];
	gomap_growth_str(ctx, &m, buf, sizeof(buf));
	gomap_flags_str(ctx, &m, buf, sizeof(buf));
	struct gomap_health hc = { 0 };
	gomap_check_header(ctx, &m, &hc);
	struct walk w = { .gv = gv, .o = o };
	struct gomap_visitor v = { on_entry, on_group, on_table, NULL, &w };
	struct gomap_health h;
	out_key(o, "entries");
	out_arr_begin(o);
	err = gomap_walk(ctx, &m, &v, &h);
	out_arr_end(o);
	if (err) {
		if (err->code != CT_ERR_NOMEM)
			abort(); /* damage is health, not an error (gomap.h) */
		FZ_DROP(err);
		return;
	}
	if (h.nissues > GOMAP_MAX_ISSUES)
		abort();
	out_kstr(o, "health", gomap_health_summary(&h));
	for (unsigned i = 0; i < h.nissues; i++)
		out_kstr(o, "issue", h.issues[i]);
	out_kstr(o, "stopped", h.stopped);
	(void)gomap_health_bad(&h);
}

struct found {
	const struct gomap_ctx *ctx;
	struct govalue *gv;
	struct out *o;
	unsigned n;
};

static bool on_found(void *arg, const struct gomap_found *f)
{
	struct found *fd = arg;
	struct gomap_type t;
	struct ct_error *err = gomap_type_from_die(fd->ctx, f->type, &t);
	if (err) {
		FZ_DROP(err);
		return true;
	}
	out_key(fd->o, "map");
	out_obj_begin(fd->o);
	out_kstr(fd->o, "path", f->path);
	walk_map(fd->ctx, fd->gv, fd->o, &t, f->addr);
	out_obj_end(fd->o);
	return ++fd->n < 64;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t exe = fz_u8(&in);
	const struct dw *dw = fz_exe(&exes, exe);
	uint64_t bias = fz_u64(&in);
	uint8_t flags = fz_u8(&in);
	struct {
		char name[256];
		uint64_t addr;
	} q[8];
	size_t nq = fz_u8(&in) % 9;
	for (size_t i = 0; i < nq; i++) {
		size_t len = fz_u8(&in);
		fz_take(&in, q[i].name, len);
		q[i].name[len] = 0;
		q[i].addr = fz_u64(&in);
	}
	if (!dw)
		return 0;
	struct fz_image img;
	fz_image_parse(&in, &img);
	struct mem mem = fz_mem(&img);
	if (fz_rec)
		bias = fz_rec->t->bias;

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	struct out o;
	out_init(&o, f, true);

	struct go_rt *rt = NULL;
	struct gomap_ctx *ctx = NULL;
	struct govalue *gv = NULL;
	struct ct_error *err = go_rt_open(dw, &mem, bias, &rt);
	FZ_DROP(err);
	if (!rt)
		goto out;
	if ((err = gomap_ctx_create(rt, &ctx)) || (err = govalue_create(rt, ctx, NULL, &gv))) {
		FZ_DROP(err);
		goto out;
	}
	out_obj_begin(&o);
	for (size_t i = 0; i < nq; i++) {
		struct gomap_type t;
		err = gomap_type_by_name(ctx, q[i].name, &t);
		if (err) {
			FZ_DROP(err);
			continue;
		}
		out_key(&o, "map");
		out_obj_begin(&o);
		walk_map(ctx, gv, &o, &t, q[i].addr);
		out_obj_end(&o);
	}
	if (flags & 1) {
		struct gomap_find_opts opts = GOMAP_FIND_DEFAULTS;
		opts.max_objects = 2000;
		opts.max_elems = 256;
		struct found fd = { ctx, gv, &o, 0 };
		struct gomap_find_stats st;
		out_key(&o, "found");
		out_obj_begin(&o);
		err = gomap_foreach_global_map(ctx, &opts, on_found, &fd, &st);
		out_obj_end(&o);
		FZ_DROP(err);
	}
	out_obj_end(&o);
	out_end_line(&o);
out:
	fclose(f);
	if (len && !fz_json_valid(buf, len)) {
		fprintf(stderr, "invalid JSON from the map walk:\n%.*s\n", (int)(len < 4000 ? len : 4000), buf);
		abort();
	}
	free(buf);
	govalue_destroy(gv);
	gomap_ctx_destroy(ctx);
	go_rt_close(rt);
	if (fz_rec) {
		struct fz_buf b = { 0 };
		fz_buf_put(&b, exe, 1);
		fz_buf_put(&b, bias, 8);
		fz_buf_put(&b, flags, 1);
		fz_buf_put(&b, nq, 1);
		for (size_t i = 0; i < nq; i++) {
			fz_buf_put(&b, strlen(q[i].name), 1);
			fz_buf_bytes(&b, q[i].name, strlen(q[i].name));
			fz_buf_put(&b, q[i].addr, 8);
		}
		fz_record_write(b.p, b.n, 64);
		free(b.p);
	}
	fz_image_free(&img);
	return 0;
}
