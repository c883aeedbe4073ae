#include "classify.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Below this the kernel refuses mappings (vm.mmap_min_addr): a NULL pointer plus a field offset. */

/* x86-64 with 4-level paging: user space ends at 1 << 47, kernel space starts at -(1 << 47). */
#define CLASSIFY_USER_END 0x0000800000000000ULL
#define CLASSIFY_KERNEL_START 0xffff800000000000ULL

const char *classify_region_name(enum region r)
{
	static const char *const names[] = { "go-heap", "go-stack", "go-runtime", "c-heap",
					     "image", "thread-stack", "mapped", "unmapped" };
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const char *classify_state_name(enum vstate s)
{
	static const char *const names[] = { "allocated", "free", "garbage", "unknown", "n/a" };
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static void verdict_unknown(struct verdict *v, const struct ct_error *err, const char *what)
{
	v->state = VSTATE_UNKNOWN;
	snprintf(v->note, sizeof(v->note), "%s: %s", what, err ? err->msg : "unreadable");
}

/* A goroutine stack's live part starts at its stack pointer: the saved one, the
 * syscall one, or the thread's register when the goroutine was running. */
static uint64_t classify_g_sp(struct target *t, const struct go_sched *s, const struct go_g *g)
{
	if (g->status == s->st_syscall && g->syscallsp)
		return g->syscallsp;
	if (g->status == s->st_running) {
		/* a core's threads, or the live ones a front end handed in */
		size_t nth;
		const struct core_thread *ths = target_threads(t, &nth);
		for (size_t i = 0; i < s->nms; i++) {
			if (s->ms[i].addr != g->m)
				continue;
			for (size_t j = 0; j < nth; j++) {
				const struct core_thread *th = &ths[j];
				uint64_t rsp = th->regs[CORE_REG_RSP];
				if (th->tid == s->ms[i].procid && rsp >= g->stack_lo && rsp < g->stack_hi)
					return rsp;
			}
		}
		return 0;
	}
	return g->sched_sp;
}

static bool classify_go_stack(struct target *t, uint64_t addr, struct verdict *v)
{
	const struct go_sched *s;
	const struct ct_error *err = target_go_sched(t, &s);
	if (err) {
		v->region = REGION_GO_STACK;
		verdict_unknown(v, err, "goroutines unreadable");
		return true;
	}
	const struct go_g *g = go_sched_g_of_stack(s, addr);
	if (g) {
		v->region = REGION_GO_STACK;
		v->state = g->status == s->st_dead ? VSTATE_FREE : VSTATE_ALLOCATED;
		v->d.stack.goid = g->goid;
		v->d.stack.g = g->addr;
		v->d.stack.lo = g->stack_lo;
		v->d.stack.hi = g->stack_hi;
		v->d.stack.status = g->status;
		v->d.stack.status_name = go_g_status_name(s, g->status);
		uint64_t sp = classify_g_sp(t, s, g);
		v->d.stack.sp = sp;
		v->d.stack.live = sp ? addr >= sp : -1;
		if (g->status == s->st_dead)
			snprintf(v->note, sizeof(v->note), "stack of a dead goroutine, kept for reuse");
		return true;
	}
	for (size_t i = 0; i < s->nms; i++) {
		const struct go_m *m = &s->ms[i];
		if (addr >= m->gsignal_lo && addr < m->gsignal_hi) {
			v->region = REGION_GO_RUNTIME;
			v->state = VSTATE_NA;
			v->d.rt = (struct verdict_rt){ "signal stack (gsignal)", m->id, m->procid,
						       m->gsignal_lo, m->gsignal_hi };
			return true;
		}
		if (addr >= m->g0_lo && addr < m->g0_hi) {
			v->region = REGION_THREAD_STACK;
			v->state = VSTATE_ALLOCATED;
			v->d.tstack = (struct verdict_tstack){ m->procid, m->id, m->g0_lo, m->g0_hi, 0,
							   "g0", -1 };
			return true;
		}
	}
	return false;
}

static bool classify_go(struct target *t, uint64_t addr, struct verdict *v)
{
	const struct go_heap *h;
	if (!t->go || target_go_heap(t, &h))
		return false;
	enum go_span_kind kind;
	struct ct_error *err = go_heap_span_of(h, addr, &kind, &v->d.heap.span);
	if (err) {
		/* The arena index or span could not be read: say so, do not guess;
		 * but only where the Go heap can be (anonymous writable memory, no
		 * file, no thread's stack), so that the other rules still speak. */
		const struct core_segment *seg = t->core ? core_segment_of(t->core, addr) : NULL;
		/* Inside an arena the runtime mapped (mheap_.allArenas), it is the
		 * Go heap whatever else the core says. */
		bool in_arena = go_heap_in_arena(h, addr);
		bool maybe_heap = in_arena || (seg && (seg->flags & PF_W) && !core_file_of(t->core, addr));
		const struct target_tstack *ts;
		size_t nts;
		target_thread_stacks(t, &ts, &nts);
		for (size_t i = 0; maybe_heap && !in_arena && i < nts; i++)
			if (addr >= ts[i].lo && addr < ts[i].hi)
				maybe_heap = false;
		if (!maybe_heap) {
			ct_error_destroy(err);
			return false;
		}
		v->region = REGION_GO_HEAP;
		verdict_unknown(v, err, "Go heap metadata unreadable");
		ct_error_destroy(err);
		return true;
	}
	v->d.heap.kind = kind;
	switch (kind) {
	case GO_SPAN_NONE:
		return false;
	case GO_SPAN_FREE:
		v->region = REGION_GO_HEAP;
		v->state = VSTATE_FREE;
		memset(&v->d.heap.span, 0, sizeof(v->d.heap.span));
		snprintf(v->note, sizeof(v->note), "in a heap arena, no in-use span: free pages");
		return true;
	case GO_SPAN_MANUAL:
		/* v->d is a union: the span just read must not pass for stack detail
		 * (status_name would be a stray pointer) when no goroutine owns it. */
		memset(&v->d, 0, sizeof(v->d));
		if (classify_go_stack(t, addr, v))
			return true;
		v->region = REGION_GO_STACK;
		v->state = VSTATE_FREE;
		snprintf(v->note, sizeof(v->note),
			 "manual span owned by no goroutine: a free stack or a runtime buffer");
		return true;
	case GO_SPAN_INUSE:
		break;
	}
	v->region = REGION_GO_HEAP;
	err = go_span_slot(h, &v->d.heap.span, addr, &v->d.heap.slot);
	if (err) {
		verdict_unknown(v, err, "allocation bits unreadable");
		ct_error_destroy(err);
		return true;
	}
	const struct go_slot *sl = &v->d.heap.slot;
	if (sl->beyond) {
		v->state = VSTATE_FREE;
		snprintf(v->note, sizeof(v->note), "past the span's last slot (span tail)");
	} else if (sl->garbage) {
		v->state = VSTATE_GARBAGE;
	} else {
		v->state = sl->allocated ? VSTATE_ALLOCATED : VSTATE_FREE;
	}
	return true;
}

static bool classify_thread_stack(struct target *t, uint64_t addr, struct verdict *v)
{
	const struct target_tstack *ts;
	size_t n;
	target_thread_stacks(t, &ts, &n);
	for (size_t i = 0; i < n; i++) {
		if (addr >= ts[i].lo && addr < ts[i].hi) {
			v->region = REGION_THREAD_STACK;
			v->state = VSTATE_ALLOCATED;
			v->d.tstack = (struct verdict_tstack){ ts[i].tid, ts[i].m_id, ts[i].lo, ts[i].hi,
							   ts[i].sp, ts[i].g0 ? "g0" : "thread",
							   ts[i].sp ? addr >= ts[i].sp : -1 };
			return true;
		}
	}
	/* The guard below a stack: a PROT_NONE mapping right below it (pthread
	 * guard page) or the kernel's gap below a growing stack. */
	for (size_t i = 0; i < n; i++) {
		if (addr >= ts[i].lo || ts[i].lo - addr > CLASSIFY_STACK_GUARD_GAP)
			continue;
		const struct core_segment *s = t->core ? core_segment_of(t->core, addr) : NULL;
		if (s && !(s->flags == 0 && s->vaddr + s->memsz == ts[i].lo))
			continue;
		/* Only the main thread's stack grows down into a gap (in a Go
		 * program it is M0's g0 stack); a pthread stack is a fixed mapping
		 * whose guard is its PROT_NONE page. */
		if (!s && !(t->core && ts[i].tid == t->core->pid))
			continue;
		v->region = REGION_UNMAPPED;
		v->state = VSTATE_NA;
		v->d.unmapped.kind = UNMAPPED_STACK_GUARD;
		v->d.unmapped.tid = ts[i].tid;
		v->d.unmapped.stack_lo = ts[i].lo;
		snprintf(v->note, sizeof(v->note), s ? "guard page (PROT_NONE) below a thread stack"
						     : "gap below a thread stack");
		return true;
	}
	return false;
}

static bool classify_image(struct target *t, uint64_t addr, struct verdict *v)
{
	const struct target_module *m = target_module_of(t, addr);
	if (!m)
		return false;
	v->region = REGION_IMAGE;
	v->state = VSTATE_NA;
	v->d.image.module = m->file && m->file[0] == '/' ? m->file : m->name;
	v->d.image.module_start = m->start;
	uint64_t off;
	const char *name = target_module_symbol(t, m, addr, &off);
	if (name) {
		v->d.image.symbol = name;
		v->d.image.sym_offset = off;
	}
	Dwarf_Addr bias;
	Elf_Scn *scn = dwfl_module_address_section(m->dwmod, &(Dwarf_Addr){ addr }, &bias);
	Elf *elf = dwfl_module_getelf(m->dwmod, &bias);
	size_t shstrndx;
	GElf_Shdr sh;
	if (scn && elf && elf_getshdrstrndx(elf, &shstrndx) == 0 && gelf_getshdr(scn, &sh))
		v->d.image.section = elf_strptr(elf, shstrndx, sh.sh_name);
	return true;
}

static bool classify_c_heap(struct target *t, uint64_t addr, struct verdict *v)
{
	struct cheap *c;
	if (target_cheap(t, &c) || !c)
		return false;
	bool found = false;
	struct ct_error *err = cheap_lookup(c, addr, &found, &v->d.chunk);
	if (err) {
		v->region = REGION_C_HEAP;
		verdict_unknown(v, err, "C heap unreadable");
		ct_error_destroy(err);
		return true;
	}
	if (!found)
		return false;
	v->region = REGION_C_HEAP;
	v->state = v->d.chunk.state == CHEAP_ALLOCATED ? VSTATE_ALLOCATED :
		   v->d.chunk.state == CHEAP_FREE ? VSTATE_FREE : VSTATE_UNKNOWN;
	if (v->d.chunk.reason[0])
		snprintf(v->note, sizeof(v->note), "%s", v->d.chunk.reason);
	return true;
}

void classify_addr(struct target *t, uint64_t addr, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->addr = addr;
	const struct core_segment *seg = t->core ? core_segment_of(t->core, addr) : NULL;
	if (!seg && t->core) {
		v->region = REGION_UNMAPPED;
		v->state = VSTATE_NA;
		if (addr < CLASSIFY_NULL_PAGE_END)
			v->d.unmapped.kind = UNMAPPED_NULL_PAGE;
		else if (addr >= CLASSIFY_USER_END && addr < CLASSIFY_KERNEL_START)
			v->d.unmapped.kind = UNMAPPED_NON_CANONICAL;
		else if (classify_thread_stack(t, addr, v))
			return;
		return;
	}
	if (classify_go(t, addr, v) || classify_thread_stack(t, addr, v) ||
	    classify_image(t, addr, v) || classify_c_heap(t, addr, v))
		return;
	if (!seg) {
		v->region = REGION_UNMAPPED;
		v->state = VSTATE_UNKNOWN;
		snprintf(v->note, sizeof(v->note), "no mapping information (not a core)");
		return;
	}
	v->region = REGION_MAPPED;
	v->state = VSTATE_NA;
	const struct core_file_map *f = core_file_of(t->core, addr);
	v->d.mapping.start = seg->vaddr;
	v->d.mapping.end = seg->vaddr + seg->memsz;
	v->d.mapping.flags = seg->flags;
	v->d.mapping.file = f ? f->path : NULL;
	v->d.mapping.saved = addr - seg->vaddr < seg->filesz;
}

/* A short description of what a verdict found at an address. */
void classify_brief(const struct verdict *v, char *buf, size_t n)
{
	switch (v->region) {
	case REGION_C_HEAP:
		if (v->d.chunk.chunk)
			snprintf(buf, n, "a C chunk of %" PRIu64 " bytes at 0x%" PRIx64 " (%s%s%s)",
				 v->d.chunk.user_size, v->d.chunk.user, classify_state_name(v->state),
				 v->state == VSTATE_FREE ? ", " : "",
				 v->state == VSTATE_FREE ? cheap_bin_name(v->d.chunk.bin) : "");
		else
			snprintf(buf, n, "glibc's heap bookkeeping");
		return;
	case REGION_GO_HEAP:
		if (v->state == VSTATE_UNKNOWN)
			snprintf(buf, n, "Go heap memory whose state cannot be told");
		else if (v->d.heap.kind == GO_SPAN_INUSE)
			snprintf(buf, n, "a Go object of %" PRIu64 " bytes at 0x%" PRIx64 " (%s)",
				 v->d.heap.span.elemsize, v->d.heap.slot.user, classify_state_name(v->state));
		else
			snprintf(buf, n, "Go heap pages no span owns (%s)", classify_state_name(v->state));
		return;
	case REGION_IMAGE:
		if (v->d.image.symbol)
			snprintf(buf, n, "%s+0x%" PRIx64 " (%s)", v->d.image.symbol, v->d.image.sym_offset,
				 v->d.image.module);
		else
			snprintf(buf, n, "%s", v->d.image.module ? v->d.image.module : "an image");
		return;
	default:
		snprintf(buf, n, "%s%s%s", classify_region_name(v->region), v->state == VSTATE_NA ? "" : ", ",
			 v->state == VSTATE_NA ? "" : classify_state_name(v->state));
	}
}
