/* libcoretool's C API for front ends in other languages (the gdb extension
 * calls it through ctypes): open a session over a core or over a memory
 * callback, run any verb exactly as the CLI would, get its output back. */
#ifndef CT_API_H
#define CT_API_H

#include <stddef.h>
#include <stdint.h>

/* The one marker of what libcoretool.so exports: everything else is built with
 * -fvisibility=hidden, so the model's names never reach gdb's process. */
#define CT_API __attribute__((visibility("default")))

typedef struct ct_session ct_session;

/* Reads len bytes at addr into buf: 0 = read, 1 = not mapped, 2 = mapped but
 * not available (not saved in the core), CT_READ_CANCEL = the user asked to
 * stop (gdb: Ctrl-C): no more reads are made for the call under way, which
 * returns CT_INTERRUPTED with no output. */
enum { CT_READ_CANCEL = 3 };
/* What a call returns when its reads were cancelled (as a shell's 128+SIGINT).
 * The session's models may then be incomplete: close it and open it again. */
enum { CT_INTERRUPTED = 130 };
typedef int (*ct_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);

/* Opens a core (exe/sysroot may be NULL). NULL on failure, with a message in
 * *errmsg (free it with ct_free). */
CT_API ct_session *ct_open_core(const char *core, const char *exe, const char *sysroot, char **errmsg);
/* Opens a session over a memory callback (a live process, or gdb's view of a
 * core) and the executable loaded at bias. */
CT_API ct_session *ct_open_memory(ct_read_fn read, void *arg, const char *exe, uint64_t bias,
			   char **errmsg);
/* A thread of a live process: its id and registers. */
struct ct_thread {
	int64_t tid;
	uint64_t sp, pc, fp;
};
/* Opens a live process (gdb's inferior) over a memory callback with what
 * memory cannot tell: its mappings as /proc/PID/maps text ("lo-hi perms
 * offset dev inode path" per line: the file itself when the process is local,
 * gdb's `info proc mappings` rewritten so when it is remote), its threads
 * and the executable's file. The library finds the load bias (where the
 * executable's first PT_LOAD is mapped) and the modules (the ELF files the
 * mappings name); every address is then classified as on a core of that
 * process: image, C heap, thread stacks, Go heap and stacks. */
CT_API ct_session *ct_open_process(ct_read_fn read, void *arg, const char *exe, int64_t pid,
				   const char *maps, const struct ct_thread *threads,
				   size_t nthreads, char **errmsg);
CT_API void ct_close(ct_session *s);
/* Where detached debug info is searched, before /usr/lib/debug, for sessions
 * opened from now on: directories separated by ':' (gdb's debug-file-directory);
 * NULL or "": the default. */
CT_API void ct_set_debug_dirs(const char *dirs);

/* Runs a verb on the session: argv = { "classify", "0xc000012345", ... } (the
 * core argument of the CLI is left out). json != 0 selects JSON output. The
 * output and the messages come back in *out and *err (free with ct_free);
 * returns the exit status the CLI would (0, 1, 2, 64). */
CT_API int ct_run(ct_session *s, int argc, const char *const *argv, int json, char **out, char **err);

/* ---- Go maps for front ends that render entries themselves (gdb printers) ----
 * Thin over gomap.h: the front end names a map by its header address and its
 * type name ("map[string]int"), gets its header, then walks it with callbacks.
 * Every layout rule stays in libcoretool; the front end only sees addresses of
 * keys and values and the bucket/group bookkeeping. */

/* A map's header and type. The strings are owned by the session. */
struct ct_map_info {
	uint64_t addr;            /* the header; 0: a nil map */
	uint64_t count;           /* hmap.count / Map.used */
	int32_t swiss;            /* 1: Swiss tables, 0: classic buckets */
	int32_t key_indirect;     /* > 128 bytes: the slot holds a pointer to the key */
	int32_t elem_indirect;
	uint32_t slots;           /* per bucket/group */
	uint64_t key_size, elem_size;
	const char *type;         /* "map[string]int" */
	const char *key_type;     /* "string" */
	const char *elem_type;    /* "int" */
	const char *impl;         /* "classic" | "swiss" */
	/* classic */
	uint64_t B, buckets, oldbuckets, nevacuate, noverflow;
	/* swiss */
	uint64_t dir_ptr, global_depth;
	int64_t dir_len;
	char growth[128];         /* "not growing", "growing (2x), 3/8 old buckets evacuated", "n/a" */
	char flags[96];           /* "iterator|hashWriting", "" */
};

/* One live entry, handed to the entry callback: where its key and value are
 * (indirect keys/values already followed). flags: CT_MAP_KEY_BAD /
 * CT_MAP_ELEM_BAD when the indirect pointer could not be read (the address is
 * then the slot itself). Return 0 to stop the walk, 1 to go on. */
enum { CT_MAP_KEY_BAD = 1, CT_MAP_ELEM_BAD = 2 };
typedef int (*ct_map_entry_fn)(void *arg, uint64_t key_addr, uint64_t elem_addr, uint32_t flags);

enum ct_map_unit_kind {
	CT_MAP_TABLE = 1,     /* swiss: a table starts (its groups follow) */
	CT_MAP_TABLE_END = 2, /* swiss: the table's totals (full/deleted/empty) */
	CT_MAP_BUCKET = 3,    /* classic: buckets[index], or its chain-th overflow bucket */
	CT_MAP_OLDBUCKET = 4, /* classic, growing: oldbuckets[index] (or overflow) */
	CT_MAP_GROUP = 5,     /* swiss: a group of a table, or the one group of a small map */
};

/* A bucket, group or table for the layout view; the entries of a bucket or
 * group come right after it (when both callbacks are given). */
struct ct_map_unit {
	int32_t kind;           /* enum ct_map_unit_kind */
	uint32_t nslots;        /* bytes of ctrl and states used: 8 */
	uint64_t addr;
	uint64_t index;         /* bucket index; group index within its table */
	uint64_t chain;         /* classic: 0 = the bucket, n = its n-th overflow bucket */
	uint64_t overflow;      /* classic: next bucket of the chain, 0 = none */
	int32_t evacuated;      /* classic old bucket: moved to the new array */
	int32_t live;           /* live (classic) / full (swiss) slots of this unit */
	uint64_t table;         /* swiss group: its table, 0 for a small map */
	uint8_t ctrl[8];        /* tophash (classic) or ctrl (swiss) bytes */
	/* per slot, the state the ctrl byte says: classic "live", "emptyRest",
	 * "emptyOne", "evacuatedX", "evacuatedY", "evacuatedEmpty"; swiss "full",
	 * "empty", "deleted"; both "impossible" */
	const char *state[8];
	/* swiss table (CT_MAP_TABLE, CT_MAP_TABLE_END) */
	uint64_t dir_index, dir_count;  /* first directory slot and how many share it */
	int64_t table_index;
	uint32_t used, capacity, growth_left, local_depth;
	uint64_t groups, ngroups;
	uint64_t full, deleted, empty;  /* CT_MAP_TABLE_END only */
};
typedef int (*ct_map_unit_fn)(void *arg, const struct ct_map_unit *u);

/* What a walk found out about the map. */
struct ct_map_health {
	int32_t ok;              /* nothing wrong found */
	int32_t complete;        /* every bucket/group read, or the caller stopped the walk */
	int32_t stopped_by_caller;
	uint32_t nissues;
	uint64_t count, live;    /* the header's count and the live slots found */
	char summary[256];       /* "ok" or the first problem */
	char stopped[256];       /* where and why the walk stopped on damage; "" if it did not */
};

/* The map of type `type` ("map[K]V" as the DWARF names it) whose header is at
 * addr (0: a nil map). Returns 0, or 2 with a message in *errmsg (ct_free). */
CT_API int ct_map_info(ct_session *s, uint64_t addr, const char *type, struct ct_map_info *ret,
		char **errmsg);
/* Walks that map: each live entry once (classic maps mid-growth included), and
 * when `unit` is given the tables, buckets and groups. Either callback may be
 * NULL; health may be NULL. Returns 0 (walked, healthy or stopped by the
 * caller), 1 (damaged: what was readable was handed out, health says where it
 * stopped), 2 (error: *errmsg). */
CT_API int ct_map_walk(ct_session *s, uint64_t addr, const char *type, ct_map_entry_fn entry,
		ct_map_unit_fn unit, void *arg, struct ct_map_health *health, char **errmsg);

/* Entries start..start+max-1 (max 0: all) of a walk of that map, rendered
 * for gdb's `print` (gdbsyntax.h): two lines per entry, the key's then the
 * value's, each a tag and a payload:
 *   =TEXT  the value as gdb prints it (42, -1.5, true, "a\tb")
 *   @HEX   not rendered (a struct, a pointer, a string gdb must print): the
 *          value is at this address
 *   !HEX   unreadable: the indirect pointer in the slot at this address is bad
 * max_string and repeats are gdb's `print elements` and `print repeats` (0:
 * unlimited): strings they would cut or fold are left to gdb (@). *out is
 * the text (ct_free it), *n the entries in it; health as for ct_map_walk
 * (stopped_by_caller: more entries follow). Returns as ct_map_walk. */
CT_API int ct_map_render_batch(ct_session *s, uint64_t addr, const char *type, uint64_t start,
			       uint64_t max, uint32_t max_string, uint32_t repeats, char **out,
			       uint64_t *n, struct ct_map_health *health, char **errmsg);

/* Renders the Go value of type `type` (a DWARF type name: "error",
 * "interface {}", "main.T") at addr as the CLI renders map entries: text (Go
 * syntax, one line) or JSON. Returns 0, 1 (some memory unreadable: rendered in
 * place), 2 (error: *errmsg). */
CT_API int ct_render(ct_session *s, const char *type, uint64_t addr, int json, char **out, char **errmsg);

/* What a Go type is, from DWARF, so that front ends ask instead of guessing
 * from the name (`type Header map[string][]string` is a map named
 * main.Header). The const char * strings are owned by the session. */
struct ct_type_info {
	int32_t kind;             /* reflect.Kind (DW_AT_go_kind: 21 map, 23 slice, ...); -1: not a Go type */
	int32_t named;            /* a defined type (main.Header, time.Duration, int) */
	int32_t swiss;            /* maps: 1 Swiss tables, 0 classic buckets; -1: not a map or unknown */
	int32_t key_indirect;     /* maps: the slot holds a pointer to the key (> 128 bytes) */
	int32_t elem_indirect;
	int32_t pad_;
	uint64_t size;            /* of a value (a map, a pointer: 8) */
	uint64_t len;             /* arrays: the element count */
	uint64_t key_size, elem_size; /* maps */
	const char *name;         /* as DWARF names it */
	const char *kind_name;    /* reflect's kind name ("map", "slice", "string", "chan", "ptr",
				   * "struct", "int", ...); interfaces: "iface" or "eface"; "" not Go */
	const char *key_type;     /* maps: K; NULL otherwise */
	const char *elem_type;    /* maps: V; slices, arrays, chans, pointers: the element */
	const char *impl;         /* maps: "classic" | "swiss" | "unknown"; "" otherwise */
	char underlying[256];     /* the underlying type ("map[string][]string"; a type literal:
				   * itself); "" when DWARF does not spell it (named structs) */
	char map_error[160];      /* maps whose layout the library cannot read: why */
};

/* The type named `type_name` in the executable's DWARF. Returns 0, or 2 with
 * a message in *errmsg (ct_free): no such type, not a Go program. */
CT_API int ct_type_info(ct_session *s, const char *type_name, struct ct_type_info *out,
			char **errmsg);

/* ---- channels and interfaces, for printers that build values themselves ----
 * (gdb's `chan T` and interface printers, `$len`/`$cap`/`$dtype`): the
 * runtime's layout stays here, the front end gets addresses and type names. */
/* A channel (gochan.h). Strings are owned by the session. */
struct ct_chan_info {
	uint64_t addr;            /* the hchan (the channel value); 0: a nil channel */
	uint64_t qcount, dataqsiz, buf, elemsize, sendx, recvx;
	int32_t closed;
	int32_t waiters_partial;  /* a wait queue was unreadable or too long to count */
	uint64_t recvq, sendq;    /* goroutines blocked receiving / sending */
	const char *elem_type;    /* T of chan T as the DWARF names it; NULL: unknown */
	uint64_t elem_type_size;
	char bad[128];            /* "" or why the header is inconsistent: no slots then */
};
/* The channel of type `type` ("chan int", or a named channel type) whose hchan
 * is at addr. Returns 0, or 2 with a message in *errmsg (ct_free). */
CT_API int ct_chan_info(ct_session *s, uint64_t addr, const char *type, struct ct_chan_info *ret,
			char **errmsg);
/* Where the i-th buffered element is, in queue order (the next receive
 * first); 0 when i >= qcount or the header is bad. */
CT_API uint64_t ct_chan_slot(const struct ct_chan_info *c, uint64_t i);
/* An interface value's dynamic type, from its two words (the type word of an
 * eface or the itab word of an iface, and the data word) and its static type
 * (a DWARF type name: "interface {}", "error", "fmt.Stringer"). */
struct ct_iface_info {
	int32_t nil;              /* no dynamic type */
	int32_t known;            /* the dynamic type is in the DWARF (type, size) */
	int32_t direct;           /* pointer-shaped: the data word is the value itself */
	uint64_t rtype;           /* its runtime type descriptor; 0 if unreadable */
	uint64_t data;
	uint64_t value_addr;      /* where the value is (data), 0 when direct */
	const char *type;         /* DWARF name of the dynamic type; NULL: unknown */
	uint64_t size;
	char rt_name[256];        /* the runtime's own name for it; "" if unreadable */
};
CT_API int ct_iface_info(ct_session *s, const char *type, uint64_t type_word, uint64_t data_word,
			 struct ct_iface_info *ret, char **errmsg);

/* ---- goroutines, for front ends that switch to them (gdb's `goroutine N CMD`) ----
 * The goroutines verb's own model (gview.h): which registers a goroutine's
 * frames start from, its status, wait reason, thread and frames. */

enum { CT_G_FROM_SCHED = 0, CT_G_FROM_SYSCALL = 1, CT_G_FROM_THREAD = 2 };

struct ct_goroutine {
	uint64_t id;
	uint64_t g;               /* its runtime.g */
	int64_t thread;           /* the tid of the thread its M runs on; -1: none */
	/* Where its innermost frame is: the thread's registers when it runs
	 * there (from CT_G_FROM_THREAD: pc is where execution was), else its
	 * syscall or scheduler state (pc is a return address). */
	uint64_t pc, sp, bp;
	int32_t from;             /* CT_G_FROM_* */
	int32_t dead;             /* status dead (listed only when asked) */
	uint64_t stack_lo, stack_hi;
	uint64_t gopc;            /* the go statement that created it; 0: none */
	char status[24];          /* the runtime's name: "running", "waiting", ... */
	char wait_reason[96];     /* "chan receive"; "" unless waiting */
	/* Strings owned by the session (NULL: unknown). */
	const char *func, *file;  /* its innermost frame */
	int32_t line;
	int32_t user_line;
	const char *user_func, *user_file; /* its first frame outside the runtime */
	const char *go_func, *go_file;     /* where gopc is */
	int32_t go_line;
	uint32_t nframes;         /* frames the library's unwinder found */
};

/* Every goroutine (dead ones too when all != 0), in the goroutines verb's
 * order, as a malloc'd array in *ret (ct_free it) of *n entries. Returns 0,
 * 1 (some goroutines unreadable: those read are listed), 2 (error: *errmsg). */
CT_API int ct_goroutines(ct_session *s, int all, struct ct_goroutine **ret, size_t *n, char **errmsg);

/* The general registers of one thread of a live process, in the order of
 * the kernel's user_regs_struct (NT_PRSTATUS): r15 r14 r13 r12 rbp rbx r11
 * r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss fs_base
 * gs_base ds es fs gs. */
#define CT_NREGS 27
struct ct_thread_regs {
	int64_t tid;
	uint64_t regs[CT_NREGS];
};
/* Hands a session over a memory callback the threads of the live process
 * (a core has its own): running goroutines then start from their thread's
 * registers, as on a core. Replaces what was handed before; call again after
 * the process ran. Returns 0, or 2 with *errmsg. */
CT_API int ct_set_threads(ct_session *s, const struct ct_thread_regs *threads, size_t n, char **errmsg);

/* 1 if the verb reads what only a core has (threads and registers, notes,
 * the mappings): ct_run refuses it on a session over a memory callback. */
CT_API int ct_verb_needs_core(const char *verb);
/* 1 if the library has this verb ("cgocheck" may come later). */
CT_API int ct_has_verb(const char *verb);
/* The text of `coretool VERB --help` (ct_free it); NULL for an unknown verb. */
CT_API char *ct_verb_help(const char *verb);
/* The specification of every verb, as JSON (ct_free it): {"verbs": [{"name",
 * "grammar", "summary", "help", "notes", "needs_core", "args": [{"name",
 * "help", "min", "max"}], "options": [{"name", "alias", "type" ("flag",
 * "uint", "string"), "metavar", "min", "max", "default", "cores_only",
 * "help"}]}]}: front ends build their argument parsers and help from it. */
CT_API char *ct_verbs_json(void);
/* The map layout view's legend, as JSON (ct_free it): {"classic": {"line":
 * "tophash: hex live, __ emptyRest, ...", "states": [{"state": "emptyRest",
 * "mark": "__", "meaning": "..."}, ...]}, "swiss": {...}}. The states are
 * ct_map_unit's state[] names; mark null: the slot holds an entry and is
 * written as its ctrl/tophash byte in hex. What `coretool map --layout`
 * prints, so front ends do not keep a copy. */
CT_API char *ct_map_legend_json(void);
/* sizeof of the structs above ("ct_map_info", "ct_map_unit", "ct_map_health",
 * "ct_type_info", ...),
 * so that a binding can check its mirror of them; 0 for an unknown name. */
CT_API size_t ct_struct_size(const char *name);
/* 1 if the session was opened on a live process (ct_open_process or
 * ct_open_memory), 0 for a core. */
CT_API int ct_is_live(ct_session *s);

CT_API void ct_free(void *p);

/* Version of the library, e.g. "0.1". */
CT_API const char *ct_version(void);

#endif
