/* libcoretool's C API for front ends in other languages (the gdb extension
 * calls it through ctypes): open a session over a core or over a memory
 * callback, run any verb exactly as the CLI would, get its output back. */
#ifndef CT_API_H
#define CT_API_H

#include <stddef.h>
#include <stdint.h>

typedef struct ct_session ct_session;

/* Reads len bytes at addr into buf: 0 = read, 1 = not mapped, 2 = mapped but
 * not available (not saved in the core). */
typedef int (*ct_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);

/* Opens a core (exe/sysroot may be NULL). NULL on failure, with a message in
 * *errmsg (free it with ct_free). */
ct_session *ct_open_core(const char *core, const char *exe, const char *sysroot, char **errmsg);
/* Opens a session over a memory callback (a live process, or gdb's view of a
 * core) and the executable loaded at bias. */
ct_session *ct_open_memory(ct_read_fn read, void *arg, const char *exe, uint64_t bias,
			   char **errmsg);
void ct_close(ct_session *s);

/* Runs a verb on the session: argv = { "classify", "0xc000012345", ... } (the
 * core argument of the CLI is left out). json != 0 selects JSON output. The
 * output and the messages come back in *out and *err (free with ct_free);
 * returns the exit status the CLI would (0, 1, 2, 64). */
int ct_run(ct_session *s, int argc, const char *const *argv, int json, char **out, char **err);

void ct_free(void *p);

/* Version of the library, e.g. "0.1". */
const char *ct_version(void);

#endif
