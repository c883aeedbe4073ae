#define _GNU_SOURCE
#include "corelist.h"
#include "unpack.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CORELIST_LINE_MAX 4096
#define CORELIST_FDS 32 /* nftw's open directories at once */

static struct ct_error *corelist_push(struct corelist *l, const char *path)
{
	if (l->n >= CORELIST_MAX)
		return ct_error_fmt(CT_ERR_USAGE, "more than %d cores in one batch", CORELIST_MAX);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 64;
		char **np = realloc(l->paths, ncap * sizeof(*np));
		if (!np)
			return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		l->paths = np;
		l->cap = ncap;
	}
	if (!(l->paths[l->n] = strdup(path)))
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	l->n++;
	return NULL;
}

/* nftw has no argument of ours. */
static struct {
	struct corelist *l;
	FILE *progress;
	size_t seen;
	struct ct_error *err;
	const char *failed;
} corelist_walk;

static int corelist_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_DNR && !corelist_walk.err) {
		corelist_walk.err = ct_error_fmt(CT_ERR_IO, "%s: cannot read the directory", path);
		return 1;
	}
	if (type != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	corelist_walk.seen++;
	if (corelist_walk.progress && corelist_walk.seen % 256 == 0)
		fprintf(corelist_walk.progress, "\rsearching: %zu files, %zu cores", corelist_walk.seen,
			corelist_walk.l->n);
	if (!unpack_is_core(path)) {
		corelist_walk.l->skipped++;
		return 0;
	}
	if ((corelist_walk.err = corelist_push(corelist_walk.l, path)))
		return 1;
	return 0;
}

static int corelist_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file as given; a directory searched, its cores in name order. */
static struct ct_error *corelist_one(struct corelist *l, const char *path, FILE *progress)
{
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return corelist_push(l, path); /* missing or not a core: that core's error */
	size_t first = l->n;
	corelist_walk.l = l;
	corelist_walk.progress = progress;
	corelist_walk.seen = 0;
	corelist_walk.err = NULL;
	l->dirs++;
	/* FTW_PHYS: symbolic links are not followed (no loops, nothing outside). */
	if (nftw(path, corelist_visit, CORELIST_FDS, FTW_PHYS) < 0 && !corelist_walk.err)
		corelist_walk.err = ct_error_fmt(CT_ERR_IO, "%s: %s", path, strerror(errno));
	if (progress)
		fprintf(progress, "\rsearching: %zu files, %zu cores\n", corelist_walk.seen, l->n - first);
	if (l->n > first)
		qsort(l->paths + first, l->n - first, sizeof(*l->paths), corelist_cmp);
	return corelist_walk.err;
}

static struct ct_error *corelist_from(struct corelist *l, const char *from, FILE *progress)
{
	FILE *f = strcmp(from, "-") ? fopen(from, "r") : stdin;
	if (!f)
		return ct_error_fmt(CT_ERR_IO, "--from %s: %s", from, strerror(errno));
	struct ct_error *err = NULL;
	char line[CORELIST_LINE_MAX + 2];
	size_t lineno = 0;
	while (!err && fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		if (len && line[len - 1] != '\n' && !feof(f)) {
			err = ct_error_fmt(CT_ERR_USAGE, "--from %s, line %zu: longer than %d bytes", from,
					   lineno, CORELIST_LINE_MAX);
			break;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!len || line[0] == '#') /* blank lines and comments */
			continue;
		err = corelist_one(l, line, progress);
	}
	if (!err && ferror(f))
		err = ct_error_fmt(CT_ERR_IO, "--from %s: read error", from);
	if (f != stdin)
		fclose(f);
	return err;
}

struct ct_error *corelist_add(struct corelist *l, char **args, size_t nargs, const char *from,
			      FILE *progress)
{
	struct ct_error *err = NULL;
	for (size_t i = 0; i < nargs && !err; i++)
		err = corelist_one(l, args[i], progress);
	if (!err && from)
		err = corelist_from(l, from, progress);
	return err;
}

void corelist_free(struct corelist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	memset(l, 0, sizeof(*l));
}
