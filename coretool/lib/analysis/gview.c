#include "gview.h"

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

/* The thread whose registers are where g runs: its M's thread, with the
 * stack pointer inside g's stack (not on g0 or the signal stack). */
static const struct core_thread *gview_thread(const struct target *t, int64_t tid,
					      const struct go_g *g)
{
	size_t n;
	const struct core_thread *th = target_threads(t, &n);
	for (size_t i = 0; tid >= 0 && i < n; i++) {
		uint64_t rsp = th[i].regs[CORE_REG_RSP];
		if (th[i].tid == tid && rsp >= g->stack_lo && rsp < g->stack_hi)
			return &th[i];
	}
	return NULL;
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
	const struct core_thread *th = g->status == s->st_running ? gview_thread(t, v->tid, g) : NULL;
	if (th) {
		v->from = GVIEW_THREAD;
		v->pc = th->regs[CORE_REG_RIP];
		v->sp = th->regs[CORE_REG_RSP];
		v->bp = th->regs[CORE_REG_RBP];
		unwind_goroutine_at(t, g, v->pc, v->sp, v->bp, bt);
	} else {
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
