#define _GNU_SOURCE
#include "triage.h"
#include "ct_util.h"

#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap_holders.h"

/* ---- Go's and glibc's last words ---- */

/* runtime.printBacklog (print.go, Go 1.18+) keeps the runtime's last 512 bytes
 * of output "so that they can be extracted from a core dump"; `fatal error: X`
 * is printed before the crash starts, so it is there. */
static void triage_go_fatal(struct target *t, struct triage *tr)
{
	if (!t->go)
		return;
	uint64_t buf_addr, idx_addr, idx;
	char buf[512 + 1];
	struct ct_error *err;
	if ((err = go_var_addr(t->go, "runtime.printBacklog", &buf_addr)) ||
	    (err = go_var_addr(t->go, "runtime.printBacklogIndex", &idx_addr)) ||
	    (err = mem_read_u64(&t->mem, idx_addr, &idx, "runtime.printBacklogIndex")) ||
	    mem_read(&t->mem, buf_addr, buf, 512) != MEM_OK || idx >= 512) {
		ct_error_destroy(err); /* no backlog: nothing to say */
		return;
	}
	/* Unroll the ring: oldest bytes first. */
	char ring[513];
	memcpy(ring, buf + idx, 512 - idx);
	memcpy(ring + 512 - idx, buf, idx);
	ring[512] = 0;
	for (size_t i = 0; i < 512; i++)
		if (!ring[i])
			ring[i] = '\n';
	const char *keys[] = { "fatal error: ", "panic: " };
	const char *best = NULL;
	for (size_t k = 0; k < 2; k++) {
		const char *p = ring, *q;
		while ((q = strstr(p, keys[k]))) {
			best = q;
			p = q + 1;
		}
		if (best)
			break;
	}
	if (!best)
		return;
	size_t len = strcspn(best, "\n");
	snprintf(tr->go_fatal, sizeof(tr->go_fatal), "%.*s", (int)len, best);
}

/* glibc keeps the text of its last fatal message in __abort_msg (a
 * GLIBC_PRIVATE symbol): a pointer to { unsigned int size; char msg[]; }. */
static void triage_abort_msg(struct target *t, struct triage *tr)
{
	for (size_t i = 0; i < t->nmodules; i++) {
		Dwfl_Module *m = t->modules[i].dwmod;
		if (!strstr(t->modules[i].name, "libc.so"))
			continue;
		int nsyms = dwfl_module_getsymtab(m);
		for (int s = 0; s < nsyms; s++) {
			GElf_Sym sym;
			GElf_Addr addr;
			const char *name = dwfl_module_getsym_info(m, s, &sym, &addr, NULL, NULL, NULL);
			if (!name || strcmp(name, "__abort_msg") != 0)
				continue;
			char msg[512];
			unsigned char pb[8];
			if (mem_read(&t->mem, addr, pb, 8) != MEM_OK) /* no error object to leak */
				return;
			uint64_t p = mem_load(pb, 8);
			if (!p)
				return;
			size_t n = 0;
			while (n < sizeof(msg) - 1 && mem_read(&t->mem, p + 4 + n, &msg[n], 1) == MEM_OK &&
			       msg[n])
				n++;
			msg[n] = 0;
			while (n && isspace((unsigned char)msg[n - 1]))
				msg[--n] = 0;
			snprintf(tr->abort_msg, sizeof(tr->abort_msg), "%s", msg);
			return;
		}
	}
}

/* The map of a "concurrent map writes": one whose writer flag is still set
 * (classic maps toggle it, so a racing pair can leave it clear), else the
 * global map whose header the throwing goroutine's stack holds nearest to its
 * stack pointer (mapassign's spilled argument). */
#define TRIAGE_MAP_SCAN (64 * 1024)

static void triage_fatal_map(struct target *t, struct triage *tr)
{
	if (gomap_writing_map(t, tr->fatal_map, sizeof(tr->fatal_map), &tr->fatal_map_addr))
		return;
	const struct go_sched *s;
	if (!t->go || target_go_sched(t, &s))
		return;
	const struct go_m *m = go_sched_m_of_tid(s, tr->fault.tid);
	const struct go_g *g = m && m->curg ? go_sched_g_at(s, m->curg) : NULL;
	if (!g || g->sched_sp < g->stack_lo || g->sched_sp >= g->stack_hi)
		return;
	uint64_t hi = g->stack_hi - g->sched_sp > TRIAGE_MAP_SCAN ? g->sched_sp + TRIAGE_MAP_SCAN : g->stack_hi;
	for (uint64_t a = g->sched_sp & ~7ULL; a + 8 <= hi; a += 8) {
		uint64_t w;
		struct ct_error *err = mem_read_u64(&t->mem, a, &w, "goroutine stack");
		if (err) {
			ct_error_destroy(err);
			return;
		}
		if (w && gomap_map_with_header(t, w, tr->fatal_map, sizeof(tr->fatal_map))) {
			tr->fatal_map_addr = w;
			return;
		}
	}
}

/* ---- frames ---- */

/* Not the program's own code: the runtime, its packages, cgo's glue. */
static bool triage_runtime_frame(const char *f)
{
	enum go_func_role r = go_func_role(f);
	return !f || r == GO_FUNC_RUNTIME || r == GO_FUNC_RUNTIME_PKG || r == GO_FUNC_CGO;
}

static bool triage_libc_frame(const struct frame *f)
{
	return f->module && (strstr(f->module, "libc.so") || strstr(f->module, "ld-linux"));
}

static void triage_frames(struct target *t, struct triage *tr)
{
	/* A fault in Go code that became a panic: the fault's registers are gone,
	 * but the panic ran on, and crashed, on the same goroutine stack: the
	 * thread's registers walk back through sigpanic to the faulting frame. */
	unwind_thread(t, tr->fault.tid, tr->fault.regs, &tr->bt);
	tr->n_c_frames = tr->bt.n;
	const struct go_sched *s;
	if (t->go && !target_go_sched(t, &s)) {
		const struct go_m *m = go_sched_m_of_tid(s, tr->fault.tid);
		const struct go_g *g = m && m->curg ? go_sched_g_at(s, m->curg) : NULL;
		if (g) {
			tr->has_g = true;
			tr->goid = g->goid;
			tr->g_status = go_g_status_name(s, g->status);
			/* A goroutine in a cgo call: the C frames above are its; a
			 * goroutine running Go code: the C walk already covered it. */
			if (g->syscallsp)
				unwind_goroutine(t, s, g, &tr->bt);
		}
	}
	for (size_t i = 0; i < tr->n_c_frames; i++) {
		const struct frame *f = &tr->bt.frames[i];
		if (!f->go && !triage_libc_frame(f) && f->func && !strstr(f->func, "runtime.") &&
		    strncmp(f->func, "__restore_rt", 12) != 0) {
			tr->cfunc = f->func;
			break;
		}
	}
	/* Go threw on the system stack (systemstack saved the goroutine's state
	 * in g.sched): its own frames say where. */
	bool own_go = false; /* a frame of the program's own Go code already? */
	for (size_t i = 0; i < tr->bt.n; i++)
		own_go |= tr->bt.frames[i].go && !triage_runtime_frame(tr->bt.frames[i].func);
	if (!tr->cfunc && !own_go && t->go && !target_go_sched(t, &s)) {
		const struct go_m *m = go_sched_m_of_tid(s, tr->fault.tid);
		const struct go_g *g = m && m->curg ? go_sched_g_at(s, m->curg) : NULL;
		if (g && !g->syscallsp && g->sched_pc) {
			tr->bt.n = tr->n_c_frames = 0;
			unwind_goroutine(t, s, g, &tr->bt);
		}
	}
	for (size_t i = 0; i < tr->bt.n; i++) {
		const struct frame *f = &tr->bt.frames[i];
		if ((f->go || i >= tr->n_c_frames) && !triage_runtime_frame(f->func)) {
			tr->gocaller = f->func;
			break;
		}
	}
	/* A pure-Go fault (no cgo): the Go caller is the first non-runtime frame. */
	if (!tr->gocaller)
		for (size_t i = 0; i < tr->bt.n; i++)
			if (tr->bt.frames[i].func && !triage_runtime_frame(tr->bt.frames[i].func) &&
			    strchr(tr->bt.frames[i].func, '.') && !triage_libc_frame(&tr->bt.frames[i])) {
				tr->gocaller = tr->bt.frames[i].func;
				break;
			}
}

/* ---- evidence ---- */

static const enum core_reg triage_gprs[16] = {
	CORE_REG_RAX, CORE_REG_RBX, CORE_REG_RCX, CORE_REG_RDX, CORE_REG_RSI, CORE_REG_RDI,
	CORE_REG_RBP, CORE_REG_RSP, CORE_REG_R8, CORE_REG_R9, CORE_REG_R10, CORE_REG_R11,
	CORE_REG_R12, CORE_REG_R13, CORE_REG_R14, CORE_REG_R15,
};

static void triage_registers(struct target *t, struct triage *tr)
{
	if (tr->fault.source == FAULT_SOURCE_GOROUTINE)
		return; /* only the pc survived */
	for (size_t i = 0; i < 16; i++) {
		uint64_t v = tr->fault.regs[triage_gprs[i]];
		/* "Looks like a pointer": mapped in the process, or a freed C chunk's
		 * page-aligned user pointer that the program still uses. */
		if (v < CLASSIFY_NULL_PAGE_END || !core_segment_of(t->core, v))
			continue;
		struct triage_reg *r = &tr->regs[tr->nregs++];
		r->reg = triage_gprs[i];
		classify_addr(t, v, &r->v);
	}
}

/* ---- class and verdict ---- */

static bool has(const char *s, const char *needle) { return s && strstr(s, needle); }

static const struct verdict *triage_freed_go_reg(const struct triage *tr, enum core_reg *reg)
{
	for (size_t i = 0; i < tr->nregs; i++) {
		const struct verdict *v = &tr->regs[i].v;
		if (v->region == REGION_GO_HEAP && (v->state == VSTATE_FREE || v->state == VSTATE_GARBAGE) &&
		    v->d.heap.kind == GO_SPAN_INUSE && tr->regs[i].reg != CORE_REG_RSP &&
		    tr->regs[i].reg != CORE_REG_RBP) {
			*reg = tr->regs[i].reg;
			return v;
		}
	}
	return NULL;
}

static const struct frame *triage_frame_of(const struct triage *tr, const char *func)
{
	for (size_t i = 0; func && i < tr->bt.n; i++)
		if (tr->bt.frames[i].func == func)
			return &tr->bt.frames[i];
	return NULL;
}

/* "cfunc (file:line), called from Go pkg.fn", or "Go pkg.fn (file:line)". */
static void triage_where(const struct triage *tr, char *buf, size_t n)
{
	const struct frame *c = triage_frame_of(tr, tr->cfunc);
	const struct frame *g = triage_frame_of(tr, tr->gocaller);
	const struct frame *top = tr->bt.n ? &tr->bt.frames[0] : NULL;
	int k;
	if (c) {
		k = snprintf(buf, n, "%s", c->func);
		if (c->file && k > 0 && (size_t)k < n)
			k += snprintf(buf + k, n - k, " (%s:%d)", c->file, c->line);
		if (g && k > 0 && (size_t)k < n)
			snprintf(buf + k, n - k, ", called from Go %s", g->func);
	} else if (g) {
		k = snprintf(buf, n, "Go %s", g->func);
		if (g->file && k > 0 && (size_t)k < n)
			snprintf(buf + k, n - k, " (%s:%d)", g->file, g->line);
	} else {
		snprintf(buf, n, "%s", top && top->func ? top->func : "??");
	}
}

/* The holder to name in a verdict: a map entry first, then a global, then a
 * live object; pointers on stacks are in flight and say little. */
static const struct holder *triage_best_holder(const struct holders *hs)
{
	const struct holder *best = NULL;
	int best_rank = 0;
	for (size_t i = 0; i < hs->n; i++) {
		const struct holder *h = &hs->h[i];
		int rank = 0;
		if (h->is_map_entry)
			rank = 4;
		else if (h->where.region == REGION_IMAGE)
			rank = 3;
		else if ((h->where.region == REGION_GO_HEAP || h->where.region == REGION_C_HEAP) &&
			 h->where.state == VSTATE_ALLOCATED)
			rank = 2;
		else if (h->where.region == REGION_GO_HEAP || h->where.region == REGION_C_HEAP)
			rank = 1;
		if (rank > best_rank) {
			best = h;
			best_rank = rank;
		}
	}
	return best;
}

static void triage_holder_text(const struct triage *tr, char *buf, size_t n)
{
	const struct holder *h = triage_best_holder(&tr->holders);
	buf[0] = 0;
	if (h)
		snprintf(buf, n, ", still held by %s", h->desc);
}

/* The faulting pointer was read out of Go memory the GC had freed (a freed
 * slot, or pages no span owns any more): C kept a pointer to Go memory that
 * nothing in Go kept alive. Among such holders, the one that something lasting
 * (a C global, say) still points at is the victim. */
#define TRIAGE_MAX_VICTIMS 8

static int triage_holder_rank(const struct holders *hs)
{
	const struct holder *h = triage_best_holder(hs);
	if (!h)
		return 0;
	return h->is_map_entry ? 4 : h->where.region == REGION_IMAGE ? 3 :
	       h->where.state == VSTATE_ALLOCATED ? 2 : 1;
}

static void triage_find_victim(struct target *t, struct triage *tr)
{
	const struct holder *cand[TRIAGE_MAX_VICTIMS];
	struct holders_range r[TRIAGE_MAX_VICTIMS];
	size_t n = 0;
	for (size_t i = 0; i < tr->holders.n && n < TRIAGE_MAX_VICTIMS; i++) {
		const struct holder *h = &tr->holders.h[i];
		if (h->where.region != REGION_GO_HEAP ||
		    (h->where.state != VSTATE_FREE && h->where.state != VSTATE_GARBAGE))
			continue;
		cand[n] = h;
		holders_range(t, h->at, &r[n].lo, &r[n].hi);
		n++;
	}
	struct holders *found = n ? calloc(n, sizeof(*found)) : NULL;
	if (!found)
		return;
	holders_find_many(t, r, n, found);
	int best = -1;
	for (size_t i = 0; i < n; i++) {
		int rank = triage_holder_rank(&found[i]);
		if (rank > best) {
			best = rank;
			tr->victim = cand[i];
			tr->victim_holders = found[i];
		}
	}
	free(found);
}

static void triage_classify(struct target *t, struct triage *tr)
{
	(void)t;
	const struct fault *f = &tr->fault;
	const struct verdict *fv = &tr->fault_verdict;
	char where[400], held[300];
	triage_where(tr, where, sizeof(where));
	triage_holder_text(tr, held, sizeof(held));
	char *v = tr->verdict;
	size_t n = sizeof(tr->verdict);
	enum core_reg reg;
	const struct verdict *freed_go;

	if (has(tr->go_fatal, "concurrent map")) {
		tr->klass = "concurrent-map-write";
		char m[300] = "a map";
		if (tr->fatal_map[0])
			snprintf(m, sizeof(m), "map %s (0x%" PRIx64 ")", tr->fatal_map, tr->fatal_map_addr);
		snprintf(v, n, "Go detected %s: goroutines used %s without a lock (%s)",
			 tr->go_fatal + (strncmp(tr->go_fatal, "fatal error: ", 13) ? 0 : 13), m, where);
	} else if (f->signo == SIGABRT && has(tr->abort_msg, "double free")) {
		tr->klass = "double-free";
		snprintf(v, n, "glibc aborted: \"%s\" in %s", tr->abort_msg, where);
	} else if (f->signo == SIGABRT && tr->abort_msg[0]) {
		tr->klass = "c-heap-corruption";
		snprintf(v, n, "glibc aborted: \"%s\" in %s: the C heap is corrupt", tr->abort_msg, where);
	} else if (tr->go_fatal[0] && f->signo == SIGABRT) {
		tr->klass = "go-fatal";
		snprintf(v, n, "Go %s (%s)", tr->go_fatal, where);
	} else if (f->signo == SIGABRT) {
		tr->klass = "abort";
		snprintf(v, n, "the program aborted (SIGABRT) in %s", where);
	} else if (!f->has_addr) {
		tr->klass = "unknown";
		snprintf(v, n, "%s in %s", core_signal_name(f->signo) ? core_signal_name(f->signo) : "signal",
			 where);
	} else if (fv->region == REGION_UNMAPPED && fv->d.unmapped.kind == UNMAPPED_STACK_GUARD) {
		tr->klass = "stack-overflow";
		snprintf(v, n, "stack overflow: %s ran off thread %" PRId64 "'s stack into its guard at 0x%" PRIx64,
			 where, fv->d.unmapped.tid, f->addr);
	} else if (fv->region == REGION_UNMAPPED && fv->d.unmapped.kind == UNMAPPED_NULL_PAGE) {
		tr->klass = "null-deref";
		snprintf(v, n, "NULL pointer dereference: %s touched 0x%" PRIx64 " (NULL + %" PRIu64 ")",
			 where, f->addr, f->addr);
	} else if (tr->victim) {
		const struct verdict *vv = &tr->victim->where;
		const struct holder *vh = triage_best_holder(&tr->victim_holders);
		tr->klass = "go-use-after-free";
		if (vv->d.heap.kind == GO_SPAN_INUSE)
			snprintf(v, n, "%s read 0x%" PRIx64 " through the Go object at 0x%" PRIx64 " (%" PRIu64
				 " bytes), which the GC already freed%s%s", where, f->addr,
				 vv->d.heap.slot.user, vv->d.heap.span.elemsize,
				 vh ? "; C still points at it from " : "", vh ? vh->desc : "");
		else
			snprintf(v, n, "%s read 0x%" PRIx64 " through 0x%" PRIx64 ", Go heap memory the GC "
				 "already freed (its span is gone)%s%s", where, f->addr, tr->victim->at,
				 vh ? "; C still points at it from " : "", vh ? vh->desc : "");
	} else if ((freed_go = triage_freed_go_reg(tr, &reg))) {
		tr->klass = "go-use-after-free";
		snprintf(v, n, "%s used 0x%" PRIx64 " (in %s), a Go object the GC already freed "
			 "(%" PRIu64 "-byte slot %" PRIu64 " of span 0x%" PRIx64 "); the fault at 0x%" PRIx64
			 " followed from it%s",
			 where, freed_go->addr, core_reg_names[reg], freed_go->d.heap.span.elemsize,
			 freed_go->d.heap.slot.index, freed_go->d.heap.span.start, f->addr, held);
	} else if (fv->region == REGION_GO_HEAP && fv->state != VSTATE_ALLOCATED) {
		tr->klass = "go-use-after-free";
		snprintf(v, n, "%s touched 0x%" PRIx64 ", %s Go heap memory%s", where, f->addr,
			 classify_state_name(fv->state), held);
	} else if (fv->region == REGION_C_HEAP && fv->state == VSTATE_FREE) {
		tr->klass = "c-use-after-free";
		snprintf(v, n, "%s touched 0x%" PRIx64 ", in a C chunk of %" PRIu64 " bytes freed earlier (%s bin)%s",
			 where, f->addr, fv->d.chunk.user_size, cheap_bin_name(fv->d.chunk.bin), held);
	} else if (fv->region == REGION_UNMAPPED && held[0] && cheap_mmapped_user_shape(f->addr)) {
		/* glibc's mmapped chunks start 16 bytes into a page, and free()
		 * unmaps them at once: a held pointer of that shape into nothing. */
		tr->klass = "c-use-after-free";
		snprintf(v, n, "%s read 0x%" PRIx64 ", unmapped: the shape of a large (mmapped) C chunk "
			 "that free() already returned to the kernel%s", where, f->addr, held);
	} else {
		tr->klass = "wild-pointer";
		snprintf(v, n, "%s touched 0x%" PRIx64 " (%s%s%s)%s", where, f->addr, classify_region_name(fv->region),
			 fv->state == VSTATE_NA ? "" : ", ", fv->state == VSTATE_NA ? "" : classify_state_name(fv->state),
			 held);
	}
}

static void triage_signature(struct triage *tr)
{
	uint64_t h = CT_HASH_INIT;
#define MIX(s) (h = (s) ? ct_fnv1a(h, (s), strlen(s)) : h)
	MIX(tr->klass);
	int used = 0;
	/* Function names only: addresses and offsets vary between builds and runs. */
	for (size_t i = 0; i < tr->bt.n && used < 5; i++) {
		const char *fn = tr->bt.frames[i].func;
		enum go_func_role role = go_func_role(fn);
		if (!fn || role == GO_FUNC_RUNTIME || role == GO_FUNC_SIGRETURN)
			continue;
		MIX("|");
		MIX(fn);
		used++;
	}
#undef MIX
	snprintf(tr->signature, sizeof(tr->signature), "%016" PRIx64, h);
}

void triage_run(struct target *t, struct triage *tr)
{
	memset(tr, 0, sizeof(*tr));
	tr->core_signo = t->core && t->core->siginfo.present ? t->core->siginfo.signo : 0;
	fault_find(t, &tr->fault);
	triage_frames(t, tr);
	triage_go_fatal(t, tr);
	triage_abort_msg(t, tr);
	if (strstr(tr->go_fatal, "concurrent map"))
		triage_fatal_map(t, tr);
	if (tr->fault.has_addr) {
		classify_addr(t, tr->fault.addr, &tr->fault_verdict);
		/* Holders only mean something for an address a program could have
		 * been handed: not NULL + offset, not a stack guard. */
		const struct verdict *fv = &tr->fault_verdict;
		bool pointerish = !(fv->region == REGION_UNMAPPED &&
				    (fv->d.unmapped.kind == UNMAPPED_NULL_PAGE ||
				     fv->d.unmapped.kind == UNMAPPED_STACK_GUARD ||
				     fv->d.unmapped.kind == UNMAPPED_NON_CANONICAL));
		if (pointerish) {
			uint64_t lo, hi;
			holders_range(t, tr->fault.addr, &lo, &hi);
			holders_find(t, lo, hi, &tr->holders);
			triage_find_victim(t, tr);
		}
	}
	triage_registers(t, tr);
	triage_classify(t, tr);
	triage_signature(tr);
}
