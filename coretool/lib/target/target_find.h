/* Finding the files a core names — the executable and each shared library —
 * by the one rule both follow: the path the core recorded (under --sysroot),
 * then the build-id trees (DIR/.build-id/xx/rest under each --debug-dir and
 * under the sysroot's /usr/lib/debug), then a debuginfod server (elfutils'
 * libdebuginfod, when DEBUGINFOD_URLS is set), each lookup bounded in time.
 * A file is taken only if its GNU build ID is the one the core recorded.
 * Detached debug info (rest.debug) is searched in the same trees and through
 * the same debuginfod client by libdwfl (target_finder_debuginfo_path and
 * target_finder_attach give it both). */
#ifndef CT_TARGET_FIND_H
#define CT_TARGET_FIND_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Where a file was found. */
enum target_found {
	TARGET_FOUND_NONE,
	TARGET_FOUND_GIVEN,      /* named by the user (--exe) */
	TARGET_FOUND_PATH,       /* the path the core names (under --sysroot) */
	TARGET_FOUND_TREE,       /* a build-id tree */
	TARGET_FOUND_DEBUGINFOD, /* a debuginfod server (its client's cache) */
	TARGET_FOUND_CORE,       /* not a file: read from the core (the vDSO) */
};
/* "given", "path", "build-id tree", "debuginfod", "core", "none" */
const char *target_found_name(enum target_found how);

/* A debuginfod transfer under way, for a progress line: what is fetched
 * (hexadecimal build ID and "executable" or "debuginfo"), bytes so far and
 * expected (0: unknown). Called about once a second. */
typedef void (*target_progress_fn)(void *arg, const char *build_id, const char *what, long done,
				   long total);

/* Default bound on one debuginfod lookup, seconds. */
enum { TARGET_DEBUGINFOD_TIMEOUT_DEFAULT = 30 };

struct target_finder_options {
	const char *sysroot;    /* NULL: the paths as the core names them */
	const char *debug_dirs; /* ':'-separated, searched before the sysroot's /usr/lib/debug */
	/* Seconds a debuginfod lookup may take; 0 turns debuginfod off. Values
	 * above a day are taken as a day. */
	unsigned debuginfod_timeout;
	target_progress_fn progress;
	void *progress_arg;
};

struct target_finder {
	char *sysroot;
	char **trees; /* absolute directories holding .build-id/ */
	size_t ntrees;
	char *debuginfo_path; /* libdwfl's: ":.debug:" then the trees */
	unsigned timeout;
	bool debuginfod;      /* DEBUGINFOD_URLS set and a timeout: we ask */
	bool gave_up;         /* a lookup timed out: the server is not asked again */
	struct debuginfod_client *client; /* the Dwfl's own (dwfl_get_debuginfod_client) */
	struct timespec deadline; /* of the lookup under way */
	bool timed_out;           /* the lookup under way was cut by the deadline */
	bool ours;                /* the lookup under way is target_finder_find's */
	struct timespec last_call; /* of the progress callback */
	char cur_id[129];         /* its build ID, for the progress line */
	const char *cur_what;
	target_progress_fn progress;
	void *progress_arg;
	struct target_lookup *lookups; /* every answer so far */
	size_t nlookups;
	bool urls_set;            /* DEBUGINFOD_URLS is set (libdwfl would use it) */
};

/* One lookup's answer, kept by the finder: a core's modules are reported
 * again for every unwinding (unwind.c), and each is looked up once. */
struct target_lookup {
	char *name;            /* as the core names it, or NULL */
	unsigned char id[64];  /* the build ID looked for */
	size_t idlen;
	char *path;            /* the file found, or NULL */
	enum target_found how;
	char *where;           /* the tree or the debuginfod URLs; NULL for a path */
	bool mismatch;         /* path is the file at the path the core names, of another build */
	char *trail;           /* every place tried and what was there */
};

/* Sets f up (nothing is opened yet). -1: out of memory. */
int target_finder_init(struct target_finder *f, const struct target_finder_options *opt);
void target_finder_fini(struct target_finder *f);
/* Hands dwfl's debuginfod client the progress callback and a deadline, so
 * that libdwfl's own lookups of debug info through dwfl are bounded as ours
 * are (and off when ours are). */
void target_finder_attach(struct target_finder *f, Dwfl *dwfl);
/* Marks the start of a lookup libdwfl makes itself (detached debug info):
 * its deadline starts now. */
void target_finder_begin_external(struct target_finder *f, const unsigned char *id, size_t idlen);

/* Finds the file of a module the core names `name` (an absolute path; NULL: only
 * its build ID is looked up) whose GNU build ID is id[0..idlen) (idlen 0:
 * unknown, only the path is tried). A file is taken only if its build ID is
 * that one; a file at the path of another build is passed over for the trees
 * and the server, and answered (mismatch) only if nothing else is found, so
 * that the caller's check refuses it with the difference spelled out. The
 * trail says every place tried and what was there ("/x/lib.so: No such file
 * or directory; not in /usr/lib/debug/.build-id/ab/12...; debuginfod: off
 * (DEBUGINFOD_URLS unset)"). Each name and build ID is looked up once; the
 * answer is owned by f. NULL: out of memory. */
const struct target_lookup *target_finder_find(struct target_finder *f, const char *name,
					       const unsigned char *id, size_t idlen);

#endif
