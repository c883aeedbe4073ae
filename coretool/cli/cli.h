/* The command line: global options, the verb table, exit codes. Each verb lives
 * in cmd_<verb>.c and is a thin layer over the library. */
#ifndef CT_CLI_H
#define CT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "coredumpctl.h"
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
	/* --debuginfod-timeout: seconds one debuginfod lookup may take (0: no
	 * debuginfod); unset: the library's default. */
	unsigned debuginfod_timeout;
	bool debuginfod_timeout_set;
	bool json, quiet, verbose;
	struct out out;   /* results */
	FILE *err;        /* messages (stderr; a buffer when called through the API) */
	const char *verb;
	/* A target opened by the caller (the gdb front end): verbs use it instead
	 * of opening the core named on their command line, and do not close it. */
	struct target *preopened;
	/* Cores picked from the journal (--coredumpctl): their metadata goes
	 * into the origin of the core opened from each one's stored file. */
	const struct cdctl_list *journal;
};

/* ---- the verb specification (verbs.c) ---- */

enum cli_opt_type { CLI_OPT_FLAG, CLI_OPT_UINT, CLI_OPT_STRING };
enum {
	CLI_OPT_NO_DEFAULT = 1, /* a number that is unset unless given (no default shown) */
	CLI_OPT_CORES_ONLY = 2, /* for runs over core files (batches): not in a session */
};
struct cli_opt {
	const char *name;     /* "--limit"; NULL ends a list */
	const char *alias;    /* "-j", or NULL */
	enum cli_opt_type type;
	const char *metavar;  /* "N" (not for flags) */
	uint64_t min, max;    /* CLI_OPT_UINT: the accepted range */
	uint64_t def;         /* CLI_OPT_UINT: the value when not given */
	unsigned flags;       /* CLI_OPT_* */
	const char *help;     /* lines separated by \n */
};
enum { CLI_MANY = 1 << 30 };
struct cli_arg {
	const char *name;     /* "CORE"; NULL ends a list */
	const char *help;
	int min, max;         /* how many (max CLI_MANY: any number) */
};
enum {
	CLI_VERB_NEEDS_CORE = 1, /* reads threads, notes or mappings: not over a memory reader */
};
#define CLI_MAX_OPTS 8
struct cli_args;
struct cli_verb {
	const char *name;
	int (*run)(struct cli *cli, const struct cli_args *a);
	const char *grammar; /* the positional arguments' usage ("CORE [PATTERN]") */
	const char *summary; /* one line */
	const char *help;    /* what the verb does (before Arguments/Options) */
	const char *notes;   /* output formats and the like (after them), or NULL */
	const struct cli_arg *args;
	const struct cli_opt *opts; /* at most CLI_MAX_OPTS */
	unsigned flags;      /* CLI_VERB_* */
};

/* A verb's command line, parsed by its specification. */
struct cli_args {
	const struct cli_verb *verb;
	int npos;
	char **pos;                     /* positional arguments in order */
	bool set[CLI_MAX_OPTS];         /* option i of verb->opts was given */
	uint64_t num[CLI_MAX_OPTS];     /* CLI_OPT_UINT: its value (or the default) */
	const char *str[CLI_MAX_OPTS];  /* CLI_OPT_STRING: its value */
	const char *core_opt[2];        /* cli_core_opts given: their values */
};

extern const struct cli_verb cli_verbs[];
/* Options of every verb that pick its CORE argument(s) instead of naming
 * them: --coredumpctl MATCH, --coredumpctl-json FILE (cli_core_opts[0], [1]). */
extern const struct cli_opt cli_core_opts[];
extern const size_t cli_nverbs;
const struct cli_verb *cli_find_verb(const char *name);
void cli_help(FILE *f);
void cli_verb_help(const struct cli_verb *v, FILE *f);
/* The specification of every verb as one JSON object (the gdb commands build
 * their argument parsers and help from it): {"verbs": [{"name", "grammar",
 * "summary", "help", "notes", "needs_core", "args": [...], "options": [...]}]}. */
void cli_verbs_json(struct out *o);
/* Parses argv (argv[0] is the verb) by v's specification into *a (a->pos
 * points into a new array: cli_args_free). Options take `--opt value` and
 * `--opt=value`, anywhere among the arguments; `--` ends them. Returns
 * CT_EXIT_OK, or CT_EXIT_USAGE with the message said on cli->err. */
int cli_parse(struct cli *cli, const struct cli_verb *v, int argc, char **argv, struct cli_args *a);
void cli_args_free(struct cli_args *a);
/* An option's value by name (as in the specification). */
bool cli_flag(const struct cli_args *a, const char *name);
uint64_t cli_num(const struct cli_args *a, const char *name);
const char *cli_str(const struct cli_args *a, const char *name); /* NULL: not given */

/* Reports an error at the edge: stderr always, and an {"error": ...} object on
 * stdout in JSON mode. Returns the exit code for it. */
int cli_fail(struct cli *cli, struct ct_error *err);
/* Usage error for a verb: message, then a pointer to --help. Returns 64. */
int cli_usage(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens the core named on the command line with the global options (or hands
 * back the preopened target); cli_close() closes what cli_open() opened. */
struct ct_error *cli_open(struct cli *cli, const char *core_path, struct target **ret);
void cli_close(struct cli *cli, struct target *t);
/* Parses argv (argv[0] is the verb) and runs the verb. Returns its exit status. */
int cli_run_verb(struct cli *cli, int argc, char **argv);
/* Prints the target's warnings on stderr (unless -q); returns 1 if any, else 0. */
int cli_warnings(struct cli *cli, const struct target *t);
/* True if argv[i] is -h or --help. */
bool cli_is_help(const char *arg);
/* Parses --debuginfod-timeout's value into cli (0..86400 seconds). False: not
 * a number in that range (said on cli->err). */
bool cli_set_debuginfod_timeout(struct cli *cli, const char *value);
/* Parses an address: hexadecimal, with or without 0x (as debuggers print them).
 * False if it is not a number or does not fit 64 bits. */
bool cli_parse_addr(const char *s, uint64_t *ret);

/* One per verb, each in cmd_<verb>.c; the arguments arrive parsed. */
int cmd_info(struct cli *cli, const struct cli_args *a);
int cmd_classify(struct cli *cli, const struct cli_args *a);
int cmd_maps(struct cli *cli, const struct cli_args *a);
int cmd_map(struct cli *cli, const struct cli_args *a);
int cmd_heap(struct cli *cli, const struct cli_args *a);
int cmd_heap_by_type(struct cli *cli, const struct cli_args *a, struct target *t);
int cmd_retain(struct cli *cli, const struct cli_args *a);
int cmd_goroutine_leaks(struct cli *cli, struct target *t);
int cmd_triage(struct cli *cli, const struct cli_args *a);
int cmd_goroutines(struct cli *cli, const struct cli_args *a);
int cmd_bt(struct cli *cli, const struct cli_args *a);
int cmd_cgocheck(struct cli *cli, const struct cli_args *a);

#endif
