#define _GNU_SOURCE
#include "target_find.h"
#include "ct_file.h"

#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <pthread.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A day: a bound, not a setting anyone needs. */
enum { FIND_TIMEOUT_MAX = 86400 };
/* --debug-dir lists longer than this are cut (each entry is a path). */
enum { FIND_TREES_MAX = 64 };

/* libdebuginfod, loaded only when a server is configured (DEBUGINFOD_URLS),
 * as libdwfl loads it itself: linked, it would bring curl, TLS and Kerberos
 * (some 28 libraries) into every run, tens of milliseconds of a cold start. */
static struct {
	void *(*get_user_data)(debuginfod_client *c);
	void (*set_user_data)(debuginfod_client *c, void *value);
	void (*set_progressfn)(debuginfod_client *c, debuginfod_progressfn_t fn);
	int (*find_executable)(debuginfod_client *c, const unsigned char *id, int idlen, char **path);
	bool ok;
} dbgd;
static pthread_once_t dbgd_once = PTHREAD_ONCE_INIT;

static void dbgd_load_once(void)
{
	/* libdwfl has it loaded already when it made the client. */
	void *h = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (!h)
		h = dlopen("libdebuginfod.so.1", RTLD_NOW);
	if (!h)
		return;
	*(void **)&dbgd.get_user_data = dlsym(h, "debuginfod_get_user_data");
	*(void **)&dbgd.set_user_data = dlsym(h, "debuginfod_set_user_data");
	*(void **)&dbgd.set_progressfn = dlsym(h, "debuginfod_set_progressfn");
	*(void **)&dbgd.find_executable = dlsym(h, "debuginfod_find_executable");
	dbgd.ok = dbgd.get_user_data && dbgd.set_user_data && dbgd.set_progressfn && dbgd.find_executable;
}

static bool dbgd_load(void)
{
	pthread_once(&dbgd_once, dbgd_load_once);
	return dbgd.ok;
}

const char *target_found_name(enum target_found how)
{
	switch (how) {
	case TARGET_FOUND_GIVEN: return "given";
	case TARGET_FOUND_PATH: return "path";
	case TARGET_FOUND_TREE: return "build-id tree";
	case TARGET_FOUND_DEBUGINFOD: return "debuginfod";
	case TARGET_FOUND_CORE: return "core";
	case TARGET_FOUND_NONE: break;
	}
	return "none";
}

static int finder_add_tree(struct target_finder *f, const char *dir)
{
	if (f->ntrees >= FIND_TREES_MAX)
		return 0;
	for (size_t i = 0; i < f->ntrees; i++)
		if (!strcmp(f->trees[i], dir))
			return 0;
	char **n = realloc(f->trees, (f->ntrees + 1) * sizeof(*n));
	if (!n)
		return -1;
	f->trees = n;
	if (!(n[f->ntrees] = strdup(dir)))
		return -1;
	f->ntrees++;
	return 0;
}

int target_finder_init(struct target_finder *f, const struct target_finder_options *opt)
{
	memset(f, 0, sizeof(*f));
	f->progress = opt->progress;
	f->progress_arg = opt->progress_arg;
	f->timeout = opt->debuginfod_timeout > FIND_TIMEOUT_MAX ? FIND_TIMEOUT_MAX
								: opt->debuginfod_timeout;
	const char *urls = getenv(DEBUGINFOD_URLS_ENV_VAR);
	f->urls_set = urls && *urls;
	f->debuginfod = f->timeout > 0 && f->urls_set;
	if (opt->sysroot && !(f->sysroot = strdup(opt->sysroot)))
		return -1;
	/* Each --debug-dir made absolute (libdwfl takes a relative entry as
	 * relative to each module's own directory: the user meant the current
	 * one), then the sysroot's /usr/lib/debug. */
	char *copy = opt->debug_dirs ? strdup(opt->debug_dirs) : NULL, *save = NULL;
	if (opt->debug_dirs && !copy)
		return -1;
	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
		char *abs = realpath(d, NULL);
		int rc = finder_add_tree(f, abs ? abs : d);
		free(abs);
		if (rc) {
			free(copy);
			return -1;
		}
	}
	free(copy);
	char *sysdebug;
	if (asprintf(&sysdebug, "%s/usr/lib/debug", f->sysroot ? f->sysroot : "") < 0)
		return -1;
	int rc = finder_add_tree(f, sysdebug);
	free(sysdebug);
	if (rc)
		return -1;
	/* libdwfl's path for detached debug info: the module's own directory and
	 * its .debug, then every tree (searched by build ID and by debuglink). */
	size_t len = 8;
	for (size_t i = 0; i < f->ntrees; i++)
		len += strlen(f->trees[i]) + 1;
	if (!(f->debuginfo_path = malloc(len)))
		return -1;
	char *p = stpcpy(f->debuginfo_path, ":.debug");
	for (size_t i = 0; i < f->ntrees; i++)
		p = stpcpy(stpcpy(p, ":"), f->trees[i]);
	return 0;
}

void target_finder_fini(struct target_finder *f)
{
	for (size_t i = 0; i < f->ntrees; i++)
		free(f->trees[i]);
	free(f->trees);
	free(f->sysroot);
	free(f->debuginfo_path);
	for (size_t i = 0; i < f->nlookups; i++) {
		struct target_lookup *l = &f->lookups[i];
		free(l->name);
		free(l->path);
		free(l->where);
		free(l->trail);
	}
	free(f->lookups);
	/* f->client is the Dwfl's: dwfl_end ends it. */
	memset(f, 0, sizeof(*f));
}

static bool finder_past(const struct timespec *deadline, const struct timespec *now)
{
	return now->tv_sec > deadline->tv_sec ||
	       (now->tv_sec == deadline->tv_sec && now->tv_nsec >= deadline->tv_nsec);
}

/* libdebuginfod calls this about once a second while a transfer waits or
 * runs (also for libdwfl's own lookups of debug info through the same
 * client): non-zero cuts the transfer. It is how --debuginfod-timeout is
 * enforced, whatever the server does (accepts and never answers, trickles).
 * A lookup libdwfl starts on its own, outside target_finder_begin_external
 * (a session's later symbol lookups), is told by the pause before it: its
 * deadline starts at its first call. */
static int finder_progress(debuginfod_client *c, long done, long total)
{
	struct target_finder *f = dbgd.get_user_data(c);
	if (!f)
		return 0;
	if (!f->debuginfod || f->gave_up)
		return 1;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!f->ours && now.tv_sec - f->last_call.tv_sec > 2) {
		f->deadline = now;
		f->deadline.tv_sec += f->timeout;
	}
	f->last_call = now;
	if (finder_past(&f->deadline, &now)) {
		f->timed_out = true;
		if (!f->ours)
			f->gave_up = true; /* libdwfl's lookup: ours see gave_up */
		return 1;
	}
	if (f->progress && f->cur_what)
		f->progress(f->progress_arg, f->cur_id, f->cur_what, done, total);
	return 0;
}

void target_finder_attach(struct target_finder *f, Dwfl *dwfl)
{
	/* Unset DEBUGINFOD_URLS: libdebuginfod asks no server, for libdwfl
	 * either; nothing to bound. */
	if (!f->urls_set || !dwfl)
		return;
	debuginfod_client *c = dwfl_get_debuginfod_client(dwfl);
	if (!c || !dbgd_load())
		return;
	dbgd.set_user_data(c, f);
	dbgd.set_progressfn(c, finder_progress);
	if (!f->client)
		f->client = c; /* the target's own Dwfl: our lookups go through it */
	target_finder_begin_external(f, NULL, 0);
}

void target_finder_begin_external(struct target_finder *f, const unsigned char *id, size_t idlen)
{
	clock_gettime(CLOCK_MONOTONIC, &f->deadline);
	f->last_call = f->deadline;
	f->deadline.tv_sec += f->timeout;
	f->timed_out = false;
	f->cur_id[0] = 0;
	for (size_t i = 0; i < idlen && i < 64; i++)
		snprintf(f->cur_id + 2 * i, 3, "%02x", id[i]);
	f->cur_what = idlen ? "debuginfo" : NULL;
}

static void finder_hex(char *buf, size_t cap, const unsigned char *id, size_t len)
{
	buf[0] = 0;
	for (size_t i = 0; i < len && 2 * i + 2 < cap; i++)
		snprintf(buf + 2 * i, 3, "%02x", id[i]);
}

/* The GNU build ID of an open ELF file, in hexadecimal ("" if it has none). */
static void finder_file_id(int fd, char *hex, size_t cap)
{
	hex[0] = 0;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return;
	const void *id;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
	if (n > 0 && n <= 64)
		finder_hex(hex, cap, id, (size_t)n);
	elf_end(elf);
}

static void trail_add(char *trail, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void trail_add(char *trail, size_t cap, const char *fmt, ...)
{
	size_t len = strnlen(trail, cap);
	if (len + 3 >= cap)
		return;
	if (len)
		len += (size_t)snprintf(trail + len, cap - len, "; ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(trail + len, cap - len, fmt, ap);
	va_end(ap);
}

/* Is the file on fd (path) of build ID want (any, when want is "")? If not,
 * the trail says what it is. */
static bool finder_match(int fd, const char *path, const char *want, const char *place,
			 char *trail, size_t cap)
{
	char got[130];
	finder_file_id(fd, got, sizeof(got));
	if (!want[0] || !strcmp(got, want))
		return true;
	trail_add(trail, cap, "%s: %s has build-id %s, not %s: refused", place, path,
		  got[0] ? got : "(none)", want);
	return false;
}

/* The lookup's answer: a file (path, how, where) or none. */
static void lookup_set(struct target_lookup *l, char *path, enum target_found how, const char *where)
{
	l->path = path;
	l->how = how;
	l->where = where ? strdup(where) : NULL;
}

static bool finder_debuginfod(struct target_finder *f, const char *want, struct target_lookup *l,
			      char *trail, size_t cap)
{
	const char *urls = getenv(DEBUGINFOD_URLS_ENV_VAR);
	if (!f->debuginfod) {
		trail_add(trail, cap, "debuginfod: off (%s)",
			  f->urls_set ? "--debuginfod-timeout 0" : "DEBUGINFOD_URLS unset");
		return false;
	}
	if (f->gave_up) {
		trail_add(trail, cap, "debuginfod (%s): not asked (an earlier lookup timed out)", urls);
		return false;
	}
	if (!f->client) {
		trail_add(trail, cap, "debuginfod: no client (libdebuginfod could not be loaded)");
		return false;
	}
	target_finder_begin_external(f, l->id, l->idlen);
	f->cur_what = "executable";
	f->ours = true;
	char *path = NULL;
	int fd = dbgd.find_executable(f->client, l->id, (int)l->idlen, &path);
	f->ours = false;
	f->cur_what = NULL;
	if (f->progress)
		f->progress(f->progress_arg, want, NULL, 0, 0); /* the transfer is over */
	if (fd < 0) {
		free(path);
		if (f->timed_out) {
			f->gave_up = true;
			trail_add(trail, cap, "debuginfod (%s): no answer within %u s "
				  "(--debuginfod-timeout)", urls, f->timeout);
		} else if (fd == -ENOENT) {
			trail_add(trail, cap, "debuginfod (%s): not found", urls);
		} else {
			trail_add(trail, cap, "debuginfod (%s): %s", urls, strerror(-fd));
		}
		return false;
	}
	char place[300];
	snprintf(place, sizeof(place), "debuginfod (%s)", urls);
	bool ok = finder_match(fd, path ? path : "(its file)", want, place, trail, cap);
	close(fd);
	if (!ok || !path) {
		free(path);
		return false;
	}
	lookup_set(l, path, TARGET_FOUND_DEBUGINFOD, urls);
	return true;
}

static void finder_search(struct target_finder *f, struct target_lookup *l, char *trail, size_t cap)
{
	char want[130];
	finder_hex(want, sizeof(want), l->id, l->idlen);
	/* 1. The path the core names. A file there of another build (the
	 * machine was updated since the crash) is kept aside, not used. */
	char *other = NULL;
	if (l->name && l->name[0] == '/') {
		char *path;
		if (asprintf(&path, "%s%s", f->sysroot ? f->sysroot : "", l->name) < 0)
			return;
		int fd = ct_open_regular(path);
		if (fd < 0) {
			trail_add(trail, cap, "%s: %s", path, strerror(errno));
			free(path);
		} else {
			bool ok = finder_match(fd, path, want, "path", trail, cap);
			close(fd);
			if (ok) {
				lookup_set(l, path, TARGET_FOUND_PATH, NULL);
				return;
			}
			other = path;
		}
	}
	if (!l->idlen) {
		trail_add(trail, cap, "no GNU build ID to search by");
		goto none;
	}
	/* 2. The build-id trees. */
	for (size_t i = 0; i < f->ntrees; i++) {
		char *path;
		if (asprintf(&path, "%s/.build-id/%.2s/%s", f->trees[i], want, want + 2) < 0)
			goto none;
		int fd = ct_open_regular(path);
		if (fd < 0) {
			trail_add(trail, cap, "not in %s", path);
			free(path);
			continue;
		}
		bool ok = finder_match(fd, path, want, "build-id tree", trail, cap);
		close(fd);
		if (ok) {
			lookup_set(l, path, TARGET_FOUND_TREE, f->trees[i]);
			free(other);
			return;
		}
		free(path);
	}
	/* 3. debuginfod. */
	if (finder_debuginfod(f, want, l, trail, cap)) {
		free(other);
		return;
	}
none:
	if (other) {
		lookup_set(l, other, TARGET_FOUND_PATH, NULL);
		l->mismatch = true;
	}
}

const struct target_lookup *target_finder_find(struct target_finder *f, const char *name,
					       const unsigned char *id, size_t idlen)
{
	if (idlen > sizeof(f->lookups[0].id))
		idlen = 0; /* no build ID is that long: not one */
	for (size_t i = 0; i < f->nlookups; i++) {
		const struct target_lookup *l = &f->lookups[i];
		if (l->idlen == idlen && !memcmp(l->id, id, idlen) &&
		    (l->name && name ? !strcmp(l->name, name) : l->name == name))
			return l;
	}
	struct target_lookup *n = realloc(f->lookups, (f->nlookups + 1) * sizeof(*n));
	if (!n)
		return NULL;
	f->lookups = n;
	struct target_lookup *l = &n[f->nlookups];
	memset(l, 0, sizeof(*l));
	if (name && !(l->name = strdup(name)))
		return NULL;
	if (idlen)
		memcpy(l->id, id, idlen);
	l->idlen = idlen;
	char trail[2048] = "";
	finder_search(f, l, trail, sizeof(trail));
	l->trail = strdup(trail);
	f->nlookups++;
	return l;
}
