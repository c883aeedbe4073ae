/* Scalar Go values written the way gdb's `print` writes them (Go language,
 * coretool's printers loaded): 42, -1.5, true, "abc" with gdb's escapes. The
 * gdb map printer asks for whole batches of these (api.h
 * ct_map_render_batch) instead of making a gdb.Value per key and value, which
 * costs gdb a pretty-printer lookup each. A value this module cannot write
 * exactly as gdb would (1-byte integers, which gdb prints as characters too;
 * NaN and infinities; strings with bytes >= 0x80, whose printing depends on
 * gdb's charset, or cut or folded by `print elements` / `print repeats`) is
 * refused, and the caller lets gdb print it. */
#ifndef CT_GDBSYNTAX_H
#define CT_GDBSYNTAX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dw.h"
#include "goruntime.h"

/* gdb's settings that change how a value prints. */
struct gdbsyn_opts {
	uint32_t max_string; /* `print elements`: longer strings are refused; 0 = unlimited */
	uint32_t repeats;    /* `print repeats`: longer runs of one byte are refused; 0 = unlimited */
};

/* What gdbsyn_write can write for values of `type`: a GO_KIND_* it renders,
 * or -1 (never: let gdb print it). *size gets the type's size. */
int gdbsyn_kind(Dwarf_Die *type, uint64_t *size);

/* Writes the value of kind `kind` (from gdbsyn_kind) at addr to f; false,
 * with nothing written, if this value must be printed by gdb (see above) or
 * its memory cannot be read. */
bool gdbsyn_write(const struct go_rt *rt, int kind, uint64_t size, uint64_t addr,
		  const struct gdbsyn_opts *opts, FILE *f);

#endif
