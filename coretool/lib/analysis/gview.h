/* Where a goroutine is: the registers its frames start from and its frames,
 * decided once for the goroutines verb and for front ends (gdb's `info
 * goroutines` and `goroutine N CMD` through ct_goroutines). */
#ifndef CT_GVIEW_H
#define CT_GVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "goroutine.h"
#include "target.h"
#include "unwind.h"

enum gview_from {
	GVIEW_SCHED = 0,   /* g.sched: where it parked or was preempted */
	GVIEW_SYSCALL = 1, /* g.syscallpc/syscallsp: in a syscall or a cgo call */
	GVIEW_THREAD = 2,  /* the registers of the thread running it */
};

struct gview {
	const struct go_g *g;
	int64_t tid;          /* the thread its M runs on, -1: none */
	uint64_t pc, sp, bp;  /* where its innermost frame is */
	enum gview_from from;
	const char *reason;   /* the wait reason (waiting goroutines), or NULL */
	char reason_buf[128];
	const struct frame *top;  /* its innermost frame (in bt), or NULL */
	const struct frame *user; /* its first frame outside the runtime, else top */
	struct frame created;     /* the go statement that created it (pc 0: unknown) */
};

/* Describes g, its frames into bt (cleared first). A running goroutine whose
 * thread's stack pointer is inside its stack starts from that thread's
 * registers (a core's, or those a front end handed to a live target); one in
 * a syscall or cgo call from its syscall state; every other from g.sched. */
void gview_describe(struct target *t, const struct go_sched *s, const struct go_g *g,
		    struct backtrace *bt, struct gview *v);

#endif
