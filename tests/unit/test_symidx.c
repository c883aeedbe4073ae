/* The symbol index (symidx.c) must answer exactly what libdwfl's dwfl_module_addrinfo()
 * answers: over the modules of real sample cores, at every symbol's edges and on a sweep
 * through each module. Cores that are not built are skipped. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

static int failures;
static long checked;
static uint64_t stride = 2039; /* odd: every alignment */

static void check_addr(struct target *t, const struct target_module *m, uint64_t a)
{
	uint64_t off1 = 0;
	GElf_Off off2 = 0;
	GElf_Sym sym;
	const char *n1 = target_module_symbol(t, m, a, &off1);
	const char *n2 = dwfl_module_addrinfo(m->dwmod, a, &off2, &sym, NULL, NULL, NULL);
	checked++;
	if ((n1 == NULL) != (n2 == NULL) || (n1 && (strcmp(n1, n2) || off1 != off2))) {
		if (failures++ < 10)
			fprintf(stderr, "FAIL %s 0x%" PRIx64 ": index %s+%" PRIu64 ", libdwfl %s+%" PRIu64 "\n",
				m->name, a, n1 ? n1 : "-", off1, n2 ? n2 : "-", (uint64_t)off2);
	}
}

static void check_core(const char *path)
{
	if (access(path, R_OK) != 0) {
		printf("skip %s (not built)\n", path);
		return;
	}
	struct target_options opt = { 0 };
	struct target *t;
	struct ct_error *err = target_open_core(path, &opt, &t);
	if (err) {
		fprintf(stderr, "FAIL %s: %s\n", path, err->msg);
		failures++;
		ct_error_destroy(err);
		return;
	}
	for (size_t i = 0; i < t->nmodules; i++) {
		const struct target_module *m = &t->modules[i];
		int n = dwfl_module_getsymtab(m->dwmod);
		for (int s = 1; s < n; s += 7) {
			GElf_Sym sym;
			GElf_Addr a;
			if (!dwfl_module_getsym_info(m->dwmod, s, &sym, &a, NULL, NULL, NULL) ||
			    a < m->start || a >= m->end)
				continue;
			check_addr(t, m, a);
			if (sym.st_size) {
				check_addr(t, m, a + sym.st_size - 1);
				check_addr(t, m, a + sym.st_size);
			}
		}
		for (uint64_t a = m->start; a < m->end; a += stride)
			check_addr(t, m, a);
	}
	target_close(t);
}

/* With arguments: STRIDE CORE... (a finer sweep of other cores, by hand). */
int main(int argc, char **argv)
{
	if (argc > 2) {
		stride = strtoull(argv[1], NULL, 0);
		for (int i = 2; i < argc; i++)
			check_core(argv[i]);
		printf("symidx: %ld lookups, %d differences from libdwfl\n", checked, failures);
		return failures != 0;
	}
	check_core("build/samples/go1.26/c-uaf-map/core");
	check_core("build/samples/go1.22/c-uaf-map/core");
	check_core("build/samples/c/c-uaf/core");
	printf("symidx: %ld lookups, %d differences from libdwfl\n", checked, failures);
	return failures != 0;
}
