/* The cores of a batch as the user named them: files, directories (searched
 * recursively for cores, raw or packed: unpack_is_core), and lists of paths
 * in a file (--from FILE, one per line, "-" for standard input). */
#ifndef CT_CORELIST_H
#define CT_CORELIST_H

#include <stddef.h>
#include <stdio.h>

#include "ct_error.h"

struct corelist {
	char **paths;
	size_t n, cap;
	size_t dirs, skipped; /* directories searched; files there that are not cores */
};

/* Appends args (files kept as given, directories expanded, sorted) and then
 * the paths read from `from` (NULL: none). progress: a terminal to show the
 * search on, or NULL. Errors: a directory or list that cannot be read, or
 * more than CORELIST_MAX paths. */
#define CORELIST_MAX 10000000
struct ct_error *corelist_add(struct corelist *l, char **args, size_t nargs, const char *from,
			      FILE *progress);
void corelist_free(struct corelist *l);

#endif
