/* The command line: global options, the verb table, exit codes. Each verb lives
 * in cmd_<verb>.c and is a thin layer over the library. */
#ifndef CT_CLI_H
#define CT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "ct_error.h"
#include "out.h"
#include "target.h"

/* Exit codes, the same in --help, the README and DESIGN.md. */
enum {
	CT_EXIT_OK = 0,       /* full result */
	CT_EXIT_PARTIAL = 1,  /* partial result: something missing or unreadable (said on stderr) */
	CT_EXIT_FATAL = 2,    /* cannot open, not a core, no DWARF, ... */
	CT_EXIT_USAGE = 64,   /* bad command line */
};

struct cli {
	const char *exe;
	const char *sysroot;
	const char *debug_dir;
	bool json, quiet, verbose;
	struct out out;   /* results */
	FILE *err;        /* messages (stderr; a buffer when called through the API) */
	const char *verb;
	/* A target opened by the caller (the gdb front end): verbs use it instead
	 * of opening the core named on their command line, and do not close it. */
	struct target *preopened;
};

struct cli_verb {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv); /* argv[0] is the verb */
	const char *args;    /* usage grammar after the verb */
	const char *summary; /* one line */
	const char *help;    /* the rest of `coretool VERB --help` */
};

extern const struct cli_verb cli_verbs[];
extern const size_t cli_nverbs;
void cli_help(FILE *f);
void cli_verb_help(const struct cli_verb *v, FILE *f);

/* Reports an error at the edge: stderr always, and an {"error": ...} object on
 * stdout in JSON mode. Returns the exit code for it. */
int cli_fail(struct cli *cli, struct ct_error *err);
/* Usage error for a verb: message, then a pointer to --help. Returns 64. */
int cli_usage(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens the core named on the command line with the global options (or hands
 * back the preopened target); cli_close() closes what cli_open() opened. */
struct ct_error *cli_open(struct cli *cli, const char *core_path, struct target **ret);
void cli_close(struct cli *cli, struct target *t);
/* Runs a verb's handler: argv[0] is the verb. Returns its exit status. */
int cli_run_verb(struct cli *cli, int argc, char **argv);
/* Prints the target's warnings on stderr (unless -q); returns 1 if any, else 0. */
int cli_warnings(struct cli *cli, const struct target *t);
/* True if argv[i] is -h or --help. */
bool cli_is_help(const char *arg);
/* Parses an address: hexadecimal, with or without 0x (as debuggers print them).
 * False if it is not a number or does not fit 64 bits. */
bool cli_parse_addr(const char *s, uint64_t *ret);

/* One per verb, each in cmd_<verb>.c with its help text. */
int cmd_info(struct cli *cli, int argc, char **argv);
int cmd_classify(struct cli *cli, int argc, char **argv);
int cmd_maps(struct cli *cli, int argc, char **argv);
int cmd_map(struct cli *cli, int argc, char **argv);
int cmd_heap(struct cli *cli, int argc, char **argv);
int cmd_triage(struct cli *cli, int argc, char **argv);
int cmd_goroutines(struct cli *cli, int argc, char **argv);
int cmd_bt(struct cli *cli, int argc, char **argv);
int cmd_cgocheck(struct cli *cli, int argc, char **argv);
extern const char CMD_CLASSIFY_HELP[], CMD_MAPS_HELP[], CMD_MAP_HELP[], CMD_HEAP_HELP[],
	CMD_TRIAGE_HELP[], CMD_GOROUTINES_HELP[], CMD_BT_HELP[],
	CMD_CGOCHECK_HELP[];

#endif
