/* Errors of libcoretool: functions that can fail return a struct ct_error *
 * (NULL = success) and hand their results back through trailing pointers.
 * Only the front ends (main.c, the gdb extension) turn errors into messages. */
#ifndef CT_ERROR_H
#define CT_ERROR_H

#include <stdarg.h>
#include <stdint.h>

/* The error codes, each with the name JSON output gives it ("kind"): one
 * table, expanded into the enum and into ct_errcode_name. */
#define CT_ERRCODES(X)                                                                  \
	X(CT_ERR_NOMEM, "nomem")             /* out of memory */                        \
	X(CT_ERR_IO, "io")                   /* open/read/mmap of a file failed */      \
	X(CT_ERR_FORMAT, "format")           /* not an ELF, not a core, bad machine */  \
	X(CT_ERR_FAULT, "fault")             /* memory not mapped in the process */     \
	X(CT_ERR_NOT_SAVED, "not-saved")     /* mapped, but the core did not save it */ \
	X(CT_ERR_NODWARF, "no-dwarf")        /* the executable has no DWARF */          \
	X(CT_ERR_NOTFOUND, "not-found")      /* a name (type, variable, map) is not there */ \
	X(CT_ERR_CORRUPT, "corrupt")         /* runtime/heap data is inconsistent */    \
	X(CT_ERR_USAGE, "usage")             /* bad argument from the user */           \
	X(CT_ERR_UNSUPPORTED, "unsupported") /* a layout or feature not handled */

enum ct_errcode {
	CT_ERR_NONE_ = 0, /* not an error: codes start at 1 */
#define CT_ERRCODE_ENUM(code, name) code,
	CT_ERRCODES(CT_ERRCODE_ENUM)
#undef CT_ERRCODE_ENUM
};

struct ct_error {
	enum ct_errcode code;
	char *msg;
};

/* Never returns NULL: on allocation failure it returns a static "out of memory" error. */
struct ct_error *ct_error_fmt(enum ct_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct ct_error *ct_error_vfmt(enum ct_errcode code, const char *fmt, va_list ap);
/* Prefixes an existing error's message ("reading runtime.mheap_: ...") and returns it. */
struct ct_error *ct_error_wrap(struct ct_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ct_error_destroy(struct ct_error *err);
const char *ct_errcode_name(enum ct_errcode code);

/* Lists a model's fallback table: each constant it reads from DWARF with the
 * value it uses when the executable's DWARF lacks it (tests compare the two
 * on every toolchain's executables). */
typedef void (*ct_fallback_fn)(void *arg, const char *name, int64_t value);

/* Where a model sends what makes a result partial without failing it (memory
 * missing, a structure that does not add up): the session hands one sink down
 * (the target's warning list), so models never need the target. fn NULL:
 * warnings are dropped. */
struct ct_warn_sink {
	void (*fn)(void *arg, const char *msg);
	void *arg;
};
void ct_warn(const struct ct_warn_sink *sink, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ct_vwarn(const struct ct_warn_sink *sink, const char *fmt, va_list ap);

#endif
