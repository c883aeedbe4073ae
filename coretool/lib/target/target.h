/* A target: the process under study, as one core (or a memory callback from
 * gdb) plus its executable and shared libraries. It owns the models (Go
 * runtime, C heap) that the verbs and the gdb front end share. */
#ifndef CT_TARGET_H
#define CT_TARGET_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>

#include "cheap.h"
#include "core.h"
#include "ct_error.h"
#include "dw.h"
#include "goheap.h"
#include "goroutine.h"
#include "goruntime.h"
#include "mem.h"
#include "symidx.h"
#include "target_find.h"

struct target_module {
	char *name;      /* path as the process had it */
	char *file;      /* the file we opened for it, or NULL if not found */
	uint64_t start, end;
	unsigned char build_id[64];
	size_t build_id_len;
	bool is_exe;
	bool build_id_mismatch; /* the file found is not the one the process ran */
	enum target_found found; /* where file was found (target_find.h) */
	const char *found_where; /* the tree or debuginfod URLs (owned by the target's finder) */
	const struct target_lookup *lookup; /* the finder's answer for it, or NULL */
	Dwfl_Module *dwmod;
	struct symidx *syms; /* address -> symbol, built on first use (target_module_symbol) */
	bool syms_tried;
};

/* A file the core maps, opened for the bytes the core did not save. */
struct target_file {
	const char *path;          /* as the core names it (NT_FILE) */
	const unsigned char *data; /* mmapped, or NULL if it could not be opened */
	uint64_t size;
	bool tried;
};

/* One analysis-owned index hung on the target (target.ext). */
enum { TARGET_EXT_MAP_HOLDERS, TARGET_EXT_MAX };
struct target_ext {
	void *p;
	void (*free)(void *p);
};

struct target {
	struct core *core; /* NULL when memory comes from a callback */
	/* Reads the core; bytes it did not save are read from the mapped file
	 * (text, rodata: the kernel does not dump file-backed pages by default). */
	struct mem mem;
	struct target_file *files; /* parallel to core->files */
	char *exe_path;
	enum target_found exe_found;  /* where exe_path was found (target_find.h) */
	const char *exe_found_where;  /* the tree or debuginfod URLs, or NULL */
	struct target_finder *find;   /* looks up the files the core names by path and build ID */
	struct dw *dw;     /* the executable (its DWARF may be absent) */
	uint64_t bias;     /* load bias of the executable */
	struct go_rt *go;  /* NULL: not a Go program */
	Dwfl *dwfl;
	Dwfl_Callbacks dwfl_cb;  /* libdwfl's callbacks for this target (its own debug path) */
	struct target_module *modules;
	size_t nmodules, cap_modules;
	char *sysroot;
	/* Models built on first use (target_go_heap() & co.); a failure is kept
	 * so that it is reported once and not retried for every address. */
	struct go_heap *go_heap;
	struct go_sched *go_sched;
	struct cheap *cheap;
	struct ct_error *go_heap_err, *go_sched_err, *cheap_err;
	/* Indexes the analysis layer builds once per target (the map entries by
	 * address of gomap_holders.c, ...): owned here, freed with the target,
	 * typed by their owners above. */
	struct target_ext ext[TARGET_EXT_MAX];
	struct target_tstack *tstacks;
	size_t ntstacks;
	bool tstacks_done;
	/* Things missing or unreadable that make results partial (exit status 1). */
	char **warnings;
	size_t nwarnings;
	/* A target over a memory callback has no threads of its own: the front
	 * end hands in the live threads' registers (target_set_threads). */
	struct core_thread *mem_threads;
	size_t nmem_threads;
};

/* A thread's stack: the mapping holding its stack pointer or its M's g0 stack. */
struct target_tstack {
	int64_t tid, m_id;   /* m_id -1: no M (a C thread, or not a Go program) */
	uint64_t lo, hi;     /* the whole mapping */
	uint64_t sp;         /* the thread's stack pointer if it is in this stack, else 0 */
	bool g0;             /* the M's g0 (system) stack */
};

/* Where detached debug info is searched before /usr/lib/debug for targets
 * opened from now on without a debug_dir of their own: directories separated
 * by ':' (as gdb's debug-file-directory); NULL or "": libdwfl's default. */
void target_set_debug_dirs(const char *dirs);

struct target_options {
	const char *exe;     /* NULL: take the path the core recorded */
	const char *sysroot; /* prefix for the paths the core names */
	const char *debug_dir; /* searched for detached debug info before /usr/lib/debug */
	/* debuginfod (when DEBUGINFOD_URLS is set): seconds one lookup may take,
	 * 0 for TARGET_DEBUGINFOD_TIMEOUT_DEFAULT; no_debuginfod: not asked. */
	unsigned debuginfod_timeout;
	bool no_debuginfod;
	target_progress_fn progress; /* a debuginfod transfer under way, or NULL */
	void *progress_arg;
};

/* Opens a core with its executable. Fatal (error returned, nothing opened): the
 * core cannot be read or is not a core; the executable is missing; a Go
 * executable without DWARF. Non-fatal problems become warnings. */
struct ct_error *target_open_core(const char *core_path, const struct target_options *opt,
				  struct target **ret);
/* Opens a target over a memory callback (gdb: the inferior) and an executable. */
struct ct_error *target_open_mem(const struct mem *mem, const char *exe_path, uint64_t bias,
				 struct target **ret);
/* A thread of a live process, as its debugger sees it. */
struct target_live_thread {
	int32_t tid;
	uint64_t sp, pc, fp;
};
/* Opens a live process over a memory callback with what its debugger knows
 * that memory cannot tell: its mappings (maps: /proc/PID/maps text), its
 * threads and the executable's file. The mappings become a core without a
 * file (core_open_live), so every region is classified by the rules a core's
 * are; the modules are the ELF files the mappings name (libdwfl's
 * dwfl_linux_proc_maps_report), the load bias where the executable's first
 * PT_LOAD is mapped. */
struct ct_error *target_open_live(const struct mem *mem, const char *exe_path, int32_t pid,
				  const char *maps, const struct target_live_thread *threads,
				  size_t nthreads, struct target **ret);
void target_close(struct target *t);

void target_warn(struct target *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The target's warnings as a sink for the models (ct_error.h). */
struct ct_warn_sink target_warn_sink(struct target *t);

/* t->dwfl_cb are libdwfl callbacks that find the files a core names (the
 * executable given, then target_find.h's search). Call
 * target_dwfl_begin_use(t) before a libdwfl call that may look files up for t. */
void target_dwfl_begin_use(const struct target *t);
/* A new Dwfl over t's callbacks whose debuginfod client is bounded by t's
 * timeout (target_finder_attach); after target_dwfl_begin_use(t). NULL: see
 * dwfl_errmsg. */
Dwfl *target_dwfl_begin(const struct target *t);
/* Reports the core's modules into dwfl (between dwfl_report_begin and _end);
 * what dwfl_core_file_report returns, or -1 without calling it when the
 * program headers are too damaged for it (core_phdrs_suspect). */
int target_dwfl_report_core(const struct target *t, Dwfl *dwfl);

/* The models, opened on first use. The error (if any) stays owned by the
 * target: do not destroy it. */
const struct ct_error *target_go_heap(struct target *t, const struct go_heap **ret);
const struct ct_error *target_go_sched(struct target *t, const struct go_sched **ret);
const struct ct_error *target_cheap(struct target *t, struct cheap **ret);
/* Finds glibc's malloc state in a core target (target_cheap.c): its mappings,
 * libc (or a static executable) and their files handed to the C heap model. */
struct ct_error *target_cheap_open(struct target *t, struct cheap **ret);

/* The threads and their registers: the core's, or for a target over a
 * memory callback those target_set_threads handed in (none until then). */
const struct core_thread *target_threads(const struct target *t, size_t *n);
/* Hands a memory target the threads of the live process (a debugger's view of
 * them: tid and general registers in NT_PRSTATUS order), replacing any given
 * before. Refused for a core, which has its own. */
struct ct_error *target_set_threads(struct target *t, const struct core_thread *th, size_t n);

/* Thread stacks, sorted by lo. */
void target_thread_stacks(struct target *t, const struct target_tstack **ret, size_t *n);

/* Of the mapped bytes the core did not save (mapped files, NT_FILE or the
 * modules'), how many the files give (*unsaved: how many there are). */
uint64_t target_file_bytes(struct target *t, uint64_t *unsaved);

/* The module containing addr, or NULL. */
const struct target_module *target_module_of(const struct target *t, uint64_t addr);
/* The symbol of module m (one of t's) holding addr, and the offset into it: what
 * dwfl_module_addrinfo() answers, through an index built on first use (symidx.h). */
const char *target_module_symbol(struct target *t, const struct target_module *m, uint64_t addr,
				 uint64_t *off);

#endif
