/* coretool info CORE: what the core holds, and what it lacks. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

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

static const char *info_exe_match(const struct target *t)
{
	for (size_t i = 0; i < t->nmodules; i++)
		if (t->modules[i].is_exe)
			return t->modules[i].build_id_mismatch ? "differs" :
			       t->modules[i].build_id_len && t->dw->build_id_len ? "matches" : "unknown";
	return "unknown";
}

static void info_json(struct cli *cli, const struct target *t)
{
	struct out *o = &cli->out;
	const struct core *c = t->core;
	char id[96];
	out_obj_begin(o);
	out_key(o, "core");
	out_obj_begin(o);
	out_kstr(o, "path", c->path);
	out_kuint(o, "size", c->size);
	out_kuint(o, "segments", c->nsegs);
	out_kuint(o, "bytes_not_saved", c->bytes_missing);
	out_kbool(o, "truncated", c->truncated);
	out_obj_end(o);
	out_key(o, "process");
	out_obj_begin(o);
	out_kint(o, "pid", c->pid);
	out_kint(o, "ppid", c->ppid);
	out_kint(o, "uid", c->uid);
	out_kstr(o, "command", c->fname);
	out_kstr(o, "args", c->psargs);
	out_obj_end(o);
	out_key(o, "signal");
	if (c->siginfo.present) {
		out_obj_begin(o);
		out_kint(o, "signo", c->siginfo.signo);
		out_kstr(o, "name", core_signal_name(c->siginfo.signo));
		out_kint(o, "code", c->siginfo.code);
		out_khex(o, "addr", c->siginfo.addr);
		out_kstr(o, "source", "core");
		out_obj_end(o);
	} else {
		out_null(o);
	}
	out_key(o, "executable");
	out_obj_begin(o);
	out_kstr(o, "path", t->exe_path);
	info_build_id(id, t->dw->build_id, t->dw->build_id_len);
	out_kstr(o, "build_id", id);
	out_kstr(o, "build_id_match", info_exe_match(t));
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
	out_key(o, "threads");
	out_arr_begin(o);
	for (size_t i = 0; i < c->nthreads; i++) {
		const struct core_thread *th = &c->threads[i];
		const char *fn = info_function(t, th->regs[CORE_REG_RIP]);
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

static void info_text(struct cli *cli, const struct target *t)
{
	const struct core *c = t->core;
	char id[96];
	fprintf(cli->out.f, "core        %s (%" PRIu64 " bytes, %zu segments, %" PRIu64 " bytes not saved%s)\n",
	       c->path, c->size, c->nsegs, c->bytes_missing, c->truncated ? ", TRUNCATED" : "");
	fprintf(cli->out.f, "process     pid %d, ppid %d, uid %d: %s\n", c->pid, c->ppid, c->uid,
	       c->psargs[0] ? c->psargs : c->fname);
	if (c->siginfo.present) {
		const char *name = core_signal_name(c->siginfo.signo);
		fprintf(cli->out.f, "signal      %s (%d), code %d, addr 0x%" PRIx64 "  [core's NT_SIGINFO]\n",
		       name ? name : "?", c->siginfo.signo, c->siginfo.code, c->siginfo.addr);
	} else {
		fprintf(cli->out.f, "signal      none recorded (no NT_SIGINFO)\n");
	}
	info_build_id(id, t->dw->build_id, t->dw->build_id_len);
	fprintf(cli->out.f, "executable  %s\n            build-id %s (%s the core)\n", t->exe_path,
	       id[0] ? id : "none", info_exe_match(t));
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
		fprintf(cli->out.f, "  0x%012" PRIx64 "-0x%012" PRIx64 "  %s%s\n", m->start, m->end, m->name,
		       m->file ? "" : "  [file not found]");
	}
	if (t->nwarnings) {
		fprintf(cli->out.f, "missing\n");
		for (size_t i = 0; i < t->nwarnings; i++)
			fprintf(cli->out.f, "  %s\n", t->warnings[i]);
	} else {
		fprintf(cli->out.f, "missing     nothing\n");
	}
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
