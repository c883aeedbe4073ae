#define _GNU_SOURCE
/* The command-line layer shared by the CLI and the library API: the verb
 * table, global help, errors at the edge. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct cli_verb cli_verbs[] = {
	{ "info", cmd_info, "CORE",
	  "the process, threads, signal, modules, Go version and map implementation",
	  "Prints what the core holds: the process and its command line, the core's own\n"
	  "signal information (NT_SIGINFO), each thread with its PC and function, the\n"
	  "executable (and whether its build-id matches the core), the shared libraries\n"
	  "and whether their files were found, the Go version and map implementation\n"
	  "(read from DWARF), and which memory the core did not save.\n" },
	{ "classify", cmd_classify, "CORE ADDR... | CORE -",
	  "what each address is: Go heap, goroutine stack, C heap, image, thread stack, ...",
	  CMD_CLASSIFY_HELP },
	{ "maps", cmd_maps, "CORE [PATTERN] [--depth N] [--no-walk]", "every Go map reachable from globals, with its health",
	  CMD_MAPS_HELP },
	{ "map", cmd_map, "CORE NAME|ADDR:TYPE [--limit N] [--layout]",
	  "one Go map's entries, or its buckets/groups with --layout", CMD_MAP_HELP },
	{ "triage", cmd_triage, "CORE... [--jobs N] [--summary] [--sarif]",
	  "the crash report: real fault, stitched stacks, holders, class, verdict", CMD_TRIAGE_HELP },
	{ "goroutines", cmd_goroutines, "CORE", "every goroutine: status, wait reason, thread, own frame",
	  CMD_GOROUTINES_HELP },
	{ "bt", cmd_bt, "CORE [--all]", "stitched C/Go backtraces of the faulting thread (or all)",
	  CMD_BT_HELP },
	{ "cgocheck", cmd_cgocheck, "CORE",
	  "pointers across the cgo boundary: Go pointers in C memory, freed C pointers in Go",
	  CMD_CGOCHECK_HELP },
	{ "heap", cmd_heap, "CORE [--top N]", "Go heap census by size class", CMD_HEAP_HELP },
};
const size_t cli_nverbs = sizeof(cli_verbs) / sizeof(cli_verbs[0]);
#define CLI_NVERBS cli_nverbs

static const char cli_exit_help[] =
	"Exit status:\n"
	"  0   full result\n"
	"  1   partial result: some memory missing or something unreadable (said on stderr)\n"
	"  2   fatal: cannot open, not a core, executable missing or without DWARF\n"
	"  64  usage error\n";

static const char cli_global_help[] =
	"Global options (before or after the verb):\n"
	"  --exe PATH       the executable (default: the path the core recorded)\n"
	"  --sysroot DIR    look up the files the core names under DIR\n"
	"  --debug-dir DIR  detached debug info (DIR/.build-id/xx/rest.debug), searched\n"
	"                   before /usr/lib/debug: libc6-dbg of the glibc the core ran\n"
	"                   (DIR:DIR... for several)\n"
	"  --json           JSON output (JSON Lines when there are several results)\n"
	"  -q, --quiet      no warnings on stderr\n"
	"  -v, --verbose    more detail\n"
	"  -h, --help       this help; `coretool VERB --help` for a verb\n";

void cli_help(FILE *f)
{
	fprintf(f, "Usage: coretool [OPTIONS] VERB [ARGS]\n\n"
		   "Reads core dumps of Go (and cgo, and plain C) programs: classifies addresses,\n"
		   "dumps Go maps, and triages crashes.\n\nVerbs:\n");
	for (size_t i = 0; i < CLI_NVERBS; i++)
		fprintf(f, "  %-11s %s\n", cli_verbs[i].name, cli_verbs[i].summary);
	fprintf(f, "\n%s\n%s", cli_global_help, cli_exit_help);
}

void cli_verb_help(const struct cli_verb *v, FILE *f)
{
	fprintf(f, "Usage: coretool %s %s\n\n%s.\n\n%s\n%s\n%s", v->name, v->args, v->summary,
		v->help, cli_global_help, cli_exit_help);
}

bool cli_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

bool cli_parse_addr(const char *s, uint64_t *ret)
{
	if (!s || !*s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9') d = *s - '0';
		else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
		else return false;
		if (v >> 60)
			return false; /* more than 64 bits */
		v = v << 4 | (uint64_t)d;
	}
	*ret = v;
	return true;
}

int cli_fail(struct cli *cli, struct ct_error *err)
{
	int code = err->code == CT_ERR_USAGE ? CT_EXIT_USAGE : CT_EXIT_FATAL;
	fprintf(cli->err, "coretool: %s\n", err->msg);
	if (cli->json) {
		struct out o;
		out_init(&o, cli->out.f, true);
		out_obj_begin(&o);
		out_kstr(&o, "error", err->msg);
		out_kstr(&o, "kind", ct_errcode_name(err->code));
		out_obj_end(&o);
		out_end_line(&o);
	}
	ct_error_destroy(err);
	return code;
}

int cli_usage(struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	fprintf(cli->err, "coretool: ");
	va_start(ap, fmt);
	vfprintf(cli->err, fmt, ap);
	va_end(ap);
	fprintf(cli->err, "\nTry 'coretool %s --help'.\n", cli->verb ? cli->verb : "");
	return CT_EXIT_USAGE;
}

struct ct_error *cli_open(struct cli *cli, const char *core_path, struct target **ret)
{
	if (cli->preopened) {
		*ret = cli->preopened;
		return NULL;
	}
	struct target_options opt = { .exe = cli->exe, .sysroot = cli->sysroot,
				      .debug_dir = cli->debug_dir };
	return target_open_core(core_path, &opt, ret);
}

void cli_close(struct cli *cli, struct target *t)
{
	if (t != cli->preopened)
		target_close(t);
}

int cli_warnings(struct cli *cli, const struct target *t)
{
	if (!cli->quiet)
		for (size_t i = 0; i < t->nwarnings; i++)
			fprintf(cli->err, "coretool: warning: %s\n", t->warnings[i]);
	return t->nwarnings ? CT_EXIT_PARTIAL : CT_EXIT_OK;
}

int cli_run_verb(struct cli *cli, int argc, char **argv)
{
	for (size_t i = 0; i < CLI_NVERBS; i++)
		if (argc > 0 && !strcmp(argv[0], cli_verbs[i].name)) {
			cli->verb = cli_verbs[i].name;
			return cli_verbs[i].run(cli, argc, argv);
		}
	fprintf(cli->err, "coretool: unknown verb '%s'\n", argc > 0 ? argv[0] : "");
	return CT_EXIT_USAGE;
}

