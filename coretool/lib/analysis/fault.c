#define _GNU_SOURCE
#include "fault.h"
#include "classify.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* x86-64 kernel signal frame (arch/x86/include/asm/sigframe.h, uapi ucontext.h,
 * sigcontext.h), the same since Linux 2.6:
 *   rt_sigframe { pretcode 8; ucontext uc; siginfo info; }
 *   ucontext    { uc_flags 8; uc_link 8; uc_stack {ss_sp 8, ss_flags 4+4, ss_size 8};
 *                 uc_mcontext (sigcontext, 256); uc_sigmask 8 }  = 304 bytes
 *   sigcontext  { r8 r9 r10 r11 r12 r13 r14 r15 rdi rsi rbp rbx rdx rax rcx rsp rip
 *                 eflags, cs/gs/fs/ss (u16 each), err, trapno, oldmask, cr2, fpstate, ... } */
#define UC_SIZE 304
#define UC_STACK_OFF 16
#define UC_MCONTEXT_OFF 40
#define SIGINFO_SIZE 128

static const enum core_reg sigcontext_regs[] = {
	CORE_REG_R8, CORE_REG_R9, CORE_REG_R10, CORE_REG_R11, CORE_REG_R12, CORE_REG_R13,
	CORE_REG_R14, CORE_REG_R15, CORE_REG_RDI, CORE_REG_RSI, CORE_REG_RBP, CORE_REG_RBX,
	CORE_REG_RDX, CORE_REG_RAX, CORE_REG_RCX, CORE_REG_RSP, CORE_REG_RIP, CORE_REG_EFLAGS,
};

/* How far to search for signal frames: a Go signal stack is 32 KiB; a C thread
 * without an alternate stack takes the frame right below its stack pointer. */
#define FAULT_SCAN_MAX (64 * 1024)

const char *fault_source_name(enum fault_source s)
{
	switch (s) {
	case FAULT_SOURCE_CORE: return "core";
	case FAULT_SOURCE_SIGNAL_FRAME: return "signal-frame";
	case FAULT_SOURCE_GOROUTINE: return "goroutine";
	default: return "none";
	}
}

const char *fault_code_name(int signo, int code)
{
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_KERNEL: return "SI_KERNEL";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TKILL: return "SI_TKILL";
	}
	if (signo == SIGSEGV) {
		switch (code) {
		case SEGV_MAPERR: return "SEGV_MAPERR";
		case SEGV_ACCERR: return "SEGV_ACCERR";
		case SEGV_BNDERR: return "SEGV_BNDERR";
		case SEGV_PKUERR: return "SEGV_PKUERR";
		}
	} else if (signo == SIGBUS) {
		switch (code) {
		case BUS_ADRALN: return "BUS_ADRALN";
		case BUS_ADRERR: return "BUS_ADRERR";
		case BUS_OBJERR: return "BUS_OBJERR";
		}
	} else if (signo == SIGFPE) {
		switch (code) {
		case FPE_INTDIV: return "FPE_INTDIV";
		case FPE_INTOVF: return "FPE_INTOVF";
		case FPE_FLTDIV: return "FPE_FLTDIV";
		}
	} else if (signo == SIGILL) {
		switch (code) {
		case ILL_ILLOPC: return "ILL_ILLOPC";
		case ILL_ILLOPN: return "ILL_ILLOPN";
		case ILL_PRVOPC: return "ILL_PRVOPC";
		}
	}
	return NULL;
}

static bool fault_sync(int signo)
{
	return signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL;
}

/* A stack pointer at a fault: mapped, or (a stack overflow on the main thread,
 * whose stack grows down into the kernel's gap) in the gap right below a
 * mapping. */
static bool fault_stack_pointer(const struct target *t, uint64_t sp)
{
	if (core_segment_of(t->core, sp))
		return true;
	for (size_t i = 0; i < t->core->nsegs; i++) {
		const struct core_segment *s = &t->core->segs[i];
		if (s->vaddr > sp && s->vaddr - sp <= CLASSIFY_STACK_GUARD_GAP && (s->flags & 2 /* PF_W */))
			return true;
	}
	return false;
}

static bool fault_executable(const struct target *t, uint64_t pc)
{
	const struct core_segment *s = core_segment_of(t->core, pc);
	return s && (s->flags & 1 /* PF_X */);
}

/* Is there a valid signal frame whose siginfo is at p (inside buf at off)? */
static bool fault_frame_at(const struct target *t, const unsigned char *buf, size_t len,
			   size_t off, uint64_t base, struct fault *f)
{
	if (off < UC_SIZE || off + SIGINFO_SIZE > len)
		return false;
	int32_t signo = (int32_t)mem_load(buf + off, 4), err = (int32_t)mem_load(buf + off + 4, 4);
	int32_t code = (int32_t)mem_load(buf + off + 8, 4);
	if (!(fault_sync(signo) || signo == SIGABRT) || err != 0)
		return false;
	if (fault_sync(signo) ? !(code > 0 && code < 16) && code != SI_KERNEL
			      : !(code == SI_TKILL || code == SI_USER || code == SI_QUEUE))
		return false;
	const unsigned char *uc = buf + off - UC_SIZE;
	uint64_t uc_flags = mem_load(uc, 8);
	if (uc_flags > 0xff)
		return false;
	/* uc_stack records the alternate signal stack at delivery: when enabled
	 * (ss_flags 0 or SS_ONSTACK), the frame must lie inside it. */
	uint64_t ss_sp = mem_load(uc + UC_STACK_OFF, 8), ss_size = mem_load(uc + UC_STACK_OFF + 16, 8);
	uint32_t ss_flags = (uint32_t)mem_load(uc + UC_STACK_OFF + 8, 4);
	uint64_t at = base + off;
	if (ss_flags != SS_DISABLE) {
		if (ss_flags > SS_DISABLE || !ss_size || at < ss_sp || at - ss_sp >= ss_size)
			return false;
	}
	const unsigned char *mc = uc + UC_MCONTEXT_OFF;
	uint64_t regs[CORE_NREGS] = { 0 };
	for (size_t i = 0; i < sizeof(sigcontext_regs) / sizeof(sigcontext_regs[0]); i++)
		regs[sigcontext_regs[i]] = mem_load(mc + 8 * i, 8);
	/* A jump or call to a bad address faults on fetching it: the pc is the
	 * fault address, not executable code. */
	bool exec_fault = fault_sync(signo) && regs[CORE_REG_RIP] == mem_load(buf + off + 16, 8);
	if ((!exec_fault && !fault_executable(t, regs[CORE_REG_RIP])) ||
	    !fault_stack_pointer(t, regs[CORE_REG_RSP]))
		return false;
	memset(f, 0, sizeof(*f));
	f->source = FAULT_SOURCE_SIGNAL_FRAME;
	f->signo = signo;
	f->code = code;
	f->errnum = err;
	f->frame = at;
	memcpy(f->regs, regs, sizeof(regs));
	if (fault_sync(signo)) {
		f->addr = mem_load(buf + off + 16, 8);
		f->has_addr = true;
	} else {
		f->sender_pid = (int32_t)mem_load(buf + off + 16, 4);
	}
	return true;
}

/* Scans [lo, hi) for signal frames; keeps the best in *best (a synchronous
 * fault over SIGABRT; the highest address, i.e. the first signal, on a tie). */
static bool fault_scan(const struct target *t, uint64_t lo, uint64_t hi, int32_t tid,
		       struct fault *best)
{
	if (hi <= lo)
		return false;
	if (hi - lo > FAULT_SCAN_MAX)
		lo = hi - FAULT_SCAN_MAX;
	size_t len = hi - lo;
	unsigned char *buf = malloc(len);
	if (!buf)
		return false;
	bool found = false;
	/* Read what the core saved; unsaved pages stay out of the scan. */
	if (mem_read(&t->mem, lo, buf, len) == MEM_OK) {
		for (size_t off = UC_SIZE; off + SIGINFO_SIZE <= len; off += 8) {
			struct fault f;
			if (!fault_frame_at(t, buf, len, off, lo, &f))
				continue;
			f.tid = tid;
			bool better = best->source != FAULT_SOURCE_SIGNAL_FRAME ||
				      (fault_sync(f.signo) && !fault_sync(best->signo)) ||
				      (fault_sync(f.signo) == fault_sync(best->signo) && f.frame > best->frame &&
				       best->tid == tid);
			if (better) {
				*best = f;
				found = true;
			}
		}
	}
	free(buf);
	return found;
}

static void fault_from_core(const struct target *t, struct fault *f)
{
	memset(f, 0, sizeof(*f));
	const struct core *c = t->core;
	if (!c || !c->nthreads)
		return;
	f->source = FAULT_SOURCE_CORE;
	const struct core_thread *th = &c->threads[0];
	f->tid = th->tid;
	memcpy(f->regs, th->regs, sizeof(f->regs));
	if (c->siginfo.present) {
		f->signo = c->siginfo.signo;
		f->code = c->siginfo.code;
		f->errnum = c->siginfo.errnum;
		if (fault_sync(f->signo)) {
			f->addr = c->siginfo.addr;
			f->has_addr = true;
		} else {
			f->sender_pid = c->siginfo.pid;
		}
	} else {
		f->signo = th->cursig;
	}
}

void fault_find(struct target *t, struct fault *ret)
{
	fault_from_core(t, ret);
	ret->pc = ret->regs[CORE_REG_RIP];
	if (!t->core || fault_sync(ret->signo))
		return; /* the core's own signal is the fault (a plain C crash) */
	struct fault best = { 0 };
	const struct go_sched *gs = NULL;
	if (t->go)
		target_go_sched(t, &gs);
	/* Go's signal stacks first: the faulting M took the SIGSEGV there. */
	for (size_t i = 0; gs && i < gs->nms; i++) {
		const struct go_m *m = &gs->ms[i];
		if (m->gsignal_hi > m->gsignal_lo)
			fault_scan(t, m->gsignal_lo, m->gsignal_hi, (int32_t)m->procid, &best);
	}
	/* Then above every thread's stack pointer (threads without an alternate stack). */
	for (size_t i = 0; i < t->core->nthreads; i++) {
		const struct core_thread *th = &t->core->threads[i];
		uint64_t sp = th->regs[CORE_REG_RSP];
		const struct core_segment *s = core_segment_of(t->core, sp);
		if (!s)
			continue;
		uint64_t hi = s->vaddr + s->memsz;
		if (hi - sp > FAULT_SCAN_MAX)
			hi = sp + FAULT_SCAN_MAX;
		fault_scan(t, sp, hi, th->tid, &best);
	}
	if (best.source != FAULT_SOURCE_SIGNAL_FRAME || !fault_sync(best.signo)) {
		/* A fault in Go code became a panic (sigpanic): the handler returned,
		 * its frame is gone, but the goroutine keeps the signal, the fault
		 * address and pc (runtime2.go: g.sig, g.sigcode0/1, g.sigpc). */
		const struct go_m *m = gs ? go_sched_m_of_tid(gs, ret->tid) : NULL;
		const struct go_g *g = m && m->curg ? go_sched_g_at(gs, m->curg) : NULL;
		if (g && fault_sync((int)g->sig)) {
			/* The crash's own SIGABRT frame (Go's crash() raised it on
			 * the goroutine's stack) has registers that walk back to the
			 * faulting frame; the core's are inside the signal handler. */
			if (best.source == FAULT_SOURCE_SIGNAL_FRAME && best.tid == ret->tid)
				memcpy(ret->regs, best.regs, sizeof(ret->regs));
			ret->source = FAULT_SOURCE_GOROUTINE;
			ret->signo = (int)g->sig;
			ret->code = (int)g->sigcode0;
			ret->addr = g->sigcode1;
			ret->has_addr = true;
			ret->pc = g->sigpc;
			return;
		}
	}
	if (best.source != FAULT_SOURCE_SIGNAL_FRAME)
		return;
	/* A SIGABRT frame only replaces the core's SIGABRT if it adds the registers
	 * at abort() (the C caller), which the core's thread state no longer has. */
	*ret = best;
	ret->pc = ret->regs[CORE_REG_RIP];
}
