/* The Go runtime of the target: version, map implementation, and (in goheap.c,
 * goroutine.c, ...) the heap and goroutine models built on it. Every layout fact
 * comes from the executable's DWARF; see docs/go-runtime.md for the facts. */
#ifndef CT_GORUNTIME_H
#define CT_GORUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "ct_error.h"
#include "dw.h"
#include "mem.h"

/* reflect.Kind, go src/internal/abi/type.go (the values DW_AT_go_kind carries). */
enum go_kind {
	GO_KIND_INVALID = 0,
	GO_KIND_BOOL = 1,
	GO_KIND_INT = 2, GO_KIND_INT8, GO_KIND_INT16, GO_KIND_INT32, GO_KIND_INT64,
	GO_KIND_UINT = 7, GO_KIND_UINT8, GO_KIND_UINT16, GO_KIND_UINT32, GO_KIND_UINT64,
	GO_KIND_UINTPTR = 12,
	GO_KIND_FLOAT32 = 13, GO_KIND_FLOAT64 = 14,
	GO_KIND_COMPLEX64 = 15, GO_KIND_COMPLEX128 = 16,
	GO_KIND_ARRAY = 17, GO_KIND_CHAN = 18, GO_KIND_FUNC = 19, GO_KIND_INTERFACE = 20,
	GO_KIND_MAP = 21, GO_KIND_POINTER = 22, GO_KIND_SLICE = 23, GO_KIND_STRING = 24,
	GO_KIND_STRUCT = 25, GO_KIND_UNSAFE_POINTER = 26,
};

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

/* What a function is, by its name: the one table of the runtime's function
 * roles (goruntime.c), which backtraces, triage and signatures consult. */
enum go_func_role {
	GO_FUNC_USER,        /* the program's own code (and C libraries) */
	GO_FUNC_RUNTIME,     /* package runtime itself: runtime.* */
	GO_FUNC_RUNTIME_PKG, /* the runtime's own packages: runtime/..., internal/... */
	GO_FUNC_CGO,         /* cgo's glue: _Cfunc_*, _cgo_*, crosscall2 */
	GO_FUNC_SIGRETURN,   /* the kernel's signal return trampoline (__restore_rt) */
};
enum go_func_role go_func_role(const char *func);

/* Address of a Go global variable (bias applied). */
struct ct_error *go_var_addr(const struct go_rt *rt, const char *name, uint64_t *ret);

#endif
