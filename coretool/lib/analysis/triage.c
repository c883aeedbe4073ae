#define _GNU_SOURCE
#include "triage.h"
#include "ct_util.h"

#include <ctype.h>
#include <elf.h>
#include <gelf.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap.h"
#include "heapgraph.h"
#include "gomap_holders.h"
#include "govalue.h"

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

/* A symbol by name in the modules whose path holds `module` (NULL: the
 * executable): its address and size. A whole symbol table walk: for the
 * few names triage needs once per core. */
static bool triage_symbol(const struct target *t, const char *module, const char *name, uint64_t *addr,
			  uint64_t *size)
{
	for (size_t i = 0; i < t->nmodules; i++) {
		const struct target_module *tm = &t->modules[i];
		if (!tm->dwmod || (module ? !strstr(tm->name, module) : !tm->is_exe))
			continue;
		int nsyms = dwfl_module_getsymtab(tm->dwmod);
		for (int k = 0; k < nsyms; k++) {
			GElf_Sym sym;
			GElf_Addr a;
			const char *n = dwfl_module_getsym_info(tm->dwmod, k, &sym, &a, NULL, NULL, NULL);
			if (n && !strcmp(n, name)) {
				*addr = a;
				*size = sym.st_size;
				return true;
			}
		}
	}
	return false;
}

/* glibc keeps the text of its last fatal message in __abort_msg (a
 * GLIBC_PRIVATE symbol): a pointer to { unsigned int size; char msg[]; }. */
static void triage_abort_msg(struct target *t, struct triage *tr)
{
	uint64_t addr, size;
	if (!triage_symbol(t, "libc.so", "__abort_msg", &addr, &size))
		return;
	char msg[512];
	unsigned char pb[8];
	if (mem_read(&t->mem, addr, pb, 8) != MEM_OK) /* no error object to leak */
		return;
	uint64_t p = mem_load(pb, 8);
	if (!p)
		return;
	size_t n = 0;
	while (n < sizeof(msg) - 1 && mem_read(&t->mem, p + 4 + n, &msg[n], 1) == MEM_OK && msg[n])
		n++;
	msg[n] = 0;
	while (n && isspace((unsigned char)msg[n - 1]))
		msg[--n] = 0;
	snprintf(tr->abort_msg, sizeof(tr->abort_msg), "%s", msg);
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

/* A Go callback called from C (cgocallback): its Go frames end where it
 * switched from the thread's g0 stack, on which the C code that called back
 * ran, below where the cgo call entered it (g0.sched.sp). The return address
 * into crosscall2 nearest that entry is where the C walk goes on, and then
 * down to the Go code that made the cgo call. */
#define TRIAGE_CALLBACK_SCAN (1024 * 1024)


static bool triage_callback_c_frames(struct target *t, struct triage *tr, const struct go_sched *s)
{
	uint64_t lo, hi;
	const struct go_m *m = go_sched_m_of_tid(s, tr->fault.tid);
	if (!m || !m->g0_sched_sp || !triage_symbol(t, NULL, "crosscall2", &lo, &hi))
		return false;
	hi = lo + (hi ? hi : 1); /* the size, into the end */
	uint64_t bottom = m->g0_sched_sp > TRIAGE_CALLBACK_SCAN ? m->g0_sched_sp - TRIAGE_CALLBACK_SCAN : 0;
	for (uint64_t a = m->g0_sched_sp & ~7ULL; a > bottom; a -= 8) {
		unsigned char b[8];
		if (mem_read(&t->mem, a, b, 8) != MEM_OK)
			return false;
		uint64_t ra = mem_load(b, 8);
		if (ra <= lo || ra >= hi)
			continue;
		uint64_t regs[CORE_NREGS] = { 0 };
		regs[CORE_REG_RIP] = ra;
		regs[CORE_REG_RSP] = a + 8;
		unwind_thread_from_return(t, tr->fault.tid, regs, &tr->bt);
		/* ... and the goroutine's frames below its cgo call: the callback
		 * runs on the same goroutine, whose syscall state is kept. */
		const struct go_g *g = m->curg ? go_sched_g_at(s, m->curg) : NULL;
		if (g && g->syscallsp)
			unwind_goroutine(t, s, g, &tr->bt);
		return true;
	}
	return false;
}

static void triage_callback_frames(struct target *t, struct triage *tr)
{
	const struct go_sched *s;
	if (!tr->bt.n || !tr->bt.frames[tr->bt.n - 1].func ||
	    strncmp(tr->bt.frames[tr->bt.n - 1].func, "runtime.cgocallback", 19) != 0 || !t->go ||
	    target_go_sched(t, &s))
		return;
	if (triage_callback_c_frames(t, tr, s))
		return;
	/* A panic in a callback first runs the deferred unwindm, which puts g0's
	 * stack pointer back to the cgo call's entry, and the crash then runs
	 * there, over the C frames. The Go code that made the cgo call is still
	 * on the goroutine's stack. */
	unwind_past_cgocallback(t, tr->fault.tid, &tr->bt);
	tr->bt.stop = "the C frames of the cgo callback are gone (a panic restores g0's stack pointer; "
		      "the crash ran over them)";
}

static void triage_frames(struct target *t, struct triage *tr)
{
	/* A fault in Go code that became a panic: the fault's registers are gone,
	 * but the panic ran on, and crashed, on the same goroutine stack: the
	 * thread's registers walk back through sigpanic to the faulting frame. */
	uint64_t ra;
	unsigned char rab[8];
	if (tr->insn.exec_fault && mem_read(&t->mem, tr->fault.regs[CORE_REG_RSP], rab, 8) == MEM_OK &&
	    (ra = mem_load(rab, 8)) && tr->insn.decoded) {
		/* A call to a bad address: no code, no unwind info there. Its frame
		 * first, then the walk from the call site, as if it had returned. */
		struct frame *bad = &tr->bt.frames[tr->bt.n++];
		memset(bad, 0, sizeof(*bad));
		bad->pc = tr->insn.bad_pc;
		bad->sp = tr->fault.regs[CORE_REG_RSP];
		bad->activation = true;
		unwind_symbolize(t, bad);
		uint64_t regs[CORE_NREGS];
		memcpy(regs, tr->fault.regs, sizeof(regs));
		regs[CORE_REG_RIP] = ra;
		regs[CORE_REG_RSP] += 8;
		unwind_thread_from_return(t, tr->fault.tid, regs, &tr->bt);
	} else {
		unwind_thread(t, tr->fault.tid, tr->fault.regs, &tr->bt);
	}
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
	triage_callback_frames(t, tr);
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
	/* In a Go callback from C, the Go caller is the one below the callback
	 * (after cgocallback), that made the cgo call. */
	size_t from = 0;
	for (size_t i = 0; i + 1 < tr->bt.n; i++)
		if (tr->bt.frames[i].func && !strncmp(tr->bt.frames[i].func, "runtime.cgocallback.abi0", 24))
			from = i + 1;
	for (size_t i = from; i < tr->bt.n; i++) {
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

/* ---- the faulting instruction and its pointer ---- */

/* An address a program could have been handed as an object pointer: not NULL
 * plus an offset, not a stack guard, not non-canonical. */
static bool triage_pointerish(const struct verdict *v)
{
	return !(v->region == REGION_UNMAPPED &&
		 (v->d.unmapped.kind == UNMAPPED_NULL_PAGE || v->d.unmapped.kind == UNMAPPED_STACK_GUARD ||
		  v->d.unmapped.kind == UNMAPPED_NON_CANONICAL));
}

static bool triage_freed_c(const struct verdict *v)
{
	return v->region == REGION_C_HEAP && v->state == VSTATE_FREE;
}

static bool triage_freed_go(const struct verdict *v)
{
	return v->region == REGION_GO_HEAP && (v->state == VSTATE_FREE || v->state == VSTATE_GARBAGE);
}

/* A word glibc wrote into a chunk it freed, used as a pointer: the tcache or
 * fastbin link at the user pointer (safe-linked since 2.32: (slot >> 12) ^
 * next), or the tcache key right after it. */
static const char *triage_glibc_word(struct target *t, const struct verdict *from, uint64_t slot,
				     uint64_t value)
{
	if (!triage_freed_c(from))
		return NULL;
	uint64_t off = slot - from->d.chunk.user;
	if (off == 0) {
		uint64_t next = value ^ (slot >> 12);
		struct verdict nv;
		if (next == 0)
			return "glibc's safe-linked free-list link (the last of its bin: slot >> 12)";
		classify_addr(t, next, &nv);
		if (nv.region == REGION_C_HEAP)
			return "glibc's safe-linked free-list link";
		return "glibc's free-list link";
	}
	if (off == 8 && from->d.chunk.bin == CHEAP_BIN_TCACHE)
		return "glibc's tcache key";
	return NULL;
}

static void triage_decode(struct target *t, struct triage *tr)
{
	struct fault *f = &tr->fault;
	if (f->has_addr)
		tr->addr_source = "siginfo";
	if (f->source == FAULT_SOURCE_NONE || f->source == FAULT_SOURCE_GOROUTINE ||
	    !(f->signo == SIGSEGV || f->signo == SIGBUS || f->signo == SIGILL || f->signo == SIGFPE))
		return;
	insn_decode_fault(t, f->pc, f->regs, &tr->insn);
	const struct insn *in = &tr->insn;
	/* A general-protection fault (a non-canonical address) has no si_addr:
	 * the kernel reports SI_KERNEL and 0. The instruction says where. */
	if (f->code == SI_KERNEL && (f->signo == SIGSEGV || f->signo == SIGBUS)) {
		f->has_addr = in->has_ea;
		f->addr = in->has_ea ? in->ea : 0;
		tr->addr_source = in->has_ea ? "instruction" : NULL;
	}
	if (in->ptr_reg != INSN_NO_REG && in->ptr_reg != CORE_REG_RSP && in->ptr_reg != CORE_REG_RIP &&
	    !(in->has_mem && in->mem.base == CORE_REG_RBP && in->mem.index == INSN_NO_REG)) {
		tr->has_ptr = true;
		classify_addr(t, in->ptr_value, &tr->ptr_verdict);
	}
	if (in->origin.known) {
		tr->has_origin = true;
		classify_addr(t, in->origin.from, &tr->origin_verdict);
		uint64_t fp = in->exec_fault ? in->bad_pc : in->ptr_value;
		tr->ptr_note = triage_glibc_word(t, &tr->origin_verdict, in->origin.from, fp);
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

/* The faulting pointer was read out of Go memory the GC had freed (a freed
 * slot, or pages no span owns any more): C kept a pointer to Go memory that
 * nothing in Go kept alive. Among such holders, the one that something lasting
 * (a C global, say) still points at is the victim. */
#define TRIAGE_MAX_VICTIMS 8

static int triage_holders_rank(const struct holders *hs)
{
	const struct holder *h = holders_best(hs);
	return h ? h->rank : 0;
}

static void triage_find_victim(struct target *t, struct triage *tr)
{
	const struct holder *cand[TRIAGE_MAX_VICTIMS];
	struct holders_range r[TRIAGE_MAX_VICTIMS];
	size_t n = 0;
	for (size_t i = 0; i < tr->holders.n && n < TRIAGE_MAX_VICTIMS; i++) {
		const struct holder *h = &tr->holders.h[i];
		if (!triage_freed_go(&h->where))
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
		int rank = triage_holders_rank(&found[i]);
		if (rank > best) {
			best = rank;
			tr->victim = cand[i];
			tr->victim_holders = found[i];
		}
	}
	free(found);
}

/* The heap objects between the object and a named holder (see triage.h),
 * breadth first: a level of up to TRIAGE_CHAIN_FANOUT holding objects per
 * pass over memory. The nearest level that names a holder gives it, the best
 * ranked there: a Go map's entry before a library's global (a C library's
 * stale internal pointer, such as libxml2's last-error context, often reaches
 * the same freed objects as the program's own map). */
#define TRIAGE_CHAIN_FANOUT 8

struct chain_node {
	struct triage_link link;
	uint64_t hi;
	int parent; /* the node this one holds; -1: the object itself */
};

/* The anonymous heap objects among hs, as nodes of the next level (parent:
 * the node hs was found for), each object once. */
static void chain_level_add(struct target *t, const struct triage *tr, const struct holders *hs,
			    int parent, struct chain_node *nodes, size_t *nn, size_t cap)
{
	for (size_t i = 0; i < hs->n && *nn < cap; i++) {
		const struct holder *h = &hs->h[i];
		if (h->rank != HOLDER_RANK_HEAP && h->rank != HOLDER_RANK_FREED_HEAP)
			continue;
		uint64_t lo, hi;
		holders_range(t, h->at, &lo, &hi);
		bool seen = lo == tr->held_addr;
		for (size_t k = 0; k < *nn && !seen; k++)
			seen = nodes[k].link.object == lo;
		if (seen)
			continue;
		struct chain_node *c = &nodes[(*nn)++];
		c->link.object = lo;
		c->link.at = h->at;
		c->link.where = h->where;
		snprintf(c->link.desc, sizeof(c->link.desc), "%s", h->desc);
		c->hi = hi;
		c->parent = parent;
	}
}

static void triage_chain(struct target *t, struct triage *tr)
{
	if (holders_best(&tr->holders) && holders_best(&tr->holders)->rank >= HOLDER_RANK_GLOBAL)
		return;
	const size_t cap = TRIAGE_CHAIN_MAX * TRIAGE_CHAIN_FANOUT;
	struct chain_node *nodes = calloc(cap, sizeof(*nodes));
	struct holders *found = calloc(TRIAGE_CHAIN_FANOUT, sizeof(*found));
	struct holders_range r[TRIAGE_CHAIN_FANOUT];
	size_t nn = 0, lvl = 0;
	if (nodes && found)
		chain_level_add(t, tr, &tr->holders, -1, nodes, &nn, TRIAGE_CHAIN_FANOUT);
	for (size_t depth = 0; nodes && found && depth < TRIAGE_CHAIN_MAX && lvl < nn; depth++) {
		size_t end = nn, k = end - lvl;
		for (size_t i = 0; i < k; i++)
			r[i] = (struct holders_range){ nodes[lvl + i].link.object, nodes[lvl + i].hi };
		holders_find_many(t, r, k, found);
		int best = -1, best_rank = HOLDER_RANK_GLOBAL - 1;
		for (size_t i = 0; i < k; i++) {
			const struct holder *h = holders_best(&found[i]);
			if (h && h->rank > best_rank) {
				best = (int)i;
				best_rank = h->rank;
			}
		}
		if (best >= 0) {
			const struct holder *named = holders_best(&found[best]);
			snprintf(tr->chain_holder, sizeof(tr->chain_holder), "%s", named->desc);
			tr->chain_holder_at = named->at;
			/* the links from the object out to the one the holder holds */
			tr->nchain = depth + 1;
			size_t j = depth + 1;
			for (int at = (int)(lvl + (size_t)best); at >= 0 && j > 0; at = nodes[at].parent)
				tr->chain[--j] = nodes[at].link;
			break;
		}
		for (size_t i = 0; i < k; i++)
			chain_level_add(t, tr, &found[i], (int)(lvl + i), nodes, &nn, end + TRIAGE_CHAIN_FANOUT);
		lvl = end;
	}
	free(nodes);
	free(found);
}

/* An unmapped address inside a large chunk that free() unmapped: the chunk's
 * user pointer (page + 16) is below it, and whoever still holds that pointer
 * holds the object. The nearest such held pointer below, within the hole. */
#define TRIAGE_MMAP_REACH (64ULL << 20)

static void triage_mmap_object(struct target *t, struct triage *tr, uint64_t addr)
{
	if (!t->core || cheap_mmapped_user_shape(addr))
		return;
	uint64_t lo = addr > TRIAGE_MMAP_REACH ? addr - TRIAGE_MMAP_REACH : 0;
	for (size_t i = 0; i < t->core->nsegs; i++) {
		const struct core_segment *s = &t->core->segs[i];
		if (s->vaddr + s->memsz <= addr && s->vaddr + s->memsz > lo)
			lo = s->vaddr + s->memsz; /* the hole starts above the mapping below */
	}
	struct holders *hs = malloc(sizeof(*hs));
	if (!hs)
		return;
	holders_find(t, lo, addr, hs);
	const struct holder *best = NULL;
	for (size_t i = 0; i < hs->n; i++) {
		const struct holder *h = &hs->h[i];
		if (!cheap_mmapped_user_shape(h->value) || h->rank < HOLDER_RANK_HEAP)
			continue;
		if (!best || h->rank > best->rank || (h->rank == best->rank && h->value > best->value))
			best = h;
	}
	if (best)
		tr->mmap_object = best->value;
	free(hs);
}

/* What the rules look at, worked out once. */
struct triage_ctx {
	struct triage *tr;
	char where[400];   /* triage_where() */
	char held[300];    /* ", still held by X" or "" */
	char ptr[300];     /* "rbx = 0x... (a C chunk of ...)" or "" */
	char from[400];    /* ", loaded from 0x... (in ...) by `mov ...`" or "" */
	char access[32];   /* "read", "write", ... (the instruction's, else "touched") */
	uint64_t ptr_value;
};

typedef bool triage_rule_fn(struct triage_ctx *c, char *v, size_t n);

static bool rule_map_write(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (!has(tr->go_fatal, "concurrent map"))
		return false;
	char m[300] = "a map";
	if (tr->fatal_map[0])
		snprintf(m, sizeof(m), "map %s (0x%" PRIx64 ")", tr->fatal_map, tr->fatal_map_addr);
	snprintf(v, n, "Go detected %s: goroutines used %s without a lock (%s)",
		 tr->go_fatal + (strncmp(tr->go_fatal, "fatal error: ", 13) ? 0 : 13), m, c->where);
	return true;
}

static bool rule_double_free(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (tr->fault.signo != SIGABRT || !has(tr->abort_msg, "double free"))
		return false;
	char obj[300] = "";
	if (tr->freed_ptr) {
		char d[240];
		classify_brief(&tr->freed_verdict, d, sizeof(d));
		snprintf(obj, sizeof(obj), ": the pointer freed twice is %s%s0x%" PRIx64 ", %s",
			 tr->freed_var ? tr->freed_var : "", tr->freed_var ? " = " : "", tr->freed_ptr, d);
	}
	snprintf(v, n, "glibc aborted: \"%s\" in %s%s", tr->abort_msg, c->where, obj);
	if (tr->freed_ptr) {
		tr->object = tr->freed_ptr;
		tr->object_verdict = tr->freed_verdict;
	}
	return true;
}

static bool rule_heap_corruption(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (tr->fault.signo != SIGABRT || !tr->abort_msg[0])
		return false;
	snprintf(v, n, "glibc aborted: \"%s\" in %s: the C heap is corrupt", tr->abort_msg, c->where);
	return true;
}

static bool rule_go_fatal(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (tr->fault.signo != SIGABRT || !tr->go_fatal[0] || has(tr->go_fatal, "panic: "))
		return false;
	snprintf(v, n, "Go %s (%s)", tr->go_fatal, c->where);
	return true;
}

static bool rule_go_panic(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (tr->fault.signo != SIGABRT || !tr->has_panic)
		return false;
	const struct go_panic *p = &tr->panic;
	snprintf(v, n, "Go panic in goroutine %" PRIu64 ": %s%s%s%s (%s value, %s)", tr->panic_goid,
		 p->msg_exact ? "\"" : "", p->msg, p->msg_exact ? "\"" : "",
		 p->depth > 1 ? " (during another panic)" : "", p->type, c->where);
	return true;
}

static bool rule_abort(struct triage_ctx *c, char *v, size_t n)
{
	if (c->tr->fault.signo != SIGABRT)
		return false;
	snprintf(v, n, "the program aborted (SIGABRT) in %s", c->where);
	return true;
}

static bool rule_no_address(struct triage_ctx *c, char *v, size_t n)
{
	const struct fault *f = &c->tr->fault;
	if (f->has_addr)
		return false;
	const char *sig = core_signal_name(f->signo) ? core_signal_name(f->signo) : "signal";
	if (f->code == SI_KERNEL)
		snprintf(v, n, "%s (general-protection fault: the kernel gives no address%s%s) in %s", sig,
			 c->tr->insn.decoded ? " and the instruction has no memory operand: " : "",
			 c->tr->insn.decoded ? c->tr->insn.text : "", c->where);
	else
		snprintf(v, n, "%s in %s", sig, c->where);
	return true;
}

static bool rule_stack_guard(struct triage_ctx *c, char *v, size_t n)
{
	const struct verdict *fv = &c->tr->fault_verdict;
	if (!(fv->region == REGION_UNMAPPED && fv->d.unmapped.kind == UNMAPPED_STACK_GUARD))
		return false;
	snprintf(v, n, "stack overflow: %s ran off thread %" PRId64 "'s stack into its guard at 0x%" PRIx64,
		 c->where, fv->d.unmapped.tid, c->tr->fault.addr);
	return true;
}

static bool rule_victim(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (!tr->victim)
		return false;
	const struct verdict *vv = &tr->victim->where;
	const struct holder *vh = holders_best(&tr->victim_holders);
	if (vv->d.heap.kind == GO_SPAN_INUSE)
		snprintf(v, n, "%s read 0x%" PRIx64 " through the Go object at 0x%" PRIx64 " (%" PRIu64
			 " bytes), which the GC already freed%s%s", c->where, tr->fault.addr,
			 vv->d.heap.slot.user, vv->d.heap.span.elemsize,
			 vh ? "; C still points at it from " : "", vh ? vh->desc : "");
	else
		snprintf(v, n, "%s read 0x%" PRIx64 " through 0x%" PRIx64 ", Go heap memory the GC "
			 "already freed (its span is gone)%s%s", c->where, tr->fault.addr, tr->victim->at,
			 vh ? "; C still points at it from " : "", vh ? vh->desc : "");
	tr->object = vv->d.heap.kind == GO_SPAN_INUSE ? vv->d.heap.slot.user : tr->victim->at;
	tr->object_verdict = *vv;
	return true;
}

/* The pointer was read out of freed memory: the use of freed memory is
 * there, whatever the (garbage) pointer then hit. */
static bool rule_loaded_from_freed_go(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (!tr->has_origin || !triage_freed_go(&tr->origin_verdict))
		return false;
	snprintf(v, n, "%s %s 0x%" PRIx64 " through a pointer it read out of Go memory the GC already "
		 "freed: %s%s%s", c->where, c->access, tr->fault.addr, c->ptr, c->from, c->held);
	tr->object = tr->origin_verdict.region == REGION_GO_HEAP && tr->origin_verdict.d.heap.kind == GO_SPAN_INUSE ?
		     tr->origin_verdict.d.heap.slot.user : tr->insn.origin.from;
	tr->object_verdict = tr->origin_verdict;
	return true;
}

static bool rule_freed_go_reg(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	enum core_reg reg;
	const struct verdict *freed_go = triage_freed_go_reg(tr, &reg);
	if (!freed_go)
		return false;
	snprintf(v, n, "%s used 0x%" PRIx64 " (in %s), a Go object the GC already freed "
		 "(%" PRIu64 "-byte slot %" PRIu64 " of span 0x%" PRIx64 "); the fault at 0x%" PRIx64
		 " followed from it%s",
		 c->where, freed_go->addr, core_reg_names[reg], freed_go->d.heap.span.elemsize,
		 freed_go->d.heap.slot.index, freed_go->d.heap.span.start, tr->fault.addr, c->held);
	tr->object = freed_go->d.heap.slot.user;
	tr->object_verdict = *freed_go;
	return true;
}

static bool rule_loaded_from_freed_c(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (!tr->has_origin || !triage_freed_c(&tr->origin_verdict))
		return false;
	snprintf(v, n, "%s %s 0x%" PRIx64 " through a pointer it read out of a C chunk freed earlier: "
		 "%s%s%s%s%s", c->where, c->access, tr->fault.addr, c->ptr, c->from,
		 tr->ptr_note ? "; the value is " : "", tr->ptr_note ? tr->ptr_note : "", c->held);
	tr->object = tr->origin_verdict.d.chunk.user;
	tr->object_verdict = tr->origin_verdict;
	return true;
}

static bool rule_ptr_freed_c(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (!tr->has_ptr || !triage_freed_c(&tr->ptr_verdict))
		return false;
	snprintf(v, n, "%s %s 0x%" PRIx64 " through %s, a C chunk of %" PRIu64 " bytes freed earlier "
		 "(%s bin)%s%s", c->where, c->access, tr->fault.addr, c->ptr, tr->ptr_verdict.d.chunk.user_size,
		 cheap_bin_name(tr->ptr_verdict.d.chunk.bin), c->from, c->held);
	tr->object = tr->ptr_verdict.d.chunk.user;
	tr->object_verdict = tr->ptr_verdict;
	return true;
}

static bool rule_ptr_freed_go(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (!tr->has_ptr || !triage_freed_go(&tr->ptr_verdict))
		return false;
	snprintf(v, n, "%s %s 0x%" PRIx64 " through %s, Go memory the GC already freed%s%s", c->where,
		 c->access, tr->fault.addr, c->ptr, c->from, c->held);
	tr->object = tr->insn.ptr_value;
	tr->object_verdict = tr->ptr_verdict;
	return true;
}

static bool rule_addr_freed_go(struct triage_ctx *c, char *v, size_t n)
{
	const struct verdict *fv = &c->tr->fault_verdict;
	if (!(fv->region == REGION_GO_HEAP && fv->state != VSTATE_ALLOCATED))
		return false;
	snprintf(v, n, "%s touched 0x%" PRIx64 ", %s Go heap memory%s", c->where, c->tr->fault.addr,
		 classify_state_name(fv->state), c->held);
	c->tr->object = c->tr->fault.addr;
	c->tr->object_verdict = *fv;
	return true;
}

static bool rule_addr_freed_c(struct triage_ctx *c, char *v, size_t n)
{
	const struct verdict *fv = &c->tr->fault_verdict;
	if (!triage_freed_c(fv))
		return false;
	snprintf(v, n, "%s touched 0x%" PRIx64 ", in a C chunk of %" PRIu64 " bytes freed earlier (%s bin)%s",
		 c->where, c->tr->fault.addr, fv->d.chunk.user_size, cheap_bin_name(fv->d.chunk.bin), c->held);
	c->tr->object = fv->d.chunk.user;
	c->tr->object_verdict = *fv;
	return true;
}

/* glibc's mmapped chunks start 16 bytes into a page, and free() unmaps them
 * at once: a held pointer of that shape into nothing. */
static bool rule_munmapped_chunk(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	uint64_t p = tr->mmap_object ? tr->mmap_object :
		     tr->has_ptr && tr->ptr_verdict.region == REGION_UNMAPPED ? c->ptr_value : tr->fault.addr;
	const struct verdict *fv = &tr->fault_verdict;
	if (fv->region != REGION_UNMAPPED || !c->held[0] || !cheap_mmapped_user_shape(p))
		return false;
	tr->object = p;
	tr->object_verdict = *fv;
	if (p == tr->fault.addr)
		snprintf(v, n, "%s %s 0x%" PRIx64 ", unmapped: the shape of a large (mmapped) C chunk that "
			 "free() already returned to the kernel (probable)%s", c->where, c->access, p, c->held);
	else
		snprintf(v, n, "%s %s 0x%" PRIx64 " (+0x%" PRIx64 ") through 0x%" PRIx64 ", unmapped: the "
			 "shape of a large (mmapped) C chunk that free() already returned to the kernel "
			 "(probable)%s", c->where, c->access, tr->fault.addr, tr->fault.addr - p, p, c->held);
	return true;
}

static bool rule_null_base(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	bool small_ptr = tr->has_ptr && c->ptr_value < CLASSIFY_NULL_PAGE_END;
	const struct verdict *fv = &tr->fault_verdict;
	bool null_page = fv->region == REGION_UNMAPPED && fv->d.unmapped.kind == UNMAPPED_NULL_PAGE;
	if (!small_ptr && !(null_page && (!tr->has_ptr || tr->insn.exec_fault)))
		return false;
	uint64_t base = small_ptr ? c->ptr_value : 0;
	if (tr->insn.exec_fault)
		snprintf(v, n, "NULL function pointer: %s called 0x%" PRIx64 " (NULL + %" PRIu64 ")%s", c->where,
			 tr->fault.addr, tr->fault.addr, c->from);
	else if (base)
		snprintf(v, n, "NULL pointer dereference: %s %s 0x%" PRIx64 " through %s, a small constant "
			 "(NULL + %" PRIu64 "), field offset %" PRId64 "%s", c->where, c->access, tr->fault.addr,
			 c->ptr, base, (int64_t)(tr->fault.addr - base), c->from);
	else
		snprintf(v, n, "NULL pointer dereference: %s touched 0x%" PRIx64 " (NULL + %" PRIu64 ")%s%s",
			 c->where, tr->fault.addr, tr->fault.addr, tr->has_ptr ? ", through " : "",
			 tr->has_ptr ? c->ptr : "");
	return true;
}

static bool rule_non_canonical(struct triage_ctx *c, char *v, size_t n)
{
	struct triage *tr = c->tr;
	if (insn_canonical(tr->fault.addr))
		return false;
	snprintf(v, n, "%s %s 0x%" PRIx64 ", a non-canonical address (no mapping can be there: a tagged "
		 "or garbage pointer)%s%s%s", c->where, c->access, tr->fault.addr,
		 tr->has_ptr ? ", through " : "", tr->has_ptr ? c->ptr : "", c->from);
	return true;
}

static bool rule_wild(struct triage_ctx *c, char *v, size_t n)
{
	const struct verdict *fv = &c->tr->fault_verdict;
	if (c->tr->insn.exec_fault) {
		snprintf(v, n, "%s jumped to 0x%" PRIx64 ", which is not code (%s)%s%s", c->where,
			 c->tr->fault.addr, classify_region_name(fv->region), c->from, c->held);
		return true;
	}
	snprintf(v, n, "%s touched 0x%" PRIx64 " (%s%s%s)%s", c->where, c->tr->fault.addr,
		 classify_region_name(fv->region), fv->state == VSTATE_NA ? "" : ", ",
		 fv->state == VSTATE_NA ? "" : classify_state_name(fv->state), c->held);
	return true;
}

static const struct triage_class triage_class_list[] = {
	{ "concurrent-map-write", "Go detected two goroutines writing one map without a lock" },
	{ "double-free", "glibc detected a chunk freed twice" },
	{ "c-heap-corruption", "glibc aborted on a corrupt C heap" },
	{ "go-fatal", "the Go runtime threw a fatal error" },
	{ "go-panic", "a Go panic nobody recovered" },
	{ "abort", "the program called abort()" },
	{ "unknown", "a signal whose cause the core cannot tell" },
	{ "stack-overflow", "a thread ran off its stack into the guard below it" },
	{ "go-use-after-free", "memory the Go GC freed, used through a pointer that C (or unsafe code) kept" },
	{ "c-use-after-free", "C memory used after free(): through a stale pointer, or a pointer read out of a freed chunk" },
	{ "null-deref", "a NULL (or small constant) pointer dereferenced, at any field offset" },
	{ "wild-pointer", "an address no object is at: garbage, non-canonical, or a pointer to unmapped memory" },
};

const struct triage_class *triage_classes(size_t *n)
{
	*n = sizeof(triage_class_list) / sizeof(triage_class_list[0]);
	return triage_class_list;
}

/* The class rules, tried in order: the first that matches decides. */
static const struct triage_rule {
	const char *klass;
	const char *reason;
	triage_rule_fn *match;
} triage_rules[] = {
	{ "concurrent-map-write", "Go's fatal error says concurrent map access", rule_map_write },
	{ "double-free", "glibc's abort message says double free", rule_double_free },
	{ "c-heap-corruption", "glibc aborted with a message", rule_heap_corruption },
	{ "go-fatal", "SIGABRT with a Go fatal error in the runtime's print backlog", rule_go_fatal },
	{ "go-panic", "SIGABRT while a Go panic was running (g._panic)", rule_go_panic },
	{ "abort", "SIGABRT without a message from Go or glibc", rule_abort },
	{ "unknown", "the fault has no address (and the instruction gives none)", rule_no_address },
	{ "stack-overflow", "the fault address is in a stack's guard page or the gap below the main stack", rule_stack_guard },
	{ "go-use-after-free", "the faulting pointer was held by a Go object the GC freed", rule_victim },
	{ "go-use-after-free", "the instruction's pointer was loaded from freed Go memory", rule_loaded_from_freed_go },
	{ "go-use-after-free", "a register points into a freed Go slot", rule_freed_go_reg },
	{ "c-use-after-free", "the instruction's pointer was loaded from a freed C chunk", rule_loaded_from_freed_c },
	{ "c-use-after-free", "the instruction's pointer points into a freed C chunk", rule_ptr_freed_c },
	{ "go-use-after-free", "the instruction's pointer points into freed Go memory", rule_ptr_freed_go },
	{ "go-use-after-free", "the fault address is freed Go memory", rule_addr_freed_go },
	{ "c-use-after-free", "the fault address is in a freed C chunk", rule_addr_freed_c },
	{ "c-use-after-free", "an unmapped pointer of a munmapped glibc chunk's shape that something still holds", rule_munmapped_chunk },
	{ "null-deref", "the instruction's pointer is NULL or a small constant (or the address is in the NULL page)", rule_null_base },
	{ "wild-pointer", "the address is non-canonical", rule_non_canonical },
	{ "wild-pointer", "nothing explains the address", rule_wild },
};

static void triage_ctx_init(struct triage *tr, struct triage_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->tr = tr;
	triage_where(tr, c->where, sizeof(c->where));
	const struct holder *h = holders_best(&tr->holders);
	if (tr->chain_holder[0])
		snprintf(c->held, sizeof(c->held), ", still held by %s through %zu heap object%s (first %s)",
			 tr->chain_holder, tr->nchain, tr->nchain > 1 ? "s" : "", tr->chain[0].desc);
	else if (h)
		snprintf(c->held, sizeof(c->held), ", still held by %s", h->desc);
	const struct insn *in = &tr->insn;
	snprintf(c->access, sizeof(c->access), "%s",
		 !in->decoded ? "touched" : in->access == INSN_ACCESS_READ ? "read" :
		 in->access == INSN_ACCESS_WRITE ? "wrote" : in->access == INSN_ACCESS_RMW ? "updated" :
		 in->access == INSN_ACCESS_CALL ? "called" : in->access == INSN_ACCESS_JUMP ? "jumped to" :
		 "touched");
	if (tr->has_ptr) {
		c->ptr_value = in->exec_fault ? in->bad_pc : in->ptr_value;
		char d[240];
		classify_brief(&tr->ptr_verdict, d, sizeof(d));
		if (tr->ptr_var)
			snprintf(c->ptr, sizeof(c->ptr), "%s = 0x%" PRIx64 " (%s of %s%s%s%s%s; %s)", tr->ptr_var,
				 c->ptr_value, tr->ptr_var_param ? "parameter" : "variable",
				 tr->bt.n && tr->bt.frames[0].func ? tr->bt.frames[0].func : "?",
				 tr->ptr_member ? ", field " : "", tr->ptr_member ? tr->ptr_var : "",
				 tr->ptr_member ? "->" : "", tr->ptr_member ? tr->ptr_member : "", d);
		else
			snprintf(c->ptr, sizeof(c->ptr), "%s = 0x%" PRIx64 " (%s)",
				 insn_reg_name(in->ptr_reg) ? insn_reg_name(in->ptr_reg) : "?", c->ptr_value, d);
	}
	/* A named variable's own stack slot is no news. */
	bool spill = tr->ptr_var && (tr->origin_verdict.region == REGION_THREAD_STACK ||
				     tr->origin_verdict.region == REGION_GO_STACK);
	if (tr->has_origin && !spill) {
		char d[240];
		classify_brief(&tr->origin_verdict, d, sizeof(d));
		snprintf(c->from, sizeof(c->from), ", loaded from 0x%" PRIx64 " in %s by `%s`", in->origin.from, d,
			 in->origin.text);
	}
}

static void triage_classify(struct triage *tr)
{
	struct triage_ctx c;
	triage_ctx_init(tr, &c);
	for (size_t i = 0; i < sizeof(triage_rules) / sizeof(triage_rules[0]); i++)
		if (triage_rules[i].match(&c, tr->verdict, sizeof(tr->verdict))) {
			tr->klass = triage_rules[i].klass;
			tr->rule = triage_rules[i].reason;
			return;
		}
}

/* ---- signatures ---- */

static bool triage_strip_suffix(char *s, const char *sep, bool digits_only)
{
	char *p = NULL;
	size_t l = strlen(sep);
	for (char *q = s; (q = strstr(q, sep)); q++)
		p = q; /* the last occurrence of sep */
	if (!p || strncmp(p, sep, l) != 0)
		return false;
	const char *d = p + l;
	if (digits_only && (!*d || strspn(d, "0123456789") != strlen(d)))
		return false;
	*p = 0;
	return true;
}

void triage_normalize_func(const char *func, char *buf, size_t n)
{
	snprintf(buf, n, "%s", func ? func : "");
	triage_strip_suffix(buf, ".abi0", false);
	/* cgo's glue: _cgo_<hash>_Cfunc_f and _cgoexp_<hash>_f (the hash is of
	 * the package path and build) */
	for (const char *const *pre = (const char *const[]){ "_cgo_", "_cgoexp_", NULL }; *pre; pre++) {
		size_t l = strlen(*pre);
		if (strncmp(buf, *pre, l) == 0 && strspn(buf + l, "0123456789abcdef") == 12 && buf[l + 12] == '_')
			memmove(buf + l, buf + l + 13, strlen(buf + l + 13) + 1);
	}
	/* closures and wrappers: .func1.func7, .gowrap2, .deferwrap1, -range1 */
	bool again = true;
	while (again) {
		again = triage_strip_suffix(buf, ".func", true) || triage_strip_suffix(buf, ".gowrap", true) ||
			triage_strip_suffix(buf, ".deferwrap", true) || triage_strip_suffix(buf, "-range", true);
	}
	/* 1.27's size-specialized allocator entry points: mallocgcSmallScanNoHeaderSC5 */
	triage_strip_suffix(buf, "SC", true);
}

static bool triage_own_frame(const struct target *t, const struct frame *f)
{
	enum go_func_role role = go_func_role(f->func);
	if (!f->func || role == GO_FUNC_RUNTIME || role == GO_FUNC_RUNTIME_PKG || role == GO_FUNC_CGO ||
	    role == GO_FUNC_SIGRETURN || !strncmp(f->func, "_cgo", 4) || !strncmp(f->func, "crosscall", 9))
		return false;
	const struct target_module *m = target_module_of(t, f->activation ? f->pc : f->pc - 1);
	return m && m->is_exe;
}

static void triage_signature(const struct target *t, struct triage *tr)
{
	for (int own = 1; own >= 0; own--) {
		uint64_t h = CT_HASH_INIT;
#define MIX(s) (h = (s) ? ct_fnv1a(h, (s), strlen(s)) : h)
		MIX(tr->klass);
		int used = 0;
		char last[256] = "";
		/* Function names only: addresses and offsets vary between builds and runs. */
		for (size_t i = 0; i < tr->bt.n && used < 5; i++) {
			const struct frame *f = &tr->bt.frames[i];
			enum go_func_role role = go_func_role(f->func);
			if (!f->func || role == GO_FUNC_RUNTIME || role == GO_FUNC_SIGRETURN)
				continue;
			if (own && !triage_own_frame(t, f))
				continue;
			char name[256];
			triage_normalize_func(f->func, name, sizeof(name));
			/* A recursion is one frame (stack overflows differ in depth),
			 * and so is a closure called by its own function (whether Go
			 * inlined it differs between versions). */
			if (!strcmp(name, last))
				continue;
			snprintf(last, sizeof(last), "%s", name);
			MIX("|");
			h = ct_fnv1a(h, name, strlen(name));
			used++;
		}
#undef MIX
		snprintf(own ? tr->signature : tr->signature_all, 17, "%016" PRIx64, h);
	}
	for (size_t i = 0; i < tr->bt.n && !tr->own; i++)
		if (triage_own_frame(t, &tr->bt.frames[i]))
			tr->own = &tr->bt.frames[i];
}

/* ---- frame variables ---- */

static void triage_vars(struct target *t, struct triage *tr)
{
	for (size_t i = 0; i < tr->bt.n && i < TRIAGE_VAR_FRAMES; i++)
		tr->nvars[i] = framevars_of(t, &tr->bt, i, i == 0 && tr->fault.source != FAULT_SOURCE_GOROUTINE &&
							  !tr->insn.exec_fault ? tr->fault.regs : NULL,
					    true, tr->vars[i], FRAMEVARS_MAX);
	/* The variable the instruction's pointer came from: the faulting frame's
	 * (a parameter first), with the member at the offset from its type. */
	if (!tr->has_ptr || tr->insn.exec_fault)
		return;
	for (int pass = 0; pass < 2 && !tr->ptr_var; pass++)
		for (size_t k = 0; k < tr->nvars[0]; k++) {
			const struct framevar *v = &tr->vars[0][k];
			if (v->state != FRAMEVAR_OK || v->by_address || v->value != tr->insn.ptr_value ||
			    v->param != (pass == 0))
				continue;
			tr->ptr_var = v->name;
			tr->ptr_var_param = v->param;
			if (tr->insn.has_ea)
				tr->ptr_member = framevar_member_at(v, tr->insn.ea - tr->insn.ptr_value);
			break;
		}
}

/* ---- Go panics, double frees ---- */

static void triage_panic(struct target *t, struct triage *tr)
{
	const struct go_sched *s;
	if (!t->go || target_go_sched(t, &s))
		return;
	const struct go_m *m = go_sched_m_of_tid(s, tr->fault.tid);
	const struct go_g *g = m && m->curg ? go_sched_g_at(s, m->curg) : NULL;
	for (size_t i = 0; (!g || !g->panic) && i < s->ngs; i++)
		if (s->gs[i].panic)
			g = &s->gs[i];
	if (!g || !g->panic)
		return;
	struct gomap_ctx *mc = NULL;
	struct govalue *gv = NULL;
	struct ct_error *err = gomap_ctx_create(t->go, &mc);
	if (!err)
		err = govalue_create(t->go, mc, NULL, &gv);
	if (!err)
		err = go_panic_read(t->go, gv, g->panic, &tr->panic);
	if (err)
		target_warn(t, "the running panic (g._panic 0x%" PRIx64 "): %s", g->panic, err->msg);
	else {
		tr->has_panic = true;
		tr->panic_goid = g->goid;
	}
	ct_error_destroy(err);
	govalue_destroy(gv);
	gomap_ctx_destroy(mc);
}

/* glibc's double-free check fires inside free(): the pointer is the freed
 * chunk that free()'s own variables name where libc's DWARF is at hand
 * (_int_free's p and e, free's mem), else the caller's; failing those, the
 * one free()'s frames (and their callers' spills) hold on the stack, nearest
 * the abort first. */
#define TRIAGE_FREE_SCAN (16 * 1024)

/* v as the freed chunk: its user pointer, or (header) the chunk's own
 * address, as malloc's mchunkptr variables hold it. */
static bool freed_chunk_at(struct target *t, uint64_t v, bool header, struct verdict *ret)
{
	if (v < CLASSIFY_NULL_PAGE_END)
		return false;
	if (!header) {
		classify_addr(t, v, ret);
		return ret->region == REGION_C_HEAP && ret->state == VSTATE_FREE && ret->d.chunk.user == v;
	}
	if (v > UINT64_MAX - 16)
		return false;
	classify_addr(t, v + 16, ret);
	return ret->region == REGION_C_HEAP && ret->state == VSTATE_FREE && ret->d.chunk.chunk == v &&
	       ret->d.chunk.user == v + 16;
}

static void triage_freed_pointer(struct target *t, struct triage *tr)
{
	size_t caller = 0;
	for (size_t i = 0; i < tr->n_c_frames; i++)
		if (tr->bt.frames[i].func && tr->bt.frames[i].func == tr->cfunc) {
			caller = i;
			break;
		}
	if (!caller)
		return;
	/* The variables DWARF places: the caller's (the program's own name for
	 * it), then libc's from the abort out (_int_free's e, free's mem); a
	 * user pointer first, then the chunk (_int_free's p), named only in the
	 * first case. */
	for (int header = 0; header < 2; header++)
		for (size_t j = 0; j <= caller; j++) {
			size_t i = j ? j - 1 : caller;
			for (size_t k = 0; i < TRIAGE_VAR_FRAMES && k < tr->nvars[i]; k++) {
				const struct framevar *v = &tr->vars[i][k];
				struct verdict vv;
				if (v->state != FRAMEVAR_OK || v->by_address ||
				    !freed_chunk_at(t, v->value, header, &vv))
					continue;
				tr->freed_ptr = vv.d.chunk.user;
				tr->freed_verdict = vv;
				tr->freed_var = header ? NULL : v->name;
				return;
			}
		}
	uint64_t lo = tr->bt.frames[0].sp, hi = tr->bt.frames[caller].sp + 256;
	if (!lo || hi <= lo || hi - lo > TRIAGE_FREE_SCAN)
		return;
	for (uint64_t a = lo & ~7ULL; a < hi; a += 8) {
		uint64_t w;
		unsigned char b[8];
		if (mem_read(&t->mem, a, b, 8) != MEM_OK)
			return;
		w = mem_load(b, 8);
		if (w < CLASSIFY_NULL_PAGE_END || (w & 15))
			continue;
		struct verdict v;
		classify_addr(t, w, &v);
		if (v.region == REGION_C_HEAP && v.state == VSTATE_FREE && v.d.chunk.user == w) {
			tr->freed_ptr = w;
			tr->freed_verdict = v;
			return;
		}
	}
}

void triage_run(struct target *t, struct triage *tr)
{
	memset(tr, 0, sizeof(*tr));
	tr->insn.ptr_reg = INSN_NO_REG;
	tr->core_signo = t->core && t->core->siginfo.present ? t->core->siginfo.signo : 0;
	fault_find(t, &tr->fault);
	triage_decode(t, tr);
	triage_frames(t, tr);
	triage_go_fatal(t, tr);
	triage_abort_msg(t, tr);
	if (strstr(tr->go_fatal, "concurrent map"))
		triage_fatal_map(t, tr);
	if (tr->fault.signo == SIGABRT && !tr->go_fatal[0])
		triage_panic(t, tr);
	triage_vars(t, tr);
	if (tr->fault.signo == SIGABRT && strstr(tr->abort_msg, "double free"))
		triage_freed_pointer(t, tr);
	if (tr->fault.has_addr)
		classify_addr(t, tr->fault.addr, &tr->fault_verdict);
	/* Holders: of the object the instruction's pointer points into, else of
	 * the object the pointer was read from (a garbage pointer read out of a
	 * freed chunk: who holds the chunk), else of the fault address. */
	bool search = true;
	if (tr->has_origin && triage_freed_c(&tr->origin_verdict))
		tr->held_addr = tr->insn.origin.from; /* the pointer is garbage glibc wrote there */
	else if (tr->has_ptr && triage_pointerish(&tr->ptr_verdict) &&
	    tr->ptr_verdict.region != REGION_THREAD_STACK && tr->ptr_verdict.region != REGION_GO_STACK)
		tr->held_addr = tr->insn.exec_fault ? tr->insn.bad_pc : tr->insn.ptr_value;
	else if (tr->has_origin && triage_freed_go(&tr->origin_verdict))
		tr->held_addr = tr->insn.origin.from;
	else if (tr->freed_ptr)
		tr->held_addr = tr->freed_ptr;
	else if (tr->fault.has_addr && triage_pointerish(&tr->fault_verdict))
		tr->held_addr = tr->fault.addr;
	else
		search = false;
	/* An interior address of a munmapped large chunk: the held chunk pointer below. */
	if (tr->fault.has_addr && tr->fault_verdict.region == REGION_UNMAPPED &&
	    tr->fault_verdict.d.unmapped.kind == UNMAPPED_PLAIN && !(tr->has_origin && triage_freed_c(&tr->origin_verdict))) {
		uint64_t a = tr->has_ptr && tr->ptr_verdict.region == REGION_UNMAPPED ? tr->insn.ptr_value : tr->fault.addr;
		triage_mmap_object(t, tr, a);
		if (tr->mmap_object) {
			tr->held_addr = tr->mmap_object;
			search = true;
		}
	}
	if (search) {
		uint64_t lo, hi;
		holders_range(t, tr->held_addr, &lo, &hi);
		holders_find(t, lo, hi, &tr->holders);
		triage_find_victim(t, tr);
		/* a NULL (or small constant) pointer plus an offset: the words
		 * equal to that sum are coincidences, not a chain to follow */
		if (!tr->victim && !(tr->has_ptr && tr->insn.ptr_value < CLASSIFY_NULL_PAGE_END))
			triage_chain(t, tr);
	}
	triage_registers(t, tr);
	triage_classify(tr);
	triage_signature(t, tr);
}

/* The words whose holder matters, most telling first: the freed victim's
 * best holder, the held chain's named holder and its links from the last,
 * the object's best holder. */
static size_t triage_holder_words(const struct triage *tr, uint64_t *w, size_t max)
{
	size_t n = 0;
	const struct holder *h;
	if (tr->victim && (h = holders_best(&tr->victim_holders)) && n < max)
		w[n++] = h->at;
	if (tr->chain_holder[0] && tr->chain_holder_at && n < max)
		w[n++] = tr->chain_holder_at;
	for (size_t i = tr->nchain; i-- > 0 && n < max;)
		w[n++] = tr->chain[i].at;
	if ((h = holders_best(&tr->holders)) && n < max)
		w[n++] = h->at;
	return n;
}

void triage_retain(struct target *t, struct triage *tr)
{
	uint64_t words[TRIAGE_CHAIN_MAX + 3];
	size_t nw = triage_holder_words(tr, words, sizeof(words) / sizeof(words[0]));
	if (!nw) {
		tr->retain_done = true;
		return;
	}
	struct hg_options opt = { .parents = true };
	struct hg *g;
	struct ct_error *err = hg_build(t, &opt, &g);
	if (err) {
		target_warn(t, "triage --retain: %s", err->msg);
		ct_error_destroy(err);
		return;
	}
	tr->retain_done = true;
	struct hg_object o;
	size_t k = 0;
	while (k < nw && !hg_object_of(g, words[k], &o))
		k++;
	if (k < nw) {
		uint64_t at = words[k];
		tr->retain_holder_at = at;
		tr->retain_object = o.addr;
		tr->retain_reached = o.reached;
		struct hg_step *steps = calloc(128, sizeof(*steps));
		struct hg_root r;
		char via[128] = "";
		size_t n = steps && o.reached ? hg_path(g, at, steps, 128, &r, via, sizeof(via)) : 0;
		if (n) {
			char *text = hg_path_text(steps, n, &r, via);
			hg_field_at(g, at, tr->retain_field, sizeof(tr->retain_field));
			snprintf(tr->retain_path, sizeof(tr->retain_path), "%s%s%s", text ? text : "",
				 tr->retain_field[0] ? " " : "", tr->retain_field);
			free(text);
			snprintf(tr->retain_root_kind, sizeof(tr->retain_root_kind), "%s",
				 r.kind < HG_ROOT_NKINDS ? hg_root_kind_name(r.kind) : "unknown");
			if (r.kind == HG_ROOT_GOROUTINE)
				snprintf(tr->retain_root, sizeof(tr->retain_root), "goroutine %" PRIu64 " %s",
					 r.goid, r.func);
			else
				snprintf(tr->retain_root, sizeof(tr->retain_root), "%s", r.name ? r.name : "");
		}
		free(steps);
	}
	hg_destroy(g);
}
