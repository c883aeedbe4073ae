/* Prints, as JSON, what every goroutine of a core waits on (lib/go/goblock.h):
 *   goblock CORE
 * One index for all goroutines, as a leak check would use it. Built and run
 * by tests/test_goblock.py against build/libcoretool.a. */
#include <inttypes.h>
#include <stdio.h>

#include "goblock.h"
#include "target.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: goblock CORE\n");
		return 64;
	}
	struct target *t;
	struct target_options opt = { .no_debuginfod = true };
	struct ct_error *err = target_open_core(argv[1], &opt, &t);
	if (err) {
		fprintf(stderr, "%s\n", err->msg);
		return 2;
	}
	const struct go_sched *s;
	const struct ct_error *e = target_go_sched(t, &s);
	if (e) {
		fprintf(stderr, "%s\n", e->msg);
		return 3;
	}
	struct go_block_index *ix;
	if ((err = go_block_index_open(t->go, s, &ix))) {
		fprintf(stderr, "%s\n", err->msg);
		return 4;
	}
	printf("{\"sema_sudogs\": %zu, \"sema_partial\": %s, \"goroutines\": [",
	       go_block_index_nsudogs(ix), go_block_index_partial(ix) ? "true" : "false");
	int rc = 0;
	for (size_t i = 0; i < s->ngs; i++) {
		const struct go_g *g = &s->gs[i];
		struct go_block b;
		if ((err = go_block_at(ix, g, &b))) {
			fprintf(stderr, "goroutine %" PRIu64 ": %s\n", g->goid, err->msg);
			ct_error_destroy(err);
			rc = 5;
			continue;
		}
		/* reason and note are the runtime's text or ours: no quotes in them. */
		printf("%s\n {\"goid\": %" PRIu64 ", \"kind\": \"%s\", \"reason\": \"%s\", "
		       "\"leaked_by_runtime\": %s, \"partial\": %s, \"note\": \"%s\", \"prims\": [",
		       i ? "," : "", g->goid, go_block_kind_name(b.kind), b.reason,
		       b.leaked_by_runtime ? "true" : "false", b.partial ? "true" : "false", b.note);
		for (size_t k = 0; k < b.nprims; k++)
			printf("%s\"0x%" PRIx64 "\"", k ? ", " : "", b.prims[k]);
		printf("]}");
	}
	printf("\n]}\n");
	go_block_index_close(ix);
	target_close(t);
	return rc;
}
