#include "gview.h"
#include "fault.h"

#include <string.h>

/* The first frame of the goroutine's own code: outside runtime and internal/,
 * and outside the runtime's sources (time.Sleep, sync.runtime_Semacquire and
 * the like are the runtime's code under another package's name). */
static const struct frame *gview_user_frame(const struct backtrace *bt)
{
	for (size_t i = 0; i < bt->n; i++) {
		const char *f = bt->frames[i].func, *file = bt->frames[i].file;
		enum go_func_role role = go_func_role(f);
		if (f && role != GO_FUNC_RUNTIME && role != GO_FUNC_RUNTIME_PKG &&
		    !(file && strstr(file, "/src/runtime/")))
			return &bt->frames[i];
	}
	return bt->n ? &bt->frames[0] : NULL;
}

/* The thread of g's M (by its tid), or NULL. */
static const struct core_thread *gview_thread(const struct target *t, int64_t tid)
{
	size_t n;
	const struct core_thread *th = target_threads(t, &n);
	for (size_t i = 0; tid >= 0 && i < n; i++)
		if (th[i].tid == tid)
			return &th[i];
	return NULL;
}

/* g's frames from the registers of its thread tid: true when they reach g's
 * stack. */
static bool gview_from_thread(struct target *t, const struct go_g *g, int32_t tid,
			      const uint64_t regs[CORE_NREGS], struct backtrace *bt, struct gview *v)
{
	uint64_t pc = regs[CORE_REG_RIP], sp = regs[CORE_REG_RSP], bp = regs[CORE_REG_RBP];
	if (sp >= g->stack_lo && sp < g->stack_hi)
		unwind_goroutine_at(t, g, pc, sp, bp, bt);
	else {
		unwind_thread(t, tid, regs, bt);
		size_t i = 0;
		while (i < bt->n && !(bt->frames[i].sp >= g->stack_lo && bt->frames[i].sp < g->stack_hi))
			i++;
		if (i == bt->n)
			return false;
		memmove(bt->frames, bt->frames + i, (bt->n - i) * sizeof(bt->frames[0]));
		bt->n -= i;
		pc = bt->frames[0].pc;
		sp = bt->frames[0].sp;
		bp = (bt->frames[0].saved_known & (1u << 6)) ? bt->frames[0].saved[6] : 0;
	}
	v->from = GVIEW_THREAD;
	v->pc = pc;
	v->sp = sp;
	v->bp = bp;
	return true;
}

void gview_describe(struct target *t, const struct go_sched *s, const struct go_g *g,
		    struct backtrace *bt, struct gview *v)
{
	memset(v, 0, sizeof(*v));
	memset(bt, 0, sizeof(*bt));
	v->g = g;
	v->tid = -1;
	for (size_t k = 0; g->m && k < s->nms; k++)
		if (s->ms[k].addr == g->m && s->ms[k].procid > 0)
			v->tid = s->ms[k].procid;
	/* A running goroutine is where its thread is, as Go's runtime-gdb.py
	 * looks at it. With the thread's stack pointer inside g's stack, the walk
	 * is kept to that stack. Elsewhere (the signal stack while Go crashes, g0
	 * after systemstack) the thread's own walk is taken from its first frame
	 * on g's stack (past the signal frame). A walk that stops at the signal
	 * frame (a Go binary without cgo: Go's own sigreturn has no CFI) goes on
	 * from the registers the kernel saved in it, when that thread took the
	 * signal fault_find chose. When it never gets there, g.sched (saved by
	 * the switch to g0) is where g's frames are. */
	const struct core_thread *th = g->status == s->st_running ? gview_thread(t, v->tid) : NULL;
	bool found = th && gview_from_thread(t, g, (int32_t)th->tid, th->regs, bt, v);
	if (th && !found) {
		struct fault f;
		fault_find(t, &f);
		memset(bt, 0, sizeof(*bt));
		found = f.source == FAULT_SOURCE_SIGNAL_FRAME && f.tid == th->tid &&
			gview_from_thread(t, g, (int32_t)th->tid, f.regs, bt, v);
	}
	if (!found) {
		memset(bt, 0, sizeof(*bt));
		/* the rule of unwind_goroutine: syscall state first */
		bool sys = g->syscallsp && (g->status == s->st_syscall || g->syscallpc);
		v->from = sys ? GVIEW_SYSCALL : GVIEW_SCHED;
		v->pc = sys ? g->syscallpc : g->sched_pc;
		v->sp = sys ? g->syscallsp : g->sched_sp;
		v->bp = g->sched_bp;
		unwind_goroutine(t, s, g, bt);
	}
	v->top = bt->n ? &bt->frames[0] : NULL;
	v->user = gview_user_frame(bt);
	if (g->status == s->st_waiting)
		v->reason = go_g_waitreason(t->go, g->waitreason, v->reason_buf, sizeof(v->reason_buf));
	if (g->gopc) {
		/* gopc is the return address of the call to newproc */
		v->created.pc = g->gopc;
		v->created.go = true;
		unwind_symbolize(t, &v->created);
	}
}
