#define _GNU_SOURCE
#include "api.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gochan.h"
#include "gomap.h"
#include "gotype.h"
#include "govalue.h"
#include "gdbsyntax.h"
#include "gview.h"
#include "target.h"

struct ct_session {
	struct target *t;
	ct_read_fn read;
	void *arg;
	/* Built on first use by the map and value calls, kept for the session. */
	struct gomap_ctx *maps;
	struct govalue *gv;
	bool live;
	/* The read callback said CT_READ_CANCEL during the call under way: no
	 * more reads, and the call returns CT_INTERRUPTED. */
	bool cancelled;
};

static char *api_strdup_err(struct ct_error *err)
{
	char *m = strdup(err->msg ? err->msg : "error");
	ct_error_destroy(err);
	return m;
}

ct_session *ct_open_core(const char *core, const char *exe, const char *sysroot, char **errmsg)
{
	ct_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	struct target_options opt = { .exe = exe, .sysroot = sysroot };
	struct ct_error *err = target_open_core(core, &opt, &s->t);
	if (err) {
		if (errmsg)
			*errmsg = api_strdup_err(err);
		else
			ct_error_destroy(err);
		free(s);
		return NULL;
	}
	return s;
}

static enum mem_status api_mem_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	ct_session *s = arg;
	if (s->cancelled)
		return MEM_UNMAPPED;
	int rc = s->read(s->arg, addr, buf, len);
	if (rc == CT_READ_CANCEL)
		s->cancelled = true;
	return rc == 0 ? MEM_OK : rc == 2 ? MEM_NOT_SAVED : MEM_UNMAPPED;
}

ct_session *ct_open_memory(ct_read_fn read, void *arg, const char *exe, uint64_t bias,
			   char **errmsg)
{
	ct_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->read = read;
	s->arg = arg;
	s->live = true;
	struct mem m = { api_mem_read, s, NULL, NULL, NULL };
	struct ct_error *err = target_open_mem(&m, exe, bias, &s->t);
	if (err) {
		if (errmsg)
			*errmsg = api_strdup_err(err);
		else
			ct_error_destroy(err);
		free(s);
		return NULL;
	}
	return s;
}

ct_session *ct_open_process(ct_read_fn read, void *arg, const char *exe, int64_t pid,
			    const char *maps, const struct ct_thread *threads, size_t nthreads,
			    char **errmsg)
{
	ct_session *s = calloc(1, sizeof(*s));
	struct target_live_thread *th = calloc(nthreads ? nthreads : 1, sizeof(*th));
	struct ct_error *err = NULL;
	if (!s || !th) {
		free(s);
		free(th);
		return NULL;
	}
	for (size_t i = 0; i < nthreads; i++)
		th[i] = (struct target_live_thread){ (int32_t)threads[i].tid, threads[i].sp,
						     threads[i].pc, threads[i].fp };
	s->read = read;
	s->arg = arg;
	s->live = true;
	struct mem m = { api_mem_read, s, NULL, NULL, NULL };
	err = target_open_live(&m, exe, (int32_t)pid, maps, th, nthreads, &s->t);
	free(th);
	if (s->cancelled && !err)
		err = ct_error_fmt(CT_ERR_IO, "interrupted");
	if (err) {
		if (errmsg)
			*errmsg = api_strdup_err(err);
		else
			ct_error_destroy(err);
		target_close(s->t);
		free(s);
		return NULL;
	}
	return s;
}

void ct_set_debug_dirs(const char *dirs)
{
	target_set_debug_dirs(dirs);
}

void ct_close(ct_session *s)
{
	if (!s)
		return;
	govalue_destroy(s->gv);
	gomap_ctx_destroy(s->maps);
	target_close(s->t);
	free(s);
}

/* Verbs flagged CLI_VERB_NEEDS_CORE read the core's threads, registers, notes
 * or segment table: over a memory callback (a live process in gdb) they have
 * nothing to read them from. The others (maps, map, heap, goroutines,
 * classify) work from memory and DWARF; classify knows the mappings, thread
 * stacks and the C heap too when they were handed over (ct_open_process). */
int ct_verb_needs_core(const char *verb)
{
	const struct cli_verb *v = cli_find_verb(verb);
	return v && (v->flags & CLI_VERB_NEEDS_CORE);
}

int ct_run(ct_session *s, int argc, const char *const *argv, int json, char **out, char **err)
{
	char *obuf = NULL, *ebuf = NULL;
	if (argc >= 1 && s->live && ct_verb_needs_core(argv[0])) {
		if (out)
			*out = NULL;
		if (err && asprintf(err, "coretool: %s needs a core file: the signal, the notes and "
				    "every thread's registers are a core's (write one with gdb's "
				    "`gcore FILE`)\n", argv[0]) < 0)
			*err = NULL;
		return CT_EXIT_FATAL;
	}
	size_t olen = 0, elen = 0;
	FILE *of = open_memstream(&obuf, &olen), *ef = open_memstream(&ebuf, &elen);
	if (!of || !ef || argc < 1) {
		if (of)
			fclose(of);
		if (ef)
			fclose(ef);
		free(obuf);
		free(ebuf);
		return CT_EXIT_FATAL;
	}
	/* The verbs take the core as their first argument: put a placeholder
	 * there; cli_open hands back the session's target instead. */
	char **av = calloc(argc + 2, sizeof(*av));
	int ac = 0;
	av[ac++] = (char *)argv[0];
	av[ac++] = "(session)";
	for (int i = 1; i < argc; i++)
		av[ac++] = (char *)argv[i];
	struct cli cli = { 0 };
	s->cancelled = false;
	cli.err = ef;
	cli.json = json != 0;
	cli.preopened = s->t;
	out_init(&cli.out, of, cli.json);
	cli.out.pretty = true;
	int rc = cli_run_verb(&cli, ac, av);
	free(av);
	fclose(of);
	fclose(ef);
	if (s->cancelled) {
		/* What came after the cancel was read as unmapped: not the process. */
		free(obuf);
		free(ebuf);
		obuf = NULL;
		ebuf = strdup("coretool: interrupted\n");
		rc = CT_INTERRUPTED;
	}
	if (out)
		*out = obuf;
	else
		free(obuf);
	if (err)
		*err = ebuf;
	else
		free(ebuf);
	return rc;
}

/* ---- Go maps and values ---- */

/* A call whose reads were cancelled: nothing it found is the process's. */
static int api_interrupted(char **errmsg)
{
	if (errmsg)
		*errmsg = strdup("interrupted");
	return CT_INTERRUPTED;
}

static int api_fail(struct ct_error *err, char **errmsg)
{
	if (errmsg)
		*errmsg = api_strdup_err(err);
	else
		ct_error_destroy(err);
	return CT_EXIT_FATAL;
}

static struct ct_error *api_models(ct_session *s)
{
	struct ct_error *err;
	if (!s->t->go)
		return ct_error_fmt(CT_ERR_NOTFOUND, "not a Go program (no Go runtime in the DWARF)");
	if (!s->maps && (err = gomap_ctx_create(s->t->go, &s->maps)))
		return err;
	if (!s->gv && (err = govalue_create(s->t->go, s->maps, NULL, &s->gv)))
		return err;
	return NULL;
}

static struct ct_error *api_map(ct_session *s, uint64_t addr, const char *type, struct gomap *m)
{
	struct gomap_type mt;
	struct ct_error *err;
	if (!type)
		return ct_error_fmt(CT_ERR_USAGE, "no map type given");
	if ((err = api_models(s)) || (err = gomap_type_by_name(s->maps, type, &mt)))
		return err;
	return gomap_read(s->maps, &mt, addr, m);
}

/* api_map for an API call: 0, or the call's status (interrupted, or the
 * error in *errmsg). */
static int api_open_map(ct_session *s, uint64_t addr, const char *type, struct gomap *m,
			char **errmsg)
{
	s->cancelled = false;
	struct ct_error *err = api_map(s, addr, type, m);
	if (s->cancelled) {
		ct_error_destroy(err);
		return api_interrupted(errmsg);
	}
	return err ? api_fail(err, errmsg) : 0;
}

int ct_map_info(ct_session *s, uint64_t addr, const char *type, struct ct_map_info *ret,
		char **errmsg)
{
	struct gomap m;
	int rc = api_open_map(s, addr, type, &m, errmsg);
	if (rc)
		return rc;
	memset(ret, 0, sizeof(*ret));
	const struct gomap_type *t = &m.type;
	ret->addr = m.addr;
	ret->count = m.count;
	ret->swiss = t->impl == GO_MAP_SWISS;
	ret->key_indirect = t->key_indirect;
	ret->elem_indirect = t->elem_indirect;
	ret->slots = t->slots;
	ret->key_size = t->key_size;
	ret->elem_size = t->elem_size;
	ret->type = t->name;
	ret->key_type = t->key_name;
	ret->elem_type = t->elem_name;
	ret->impl = go_map_impl_name(t->impl);
	ret->B = m.B;
	ret->buckets = m.buckets;
	ret->oldbuckets = m.oldbuckets;
	ret->nevacuate = m.nevacuate;
	ret->noverflow = m.noverflow;
	ret->dir_ptr = m.dir_ptr;
	ret->dir_len = m.dir_len;
	ret->global_depth = m.global_depth;
	gomap_growth_str(s->maps, &m, ret->growth, sizeof(ret->growth));
	gomap_flags_str(s->maps, &m, ret->flags, sizeof(ret->flags));
	return CT_EXIT_OK;
}

struct api_walk {
	ct_session *s;
	ct_map_entry_fn entry;
	ct_map_unit_fn unit;
	void *arg;
};

static bool api_walk_entry(void *arg, const struct gomap *m, const struct gomap_entry *e)
{
	struct api_walk *w = arg;
	(void)m;
	uint32_t flags = (e->key_ok ? 0 : CT_MAP_KEY_BAD) | (e->elem_ok ? 0 : CT_MAP_ELEM_BAD);
	return w->entry(w->arg, e->key_addr, e->elem_addr, flags) != 0;
}

static bool api_walk_group(void *arg, const struct gomap *m, const struct gomap_group *g)
{
	struct api_walk *w = arg;
	struct ct_map_unit u = {
		.kind = g->kind == GOMAP_GROUP ? CT_MAP_GROUP :
			g->kind == GOMAP_OLDBUCKET ? CT_MAP_OLDBUCKET : CT_MAP_BUCKET,
		.nslots = m->type.slots < 8 ? m->type.slots : 8,
		.addr = g->addr,
		.index = g->index,
		.chain = g->chain,
		.overflow = g->overflow,
		.evacuated = g->evacuated,
		.table = g->table ? g->table->addr : 0,
	};
	for (unsigned i = 0; i < u.nslots; i++) {
		u.ctrl[i] = g->ctrl[i];
		u.state[i] = gomap_slot_state(w->s->maps, m->type.impl, g->ctrl[i]);
		u.live += !strcmp(u.state[i], "live") || !strcmp(u.state[i], "full");
	}
	return w->unit(w->arg, &u) != 0;
}

static void api_table_unit(const struct gomap_table *t, int kind, struct ct_map_unit *u)
{
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->addr = t->addr;
	u->dir_index = t->dir_index;
	u->dir_count = t->dir_count;
	u->table_index = t->index;
	u->used = t->used;
	u->capacity = t->capacity;
	u->growth_left = t->growth_left;
	u->local_depth = t->local_depth;
	u->groups = t->groups;
	u->ngroups = t->ngroups;
	u->full = t->full;
	u->deleted = t->deleted;
	u->empty = t->empty;
}

static bool api_walk_table(void *arg, const struct gomap *m, const struct gomap_table *t)
{
	struct api_walk *w = arg;
	struct ct_map_unit u;
	(void)m;
	api_table_unit(t, CT_MAP_TABLE, &u);
	return w->unit(w->arg, &u) != 0;
}

static bool api_walk_table_end(void *arg, const struct gomap *m, const struct gomap_table *t)
{
	struct api_walk *w = arg;
	struct ct_map_unit u;
	(void)m;
	api_table_unit(t, CT_MAP_TABLE_END, &u);
	return w->unit(w->arg, &u) != 0;
}

/* A walk's health as the API gives it. */
static void api_health(struct ct_map_health *out, const struct gomap_health *h, uint64_t count,
		       bool bad)
{
	memset(out, 0, sizeof(*out));
	out->ok = !bad;
	out->complete = h->complete || h->stopped_by_caller;
	out->stopped_by_caller = h->stopped_by_caller;
	out->nissues = h->nissues + h->issues_dropped;
	out->count = count;
	out->live = h->live;
	snprintf(out->summary, sizeof(out->summary), "%s", gomap_health_summary(h));
	if (h->stopped[0] && !h->stopped_by_caller)
		snprintf(out->stopped, sizeof(out->stopped), "%s", h->stopped);
}

int ct_map_walk(ct_session *s, uint64_t addr, const char *type, ct_map_entry_fn entry,
		ct_map_unit_fn unit, void *arg, struct ct_map_health *health, char **errmsg)
{
	struct gomap m;
	int rc = api_open_map(s, addr, type, &m, errmsg);
	if (rc)
		return rc;
	struct api_walk w = { .s = s, .entry = entry, .unit = unit, .arg = arg };
	struct gomap_visitor v = { .arg = &w };
	if (entry)
		v.entry = api_walk_entry;
	if (unit) {
		v.group = api_walk_group;
		v.table = api_walk_table;
		v.table_end = api_walk_table_end;
	}
	struct gomap_health *h = calloc(1, sizeof(*h));
	if (!h)
		return api_fail(ct_error_fmt(CT_ERR_NOMEM, "out of memory"), errmsg);
	struct ct_error *err = gomap_walk(s->maps, &m, &v, h);
	if (s->cancelled) {
		ct_error_destroy(err);
		free(h);
		return api_interrupted(errmsg);
	}
	if (err) {
		free(h);
		return api_fail(err, errmsg);
	}
	bool bad = gomap_health_bad(h);
	if (health)
		api_health(health, h, m.count, bad);
	free(h);
	return bad ? CT_EXIT_PARTIAL : CT_EXIT_OK;
}

/* ct_map_render_batch: one entry's key or value, as a line of the batch. */
struct api_batch {
	ct_session *s;
	FILE *f;
	uint64_t skip, max, n;
	int kkind, ekind;
	uint64_t ksize, esize;
	struct gdbsyn_opts opts;
};

static void api_batch_item(struct api_batch *b, int kind, uint64_t size, uint64_t addr, bool ok)
{
	if (!ok) {
		fprintf(b->f, "!%" PRIx64 "\n", addr);
		return;
	}
	fputc('=', b->f);
	long at = ftell(b->f);
	if (kind < 0 || !gdbsyn_write(b->s->t->go, kind, size, addr, &b->opts, b->f)) {
		/* refused: nothing was written after the tag, which becomes '@' */
		fseek(b->f, at - 1, SEEK_SET);
		fprintf(b->f, "@%" PRIx64, addr);
	}
	fputc('\n', b->f);
}

static bool api_batch_entry(void *arg, const struct gomap *m, const struct gomap_entry *e)
{
	struct api_batch *b = arg;
	(void)m;
	if (b->skip) {
		b->skip--;
		return true;
	}
	api_batch_item(b, b->kkind, b->ksize, e->key_addr, e->key_ok);
	api_batch_item(b, b->ekind, b->esize, e->elem_addr, e->elem_ok);
	return ++b->n < b->max;
}

int ct_map_render_batch(ct_session *s, uint64_t addr, const char *type, uint64_t start,
			uint64_t max, uint32_t max_string, uint32_t repeats, char **out,
			uint64_t *n, struct ct_map_health *health, char **errmsg)
{
	struct gomap m;
	*out = NULL;
	*n = 0;
	int rc = api_open_map(s, addr, type, &m, errmsg);
	if (rc)
		return rc;
	if (!max)
		max = UINT64_MAX;
	struct api_batch b = { .s = s, .skip = start, .max = max,
			       .opts = { .max_string = max_string, .repeats = repeats } };
	b.kkind = gdbsyn_kind(&m.type.key, &b.ksize);
	b.ekind = gdbsyn_kind(&m.type.elem, &b.esize);
	char *buf = NULL;
	size_t len = 0;
	b.f = open_memstream(&buf, &len);
	struct gomap_health *h = calloc(1, sizeof(*h));
	if (!b.f || !h) {
		if (b.f)
			fclose(b.f);
		free(buf);
		free(h);
		return api_fail(ct_error_fmt(CT_ERR_NOMEM, "out of memory"), errmsg);
	}
	struct gomap_visitor v = { .arg = &b, .entry = api_batch_entry };
	struct ct_error *err = gomap_walk(s->maps, &m, &v, h);
	fclose(b.f);
	if (s->cancelled || err) {
		free(buf);
		free(h);
		if (s->cancelled) {
			ct_error_destroy(err);
			return api_interrupted(errmsg);
		}
		return api_fail(err, errmsg);
	}
	bool bad = gomap_health_bad(h);
	if (health)
		api_health(health, h, m.count, bad);
	free(h);
	*out = buf;
	*n = b.n;
	return bad ? CT_EXIT_PARTIAL : CT_EXIT_OK;
}

int ct_render(ct_session *s, const char *type, uint64_t addr, int json, char **out, char **errmsg)
{
	struct ct_error *err;
	Dwarf_Die die;
	*out = NULL;
	if ((err = api_models(s)))
		return api_fail(err, errmsg);
	if (!type || !dw_type(s->t->dw, type, &die))
		return api_fail(ct_error_fmt(CT_ERR_NOTFOUND, "no type '%s' in the DWARF",
					     type ? type : ""), errmsg);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return api_fail(ct_error_fmt(CT_ERR_NOMEM, "out of memory"), errmsg);
	struct out o;
	out_init(&o, f, json != 0);
	uint64_t bad = 0;
	s->cancelled = false;
	err = govalue_render(s->gv, &o, &die, addr, &bad);
	fclose(f);
	if (s->cancelled) {
		ct_error_destroy(err);
		free(buf);
		return api_interrupted(errmsg);
	}
	if (err) {
		free(buf);
		return api_fail(err, errmsg);
	}
	*out = buf;
	return bad ? CT_EXIT_PARTIAL : CT_EXIT_OK;
}

/* ---- channels and interfaces ---- */

static struct ct_error *api_type(ct_session *s, const char *type, Dwarf_Die *die)
{
	struct ct_error *err;
	if ((err = api_models(s)))
		return err;
	if (!type || !dw_type(s->t->dw, type, die))
		return ct_error_fmt(CT_ERR_NOTFOUND, "no type '%s' in the DWARF", type ? type : "");
	return NULL;
}

int ct_chan_info(ct_session *s, uint64_t addr, const char *type, struct ct_chan_info *ret,
		 char **errmsg)
{
	struct ct_error *err;
	Dwarf_Die die;
	struct gochan c;
	memset(ret, 0, sizeof(*ret));
	s->cancelled = false;
	if ((err = api_type(s, type, &die)) || (err = gochan_read(s->t->go, &die, addr, &c))) {
		if (s->cancelled) {
			ct_error_destroy(err);
			return api_interrupted(errmsg);
		}
		return api_fail(err, errmsg);
	}
	if (s->cancelled)
		return api_interrupted(errmsg);
	ret->addr = c.addr;
	ret->qcount = c.qcount;
	ret->dataqsiz = c.dataqsiz;
	ret->buf = c.buf;
	ret->elemsize = c.elemsize;
	ret->sendx = c.sendx;
	ret->recvx = c.recvx;
	ret->closed = c.closed;
	ret->waiters_partial = c.waiters_partial;
	ret->recvq = c.nrecvq;
	ret->sendq = c.nsendq;
	if (c.elem_ok) {
		ret->elem_type = govalue_type_name(&c.elem);
		dw_size(&c.elem, &ret->elem_type_size);
	}
	snprintf(ret->bad, sizeof(ret->bad), "%s", c.bad);
	return CT_EXIT_OK;
}

uint64_t ct_chan_slot(const struct ct_chan_info *c, uint64_t i)
{
	struct gochan g = { .qcount = c->qcount, .dataqsiz = c->dataqsiz, .buf = c->buf,
			    .elemsize = c->elemsize, .recvx = c->recvx };
	snprintf(g.bad, sizeof(g.bad), "%s", c->bad);
	return gochan_slot(&g, i);
}

int ct_iface_info(ct_session *s, const char *type, uint64_t type_word, uint64_t data_word,
		  struct ct_iface_info *ret, char **errmsg)
{
	struct ct_error *err;
	Dwarf_Die die, st;
	memset(ret, 0, sizeof(*ret));
	s->cancelled = false;
	if ((err = api_type(s, type, &die)))
		return api_fail(err, errmsg);
	struct govalue_iface fi;
	bool direct = false;
	if (!dw_peel(&die, &st) || !govalue_iface_words(s->gv, &st, type_word, data_word, &fi, &direct))
		return api_fail(ct_error_fmt(CT_ERR_USAGE, "'%s' is not a Go interface type", type),
				errmsg);
	ret->nil = fi.nil;
	ret->rtype = fi.rtype;
	ret->data = fi.data;
	if (!fi.nil && fi.rtype)
		govalue_rtype_name(s->gv, fi.rtype, ret->rt_name, sizeof(ret->rt_name));
	if (s->cancelled)
		return api_interrupted(errmsg);
	ret->known = fi.known;
	ret->direct = direct;
	ret->value_addr = fi.value_addr;
	if (fi.known) {
		ret->type = govalue_type_name(&fi.type);
		dw_size(&fi.type, &ret->size);
	}
	return CT_EXIT_OK;
}

/* ---- goroutines ---- */

_Static_assert(CT_NREGS == CORE_NREGS, "ct_thread_regs mirrors NT_PRSTATUS");

int ct_type_info(ct_session *s, const char *type_name, struct ct_type_info *out, char **errmsg)
{
	struct gotype_info ti;
	struct ct_error *err;
	s->cancelled = false;
	if ((err = api_models(s)) ||
	    (err = gotype_info_by_name(s->maps, s->t->go->dw, type_name, &ti)))
		return api_fail(err, errmsg);
	memset(out, 0, sizeof(*out));
	out->kind = ti.kind;
	out->named = ti.named;
	out->swiss = ti.kind != GO_KIND_MAP || ti.map_impl == GO_MAP_UNKNOWN ? -1
		     : ti.map_impl == GO_MAP_SWISS;
	out->key_indirect = ti.key_indirect;
	out->elem_indirect = ti.elem_indirect;
	out->size = ti.size;
	out->len = ti.len;
	out->key_size = ti.key_size;
	out->elem_size = ti.elem_size;
	out->name = ti.name;
	out->kind_name = ti.kind_name;
	out->key_type = ti.key;
	out->elem_type = ti.elem;
	out->impl = ti.kind != GO_KIND_MAP ? "" : ti.map_impl == GO_MAP_UNKNOWN ? "unknown"
						 : go_map_impl_name(ti.map_impl);
	snprintf(out->underlying, sizeof(out->underlying), "%s", ti.underlying);
	snprintf(out->map_error, sizeof(out->map_error), "%s", ti.map_error);
	return CT_EXIT_OK;
}

static void api_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

int ct_goroutines(ct_session *s, int all, struct ct_goroutine **ret, size_t *n, char **errmsg)
{
	*ret = NULL;
	*n = 0;
	const struct go_sched *gs;
	const struct ct_error *serr = target_go_sched(s->t, &gs);
	if (serr)
		return api_fail(ct_error_fmt(serr->code, "no goroutines: %s", serr->msg), errmsg);
	struct ct_goroutine *out = calloc(gs->ngs ? gs->ngs : 1, sizeof(*out));
	struct backtrace *bt = malloc(sizeof(*bt));
	if (!out || !bt) {
		free(out);
		free(bt);
		return api_fail(ct_error_fmt(CT_ERR_NOMEM, "out of memory"), errmsg);
	}
	size_t k = 0;
	for (size_t i = 0; i < gs->ngs; i++) {
		const struct go_g *g = &gs->gs[i];
		bool dead = g->status == gs->st_dead;
		if (dead && !all)
			continue;
		struct gview v;
		gview_describe(s->t, gs, g, bt, &v);
		struct ct_goroutine *r = &out[k++];
		r->id = g->goid;
		r->g = g->addr;
		r->thread = v.tid;
		r->pc = v.pc;
		r->sp = v.sp;
		r->bp = v.bp;
		r->from = v.from == GVIEW_THREAD ? CT_G_FROM_THREAD :
			  v.from == GVIEW_SYSCALL ? CT_G_FROM_SYSCALL : CT_G_FROM_SCHED;
		r->dead = dead;
		r->stack_lo = g->stack_lo;
		r->stack_hi = g->stack_hi;
		r->gopc = g->gopc;
		api_copy(r->status, sizeof(r->status), go_g_status_name(gs, g->status));
		api_copy(r->wait_reason, sizeof(r->wait_reason), v.reason);
		r->nframes = (uint32_t)bt->n;
		if (v.top) {
			r->func = v.top->func;
			r->file = v.top->file;
			r->line = v.top->line;
		}
		if (v.user) {
			r->user_func = v.user->func;
			r->user_file = v.user->file;
			r->user_line = v.user->line;
		}
		r->go_func = v.created.func;
		r->go_file = v.created.file;
		r->go_line = v.created.line;
	}
	free(bt);
	*ret = out;
	*n = k;
	return gs->partial ? CT_EXIT_PARTIAL : CT_EXIT_OK;
}

int ct_set_threads(ct_session *s, const struct ct_thread_regs *threads, size_t n, char **errmsg)
{
	if (n && !threads)
		return api_fail(ct_error_fmt(CT_ERR_USAGE, "no threads given"), errmsg);
	struct core_thread *th = n ? calloc(n, sizeof(*th)) : NULL;
	if (n && !th)
		return api_fail(ct_error_fmt(CT_ERR_NOMEM, "out of memory"), errmsg);
	for (size_t i = 0; i < n; i++) {
		if (threads[i].tid <= 0 || threads[i].tid > INT32_MAX) {
			free(th);
			return api_fail(ct_error_fmt(CT_ERR_USAGE, "thread %zu: tid %" PRId64 " is not a "
						     "thread id", i, threads[i].tid), errmsg);
		}
		th[i].tid = (int32_t)threads[i].tid;
		memcpy(th[i].regs, threads[i].regs, sizeof(th[i].regs));
	}
	struct ct_error *err = target_set_threads(s->t, th, n);
	free(th);
	return err ? api_fail(err, errmsg) : CT_EXIT_OK;
}

/* ---- the verbs' own descriptions ---- */

int ct_has_verb(const char *verb)
{
	return cli_find_verb(verb) != NULL;
}

char *ct_verb_help(const char *verb)
{
	const struct cli_verb *v = cli_find_verb(verb);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	if (!v || !(f = open_memstream(&buf, &len)))
		return NULL;
	cli_verb_help(v, f);
	fclose(f);
	return buf;
}

/* What write puts out as JSON, in a string of its own (ct_free); NULL when
 * out of memory. */
static char *api_json_string(void (*write)(struct out *o))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	struct out o;
	out_init(&o, f, true);
	write(&o);
	fclose(f);
	return buf;
}

char *ct_verbs_json(void)
{
	return api_json_string(cli_verbs_json);
}

static void api_map_legend(struct out *o)
{
	out_obj_begin(o);
	static const enum go_map_impl impls[] = { GO_MAP_CLASSIC, GO_MAP_SWISS };
	for (size_t i = 0; i < 2; i++) {
		size_t n;
		const struct gomap_mark *m = gomap_marks_of(impls[i], &n);
		out_key(o, go_map_impl_name(impls[i]));
		out_obj_begin(o);
		out_kstr(o, "line", gomap_legend_line(impls[i]));
		out_key(o, "states");
		out_arr_begin(o);
		for (size_t j = 0; j < n; j++) {
			out_obj_begin(o);
			out_kstr(o, "state", m[j].state);
			out_key(o, "mark");
			if (m[j].mark)
				out_str(o, m[j].mark);
			else
				out_null(o);
			out_kstr(o, "meaning", m[j].meaning);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_obj_end(o);
	}
	out_obj_end(o);
}

char *ct_map_legend_json(void)
{
	return api_json_string(api_map_legend);
}

size_t ct_struct_size(const char *name)
{
	if (!name)
		return 0;
	if (!strcmp(name, "ct_map_info"))
		return sizeof(struct ct_map_info);
	if (!strcmp(name, "ct_map_unit"))
		return sizeof(struct ct_map_unit);
	if (!strcmp(name, "ct_map_health"))
		return sizeof(struct ct_map_health);
	if (!strcmp(name, "ct_goroutine"))
		return sizeof(struct ct_goroutine);
	if (!strcmp(name, "ct_thread_regs"))
		return sizeof(struct ct_thread_regs);
	if (!strcmp(name, "ct_thread"))
		return sizeof(struct ct_thread);
	if (!strcmp(name, "ct_type_info"))
		return sizeof(struct ct_type_info);
	if (!strcmp(name, "ct_chan_info"))
		return sizeof(struct ct_chan_info);
	if (!strcmp(name, "ct_iface_info"))
		return sizeof(struct ct_iface_info);
	return 0;
}

int ct_is_live(ct_session *s)
{
	return s && s->live;
}

void ct_free(void *p)
{
	free(p);
}

const char *ct_version(void)
{
	return "0.1";
}
