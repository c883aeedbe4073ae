/* coretool classify CORE ADDR...: one verdict per address. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "cli.h"
#include "render.h"


static int classify_one(struct cli *cli, struct target *t, uint64_t addr, unsigned long *n)
{
	/* A batch reads all over the core: past a few addresses, read ahead; and
	 * now and then unmap what it read, so that a long batch does not keep
	 * the core's pages mapped (they stay in the page cache). */
	if (++*n % 8192 == 0)
		mem_advise(&t->mem, MEM_ALL, MEM_ACCESS_DONE);
	if (*n == 64 || *n % 8192 == 0)
		mem_advise(&t->mem, MEM_ALL, MEM_ACCESS_MANY);
	struct verdict v;
	classify_addr(t, addr, &v);
	classify_verdict_out(&cli->out, &v);
	if (cli->json)
		out_end_line(&cli->out);
	if (v.state != VSTATE_UNKNOWN)
		return CT_EXIT_OK;
	/* exit 1 is "partial, said on stderr" */
	if (!cli->quiet)
		fprintf(cli->err, "coretool: 0x%" PRIx64 ": state unknown: %s\n", addr,
			v.note[0] ? v.note : "unreadable");
	return CT_EXIT_PARTIAL;
}

int cmd_classify(struct cli *cli, const struct cli_args *a)
{
	int argc = a->npos;
	char **argv = a->pos; /* the core, then the addresses */
	bool from_stdin = false;
	for (int i = 1; i < argc; i++) {
		uint64_t addr;
		if (!strcmp(argv[i], "-"))
			from_stdin = true;
		else if (!cli_parse_addr(argv[i], &addr))
			return cli_usage(cli, "'%s' is not an address (hexadecimal, e.g. 0xc000012345)",
					 argv[i]);
	}
	struct target *t;
	struct ct_error *err = cli_open(cli, argv[0], &t);
	if (err)
		return cli_fail(cli, err);
	cli->out.pretty = false; /* JSON Lines: one verdict per line */
	int rc = CT_EXIT_OK;
	unsigned long n = 0;
	for (int i = 1; i < argc; i++) {
		uint64_t addr;
		if (cli_parse_addr(argv[i], &addr) && classify_one(cli, t, addr, &n) != CT_EXIT_OK)
			rc = CT_EXIT_PARTIAL;
	}
	if (from_stdin) {
		char line[4096];
		unsigned long lineno = 0;
		while (fgets(line, sizeof(line), stdin)) {
			lineno++;
			for (char *tok = strtok(line, " \t\r\n,"); tok; tok = strtok(NULL, " \t\r\n,")) {
				uint64_t a;
				if (!cli_parse_addr(tok, &a)) {
					fprintf(cli->err, "coretool: stdin line %lu: '%s' is not an address\n",
						lineno, tok);
					rc = CT_EXIT_PARTIAL;
					continue;
				}
				if (classify_one(cli, t, a, &n) != CT_EXIT_OK)
					rc = CT_EXIT_PARTIAL;
			}
		}
	}
	if (cli_warnings(cli, t) != CT_EXIT_OK)
		rc = CT_EXIT_PARTIAL;
	cli_close(cli, t);
	return rc;
}
