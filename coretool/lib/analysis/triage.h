/* The crash report of one core: the real fault, the stitched backtrace, the
 * evidence (classifications, holders, Go's and glibc's last words), a class, a
 * verdict a person can act on and a signature for grouping (DESIGN.md "Triage"). */
#ifndef CT_TRIAGE_H
#define CT_TRIAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
#include "fault.h"
#include "holders.h"
#include "target.h"
#include "unwind.h"

struct triage_reg {
	enum core_reg reg;
	struct verdict v;
};

struct triage {
	struct fault fault;
	int core_signo;                 /* what the core's own NT_SIGINFO said */
	struct backtrace bt;            /* C frames at the fault, then the goroutine's Go frames */
	size_t n_c_frames;              /* bt.frames[0 .. n_c_frames) are C frames */
	bool has_g;
	uint64_t goid;
	const char *g_status;
	struct verdict fault_verdict;   /* of fault.addr, when the signal has one */
	struct triage_reg regs[16];
	size_t nregs;
	struct holders holders;         /* of the fault address (or the object it is in) */
	/* A freed Go object that held the faulting pointer, and who still points at it. */
	const struct holder *victim;
	struct holders victim_holders;
	char go_fatal[512];             /* "concurrent map writes", ... */
	char fatal_map[256];            /* the map whose writer flag is set, if any */
	uint64_t fatal_map_addr;
	char abort_msg[512];            /* glibc's __abort_msg */
	const char *cfunc;              /* the first frame of the program's own C code */
	const char *gocaller;           /* the first Go frame outside the runtime and cgo stubs */
	const char *klass;
	char verdict[768];
	char signature[17];
};

/* Runs every step on an opened target. Never fails: what is missing is said in
 * the fields (and in the target's warnings). */
void triage_run(struct target *t, struct triage *tr);

#endif
