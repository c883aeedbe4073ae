#define _GNU_SOURCE
#include "unwind.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

/* DWARF register numbers of x86-64 (System V psABI, figure 3.36) in core_reg terms. */
static const enum core_reg unwind_dwarf_regs[17] = {
	CORE_REG_RAX, CORE_REG_RDX, CORE_REG_RCX, CORE_REG_RBX, CORE_REG_RSI, CORE_REG_RDI,
	CORE_REG_RBP, CORE_REG_RSP, CORE_REG_R8, CORE_REG_R9, CORE_REG_R10, CORE_REG_R11,
	CORE_REG_R12, CORE_REG_R13, CORE_REG_R14, CORE_REG_R15, CORE_REG_RIP,
};

/* libdwfl asks for threads and registers through callbacks: we hand it one
 * thread at a time, with the registers we choose (a signal frame's, say). */
struct unwind_state {
	struct target *t;
	int32_t tid;
	uint64_t regs[CORE_NREGS];
	bool given;
};

static pid_t unwind_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	struct unwind_state *st = arg;
	if (st->given)
		return 0;
	st->given = true;
	*thread_argp = st;
	return st->tid;
}

static bool unwind_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	(void)dwfl;
	struct unwind_state *st = arg;
	unsigned char b[8];
	if (mem_read(&st->t->mem, addr, b, 8) != MEM_OK)
		return false;
	*result = mem_load(b, 8);
	return true;
}

static bool unwind_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct unwind_state *st = thread_arg;
	Dwarf_Word regs[17];
	for (int i = 0; i < 17; i++)
		regs[i] = st->regs[unwind_dwarf_regs[i]];
	return dwfl_thread_state_registers(thread, 0, 17, regs);
}

static const Dwfl_Thread_Callbacks unwind_callbacks = {
	.next_thread = unwind_next_thread,
	.memory_read = unwind_memory_read,
	.set_initial_registers = unwind_set_initial_registers,
};

#define UNWIND_GO_RESERVE 64

struct unwind_walk {
	struct target *t;
	struct backtrace *bt;
	bool after_sigpanic; /* the last frame is the one Go's sigpanic was injected into */
};

void unwind_symbolize(struct target *t, struct frame *f)
{
	if (!t->dwfl)
		return;
	/* A return address points after the call: look up the call itself. */
	uint64_t pc = f->activation ? f->pc : f->pc - 1;
	Dwfl_Module *m = dwfl_addrmodule(t->dwfl, pc);
	if (!m)
		return;
	/* The module's symbol index answers as libdwfl would, without its scan
	 * of the whole symbol table per lookup (symidx.h). */
	uint64_t off = 0;
	const struct target_module *tm = target_module_of(t, pc);
	if (tm && tm->dwmod == m) {
		f->func = target_module_symbol(t, tm, pc, &off);
	} else {
		GElf_Off o = 0;
		GElf_Sym sym;
		f->func = dwfl_module_addrinfo(m, pc, &o, &sym, NULL, NULL, NULL);
		off = o;
	}
	Dwarf_Addr start = 0;
	f->module = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	/* Without a symbol (a stripped library's static function), the offset
	 * is from the module's start: what addr2line or a debug file needs. */
	f->func_off = f->func ? off + (f->activation ? 0 : 1) : f->pc - start;
	bool go = false;
	if (t->dw && pc >= t->bias && dw_line(t->dw, pc - t->bias, &f->file, &f->line, &go)) {
		f->go |= go; /* the unit's language says whose frame it is */
		return; /* the executable: our own unit index (see dw_line) */
	}
	Dwfl_Line *line = dwfl_module_getsrc(m, pc);
	if (line) {
		int lineno;
		const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		if (file) {
			f->file = file;
			f->line = lineno;
		}
	}
}

/* Functions inlined into one frame, each as a frame of its own. */
#define UNWIND_MAX_INLINE 16

static void unwind_expand_inlined(struct target *t, struct backtrace *bt, size_t first)
{
	for (size_t i = first; i < bt->n; i++) {
		struct frame *f = &bt->frames[i];
		if (f->inlined || !t->dw || !f->pc || f->pc - (f->activation ? 0 : 1) < t->bias)
			continue;
		struct dw_inlined in[UNWIND_MAX_INLINE];
		size_t k = dw_inlined_at(t->dw, f->pc - (f->activation ? 0 : 1) - t->bias, in, UNWIND_MAX_INLINE);
		if (!k)
			continue;
		if (i + k >= UNWIND_MAX_FRAMES) {
			bt->truncated = true;
			return;
		}
		size_t n = bt->n + k > UNWIND_MAX_FRAMES ? UNWIND_MAX_FRAMES : bt->n + k;
		if (n < bt->n + k)
			bt->truncated = true;
		memmove(&bt->frames[i + k], &bt->frames[i], (n - i - k) * sizeof(*f));
		bt->n = n;
		struct frame phys = bt->frames[i + k];
		for (size_t j = 0; j < k; j++) {
			struct frame *v = &bt->frames[i + j];
			*v = phys;
			v->inlined = true;
			v->func = in[j].func;
			v->func_off = 0;
			if (j > 0) { /* where the next inner one was inlined */
				v->file = in[j - 1].call_file;
				v->line = in[j - 1].call_line;
			}
		}
		bt->frames[i + k].file = in[k - 1].call_file;
		bt->frames[i + k].line = in[k - 1].call_line;
		i += k;
	}
}

/* x86-64's callee-saved registers (DWARF numbers): rbx, rbp, r12-r15. */
static const unsigned callee_saved[] = { 3, 6, 12, 13, 14, 15 };

/* Of the registers in want (a mask of DWARF numbers), those the CFI of the
 * function at f's pc leaves as they were (same value, or no rule: the psABI
 * makes them callee-saved). libdwfl (elfutils 0.188) does not carry such a
 * register into the caller's frame, so it is lost through every function
 * that does not save it: glibc's noreturn malloc_printerr, between _int_free
 * (whose chunk is in rbx) and the abort, is one. */
static uint16_t unwind_regs_kept(struct target *t, const struct frame *f, uint16_t want)
{
	uint64_t pc = f->activation ? f->pc : f->pc - 1;
	Dwfl_Module *m = t->dwfl ? dwfl_addrmodule(t->dwfl, pc) : NULL;
	if (!m)
		return 0;
	Dwarf_Addr bias;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(m, &bias);
	Dwarf_Frame *fr = NULL;
	if ((!cfi || dwarf_cfi_addrframe(cfi, pc - bias, &fr) != 0) &&
	    (!(cfi = dwfl_module_dwarf_cfi(m, &bias)) || dwarf_cfi_addrframe(cfi, pc - bias, &fr) != 0))
		return 0;
	uint16_t kept = 0;
	for (size_t k = 0; k < sizeof(callee_saved) / sizeof(callee_saved[0]); k++) {
		unsigned r = callee_saved[k];
		Dwarf_Op mem[3], *ops = NULL;
		size_t nops = 0;
		if ((want & (1u << r)) && dwarf_frame_register(fr, (int)r, mem, &ops, &nops) == 0 && nops == 0)
			kept |= (uint16_t)(1u << r);
	}
	free(fr);
	return kept;
}

static int unwind_frame_cb(Dwfl_Frame *state, void *arg)
{
	struct unwind_walk *w = arg;
	struct backtrace *bt = w->bt;
	/* Leave room for the goroutine's Go frames after a deep C recursion. */
	if (bt->n >= UNWIND_MAX_FRAMES - UNWIND_GO_RESERVE) {
		bt->truncated = true;
		return DWARF_CB_ABORT;
	}
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	struct frame *f = &bt->frames[bt->n++];
	memset(f, 0, sizeof(*f));
	f->pc = pc;
	f->activation = activation && bt->first_is_return != bt->n; /* n: this frame's index + 1 */
	/* Go injects a call to runtime.sigpanic at the faulting instruction: the
	 * frame above it is at that instruction, not after a call. */
	w->after_sigpanic = bt->n >= 2 && f[-1].func && !strcmp(f[-1].func, "runtime.sigpanic");
	if (w->after_sigpanic)
		f->activation = true;
	Dwarf_Word sp;
	if (dwfl_frame_reg(state, 7, &sp) == 0)
		f->sp = sp;
	for (size_t k = 0; k < sizeof(callee_saved) / sizeof(callee_saved[0]); k++) {
		Dwarf_Word v;
		if (dwfl_frame_reg(state, callee_saved[k], &v) == 0) {
			f->saved[callee_saved[k]] = v;
			f->saved_known |= (uint16_t)(1u << callee_saved[k]);
		}
	}
	/* registers libdwfl lost that the callee kept (same value) */
	uint16_t lost = bt->n >= 2 ? (uint16_t)(f[-1].saved_known & ~f->saved_known) : 0;
	uint16_t kept = lost ? unwind_regs_kept(w->t, &f[-1], lost) : 0;
	for (size_t k = 0; kept && k < sizeof(callee_saved) / sizeof(callee_saved[0]); k++)
		if (kept & (1u << callee_saved[k])) {
			f->saved[callee_saved[k]] = f[-1].saved[callee_saved[k]];
			f->saved_known |= (uint16_t)(1u << callee_saved[k]);
		}
	unwind_symbolize(w->t, f);
	/* Go's code is walked by its own frame pointers from the goroutine's saved
	 * state; CFI across asmcgocall's stack switch is not to be trusted. */
	if (f->func && (!strcmp(f->func, "runtime.asmcgocall.abi0") || !strcmp(f->func, "runtime.asmcgocall") ||
			!strcmp(f->func, "crosscall2") || !strcmp(f->func, "runtime.cgocallback.abi0")))
		return DWARF_CB_ABORT;
	return DWARF_CB_OK;
}

/* Bound on Go frames per goroutine, far above real recursion depths that still
 * tell something. */
#define UNWIND_MAX_GO_FRAMES 200

/* Go frames by the frame-pointer chain from (pc, sp, bp), the chain kept
 * inside [lo, hi) (the goroutine's stack). first: pc is from the goroutine's
 * saved state. That pc is a return address too (mcall and gosave save their
 * caller's, entersyscall getcallerpc(); a new goroutine's is goexit+1), and is
 * looked up at pc - 1, as Go's own traceback does (unwinder.symPC): the line
 * of the call, not the one after it. */
static void unwind_go_fp(struct target *t, uint64_t pc, uint64_t sp, uint64_t bp, uint64_t lo,
			 uint64_t hi, bool first, struct backtrace *bt)
{
	bool saved_state = first;
	for (int i = 0; i < UNWIND_MAX_GO_FRAMES && pc; i++) {
		if (bt->n >= UNWIND_MAX_FRAMES) {
			bt->truncated = true;
			return;
		}
		struct frame *f = &bt->frames[bt->n++];
		memset(f, 0, sizeof(*f));
		f->pc = pc;
		f->sp = sp;
		f->go = true;
		unwind_symbolize(t, f);
		/* The saved bp may belong to a callee of the function holding the saved
		 * pc (entersyscall's frame inside cgocall): then the chain's first
		 * return address lands in that same function, and is the better pc. */
		if (saved_state && i == 1 && f->func && f[-1].func && !strcmp(f->func, f[-1].func)) {
			f[-1] = *f;
			f[-1].activation = false;
			bt->n--;
			f = &bt->frames[bt->n - 1];
		}
		first = false;
		if (f->func && (!strcmp(f->func, "runtime.goexit") || !strcmp(f->func, "runtime.goexit.abi0") ||
				!strcmp(f->func, "runtime.mstart") || !strcmp(f->func, "runtime.rt0_go.abi0")))
			return;
		if (bp < lo || bp + 16 > hi || (bp & 7)) {
			if (bp)
				bt->stop = "frame pointer left the goroutine stack";
			return;
		}
		unsigned char b[16];
		if (mem_read(&t->mem, bp, b, 16) != MEM_OK) {
			bt->stop = "goroutine stack not in the core";
			return;
		}
		uint64_t next_bp = mem_load(b, 8);
		pc = mem_load(b + 8, 8);
		sp = bp + 16;
		if (next_bp && next_bp <= bp) {
			bt->stop = "frame pointer chain goes backwards";
			return;
		}
		bp = next_bp;
	}
}

/* The CFA of the frame at exactly pc (not a return address) with stack
 * pointer sp, from the module's CFI: Go's .debug_frame says CFA = rsp + n. */
static bool unwind_exact_cfa(struct target *t, uint64_t pc, uint64_t sp, uint64_t *cfa)
{
	const struct target_module *m = target_module_of(t, pc);
	Dwarf_Addr bias;
	Dwarf_CFI *cfi = m && m->dwmod ? dwfl_module_dwarf_cfi(m->dwmod, &bias) : NULL;
	if (!cfi && m && m->dwmod)
		cfi = dwfl_module_eh_cfi(m->dwmod, &bias);
	Dwarf_Frame *fr;
	if (!cfi || dwarf_cfi_addrframe(cfi, pc - bias, &fr) != 0)
		return false;
	Dwarf_Op *ops;
	size_t nops;
	bool ok = false;
	if (dwarf_frame_cfa(fr, &ops, &nops) == 0 && nops == 1) {
		if (ops[0].atom == DW_OP_bregx && ops[0].number == 7) {
			*cfa = sp + ops[0].number2;
			ok = true;
		} else if (ops[0].atom == DW_OP_breg7) {
			*cfa = sp + ops[0].number;
			ok = true;
		}
	}
	free(fr);
	return ok;
}

/* libdwfl looks up the CFI of a frame above another at pc - 1, as for a
 * return address; the frame sigpanic was injected into is at the faulting
 * instruction itself, and at a function's first byte pc - 1 is another
 * function: the walk stops there. Go on from that frame ourselves: its CFA at
 * the exact pc, the return address below it, then the frame pointers (bp is
 * what sigpanic's prologue saved, below its own CFA). */
static void unwind_after_sigpanic(struct target *t, struct backtrace *bt)
{
	const struct frame *f = &bt->frames[bt->n - 1];
	uint64_t cfa, sp = f->sp;
	unsigned char b[8];
	if (!unwind_exact_cfa(t, f->pc, sp, &cfa) || cfa < sp || mem_read(&t->mem, cfa - 8, b, 8) != MEM_OK)
		return;
	uint64_t pc = mem_load(b, 8), bp;
	if (mem_read(&t->mem, sp - 16, b, 8) != MEM_OK)
		return;
	bp = mem_load(b, 8);
	uint64_t lo = sp, hi = sp + (1ULL << 30);
	const struct go_sched *s;
	if (t->go && !target_go_sched(t, &s))
		for (size_t i = 0; i < s->ngs; i++)
			if (sp >= s->gs[i].stack_lo && sp < s->gs[i].stack_hi) {
				lo = s->gs[i].stack_lo;
				hi = s->gs[i].stack_hi;
				break;
			}
	bt->stop = NULL;
	unwind_go_fp(t, pc, cfa, bp, lo, hi, false, bt);
}

void unwind_thread(struct target *t, int32_t tid, const uint64_t regs[CORE_NREGS],
		   struct backtrace *bt)
{
	if (!t->core) {
		bt->stop = "no core";
		return;
	}
	/* A fresh Dwfl per walk: libdwfl attaches one thread set per Dwfl, and we
	 * choose the registers each time. The modules are reported from the core. */
	target_dwfl_begin_use(t);
	Dwfl *dwfl = target_dwfl_begin(t);
	if (!dwfl) {
		bt->stop = "dwfl_begin failed";
		return;
	}
	struct unwind_state st = { .t = t, .tid = tid };
	memcpy(st.regs, regs, sizeof(st.regs));
	dwfl_report_begin(dwfl);
	int n = target_dwfl_report_core(t, dwfl);
	dwfl_report_end(dwfl, NULL, NULL);
	if (n < 0 || !dwfl_attach_state(dwfl, t->core->elf, tid, &unwind_callbacks, &st)) {
		bt->stop = core_phdrs_suspect(t->core) ? "program headers damaged: not unwound"
						       : "cannot attach the unwinder";
		dwfl_end(dwfl);
		return;
	}
	/* Symbolize through the target's Dwfl, whose strings outlive this one. */
	struct unwind_walk w = { t, bt, false };
	size_t first = bt->n;
	if (dwfl_getthread_frames(dwfl, tid, unwind_frame_cb, &w) != 0 && !bt->stop && bt->n < 2)
		bt->stop = "unwinding stopped";
	dwfl_end(dwfl);
	if (w.after_sigpanic && bt->n)
		unwind_after_sigpanic(t, bt);
	unwind_expand_inlined(t, bt, first);
}

void unwind_thread_from_return(struct target *t, int32_t tid, const uint64_t regs[CORE_NREGS],
			       struct backtrace *bt)
{
	size_t first = bt->n;
	bt->first_is_return = first + 1;
	unwind_thread(t, tid, regs, bt);
	bt->first_is_return = 0;
}
void unwind_past_cgocallback(struct target *t, int32_t tid, struct backtrace *bt)
{
	if (!bt->n)
		return;
	const struct frame *f = &bt->frames[bt->n - 1];
	if (!f->func || strncmp(f->func, "runtime.cgocallback", 19) != 0)
		return;
	/* cgocallback "pushed" the goroutine's saved pc (in runtime.cgocall,
	 * after asmcgocall) as its own return address on the goroutine stack:
	 * its CFA at the call it is in, and Go's CFI from there on. */
	uint64_t cfa = 0, ra = 0;
	unsigned char b[8];
	if (!unwind_exact_cfa(t, f->pc - 1, f->sp, &cfa) || cfa < f->sp || mem_read(&t->mem, cfa - 8, b, 8) != MEM_OK)
		cfa = 0;
	else
		ra = mem_load(b, 8);
	/* Without CFI for the assembly: the return address into runtime.cgocall
	 * is within cgocallback's small frame (24 bytes, and its frame pointer). */
	for (uint64_t a = f->sp; !cfa && a < f->sp + 64; a += 8) {
		if (mem_read(&t->mem, a, b, 8) != MEM_OK)
			return;
		struct frame probe = { .pc = mem_load(b, 8) };
		unwind_symbolize(t, &probe);
		if (probe.func && !strcmp(probe.func, "runtime.cgocall")) {
			ra = probe.pc;
			cfa = a + 8;
		}
	}
	if (!cfa)
		return;
	uint64_t regs[CORE_NREGS] = { 0 };
	regs[CORE_REG_RIP] = ra;
	regs[CORE_REG_RSP] = cfa;
	size_t first = bt->n;
	unwind_thread_from_return(t, tid, regs, bt);
	for (size_t i = first; i < bt->n; i++)
		bt->frames[i].go = true;
}

void unwind_goroutine(struct target *t, const struct go_sched *s, const struct go_g *g,
		      struct backtrace *bt)
{
	uint64_t pc, sp, bp;
	if (g->syscallsp && (g->status == s->st_syscall || g->syscallpc)) {
		pc = g->syscallpc;
		sp = g->syscallsp;
		bp = g->sched_bp;
	} else {
		pc = g->sched_pc;
		sp = g->sched_sp;
		bp = g->sched_bp;
	}
	/* systemstack saves no frame pointer for the goroutine it leaves
	 * (gosave_systemstack_switch): there, Go's own CFI (.debug_frame) walks
	 * from the saved pc and sp instead. */
	if (!bp && t->core && t->core->nthreads) {
		uint64_t regs[CORE_NREGS] = { 0 };
		regs[CORE_REG_RIP] = pc;
		regs[CORE_REG_RSP] = sp;
		size_t first_go = bt->n;
		unwind_thread(t, t->core->threads[0].tid, regs, bt);
		for (size_t i = first_go; i < bt->n; i++)
			bt->frames[i].go = true;
		if (bt->n > first_go + 1)
			return;
		bt->n = first_go;
		bt->stop = NULL;
	}
	/* reentersyscall saves bp in sched.bp along with syscallsp (proc.go). */
	size_t first = bt->n;
	unwind_go_fp(t, pc, sp, bp, g->stack_lo, g->stack_hi, true, bt);
	unwind_expand_inlined(t, bt, first);
}

void unwind_goroutine_at(struct target *t, const struct go_g *g, uint64_t pc, uint64_t sp,
			 uint64_t bp, struct backtrace *bt)
{
	size_t first = bt->n;
	/* not a saved state: the first frame is the pc itself, never merged */
	unwind_go_fp(t, pc, sp, bp, g->stack_lo, g->stack_hi, false, bt);
	if (bt->n > first)
		bt->frames[first].activation = true;
	/* symbolized as a return address above: again as where execution was */
	if (bt->n > first) {
		struct frame *f = &bt->frames[first];
		f->func = NULL;
		f->file = NULL;
		f->line = 0;
		unwind_symbolize(t, f);
	}
	unwind_expand_inlined(t, bt, first);
}
