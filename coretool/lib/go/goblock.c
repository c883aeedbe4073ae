#include "goblock.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_util.h"
#include "dw.h"
#include "mem.h"

/* Bounds against damaged lists, far above real programs: a select has at
 * most 65536 cases (select.go: cas0 is [1<<16]scase); the semaphore treaps
 * hold one sudog per goroutine blocked on a semaphore. */
#define GOBLOCK_MAX_WAITLINK (1u << 16)
#define GOBLOCK_MAX_SUDOGS (1u << 22)

/* Where the wait reason puts a goroutine. The constant names are the
 * runtime's (runtime2.go); text is waitReasonStrings', used when the
 * executable's DWARF lacks the constant. */
enum wr_class { WR_CHAN, WR_SELECT, WR_NILCHAN, WR_SELECT_EMPTY, WR_SEMA, WR_COND, WR_SEMACQUIRE };
static const struct {
	const char *cname, *text;
	enum wr_class cls;
} wr_table[] = {
	{ "runtime.waitReasonChanReceive", "chan receive", WR_CHAN },
	{ "runtime.waitReasonChanSend", "chan send", WR_CHAN },
	{ "runtime.waitReasonSelect", "select", WR_SELECT },
	{ "runtime.waitReasonChanReceiveNilChan", "chan receive (nil chan)", WR_NILCHAN },
	{ "runtime.waitReasonChanSendNilChan", "chan send (nil chan)", WR_NILCHAN },
	{ "runtime.waitReasonSelectNoCases", "select (no cases)", WR_SELECT_EMPTY },
	{ "runtime.waitReasonSyncMutexLock", "sync.Mutex.Lock", WR_SEMA },
	{ "runtime.waitReasonSyncRWMutexRLock", "sync.RWMutex.RLock", WR_SEMA },
	{ "runtime.waitReasonSyncRWMutexLock", "sync.RWMutex.Lock", WR_SEMA },
	{ "runtime.waitReasonSyncWaitGroupWait", "sync.WaitGroup.Wait", WR_SEMA },
	{ "runtime.waitReasonSyncCondWait", "sync.Cond.Wait", WR_COND },
	/* Plain semaphores: sync.WaitGroup.Wait before Go 1.24, and the
	 * runtime's and internal/poll's own semaphores. */
	{ "runtime.waitReasonSemacquire", "semacquire", WR_SEMACQUIRE },
};
#define WR_N (sizeof(wr_table) / sizeof(wr_table[0]))

struct sema_ent {
	uint64_t g, elem, sg;
};

struct go_block_index {
	const struct go_rt *rt;
	const struct go_sched *s;
	/* runtime.g.waiting; runtime.sudog fields. elem and c are plain
	 * pointers before Go 1.26 and maybeTraceablePtr structs since (their
	 * address word, vu, is what these offsets point at). */
	struct dw_field g_waiting;
	uint64_t sg_g, sg_next, sg_prev, sg_elem, sg_waitlink, sg_c, sg_size;
	int64_t wr_value[WR_N]; /* -1: not in DWARF */
	bool have_leaked;
	uint32_t st_leaked;
	/* WaitGroup.Wait is the plain semacquire reason before 1.24. */
	bool semacquire_is_wg;
	struct sema_ent *sema; /* sorted by g */
	size_t nsema, cap_sema;
	bool sema_partial;
	char sema_note[96];
};

/* The offset of the address word of a pointer-like member: the member itself
 * when it is a pointer or uintptr, else (a maybeTraceablePtr, or a struct
 * embedding one) its "vu" member, looked for a few embeddings deep. */
static struct ct_error *addr_word(const struct dw *dw, const char *type, const char *member,
				  uint64_t *ret)
{
	Dwarf_Die st, m, t;
	uint64_t off;
	if (!dw_type(dw, type, &st) || !dw_member(&st, member, &off, &m))
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "%s.%s not in DWARF", type, member);
	for (int depth = 0; depth < 4; depth++) {
		if (!dw_type_of(&m, &t) || !dw_peel(&t, &t))
			break;
		int tag = dwarf_tag(&t);
		if (tag != DW_TAG_structure_type) {
			uint64_t size = 0;
			if (!dw_size(&t, &size) || size != 8)
				break;
			*ret = off;
			return NULL;
		}
		uint64_t o;
		Dwarf_Die sub;
		if (dw_member(&t, "vu", &o, &sub)) {
			*ret = off + o;
			return NULL;
		}
		/* Descend into the first member (the embedded maybeTraceablePtr). */
		struct dw_members it;
		const char *name;
		dw_members_begin(&t, &it);
		if (!dw_members_next(&it, &sub, &name, &o))
			break;
		off += o;
		m = sub;
	}
	return ct_error_fmt(CT_ERR_UNSUPPORTED, "%s.%s: not a pointer nor a maybeTraceablePtr",
			    type, member);
}

static struct ct_error *layout(struct go_block_index *ix)
{
	const struct dw *dw = ix->rt->dw;
	static const char *const sg = "runtime.sudog";
	struct ct_error *err;
	if ((err = dw_field(dw, "runtime.g", "waiting", &ix->g_waiting)) ||
	    (err = dw_struct_size(dw, sg, &ix->sg_size)) ||
	    (err = dw_member_offset(dw, sg, "g", &ix->sg_g)) ||
	    (err = dw_member_offset(dw, sg, "next", &ix->sg_next)) ||
	    (err = dw_member_offset(dw, sg, "prev", &ix->sg_prev)) ||
	    (err = dw_member_offset(dw, sg, "waitlink", &ix->sg_waitlink)) ||
	    (err = addr_word(dw, sg, "elem", &ix->sg_elem)) ||
	    (err = addr_word(dw, sg, "c", &ix->sg_c)))
		return ct_error_wrap(err, "blocked-goroutine model");
	if (ix->g_waiting.size != 8 || ix->sg_size > 4096)
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "runtime.g.waiting or runtime.sudog: odd size");
	for (size_t i = 0; i < WR_N; i++) {
		struct ct_error *e = dw_const(dw, wr_table[i].cname, &ix->wr_value[i]);
		if (e)
			ix->wr_value[i] = -1;
		ct_error_destroy(e);
	}
	int64_t v;
	struct ct_error *e = dw_const(dw, "runtime._Gleaked", &v);
	if (!e) {
		ix->have_leaked = true;
		ix->st_leaked = (uint32_t)v;
	}
	ct_error_destroy(e);
	ix->semacquire_is_wg = ix->rt->major == 1 && ix->rt->minor > 0 && ix->rt->minor < 24;
	return NULL;
}

static bool load_u64(const struct go_rt *rt, uint64_t addr, uint64_t *ret)
{
	unsigned char b[8];
	if (mem_read(rt->mem, addr, b, 8) != MEM_OK)
		return false;
	*ret = mem_load(b, 8);
	return true;
}

static int sema_cmp(const void *a, const void *b)
{
	const struct sema_ent *x = a, *y = b;
	return x->g < y->g ? -1 : x->g > y->g;
}

/* Every sudog queued on a semaphore: runtime.semtable is an array of
 * semaRoots, each a treap of sudogs with distinct addresses (children in
 * prev/next), each heading a waitlink list of the others waiting on the same
 * address (sema.go). Bounded by GOBLOCK_MAX_SUDOGS nodes in all. */
static struct ct_error *sema_walk(struct go_block_index *ix)
{
	const struct go_rt *rt = ix->rt;
	Dwarf_Die var, type, elem;
	uint64_t base, esize, count, root_off, treap_off;
	struct ct_error *err;
	if (!dw_lookup(rt->dw, "runtime.semtable", DW_TAG_variable, &var) ||
	    !dw_type_of(&var, &type) || !dw_array(&type, &elem, &esize, &count) ||
	    !dw_member(&elem, "root", &root_off, &(Dwarf_Die){ 0 })) {
		snprintf(ix->sema_note, sizeof(ix->sema_note), "runtime.semtable not in DWARF");
		ix->sema_partial = true;
		return NULL;
	}
	if ((err = go_var_addr(rt, "runtime.semtable", &base)) ||
	    (err = dw_member_offset(rt->dw, "runtime.semaRoot", "treap", &treap_off))) {
		snprintf(ix->sema_note, sizeof(ix->sema_note), "%s", err->msg);
		ct_error_destroy(err);
		ix->sema_partial = true;
		return NULL;
	}
	if (count > 4096 || esize > 4096) {
		snprintf(ix->sema_note, sizeof(ix->sema_note), "runtime.semtable: odd shape");
		ix->sema_partial = true;
		return NULL;
	}
	/* Treap nodes to visit: an explicit stack (depth unbounded by the data). */
	uint64_t *stack = NULL;
	size_t nstack = 0, cap_stack = 0, visited = 0;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t t;
		if (!load_u64(rt, base + i * esize + root_off + treap_off, &t)) {
			ix->sema_partial = true;
			continue;
		}
		if (!t)
			continue;
		uint64_t *p = CT_PUSH(stack, nstack, cap_stack);
		if (!p)
			goto nomem;
		*p = t;
		while (nstack) {
			uint64_t node = stack[--nstack];
			/* The node, then its waitlink list of same-address waiters. */
			uint64_t sg = node, kids[2] = { 0, 0 };
			for (size_t k = 0; sg; k++) {
				if (++visited > GOBLOCK_MAX_SUDOGS) {
					snprintf(ix->sema_note, sizeof(ix->sema_note),
						 "runtime.semtable: more than %u sudogs", GOBLOCK_MAX_SUDOGS);
					ix->sema_partial = true;
					goto done;
				}
				uint64_t g, el, next;
				if (!load_u64(rt, sg + ix->sg_g, &g) ||
				    !load_u64(rt, sg + ix->sg_elem, &el) ||
				    !load_u64(rt, sg + ix->sg_waitlink, &next) ||
				    (k == 0 && (!load_u64(rt, sg + ix->sg_prev, &kids[0]) ||
						!load_u64(rt, sg + ix->sg_next, &kids[1])))) {
					ix->sema_partial = true;
					break;
				}
				struct sema_ent *e = CT_PUSH(ix->sema, ix->nsema, ix->cap_sema);
				if (!e)
					goto nomem;
				e->g = g;
				e->elem = el;
				e->sg = sg;
				sg = next;
			}
			for (int c = 0; c < 2; c++) {
				if (!kids[c])
					continue;
				if (!(p = CT_PUSH(stack, nstack, cap_stack)))
					goto nomem;
				*p = kids[c];
			}
		}
	}
done:
	free(stack);
	if (ix->nsema)
		qsort(ix->sema, ix->nsema, sizeof(*ix->sema), sema_cmp);
	if (ix->sema_partial && !ix->sema_note[0])
		snprintf(ix->sema_note, sizeof(ix->sema_note), "runtime.semtable partly unreadable");
	return NULL;
nomem:
	free(stack);
	return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
}

struct ct_error *go_block_index_open(const struct go_rt *rt, const struct go_sched *s,
				     struct go_block_index **ret)
{
	struct go_block_index *ix = calloc(1, sizeof(*ix));
	if (!ix)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	ix->rt = rt;
	ix->s = s;
	struct ct_error *err;
	if ((err = layout(ix)) || (err = sema_walk(ix))) {
		go_block_index_close(ix);
		return err;
	}
	*ret = ix;
	return NULL;
}

void go_block_index_close(struct go_block_index *ix)
{
	if (!ix)
		return;
	free(ix->sema);
	free(ix);
}

bool go_block_index_partial(const struct go_block_index *ix)
{
	return ix->sema_partial;
}

size_t go_block_index_nsudogs(const struct go_block_index *ix)
{
	return ix->nsema;
}

/* The semaphore address g is queued on in semtable, or 0. */
static const struct sema_ent *sema_of(const struct go_block_index *ix, uint64_t g)
{
	size_t i = CT_UPPER_BOUND(ix->sema, ix->nsema, g, g);
	return i > 0 && ix->sema[i - 1].g == g ? &ix->sema[i - 1] : NULL;
}

static void add_sudog(struct go_block *b, uint64_t sg)
{
	if (b->nsudogs < GO_BLOCK_MAXPRIMS)
		b->sudogs[b->nsudogs++] = sg;
}

static void add_prim(struct go_block *b, uint64_t a)
{
	if (b->nprims < GO_BLOCK_MAXPRIMS)
		b->prims[b->nprims++] = a;
	else if (!b->partial) {
		b->partial = true;
		snprintf(b->note, sizeof(b->note), "more than %d primitives", GO_BLOCK_MAXPRIMS);
	}
}

static void set_partial(struct go_block *b, const char *why)
{
	b->partial = true;
	if (!b->note[0])
		snprintf(b->note, sizeof(b->note), "%s", why);
}

/* Channel waits: the hchan of each sudog on g.waiting (waitlink order;
 * select.go builds the list in lock order, one sudog per case). */
static void chan_prims(const struct go_block_index *ix, const struct go_g *g, uint64_t waiting,
		       struct go_block *b)
{
	if (!waiting) {
		set_partial(b, "g.waiting is nil");
		return;
	}
	uint64_t sg = waiting;
	for (unsigned n = 0; sg; n++) {
		uint64_t owner, c, next;
		if (n >= GOBLOCK_MAX_WAITLINK) {
			set_partial(b, "g.waiting list too long");
			return;
		}
		if (!load_u64(ix->rt, sg + ix->sg_g, &owner) ||
		    !load_u64(ix->rt, sg + ix->sg_c, &c) ||
		    !load_u64(ix->rt, sg + ix->sg_waitlink, &next)) {
			set_partial(b, "sudog unreadable");
			return;
		}
		if (owner != g->addr) {
			set_partial(b, "sudog of another goroutine on g.waiting");
			return;
		}
		add_sudog(b, sg);
		if (c)
			add_prim(b, c);
		else
			set_partial(b, "sudog without a channel");
		sg = next;
	}
}

/* Sync waits: since Go 1.26 semacquire and notifyListWait point g.waiting at
 * the goroutine's sudog, whose elem is the sema word (or the notifyList);
 * before, only semtable's queue knows it (and nothing global knows a
 * notifyList's waiters). Only the first sudog counts: for a semaphore its
 * waitlink chains other goroutines' sudogs. */
static void sync_prims(const struct go_block_index *ix, const struct go_g *g, uint64_t waiting,
		       struct go_block *b)
{
	uint64_t owner, el;
	const struct sema_ent *e;
	if (waiting && load_u64(ix->rt, waiting + ix->sg_g, &owner) && owner == g->addr &&
	    load_u64(ix->rt, waiting + ix->sg_elem, &el) && el) {
		add_sudog(b, waiting);
		add_prim(b, el);
		return;
	}
	if (b->kind == GO_BLOCK_SEMA && (e = sema_of(ix, g->addr)) && e->elem) {
		add_sudog(b, e->sg);
		add_prim(b, e->elem);
		return;
	}
	if (b->kind == GO_BLOCK_COND)
		set_partial(b, "this runtime keeps no link from a goroutine to its sync.Cond");
	else if (ix->sema_partial)
		set_partial(b, ix->sema_note);
	else
		set_partial(b, "not queued in runtime.semtable");
}

static int wr_class_of(const struct go_block_index *ix, int reason, const char *text)
{
	for (size_t i = 0; i < WR_N; i++)
		if (ix->wr_value[i] >= 0 && ix->wr_value[i] == reason)
			return (int)wr_table[i].cls;
	/* A constant missing from DWARF: the runtime's text instead. */
	for (size_t i = 0; i < WR_N; i++)
		if (ix->wr_value[i] < 0 && text && !strcmp(text, wr_table[i].text))
			return (int)wr_table[i].cls;
	return -1;
}

struct ct_error *go_block_at(const struct go_block_index *ix, const struct go_g *g,
			     struct go_block *ret)
{
	memset(ret, 0, sizeof(*ret));
	const struct go_sched *s = ix->s;
	ret->leaked_by_runtime = ix->have_leaked && g->status == ix->st_leaked;
	/* A leaked goroutine keeps its wait reason: casgstatus(_Gwaiting, _Gleaked). */
	if (g->status != s->st_waiting && !ret->leaked_by_runtime) {
		ret->kind = GO_BLOCK_NONE;
		snprintf(ret->reason, sizeof(ret->reason), "%s", go_g_status_name(s, g->status));
		return NULL;
	}
	const char *text = go_g_waitreason(ix->rt, g->waitreason, ret->reason, sizeof(ret->reason));
	if (!text)
		snprintf(ret->reason, sizeof(ret->reason), "wait reason %d", g->waitreason);
	switch (wr_class_of(ix, g->waitreason, text)) {
	case WR_CHAN: ret->kind = GO_BLOCK_CHAN; break;
	case WR_SELECT: ret->kind = GO_BLOCK_SELECT; break;
	case WR_NILCHAN: ret->kind = GO_BLOCK_NILCHAN; return NULL;
	case WR_SELECT_EMPTY: ret->kind = GO_BLOCK_SELECT_EMPTY; return NULL;
	case WR_SEMA: ret->kind = GO_BLOCK_SEMA; break;
	case WR_COND: ret->kind = GO_BLOCK_COND; break;
	case WR_SEMACQUIRE:
		if (!ix->semacquire_is_wg) {
			ret->kind = GO_BLOCK_OTHER;
			return NULL;
		}
		ret->kind = GO_BLOCK_SEMA;
		break;
	default: ret->kind = GO_BLOCK_OTHER; return NULL;
	}
	uint64_t waiting = 0;
	if (!load_u64(ix->rt, g->addr + ix->g_waiting.off, &waiting)) {
		set_partial(ret, "goroutine unreadable");
		return NULL;
	}
	if (ret->kind == GO_BLOCK_CHAN || ret->kind == GO_BLOCK_SELECT)
		chan_prims(ix, g, waiting, ret);
	else
		sync_prims(ix, g, waiting, ret);
	return NULL;
}

struct ct_error *go_block_of(const struct go_rt *rt, const struct go_sched *s,
			     const struct go_g *g, struct go_block *ret)
{
	struct go_block_index *ix;
	struct ct_error *err = go_block_index_open(rt, s, &ix);
	if (err)
		return err;
	err = go_block_at(ix, g, ret);
	go_block_index_close(ix);
	return err;
}

const char *go_block_kind_name(enum go_block_kind k)
{
	switch (k) {
	case GO_BLOCK_NONE: return "none";
	case GO_BLOCK_CHAN: return "chan";
	case GO_BLOCK_SELECT: return "select";
	case GO_BLOCK_NILCHAN: return "nilchan";
	case GO_BLOCK_SELECT_EMPTY: return "select-empty";
	case GO_BLOCK_SEMA: return "sema";
	case GO_BLOCK_COND: return "cond";
	case GO_BLOCK_OTHER: return "other";
	}
	return "?";
}

bool go_block_is_candidate(enum go_block_kind k)
{
	return k >= GO_BLOCK_CHAN && k <= GO_BLOCK_COND;
}
