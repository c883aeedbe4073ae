/* coretool info CORE: what the core holds, and what it lacks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"

static void info_build_id(char *buf, const unsigned char *id, size_t len)
{
	buf[0] = 0;
	for (size_t i = 0; i < len && i < 40; i++)
		sprintf(buf + 2 * i, "%02x", id[i]);
}

static const char *info_function(const struct target *t, uint64_t pc)
{
	if (!t->dwfl)
		return NULL;
	Dwfl_Module *m = dwfl_addrmodule(t->dwfl, pc);
	return m ? dwfl_module_addrname(m, pc) : NULL;
}

/* "threads": [...], with each thread's function when a target can name it. */
static void info_threads_json(struct out *o, const struct core *c, const struct target *t)
{
	out_key(o, "threads");
	out_arr_begin(o);
	for (size_t i = 0; i < c->nthreads; i++) {
		const struct core_thread *th = &c->threads[i];
		const char *fn = t ? info_function(t, th->regs[CORE_REG_RIP]) : NULL;
		out_obj_begin(o);
		out_kint(o, "tid", th->tid);
		out_kint(o, "signal", th->cursig);
		out_khex(o, "pc", th->regs[CORE_REG_RIP]);
		out_khex(o, "sp", th->regs[CORE_REG_RSP]);
		out_key(o, "function");
		fn ? out_str(o, fn) : out_null(o);
		out_obj_end(o);
	}
	out_arr_end(o);
}

static const char *info_exe_match(const struct target *t)
{
	for (size_t i = 0; i < t->nmodules; i++)
		if (t->modules[i].is_exe)
			return t->modules[i].build_id_mismatch ? "differs" :
			       t->modules[i].build_id_len && t->dw->build_id_len ? "matches" : "unknown";
	return "unknown";
}

/* The core's signal: a fault's address, or the sender of a signal sent by
 * a process (kill, tgkill: SI_USER, SI_TKILL), whose siginfo has si_pid and
 * si_uid where a fault's has si_addr. */
static void info_signal_json(struct out *o, const struct core *c)
{
	out_key(o, "signal");
	if (!c->siginfo.present) {
		out_null(o);
		return;
	}
	const char *code = core_si_code_name(c->siginfo.code);
	out_obj_begin(o);
	out_kint(o, "signo", c->siginfo.signo);
	out_kstr(o, "name", core_signal_name(c->siginfo.signo));
	out_kint(o, "code", c->siginfo.code);
	if (code)
		out_kstr(o, "code_name", code);
	if (core_siginfo_has_sender(&c->siginfo)) {
		out_kint(o, "sender_pid", c->siginfo.pid);
		out_kuint(o, "sender_uid", c->siginfo.uid);
	} else {
		out_khex(o, "addr", c->siginfo.addr);
	}
	out_kstr(o, "source", "core");
	out_obj_end(o);
}

static void info_signal_text(FILE *f, const struct core *c)
{
	if (!c->siginfo.present) {
		fprintf(f, "signal      none recorded (no NT_SIGINFO)\n");
		return;
	}
	const char *name = core_signal_name(c->siginfo.signo), *code = core_si_code_name(c->siginfo.code);
	fprintf(f, "signal      %s (%d), code %d", name ? name : "?", c->siginfo.signo, c->siginfo.code);
	if (core_siginfo_has_sender(&c->siginfo))
		fprintf(f, " (%s), sent by pid %d uid %u", code, c->siginfo.pid, c->siginfo.uid);
	else
		fprintf(f, ", addr 0x%" PRIx64, c->siginfo.addr);
	fprintf(f, "  [core's NT_SIGINFO]\n");
}

static void info_core_json(struct out *o, const struct core *c)
{
	out_key(o, "core");
	out_obj_begin(o);
	out_kstr(o, "path", c->path);
	out_kuint(o, "size", c->size);
	out_kuint(o, "segments", c->nsegs);
	out_kuint(o, "bytes_not_saved", c->bytes_missing);
	out_kuint(o, "bytes_unlisted", c->bytes_unlisted);
	out_kbool(o, "truncated", c->truncated);
	out_kstr(o, "writer", core_writer_name(c->writer));
	out_kbool(o, "nt_file", c->has_nt_file);
	out_obj_end(o);
	core_input_out(o, c, 0, false);
	out_key(o, "process");
	out_obj_begin(o);
	out_kint(o, "pid", c->pid);
	if (c->writer == CORE_WRITER_DELVE) {
		out_key(o, "ppid");
		out_null(o);
		out_key(o, "uid");
		out_null(o);
	} else {
		out_kint(o, "ppid", c->ppid);
		out_kint(o, "uid", c->uid);
	}
	out_kstr(o, "command", c->fname);
	out_kstr(o, "args", c->psargs);
	out_obj_end(o);
	info_signal_json(o, c);
}

static void info_core_text(FILE *f, const struct core *c)
{
	fprintf(f, "core        %s (%" PRIu64 " bytes, %zu segments, %" PRIu64 " bytes not saved%s%s%s)\n",
		c->path, c->size, c->nsegs, c->bytes_missing, c->truncated ? ", TRUNCATED" : "",
		c->writer != CORE_WRITER_KERNEL ? ", written by " : "",
		c->writer != CORE_WRITER_KERNEL ? core_writer_name(c->writer) : "");
	/* gdb and Delve leave read-only file mappings out (no program header at all);
	 * Delve also the NT_FILE note that names the files: the modules do. */
	if (c->bytes_unlisted)
		fprintf(f, "            %" PRIu64 " bytes of file mappings have no program header (left out by %s)\n",
			c->bytes_unlisted, core_writer_name(c->writer));
	if (c->writer != CORE_WRITER_KERNEL && !c->has_nt_file)
		fprintf(f, "            no NT_FILE note: the mapped files are known only as the modules found\n");
	if (c->writer == CORE_WRITER_DELVE) /* its NT_PRPSINFO has the pid only */
		fprintf(f, "process     pid %d, ppid and uid not recorded: %s\n", c->pid,
			c->psargs[0] ? c->psargs : c->fname);
	else
		fprintf(f, "process     pid %d, ppid %d, uid %d: %s\n", c->pid, c->ppid, c->uid,
			c->psargs[0] ? c->psargs : c->fname);
	info_signal_text(f, c);
	struct out o;
	out_init(&o, f, false);
	core_input_out(&o, c, 12, false);
}

/* Where a file found by build ID came from: "found" ("build-id tree",
 * "debuginfod") and "found_in" (the tree, the server URLs). Absent: at the
 * path the core names (under --sysroot), or given with --exe. */
static bool info_found_by_id(enum target_found how)
{
	return how == TARGET_FOUND_TREE || how == TARGET_FOUND_DEBUGINFOD;
}

static void info_found_json(struct out *o, enum target_found how, const char *where)
{
	if (!info_found_by_id(how))
		return;
	out_kstr(o, "found", target_found_name(how));
	out_key(o, "found_in");
	where ? out_str(o, where) : out_null(o);
}

/* " [debuginfod http://...]" after a path found by build ID, else "". */
static void info_found_text(char *buf, size_t cap, enum target_found how, const char *where)
{
	buf[0] = 0;
	if (info_found_by_id(how))
		snprintf(buf, cap, "  [%s %s]", target_found_name(how), where ? where : "");
}

static void info_json(struct cli *cli, struct target *t)
{
	struct out *o = &cli->out;
	const struct core *c = t->core;
	char id[96];
	out_obj_begin(o);
	info_core_json(o, c);
	uint64_t unsaved, from_files = target_file_bytes(t, &unsaved);
	out_key(o, "from_files");
	out_obj_begin(o);
	out_kuint(o, "bytes_not_saved", unsaved);
	out_kuint(o, "bytes_read", from_files);
	out_obj_end(o);
	out_key(o, "executable");
	out_obj_begin(o);
	out_kstr(o, "path", t->exe_path);
	info_build_id(id, t->dw->build_id, t->dw->build_id_len);
	out_kstr(o, "build_id", id);
	out_kstr(o, "build_id_match", info_exe_match(t));
	info_found_json(o, t->exe_found, t->exe_found_where);
	out_obj_end(o);
	out_key(o, "dwarf");
	out_obj_begin(o);
	out_kbool(o, "present", t->dw->dbg != NULL);
	out_kbool(o, "compressed", t->dw->compressed);
	out_kint(o, "version", t->dw->version);
	out_kstr(o, "cache", dw_cache_state_name(t->dw->cache_state));
	out_key(o, "cache_note");
	t->dw->cache_note[0] ? out_str(o, t->dw->cache_note) : out_null(o);
	out_obj_end(o);
	out_key(o, "go");
	if (t->go) {
		out_obj_begin(o);
		out_kstr(o, "version", t->go->version);
		out_kstr(o, "map_impl", go_map_impl_name(t->go->map_impl));
		out_obj_end(o);
	} else {
		out_null(o);
	}
	info_threads_json(o, c, t);
	out_key(o, "modules");
	out_arr_begin(o);
	for (size_t i = 0; i < t->nmodules; i++) {
		const struct target_module *m = &t->modules[i];
		out_obj_begin(o);
		out_kstr(o, "name", m->name);
		out_khex(o, "start", m->start);
		out_khex(o, "end", m->end);
		info_build_id(id, m->build_id, m->build_id_len);
		out_kstr(o, "build_id", id);
		out_key(o, "file");
		m->file ? out_str(o, m->file) : out_null(o);
		info_found_json(o, m->found, m->found_where);
		out_obj_end(o);
	}
	out_arr_end(o);
	out_key(o, "missing");
	out_arr_begin(o);
	for (size_t i = 0; i < t->nwarnings; i++)
		out_str(o, t->warnings[i]);
	out_arr_end(o);
	out_obj_end(o);
	out_end_line(o);
}

static void info_text(struct cli *cli, struct target *t)
{
	const struct core *c = t->core;
	char id[96];
	info_core_text(cli->out.f, c);
	uint64_t unsaved, from_files = target_file_bytes(t, &unsaved);
	if (unsaved)
		fprintf(cli->out.f, "from files  %" PRIu64 " of the %" PRIu64 " mapped bytes not saved read from the "
			"mapped files\n", from_files, unsaved);
	info_build_id(id, t->dw->build_id, t->dw->build_id_len);
	char found[600];
	info_found_text(found, sizeof(found), t->exe_found, t->exe_found_where);
	fprintf(cli->out.f, "executable  %s%s\n            build-id %s (%s the core)\n", t->exe_path,
		found, id[0] ? id : "none", info_exe_match(t));
	if (t->dw->dbg)
		fprintf(cli->out.f, "dwarf       version %d, %s; index cache %s%s%s\n", t->dw->version,
		       t->dw->compressed ? "compressed" : "uncompressed",
		       dw_cache_state_name(t->dw->cache_state), t->dw->cache_note[0] ? ": " : "",
		       t->dw->cache_note);
	else
		fprintf(cli->out.f, "dwarf       none\n");
	if (t->go)
		fprintf(cli->out.f, "go          %s, %s maps\n", t->go->version[0] ? t->go->version : "(version unreadable)",
		       go_map_impl_name(t->go->map_impl));
	else
		fprintf(cli->out.f, "go          not a Go program\n");
	fprintf(cli->out.f, "threads     %zu\n", c->nthreads);
	for (size_t i = 0; i < c->nthreads; i++) {
		const struct core_thread *th = &c->threads[i];
		const char *fn = info_function(t, th->regs[CORE_REG_RIP]);
		const char *sig = th->cursig ? core_signal_name(th->cursig) : NULL;
		fprintf(cli->out.f, "  tid %-8d %-8s pc 0x%-14" PRIx64 " sp 0x%-14" PRIx64 " %s\n", th->tid,
		       sig ? sig : "-", th->regs[CORE_REG_RIP], th->regs[CORE_REG_RSP], fn ? fn : "??");
	}
	fprintf(cli->out.f, "modules     %zu\n", t->nmodules);
	for (size_t i = 0; i < t->nmodules; i++) {
		const struct target_module *m = &t->modules[i];
		info_found_text(found, sizeof(found), m->found, m->found_where);
		fprintf(cli->out.f, "  0x%012" PRIx64 "-0x%012" PRIx64 "  %s%s%s\n", m->start, m->end, m->name,
		       m->file ? "" : "  [file not found]", m->is_exe ? "" : found);
	}
	if (t->nwarnings) {
		fprintf(cli->out.f, "missing\n");
		for (size_t i = 0; i < t->nwarnings; i++)
			fprintf(cli->out.f, "  %s\n", t->warnings[i]);
	} else {
		fprintf(cli->out.f, "missing     nothing\n");
	}
}

/* ---- without the executable ----
 *
 * info is the verb that says what a core needs: when the executable cannot
 * be used (not found, not the program that crashed, damaged, a Go program
 * without DWARF), it says so and prints what the core alone holds: the
 * process, the signal, the threads' registers, the program's build IDs from
 * its own notes in the core, the files it mapped (NT_FILE). Exit status 1. */

struct info_file {
	const char *path;
	uint64_t start, end;
};

/* The files the core maps (NT_FILE), each once, in order of first mapping:
 * from its lowest start to its highest end. Returns how many (*ret: free). */
static size_t info_core_files(const struct core *c, struct info_file **ret)
{
	struct info_file *v = calloc(c->nfiles ? c->nfiles : 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; v && i < c->nfiles; i++) {
		const struct core_file_map *fm = &c->files[i];
		size_t k = 0;
		while (k < n && strcmp(v[k].path, fm->path))
			k++;
		if (k == n)
			v[n++] = (struct info_file){ fm->path, fm->start, fm->end };
		if (fm->start < v[k].start)
			v[k].start = fm->start;
		if (fm->end > v[k].end)
			v[k].end = fm->end;
	}
	*ret = v;
	return v ? n : 0;
}

static void info_core_only(struct cli *cli, const struct core *c, const struct ct_error *why)
{
	const char *exe = cli->exe ? cli->exe : core_exe_path(c);
	char id[160];
	info_build_id(id, c->exe_build_id, c->exe_build_id_len);
	struct info_file *files;
	size_t nfiles = info_core_files(c, &files);
	if (cli->json) {
		struct out *o = &cli->out;
		out_obj_begin(o);
		info_core_json(o, c);
		out_key(o, "executable");
		out_obj_begin(o);
		out_key(o, "path");
		exe ? out_str(o, exe) : out_null(o);
		out_key(o, "named_by_core");
		core_exe_path(c) ? out_str(o, core_exe_path(c)) : out_null(o);
		/* What the core's copy of the program's notes says (null: not saved). */
		out_key(o, "core_build_id");
		c->exe_notes || c->exe_build_id_len ? out_str(o, id) : out_null(o);
		out_key(o, "core_go_build_id");
		c->exe_notes || c->exe_go_build_id[0] ? out_str(o, c->exe_go_build_id) : out_null(o);
		out_kstr(o, "build_id_match", "unknown");
		out_kstr(o, "error", why->msg);
		out_kstr(o, "kind", ct_errcode_name(why->code));
		out_obj_end(o);
		out_key(o, "dwarf");
		out_null(o);
		out_key(o, "go");
		out_null(o);
		info_threads_json(o, c, NULL);
		out_key(o, "modules");
		out_arr_begin(o);
		for (size_t i = 0; i < nfiles; i++) {
			out_obj_begin(o);
			out_kstr(o, "name", files[i].path);
			out_khex(o, "start", files[i].start);
			out_khex(o, "end", files[i].end);
			out_key(o, "build_id");
			out_null(o);
			out_key(o, "file");
			out_null(o);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_key(o, "missing");
		out_arr_begin(o);
		out_str(o, why->msg);
		out_arr_end(o);
		out_obj_end(o);
		out_end_line(o);
	} else {
		FILE *f = cli->out.f;
		info_core_text(f, c);
		fprintf(f, "executable  %s  [NOT USED: %s]\n", exe ? exe : "(not named by the core)", why->msg);
		if (c->exe_notes || c->exe_build_id_len)
			fprintf(f, "            the core's program: build-id %s%s%s\n", id[0] ? id : "none",
				c->exe_go_build_id[0] ? ", Go build ID " : "", c->exe_go_build_id);
		else
			fprintf(f, "            the core's program: build-id unknown (its notes are not in the core)\n");
		fprintf(f, "dwarf       unknown (needs the executable)\n");
		if (c->exe_go_build_id[0])
			fprintf(f, "go          a Go program (version and maps need the executable)\n");
		else
			fprintf(f, "go          unknown (needs the executable)\n");
		fprintf(f, "threads     %zu\n", c->nthreads);
		for (size_t i = 0; i < c->nthreads; i++) {
			const struct core_thread *th = &c->threads[i];
			const char *sig = th->cursig ? core_signal_name(th->cursig) : NULL;
			fprintf(f, "  tid %-8d %-8s pc 0x%-14" PRIx64 " sp 0x%-14" PRIx64 " ??\n", th->tid,
				sig ? sig : "-", th->regs[CORE_REG_RIP], th->regs[CORE_REG_RSP]);
		}
		fprintf(f, "files       %zu (mapped, NT_FILE)\n", nfiles);
		for (size_t i = 0; i < nfiles; i++)
			fprintf(f, "  0x%012" PRIx64 "-0x%012" PRIx64 "  %s\n", files[i].start, files[i].end,
				files[i].path);
		fprintf(f, "missing\n  %s\n", why->msg);
	}
	free(files);
}

struct info_layout {
	struct out *o;
	const char *type; /* the JSON object open, or NULL */
};

static void info_layout_one(void *arg, const char *type, const char *member, uint64_t off,
			    uint64_t size)
{
	struct info_layout *l = arg;
	struct out *o = l->o;
	if (!o->json) {
		if (member)
			fprintf(o->f, "%s.%-14s offset %-4" PRIu64 " size %" PRIu64 "\n", type, member, off, size);
		else
			fprintf(o->f, "%-29s size %" PRIu64 "\n", type, size);
		return;
	}
	if (!l->type || strcmp(l->type, type)) {
		if (l->type)
			out_obj_end(o);
		out_key(o, type);
		out_obj_begin(o);
		l->type = type;
	}
	out_key(o, member ? member : "(size)");
	if (member) {
		out_obj_begin(o);
		out_kuint(o, "offset", off);
		out_kuint(o, "size", size);
		out_obj_end(o);
	} else {
		out_uint(o, size);
	}
}

/* info --layout: what the models read from DWARF, for tools that aim at it. */
static int info_layout(struct cli *cli, struct target *t)
{
	const struct go_heap *h;
	const struct ct_error *herr = t->go ? target_go_heap(t, &h) : NULL;
	if (!t->go || herr)
		return cli_fail(cli, ct_error_fmt(CT_ERR_UNSUPPORTED, "no Go heap model: %s",
						  herr ? herr->msg : "not a Go program"));
	struct info_layout l = { &cli->out, NULL };
	if (cli->json) {
		out_obj_begin(&cli->out);
		out_key(&cli->out, "layout");
		out_obj_begin(&cli->out);
	}
	go_heap_layout(h, info_layout_one, &l);
	if (cli->json) {
		if (l.type)
			out_obj_end(&cli->out);
		out_obj_end(&cli->out);
		out_obj_end(&cli->out);
		out_end_line(&cli->out);
	}
	return CT_EXIT_OK;
}

int cmd_info(struct cli *cli, const struct cli_args *a)
{
	struct target *t;
	struct ct_error *err = cli_open(cli, a->pos[0], &t);
	if (err && !cli->preopened && !cli_flag(a, "--layout")) {
		/* The core itself may still be read: then what is missing is the
		 * executable, and that is this verb's answer, partial (exit 1). */
		struct core *c;
		struct ct_error *cerr = core_open(a->pos[0], &c);
		if (cerr) {
			ct_error_destroy(cerr);
			return cli_fail(cli, err);
		}
		info_core_only(cli, c, err);
		if (!cli->quiet)
			fprintf(cli->err, "coretool: warning: %s\n", err->msg);
		ct_error_destroy(err);
		core_close(c);
		return CT_EXIT_PARTIAL;
	}
	if (err)
		return cli_fail(cli, err);
	if (cli_flag(a, "--layout")) {
		int rc = info_layout(cli, t);
		if (rc == CT_EXIT_OK)
			rc = cli_warnings(cli, t);
		cli_close(cli, t);
		return rc;
	}
	if (cli->json)
		info_json(cli, t);
	else
		info_text(cli, t);
	int rc = cli_warnings(cli, t);
	cli_close(cli, t);
	return rc;
}
