/* Address -> symbol for one module, in O(log n): libdwfl's dwfl_module_addrinfo() scans the
 * whole symbol table on every call (about 100 us per address on a Go binary), which made the
 * image addresses of a 100,000-address batch cost half of `classify`'s time (bench/). The
 * index answers the unambiguous case, the one sized symbol that holds the address, and hands
 * every other case (no such symbol, several overlapping ones, sizeless labels) to libdwfl, so
 * the answers are libdwfl's own. */
#ifndef CT_SYMIDX_H
#define CT_SYMIDX_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

#include "ct_error.h"

struct symidx;

struct ct_error *symidx_build(Dwfl_Module *mod, struct symidx **ret);
/* The symbol holding addr and the offset into it, as dwfl_module_addrinfo() would answer;
 * NULL if none. x may be NULL (the index could not be built): then libdwfl answers. */
const char *symidx_lookup(const struct symidx *x, Dwfl_Module *mod, uint64_t addr, uint64_t *off);
void symidx_destroy(struct symidx *x);

#endif
