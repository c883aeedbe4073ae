#define _GNU_SOURCE
/* The command-line layer shared by the CLI and the library API: the verb
 * table, global help, errors at the edge. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char cli_exit_help[] =
	"Exit status:\n"
	"  0   full result\n"
	"  1   partial result: some memory missing or something unreadable (said on stderr)\n"
	"  2   fatal: cannot open, not a core, executable missing or without DWARF\n"
	"  64  usage error\n";

static const char cli_global_help[] =
	"Global options (before or after the verb):\n"
	"  --exe PATH       the executable (default: the path the core recorded)\n"
	"  --sysroot DIR    look up the files the core names under DIR (and by build ID\n"
	"                   under DIR/usr/lib/debug)\n"
	"  --debug-dir DIR  detached debug info (DIR/.build-id/xx/rest.debug), searched\n"
	"                   before /usr/lib/debug: libc6-dbg of the glibc the core ran\n"
	"                   (DIR:DIR... for several); the executable and libraries not\n"
	"                   at their paths are looked up there too (DIR/.build-id/xx/rest)\n"
	"  --debuginfod-timeout SECONDS\n"
	"                   bound on each debuginfod lookup, tried last when\n"
	"                   DEBUGINFOD_URLS is set: default 30, 0 for none\n"
	"  --json           JSON output (JSON Lines when there are several results)\n"
	"  -q, --quiet      no warnings on stderr\n"
	"  -v, --verbose    more detail\n"
	"  -h, --help       this help; `coretool VERB --help` for a verb\n";

const struct cli_verb *cli_find_verb(const char *name)
{
	for (size_t i = 0; name && i < cli_nverbs; i++)
		if (!strcmp(name, cli_verbs[i].name))
			return &cli_verbs[i];
	return NULL;
}

void cli_help(FILE *f)
{
	fprintf(f, "Usage: coretool [OPTIONS] VERB [ARGS]\n\n"
		   "Reads core dumps of Go (and cgo, and plain C) programs: classifies addresses,\n"
		   "dumps Go maps, and triages crashes.\n\nVerbs:\n");
	for (size_t i = 0; i < cli_nverbs; i++)
		fprintf(f, "  %-11s %s\n", cli_verbs[i].name, cli_verbs[i].summary);
	fprintf(f, "\n%s\n%s", cli_global_help, cli_exit_help);
}

/* "--limit N" / "-j, --jobs N" / "--all" */
static void cli_opt_label(const struct cli_opt *o, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name,
		 o->metavar ? " " : "", o->metavar ? o->metavar : "");
}

/* Lines of help under a label column of width 17, as the global options. */
static void cli_help_item(FILE *f, const char *label, const char *help, const char *tail)
{
	size_t lw = strlen(label);
	fprintf(f, "  %s", label);
	if (lw > 14)
		fprintf(f, "\n%17s", "");
	else
		fprintf(f, "%*s", (int)(15 - lw), "");
	for (const char *p = help; *p; p++) {
		fputc(*p, f);
		if (*p == '\n' && p[1])
			fprintf(f, "%17s", "");
	}
	fprintf(f, "%s\n", tail ? tail : "");
}

void cli_verb_help(const struct cli_verb *v, FILE *f)
{
	fprintf(f, "Usage: coretool %s %s", v->name, v->grammar);
	for (const struct cli_opt *o = v->opts; o && o->name; o++)
		fprintf(f, " [%s%s%s]", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
	size_t sl = strlen(v->summary);
	fprintf(f, "\n\n%s%s\n\n%s", v->summary, sl && v->summary[sl - 1] == '.' ? "" : ".", v->help);
	if (v->args && v->args->name) {
		fprintf(f, "\nArguments:\n");
		for (const struct cli_arg *a = v->args; a->name; a++)
			cli_help_item(f, a->name, a->help, NULL);
	}
	if (v->opts && v->opts->name) {
		fprintf(f, "\nOptions:\n");
		for (const struct cli_opt *o = v->opts; o->name; o++) {
			char label[64], tail[64] = "";
			cli_opt_label(o, label, sizeof(label));
			if (o->type == CLI_OPT_UINT && !(o->flags & CLI_OPT_NO_DEFAULT))
				snprintf(tail, sizeof(tail), " (default %" PRIu64 ")", o->def);
			cli_help_item(f, label, o->help, tail);
		}
	}
	fprintf(f, "\nCores from systemd-coredump (instead of CORE):\n");
	for (const struct cli_opt *o = cli_core_opts; o->name; o++) {
		char label[64];
		cli_opt_label(o, label, sizeof(label));
		cli_help_item(f, label, o->help, NULL);
	}
	if (v->notes)
		fprintf(f, "\n%s", v->notes);
	fprintf(f, "\n%s\n%s", cli_global_help, cli_exit_help);
}

void cli_verbs_json(struct out *o)
{
	static const char *const types[] = { "flag", "uint", "string" };
	out_obj_begin(o);
	out_key(o, "verbs");
	out_arr_begin(o);
	for (size_t i = 0; i < cli_nverbs; i++) {
		const struct cli_verb *v = &cli_verbs[i];
		out_obj_begin(o);
		out_kstr(o, "name", v->name);
		out_kstr(o, "grammar", v->grammar);
		out_kstr(o, "summary", v->summary);
		out_kstr(o, "help", v->help);
		out_key(o, "notes");
		v->notes ? out_str(o, v->notes) : out_null(o);
		out_kbool(o, "needs_core", v->flags & CLI_VERB_NEEDS_CORE);
		out_key(o, "args");
		out_arr_begin(o);
		for (const struct cli_arg *a = v->args; a && a->name; a++) {
			out_obj_begin(o);
			out_kstr(o, "name", a->name);
			out_kstr(o, "help", a->help);
			out_kint(o, "min", a->min);
			out_key(o, "max");
			a->max == CLI_MANY ? out_null(o) : out_int(o, a->max);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_key(o, "options");
		out_arr_begin(o);
		for (const struct cli_opt *op = v->opts; op && op->name; op++) {
			out_obj_begin(o);
			out_kstr(o, "name", op->name);
			out_key(o, "alias");
			op->alias ? out_str(o, op->alias) : out_null(o);
			out_kstr(o, "type", types[op->type]);
			out_key(o, "metavar");
			op->metavar ? out_str(o, op->metavar) : out_null(o);
			if (op->type == CLI_OPT_UINT) {
				out_kuint(o, "min", op->min);
				out_kuint(o, "max", op->max);
				out_key(o, "default");
				op->flags & CLI_OPT_NO_DEFAULT ? out_null(o) : out_uint(o, op->def);
			}
			out_kbool(o, "cores_only", op->flags & CLI_OPT_CORES_ONLY);
			out_kstr(o, "help", op->help);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_obj_end(o);
	}
	out_arr_end(o);
	out_key(o, "core_options");
	out_arr_begin(o);
	for (const struct cli_opt *op = cli_core_opts; op->name; op++) {
		out_obj_begin(o);
		out_kstr(o, "name", op->name);
		out_kstr(o, "type", types[op->type]);
		out_kstr(o, "metavar", op->metavar);
		out_kstr(o, "help", op->help);
		out_obj_end(o);
	}
	out_arr_end(o);
	out_obj_end(o);
	out_end_line(o);
}

/* A positional argument, not an option: "-" (standard input) and "-5"-like
 * words are arguments. */
static bool cli_is_positional(const char *s)
{
	return s[0] != '-' || !s[1] || (s[1] >= '0' && s[1] <= '9');
}

static bool cli_parse_uint(const char *s, uint64_t *ret)
{
	if (!*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return true;
}

static int cli_take_opt(struct cli *cli, const struct cli_verb *v, struct cli_args *a, int k,
			const char *given, const char *val)
{
	const struct cli_opt *o = &v->opts[k];
	if ((o->flags & CLI_OPT_CORES_ONLY) && cli->preopened)
		return cli_usage(cli, "%s is for runs over core files, not in a session", o->name);
	if (o->type == CLI_OPT_FLAG) {
		if (val)
			return cli_usage(cli, "%s takes no value", o->name);
		a->set[k] = true;
		return CT_EXIT_OK;
	}
	if (!val)
		return cli_usage(cli, "%s needs %s", given, o->metavar ? o->metavar : "a value");
	if (o->type == CLI_OPT_UINT) {
		uint64_t n;
		if (!cli_parse_uint(val, &n) || n < o->min || n > o->max) {
			if (o->max == UINT64_MAX && !o->min)
				return cli_usage(cli, "%s takes a number, not '%s'", given, val);
			return cli_usage(cli, "%s takes a number from %" PRIu64 " to %" PRIu64 ", not '%s'",
					 given, o->min, o->max, val);
		}
		a->num[k] = n;
	} else {
		a->str[k] = val;
	}
	a->set[k] = true;
	return CT_EXIT_OK;
}

/* One of cli_core_opts (w, its name nl bytes long, at argv[*i]): CT_EXIT_OK
 * when taken, -1 when w is none of them, else a usage error. */
static int cli_take_core_opt(struct cli *cli, struct cli_args *a, const char *w, size_t nl, int argc,
			     char **argv, int *i)
{
	for (int c = 0; c < 2; c++) {
		const struct cli_opt *o = &cli_core_opts[c];
		if (strlen(o->name) != nl || strncmp(w, o->name, nl) != 0)
			continue;
		if (cli->preopened)
			return cli_usage(cli, "%s is for runs over core files, not in a session", o->name);
		const char *val = nl < strlen(w) ? w + nl + 1 : *i + 1 < argc ? argv[++*i] : NULL;
		if (!val || !*val)
			return cli_usage(cli, "%s needs %s", o->name, o->metavar);
		if (a->core_opt[!c])
			return cli_usage(cli, "%s and %s: one or the other", cli_core_opts[0].name,
					 cli_core_opts[1].name);
		a->core_opt[c] = val;
		return CT_EXIT_OK;
	}
	return -1;
}

int cli_parse(struct cli *cli, const struct cli_verb *v, int argc, char **argv, struct cli_args *a)
{
	*a = (struct cli_args){ .verb = v };
	for (int k = 0; v->opts && v->opts[k].name && k < CLI_MAX_OPTS; k++)
		a->num[k] = v->opts[k].def;
	a->pos = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*a->pos));
	if (!a->pos)
		return CT_EXIT_FATAL;
	bool dashdash = false;
	for (int i = 1; i < argc; i++) {
		char *w = argv[i];
		if (dashdash || cli_is_positional(w)) {
			a->pos[a->npos++] = w;
			continue;
		}
		if (!strcmp(w, "--")) {
			dashdash = true;
			continue;
		}
		const char *eq = strchr(w, '=');
		size_t nl = eq && w[1] == '-' ? (size_t)(eq - w) : strlen(w);
		int k = -1;
		for (int j = 0; v->opts && v->opts[j].name && j < CLI_MAX_OPTS; j++) {
			const struct cli_opt *o = &v->opts[j];
			if ((strlen(o->name) == nl && !strncmp(w, o->name, nl)) ||
			    (o->alias && !strcmp(w, o->alias)))
				k = j;
		}
		if (k < 0) {
			int rc = cli_take_core_opt(cli, a, w, nl, argc, argv, &i);
			if (rc == CT_EXIT_OK)
				continue;
			cli_args_free(a);
			return rc > 0 ? rc : cli_usage(cli, "unknown option %s", w);
		}
		const char *val = NULL;
		if (nl < strlen(w))
			val = w + nl + 1;
		else if (v->opts[k].type != CLI_OPT_FLAG && i + 1 < argc)
			val = argv[++i];
		int rc = cli_take_opt(cli, v, a, k, v->opts[k].name, val);
		if (rc != CT_EXIT_OK) {
			cli_args_free(a);
			return rc;
		}
	}
	int min = 0, max = 0;
	/* With --coredumpctl the journal names the cores: CORE (always the
	 * first argument) is not on the command line. */
	bool picked = a->core_opt[0] || a->core_opt[1];
	for (const struct cli_arg *g = v->args + picked; g && g->name; g++) {
		min += g->min;
		max = g->max == CLI_MANY || max == CLI_MANY ? CLI_MANY : max + g->max;
	}
	if (a->npos < min || a->npos > max) {
		cli_args_free(a);
		return cli_usage(cli, "%s takes %s%s", v->name, v->grammar,
				 picked ? " (CORE from the journal)" : "");
	}
	return CT_EXIT_OK;
}

void cli_args_free(struct cli_args *a)
{
	free(a->pos);
	a->pos = NULL;
	a->npos = 0;
}

static int cli_opt_index(const struct cli_args *a, const char *name)
{
	for (int k = 0; a->verb->opts && a->verb->opts[k].name && k < CLI_MAX_OPTS; k++)
		if (!strcmp(a->verb->opts[k].name, name))
			return k;
	return -1;
}

bool cli_flag(const struct cli_args *a, const char *name)
{
	int k = cli_opt_index(a, name);
	return k >= 0 && a->set[k];
}

uint64_t cli_num(const struct cli_args *a, const char *name)
{
	int k = cli_opt_index(a, name);
	return k >= 0 ? a->num[k] : 0;
}

const char *cli_str(const struct cli_args *a, const char *name)
{
	int k = cli_opt_index(a, name);
	return k >= 0 && a->set[k] ? a->str[k] : NULL;
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

bool cli_set_debuginfod_timeout(struct cli *cli, const char *value)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (!*value || *end || errno || v > 86400 || value[0] == '-') {
		fprintf(cli->err, "coretool: --debuginfod-timeout: '%s' is not a number of seconds "
			"from 0 to 86400\n", value);
		return false;
	}
	cli->debuginfod_timeout = (unsigned)v;
	cli->debuginfod_timeout_set = true;
	return true;
}

/* A debuginfod transfer under way, on one line of the terminal rewritten in
 * place; cleared when it ends (what == NULL). */
static void cli_progress(void *arg, const char *build_id, const char *what, long done, long total)
{
	FILE *f = arg;
	if (!what) {
		fprintf(f, "\r\033[K");
	} else if (total > 0) {
		fprintf(f, "\rcoretool: debuginfod: %s %.16s...: %ld/%ld KiB\033[K", what, build_id,
			done / 1024, total / 1024);
	} else {
		fprintf(f, "\rcoretool: debuginfod: %s %.16s...: %ld KiB\033[K", what, build_id,
			done / 1024);
	}
	fflush(f);
}

struct ct_error *cli_open(struct cli *cli, const char *core_path, struct target **ret)
{
	if (cli->preopened) {
		*ret = cli->preopened;
		return NULL;
	}
	struct target_options opt = { .exe = cli->exe, .sysroot = cli->sysroot,
				      .debug_dir = cli->debug_dir };
	if (cli->debuginfod_timeout_set) {
		opt.debuginfod_timeout = cli->debuginfod_timeout;
		opt.no_debuginfod = cli->debuginfod_timeout == 0;
	}
	/* The progress line only where someone watches it. */
	if (!cli->quiet && cli->err && isatty(fileno(cli->err))) {
		opt.progress = cli_progress;
		opt.progress_arg = cli->err;
	}
	struct ct_error *err = target_open_core(core_path, &opt, ret);
	/* A core picked from the journal: what the journal says of it joins
	 * (and wins over) what its file says. */
	for (size_t i = 0; !err && cli->journal && (*ret)->core && i < cli->journal->n; i++) {
		const struct cdctl_entry *e = &cli->journal->v[i];
		if (!e->path || strcmp(e->path, core_path) != 0)
			continue;
		struct origin *g = &(*ret)->core->origin;
		g->collector = e->meta.collector;
		for (size_t k = 0; k < e->meta.n; k++)
			origin_set(g, e->meta.fields[k].key, e->meta.fields[k].value);
	}
	return err;
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

/* --coredumpctl / --coredumpctl-json: the journal's entries, each with its
 * stored file; those whose file is not here are skipped (said on stderr).
 * The files become the verb's CORE arguments, in front of the others: all of
 * them for a verb of many cores (triage), else the newest. */
static int cli_core_pick(struct cli *cli, struct cli_args *a, struct cdctl_list *l, int *skipped)
{
	const char *match = a->core_opt[0];
	struct ct_error *err = match ? cdctl_list_matches(l, match) : cdctl_read(l, a->core_opt[1]);
	if (!err)
		err = cdctl_resolve(l);
	if (err)
		return cli_fail(cli, ct_error_wrap(err, "%s", match ? "--coredumpctl" : "--coredumpctl-json"));
	bool many = a->verb->args[0].max == CLI_MANY;
	char **pos = calloc(l->n + (size_t)a->npos + 1, sizeof(*pos));
	if (!pos)
		return CT_EXIT_FATAL;
	size_t n = 0;
	/* coredumpctl lists the oldest first */
	for (size_t i = l->n; i-- > 0;) {
		char why[1024];
		if (cdctl_missing(&l->v[i], why, sizeof(why))) {
			if (!cli->quiet)
				fprintf(cli->err, "coretool: skipped: %s\n", why);
			(*skipped)++;
			continue;
		}
		if (n && !many) {
			if (!cli->quiet)
				fprintf(cli->err, "coretool: %zu coredumps: %s reads the newest (pid %llu); "
					"triage takes them all\n", l->n, a->verb->name, l->v[l->n - 1].pid);
			break;
		}
		pos[n++] = l->v[i].path;
	}
	if (!n) {
		free(pos);
		return cli_fail(cli, ct_error_fmt(CT_ERR_NOTFOUND, "%s: none of the %zu coredumps has its stored file here",
						  match ? "--coredumpctl" : "--coredumpctl-json", l->n));
	}
	/* a batch in the order of the journal */
	for (size_t i = 0; i < n / 2; i++) {
		char *t = pos[i];
		pos[i] = pos[n - 1 - i];
		pos[n - 1 - i] = t;
	}
	for (int i = 0; i < a->npos; i++)
		pos[n + (size_t)i] = a->pos[i];
	free(a->pos);
	a->pos = pos;
	a->npos += (int)n;
	return CT_EXIT_OK;
}

int cli_run_verb(struct cli *cli, int argc, char **argv)
{
	const struct cli_verb *v = cli_find_verb(argc > 0 ? argv[0] : NULL);
	if (!v) {
		fprintf(cli->err, "coretool: unknown verb '%s'\n", argc > 0 ? argv[0] : "");
		return CT_EXIT_USAGE;
	}
	cli->verb = v->name;
	struct cli_args a;
	int rc = cli_parse(cli, v, argc, argv, &a);
	if (rc != CT_EXIT_OK)
		return rc;
	struct cdctl_list journal = { 0 };
	if (a.core_opt[0] || a.core_opt[1]) {
		int skipped = 0;
		rc = cli_core_pick(cli, &a, &journal, &skipped);
		if (rc == CT_EXIT_OK) {
			cli->journal = &journal;
			rc = v->run(cli, &a);
			cli->journal = NULL;
			/* a batch without some of its cores is partial */
			if (rc == CT_EXIT_OK && skipped && v->args[0].max == CLI_MANY)
				rc = CT_EXIT_PARTIAL;
		}
	} else {
		rc = v->run(cli, &a);
	}
	cdctl_release(&journal);
	cli_args_free(&a);
	return rc;
}
