/* The real fault of a crash. A Go program with GOTRACEBACK=crash catches the
 * SIGSEGV, then re-raises SIGABRT: the core's NT_SIGINFO says SIGABRT. The
 * first signal survives in the kernel's rt_sigframe on the signal stack of the
 * thread that took it (siginfo and ucontext with the registers at the fault).
 * Facts: docs/go-runtime.md "Goroutines, threads, signals". */
#ifndef CT_FAULT_H
#define CT_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "ct_error.h"
#include "target.h"

enum fault_source {
	FAULT_SOURCE_NONE,
	FAULT_SOURCE_CORE,         /* the core's own NT_SIGINFO and thread registers */
	FAULT_SOURCE_SIGNAL_FRAME, /* a kernel signal frame found on a signal stack */
	FAULT_SOURCE_GOROUTINE,    /* a fault in Go code, turned into a panic: g.sig, g.sigcode1 */
};

struct fault {
	enum fault_source source;
	int32_t tid;          /* the thread that took the signal */
	int signo, code, errnum;
	uint64_t addr;        /* si_addr (SIGSEGV, SIGBUS, SIGFPE, SIGILL) */
	int32_t sender_pid;   /* kill/tgkill sender (SIGABRT from abort()) */
	uint64_t regs[CORE_NREGS]; /* at the fault, in core_reg order (goroutine source:
				    * the thread's registers at the crash, not at the fault) */
	uint64_t pc;          /* where the fault happened */
	uint64_t frame;       /* address of the siginfo in the signal frame, or 0 */
	bool has_addr;        /* si_addr is meaningful for this signal and code */
};

/* Finds the real fault: a synchronous fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL)
 * in a signal frame wins over the core's SIGABRT; else the core's own signal.
 * Never fails: with nothing found, source is FAULT_SOURCE_NONE. */
void fault_find(struct target *t, struct fault *ret);

const char *fault_source_name(enum fault_source s);
/* The si_code name for the signal, e.g. SEGV_MAPERR, SI_TKILL. */
const char *fault_code_name(int signo, int code);

#endif
