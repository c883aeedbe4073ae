/* Every value the Go models fall back to when an executable's DWARF lacks a
 * constant (goheap.c, gomap.c, goroutine.c tables) must equal what DWARF says
 * wherever a toolchain's DWARF has it: over the sample executable of every
 * toolchain built (build/samples/go1.N/bin/crasher). A toolchain whose DWARF
 * confirms none of the entries, or no toolchain at all, fails the test: it
 * would prove nothing. */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dw.h"
#include "goheap.h"
#include "gomap.h"
#include "goroutine.h"

struct check {
	const struct dw *dw;
	const char *exe;
	const char *table;
	int confirmed, absent, failures;
};

static void check_one(void *arg, const char *name, int64_t value)
{
	struct check *c = arg;
	int64_t v;
	struct ct_error *err = dw_const(c->dw, name, &v);
	if (err) {
		ct_error_destroy(err);
		c->absent++;
		return;
	}
	if (v != value) {
		fprintf(stderr, "FAIL %s: %s fallback %s = %" PRId64 ", DWARF says %" PRId64 "\n", c->exe,
			c->table, name, value, v);
		c->failures++;
		return;
	}
	c->confirmed++;
}

int main(void)
{
	const char *root = "build/samples";
	DIR *d = opendir(root);
	if (!d) {
		fprintf(stderr, "FAIL: no %s (run `make samples`)\n", root);
		return 1;
	}
	int toolchains = 0, failures = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "go1.", 4))
			continue;
		char exe[512];
		snprintf(exe, sizeof(exe), "%s/%s/bin/crasher", root, e->d_name);
		if (access(exe, R_OK))
			continue;
		struct dw *dw;
		struct ct_error *err = dw_open(exe, &dw);
		if (err) {
			fprintf(stderr, "FAIL %s: %s\n", exe, err->msg);
			ct_error_destroy(err);
			failures++;
			continue;
		}
		toolchains++;
		struct check c[3] = { { dw, exe, "heap", 0, 0, 0 }, { dw, exe, "map", 0, 0, 0 },
				      { dw, exe, "goroutine status", 0, 0, 0 } };
		go_heap_fallbacks(check_one, &c[0]);
		gomap_fallbacks(check_one, &c[1]);
		go_sched_fallbacks(check_one, &c[2]);
		int confirmed = 0;
		for (int i = 0; i < 3; i++) {
			failures += c[i].failures;
			confirmed += c[i].confirmed;
			printf("%s: %s fallbacks: %d confirmed by DWARF, %d not in its DWARF\n", e->d_name,
			       c[i].table, c[i].confirmed, c[i].absent);
		}
		if (!confirmed) {
			fprintf(stderr, "FAIL %s: DWARF confirms no fallback entry\n", exe);
			failures++;
		}
		dw_close(dw);
	}
	closedir(d);
	if (!toolchains) {
		fprintf(stderr, "FAIL: no toolchain's sample executable in %s\n", root);
		return 1;
	}
	printf("fallbacks: %d toolchains, %d failures\n", toolchains, failures);
	return failures ? 1 : 0;
}
