/* The parameters and local variables of a frame, with their values where the
 * DWARF location at the frame's pc says where they are and the core has it:
 * in memory relative to the frame base (the CFA, from the unwound caller's
 * stack pointer) or to the stack pointer, at a fixed address, or in a register
 * (the first frame only: the registers of the fault). Anything else is said
 * (optimized out, in a register not recovered, a location not evaluated). */
#ifndef CT_FRAMEVARS_H
#define CT_FRAMEVARS_H

#include <stdbool.h>
#include <stdint.h>

#include "target.h"
#include "unwind.h"

enum framevar_state {
	FRAMEVAR_OK,
	FRAMEVAR_OPTIMIZED_OUT,  /* no location at this pc */
	FRAMEVAR_NOT_RECOVERED,  /* in a register of a frame whose registers are gone */
	FRAMEVAR_UNSUPPORTED,    /* a location expression not evaluated here */
	FRAMEVAR_NOT_SAVED,      /* its memory is not in the core */
};

struct framevar {
	const char *name;
	bool param;
	enum framevar_state state;
	uint64_t value;          /* the value (size <= 8 bytes), or its address (larger) */
	bool by_address;         /* value is the variable's address (a struct, an array) */
	uint64_t size;
	const char *type;        /* the type's name ("struct entry *"), or NULL */
	uint64_t pointee_size;   /* a pointer: its target type's size, 0 if unknown */
	Dwarf_Die type_die;      /* for member lookups (valid while the target is open) */
	bool has_type;
};

#define FRAMEVARS_MAX 32

/* The variables of bt->frames[i] (params first, then locals when asked),
 * at most max. regs: the registers at that frame when known (frame 0: the
 * fault's), else NULL. */
size_t framevars_of(struct target *t, const struct backtrace *bt, size_t i, const uint64_t *regs,
		    bool locals, struct framevar *ret, size_t max);

const char *framevar_state_text(enum framevar_state s);

/* For a pointer to a struct: the member at byte offset off ("refs"), or NULL. */
const char *framevar_member_at(const struct framevar *v, uint64_t off);

#endif
