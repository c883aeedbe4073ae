/* The coretool command: global options anywhere, then the verb. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	cli.err = stderr;
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
		} else if (!strcmp(a, "--exe") || !strcmp(a, "--sysroot") || !strcmp(a, "--debug-dir")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "coretool: %s needs an argument\n", a);
				free(rest);
				return CT_EXIT_USAGE;
			}
			*(a[2] == 'e' ? &cli.exe : a[2] == 's' ? &cli.sysroot : &cli.debug_dir) = argv[++i];
		} else if (!strcmp(a, "--debuginfod-timeout") || !strncmp(a, "--debuginfod-timeout=", 21)) {
			const char *v = a[20] == '=' ? a + 21 : i + 1 < argc ? argv[++i] : NULL;
			if (!v) {
				fprintf(stderr, "coretool: %s needs an argument\n", a);
				free(rest);
				return CT_EXIT_USAGE;
			}
			if (!cli_set_debuginfod_timeout(&cli, v)) {
				free(rest);
				return CT_EXIT_USAGE;
			}
		} else if (!strncmp(a, "--debug-dir=", 12)) {
			cli.debug_dir = a + 12;
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
			free(rest);
			return CT_EXIT_OK;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	out_init(&cli.out, stdout, cli.json);
	cli.out.pretty = true;
	const struct cli_verb *verb = NULL;
	if (nrest > 0) {
		verb = cli_find_verb(rest[0]);
		if (!verb) {
			fprintf(stderr, "coretool: unknown verb '%s'\nTry 'coretool --help'.\n", rest[0]);
			free(rest);
			return CT_EXIT_USAGE;
		}
	}
	if (!verb || help) {
		if (verb)
			cli_verb_help(verb, stdout);
		else
			cli_help(help ? stdout : stderr);
		free(rest);
		return help ? CT_EXIT_OK : CT_EXIT_USAGE;
	}
	int rc = cli_run_verb(&cli, nrest, rest);
	if (cli.json)
		fflush(stdout);
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "coretool: error writing output: %s\n", strerror(errno));
		rc = CT_EXIT_FATAL;
	}
	free(rest);
	return rc;
}
