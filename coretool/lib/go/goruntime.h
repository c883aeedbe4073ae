/* The Go runtime of the target: version, map implementation, and (in gospan.c,
 * goroutine.c, ...) the heap and goroutine models built on it. Every layout fact
 * comes from the executable's DWARF; see ../shared/GO-RUNTIME.md for the facts. */
#ifndef CT_GORUNTIME_H
#define CT_GORUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "ct_error.h"
#include "dw.h"
#include "mem.h"

enum go_map_impl { GO_MAP_UNKNOWN, GO_MAP_CLASSIC, GO_MAP_SWISS };

struct go_rt {
	const struct dw *dw;
	const struct mem *mem;
	uint64_t bias;     /* add to DWARF addresses (PIE load bias) */
	char version[64];  /* runtime.buildVersion, e.g. "go1.26.8" */
	int major, minor;  /* 1, 26 (0, 0 if the version string is not goX.Y) */
	enum go_map_impl map_impl;
	/* The Go string header, from DWARF type "string". */
	uint64_t string_ptr_off, string_len_off;
};

/* Recognizes a Go program by its DWARF (runtime.buildVersion). Not Go →
 * CT_ERR_NOTFOUND; the memory of the version string missing → CT_ERR_NOT_SAVED
 * with the rest of the model still returned in *ret. */
struct ct_error *go_rt_open(const struct dw *dw, const struct mem *mem, uint64_t bias,
			    struct go_rt **ret);
void go_rt_close(struct go_rt *rt);

const char *go_map_impl_name(enum go_map_impl impl);

/* Reads a Go string header at addr; copies at most cap-1 bytes (NUL-terminated)
 * and returns the full length in *len. */
struct ct_error *go_read_string(const struct go_rt *rt, uint64_t addr, char *buf, size_t cap,
				uint64_t *len);

/* Address of a Go global variable (bias applied). */
struct ct_error *go_var_addr(const struct go_rt *rt, const char *name, uint64_t *ret);

#endif
