#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cli_verb cli_verbs[] = {
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
	{ "maps", cmd_maps, "CORE", "every Go map reachable from globals, with its health",
	  CMD_MAPS_HELP },
	{ "map", cmd_map, "CORE NAME|ADDR:TYPE [--limit N] [--layout]",
	  "one Go map's entries, or its buckets/groups with --layout", CMD_MAP_HELP },
	{ "triage", cmd_triage, "CORE... [--jobs N] [--summary] [--sarif]",
	  "the crash report: real fault, stitched stacks, holders, class, verdict", CMD_TRIAGE_HELP },
	{ "goroutines", cmd_goroutines, "CORE", "every goroutine: status, wait reason, thread, own frame",
	  CMD_GOROUTINES_HELP },
	{ "bt", cmd_bt, "CORE [--all]", "stitched C/Go backtraces of the faulting thread (or all)",
	  CMD_BT_HELP },
	{ "heap", cmd_heap, "CORE [--top N]", "Go heap census by size class", CMD_HEAP_HELP },
};
#define CLI_NVERBS (sizeof(cli_verbs) / sizeof(cli_verbs[0]))

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
	"  --json           JSON output (JSON Lines when there are several results)\n"
	"  -q, --quiet      no warnings on stderr\n"
	"  -v, --verbose    more detail\n"
	"  -h, --help       this help; `coretool VERB --help` for a verb\n";

static void cli_help(FILE *f)
{
	fprintf(f, "Usage: coretool [OPTIONS] VERB [ARGS]\n\n"
		   "Reads core dumps of Go (and cgo, and plain C) programs: classifies addresses,\n"
		   "dumps Go maps, and triages crashes.\n\nVerbs:\n");
	for (size_t i = 0; i < CLI_NVERBS; i++)
		fprintf(f, "  %-11s %s\n", cli_verbs[i].name, cli_verbs[i].summary);
	fprintf(f, "\n%s\n%s", cli_global_help, cli_exit_help);
}

static void cli_verb_help(const struct cli_verb *v, FILE *f)
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
	fprintf(stderr, "coretool: %s\n", err->msg);
	if (cli->json) {
		struct out o;
		out_init(&o, stdout, true);
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
	fprintf(stderr, "coretool: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'coretool %s --help'.\n", cli->verb ? cli->verb : "");
	return CT_EXIT_USAGE;
}

struct ct_error *cli_open(struct cli *cli, const char *core_path, struct target **ret)
{
	struct target_options opt = { .exe = cli->exe, .sysroot = cli->sysroot };
	return target_open_core(core_path, &opt, ret);
}

int cli_warnings(struct cli *cli, const struct target *t)
{
	if (!cli->quiet)
		for (size_t i = 0; i < t->nwarnings; i++)
			fprintf(stderr, "coretool: warning: %s\n", t->warnings[i]);
	return t->nwarnings ? CT_EXIT_PARTIAL : CT_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	/* Global options may stand anywhere; what is left goes to the verb in order. */
	char **rest = calloc(argc + 1, sizeof(*rest));
	int nrest = 0;
	bool help = false, dashdash = false;
	if (!rest)
		return CT_EXIT_FATAL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (dashdash) {
			rest[nrest++] = argv[i];
		} else if (!strcmp(a, "--")) {
			dashdash = true;
			rest[nrest++] = argv[i];
		} else if (!strcmp(a, "--exe") || !strcmp(a, "--sysroot")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "coretool: %s needs an argument\n", a);
				return CT_EXIT_USAGE;
			}
			*(a[2] == 'e' ? &cli.exe : &cli.sysroot) = argv[++i];
		} else if (!strncmp(a, "--exe=", 6)) {
			cli.exe = a + 6;
		} else if (!strncmp(a, "--sysroot=", 10)) {
			cli.sysroot = a + 10;
		} else if (!strcmp(a, "--json")) {
			cli.json = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			cli.quiet = true;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			cli.verbose = true;
		} else if (cli_is_help(a)) {
			help = true;
		} else if (!strcmp(a, "--version")) {
			printf("coretool 0.1\n");
			return CT_EXIT_OK;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	out_init(&cli.out, stdout, cli.json);
	cli.out.pretty = true;
	const struct cli_verb *verb = NULL;
	if (nrest > 0) {
		for (size_t i = 0; i < CLI_NVERBS; i++)
			if (!strcmp(rest[0], cli_verbs[i].name))
				verb = &cli_verbs[i];
		if (!verb) {
			fprintf(stderr, "coretool: unknown verb '%s'\nTry 'coretool --help'.\n", rest[0]);
			return CT_EXIT_USAGE;
		}
	}
	if (!verb) {
		cli_help(help ? stdout : stderr);
		return help ? CT_EXIT_OK : CT_EXIT_USAGE;
	}
	if (help) {
		cli_verb_help(verb, stdout);
		return CT_EXIT_OK;
	}
	cli.verb = verb->name;
	int rc = verb->run(&cli, nrest, rest);
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "coretool: error writing output: %s\n", strerror(errno));
		rc = CT_EXIT_FATAL;
	}
	free(rest);
	return rc;
}
