/* Goroutines (runtime.allgs) and Ms (runtime.allm): their stacks, states and
 * scheduling state, read once per target and sorted for address lookups. */
#ifndef CT_GOROUTINE_H
#define CT_GOROUTINE_H

#include <stdbool.h>
#include <stdint.h>

#include "ct_error.h"
#include "goruntime.h"

struct go_g {
	uint64_t addr, goid;
	uint32_t status;     /* atomicstatus without the _Gscan bit */
	uint64_t stack_lo, stack_hi;
	uint64_t sched_sp, sched_pc, sched_bp;
	uint64_t syscallsp, syscallpc;
	uint64_t m;          /* the M running it, or 0 */
	int waitreason;      /* runtime.waitReason, -1 if unknown */
	/* The signal that turned into a panic in this goroutine (sigpanic):
	 * g.sig, g.sigcode0 (si_code), g.sigcode1 (fault address), g.sigpc. */
	uint32_t sig;
	uint64_t sigcode0, sigcode1, sigpc;
	uint64_t gopc;       /* pc of the go statement that created it */
	uint64_t panic;      /* g._panic: the innermost running panic (*runtime._panic), or 0 */
};

struct go_m {
	uint64_t addr;
	int64_t id, procid;  /* procid: the thread id on Linux */
	uint64_t g0, gsignal, curg;
	uint64_t g0_lo, g0_hi, gsignal_lo, gsignal_hi;
	uint64_t g0_sched_sp; /* g0.sched.sp: in a cgo callback, the C side's stack pointer */
};

struct go_sched {
	struct go_g *gs;     /* sorted by stack_lo */
	size_t ngs;
	struct go_m *ms;
	size_t nms, cap_ms;
	uint32_t st_dead, st_running, st_syscall, st_waiting, st_runnable, st_idle,
		st_copystack, st_preempted, scan_bit;
	bool partial;        /* some goroutines or Ms could not be read */
	/* Every status constant the runtime's DWARF names (runtime._Gxxx). */
	struct { uint32_t value; char name[24]; } st_names[32];
	size_t nst_names;
};

/* Reads allgs and allm. A partly unreadable list gives what was read with
 * partial set. */
struct ct_error *go_sched_open(const struct go_rt *rt, struct go_sched **ret);
void go_sched_close(struct go_sched *s);

const char *go_g_status_name(const struct go_sched *s, uint32_t status);
/* The runtime's own text for a wait reason (runtime.waitReasonStrings), into buf. */
const char *go_g_waitreason(const struct go_rt *rt, int reason, char *buf, size_t n);
/* The goroutine whose stack [lo, hi) holds addr (live goroutines first), or NULL. */
const struct go_g *go_sched_g_of_stack(const struct go_sched *s, uint64_t addr);
/* The M running on thread tid, or NULL. */
const struct go_m *go_sched_m_of_tid(const struct go_sched *s, int64_t tid);
const struct go_g *go_sched_g_at(const struct go_sched *s, uint64_t gaddr);

/* The status values used where DWARF lacks them (for tests). */
void go_sched_fallbacks(ct_fallback_fn fn, void *arg);

#endif
