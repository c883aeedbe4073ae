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
#include "insn.h"
#include "framevars.h"
#include "target.h"
#include "unwind.h"
#include "gopanic.h"

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
	const char *addr_source;        /* "siginfo", "instruction" (SI_KERNEL: computed), or NULL */
	struct insn insn;               /* the faulting instruction (insn.decoded) */
	/* The object pointer the instruction used (its base register, or the
	 * function pointer of a bad call) and where it was loaded from. */
	bool has_ptr, has_origin;
	struct verdict ptr_verdict, origin_verdict;
	const char *ptr_note;           /* "glibc's safe-linked free-list link", ... or NULL */
	const char *ptr_var;            /* the variable of the faulting frame holding the pointer */
	bool ptr_var_param;
	const char *ptr_member;         /* the member at the offset, from the variable's type */
	struct triage_reg regs[16];
	size_t nregs;
	struct holders holders;         /* of the object: the pointer's, else the fault address's */
	uint64_t held_addr;             /* the address whose holders were searched */
	/* A freed Go object that held the faulting pointer, and who still points at it. */
	const struct holder *victim;
	struct holders victim_holders;
	/* When no named holder points at the object directly: the heap objects
	 * that hold it, one hop at a time, up to a named one (a map entry, a
	 * global). chain[0] holds the object, chain[1] holds chain[0], ... */
#define TRIAGE_CHAIN_MAX 6
	struct triage_link {
		uint64_t object;      /* the holding object (its user pointer) */
		uint64_t at;          /* where in it the pointer is */
		struct verdict where;
		char desc[256];
	} chain[TRIAGE_CHAIN_MAX];
	size_t nchain;
	char chain_holder[256];         /* the named holder at the end of the chain, or "" */
	uint64_t chain_holder_at;       /* its word */
	/* triage_retain: the first Go heap object among the holders (the freed
	 * victim's best holder, the chain's named holder, the chain's links from
	 * the last, the best holder) and the path from a root that keeps it
	 * alive (typed heap). */
	bool retain_done;               /* triage_retain ran */
	uint64_t retain_holder_at;      /* the holder's word, 0: no holder in the Go heap */
	uint64_t retain_object;         /* the Go heap object holding it */
	bool retain_reached;            /* reachable from a root (else: garbage that holds it) */
	char retain_root_kind[24];      /* hg_root_kind_name, "" if not reached */
	char retain_root[160];          /* the global's name, the goroutine's frame, ... */
	char retain_field[160];         /* where the word is in that object (".next", `m["k"] (value)`) */
	char retain_path[1024];         /* root first, each step named, then retain_field */
	uint64_t mmap_object;           /* a held pointer of munmapped-chunk shape below an interior address */
	/* The object the verdict is about (freed chunk, freed Go slot, ...), or 0. */
	uint64_t object;
	struct verdict object_verdict;
	char go_fatal[512];             /* "concurrent map writes", ... */
	char fatal_map[256];            /* the map whose writer flag is set, if any */
	uint64_t fatal_map_addr;
	char abort_msg[512];            /* glibc's __abort_msg */
	uint64_t freed_ptr;             /* double free: the pointer freed twice, if found */
	struct verdict freed_verdict;
	bool has_panic;                 /* a Go panic was running (g._panic) */
	uint64_t panic_goid;
	struct go_panic panic;
	const char *cfunc;              /* the first frame of the program's own C code */
	const char *gocaller;           /* the first Go frame outside the runtime and cgo stubs */
	/* Parameters and locals of the first frames (DWARF locations). */
#define TRIAGE_VAR_FRAMES 8
	struct framevar vars[TRIAGE_VAR_FRAMES][FRAMEVARS_MAX];
	size_t nvars[TRIAGE_VAR_FRAMES];
	const char *freed_var;          /* double free: the variable that holds the pointer */
	const struct frame *own;        /* the first frame of the program's own code (its executable) */
	const char *klass;
	const char *rule;               /* why: the reason of the class rule that decided */
	char verdict[768];
	char signature[17];             /* over the program's own frames: the grouping key */
	char signature_all[17];         /* over all frames but the runtime's */
};

/* The crash classes, in the order the rules try them, each with a line that
 * says what it means (SARIF's rules are made from it). */
struct triage_class {
	const char *name, *description;
};
const struct triage_class *triage_classes(size_t *n);

/* A function name as it is hashed into signatures: Go closure, wrapper and
 * cgo-glue suffixes that change between Go versions taken off. */
void triage_normalize_func(const char *func, char *buf, size_t n);

/* Runs every step on an opened target. Never fails: what is missing is said in
 * the fields (and in the target's warnings). */
void triage_run(struct target *t, struct triage *tr);

/* After triage_run: builds the typed heap of the whole core (a full walk of
 * the Go heap, as `coretool heap --by-type`) and fills the retain_ fields.
 * Out of memory or no Go heap: retain_done stays false (a warning said so). */
void triage_retain(struct target *t, struct triage *tr);

#endif
