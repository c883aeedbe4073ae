/* Backtraces: C frames by libdwfl's CFI unwinder (through signal frames), Go
 * frames by the frame-pointer chain that Go keeps on amd64, and the stitch
 * between them at the cgo switch (the goroutine's saved syscall state). */
#ifndef CT_UNWIND_H
#define CT_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "goroutine.h"
#include "target.h"

#define UNWIND_MAX_FRAMES 256

struct frame {
	uint64_t pc;         /* for frames after the first, a return address */
	uint64_t sp;
	const char *func;    /* symbol name, or NULL */
	uint64_t func_off;   /* from the function; from the module's start when func is NULL */
	const char *file;    /* source file, or NULL */
	int line;
	const char *module;  /* module path/name */
	bool go;             /* a Go frame (from the goroutine's stack) */
	bool activation;     /* the pc is where execution was (first frame, or after a signal) */
	bool inlined;        /* a function inlined into the next frame (same pc) */
	/* Callee-saved registers the unwinder recovered for this frame, by DWARF
	 * number (rbx 3, rbp 6, r12-r15 12-15): bit n of saved_known. */
	uint64_t saved[16];
	uint16_t saved_known;
};

struct backtrace {
	struct frame frames[UNWIND_MAX_FRAMES];
	size_t n;
	bool truncated;      /* stopped at the frame bound */
	const char *stop;    /* why the walk ended early, or NULL */
	size_t first_is_return; /* unwind_thread_from_return: that frame's index + 1 */
};

/* Unwinds the C stack of a thread from the given registers (the fault's, or
 * the thread's own), appending to bt. */
void unwind_thread(struct target *t, int32_t tid, const uint64_t regs[CORE_NREGS],
		   struct backtrace *bt);
/* The same from registers whose pc is a return address (a frame found by
 * hand above a bad call, or a callback's C caller), not where execution was. */
void unwind_thread_from_return(struct target *t, int32_t tid, const uint64_t regs[CORE_NREGS],
			       struct backtrace *bt);
/* Appends the Go frames of a goroutine from its saved state: the syscall state
 * when it is in a cgo call or syscall, else its scheduling state. */
void unwind_goroutine(struct target *t, const struct go_sched *s, const struct go_g *g,
		      struct backtrace *bt);

/* Appends the Go frames of a goroutine running on a thread, from that
 * thread's registers (pc is where it was: an activation), the walk kept to
 * the goroutine's stack. */
void unwind_goroutine_at(struct target *t, const struct go_g *g, uint64_t pc, uint64_t sp,
			 uint64_t bp, struct backtrace *bt);

/* After a walk that ended in runtime.cgocallback (a Go callback called from
 * C), appends the frames of the Go code that made the cgo call, from the
 * goroutine stack cgocallback switched to. */
void unwind_past_cgocallback(struct target *t, int32_t tid, struct backtrace *bt);

/* Fills func/file/line/module of a frame from the pc. */
void unwind_symbolize(struct target *t, struct frame *f);

#endif
