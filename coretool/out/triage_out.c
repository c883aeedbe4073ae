/* Renders the crash report (triage.h): text for people, or one JSON object
 * per core (JSON Lines in batches). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "render.h"

void triage_out(struct out *o, const struct target *t, const struct triage *tr)
{
	const struct fault *f = &tr->fault;
	const char *signame = core_signal_name(f->signo);
	const char *code = fault_code_name(f->signo, f->code);
	if (o->json) {
		out_obj_begin(o);
		out_kstr(o, "core", t->core ? t->core->path : "");
		out_kstr(o, "executable", t->exe_path);
		out_key(o, "go_version");
		t->go ? out_str(o, t->go->version) : out_null(o);
		out_kstr(o, "class", tr->klass);
		out_kstr(o, "verdict", tr->verdict);
		out_kstr(o, "signature", tr->signature);
		out_key(o, "signal");
		out_obj_begin(o);
		out_kint(o, "signo", f->signo);
		out_key(o, "name");
		signame ? out_str(o, signame) : out_null(o);
		out_kint(o, "code", f->code);
		out_key(o, "code_name");
		code ? out_str(o, code) : out_null(o);
		out_key(o, "addr");
		f->has_addr ? out_hex(o, f->addr) : out_null(o);
		out_kstr(o, "source", fault_source_name(f->source));
		out_key(o, "core_signal");
		core_signal_name(tr->core_signo) ? out_str(o, core_signal_name(tr->core_signo)) : out_null(o);
		out_obj_end(o);
		out_kint(o, "thread", f->tid);
		out_key(o, "goroutine");
		if (tr->has_g) {
			out_obj_begin(o);
			out_kuint(o, "id", tr->goid);
			out_kstr(o, "status", tr->g_status);
			out_obj_end(o);
		} else {
			out_null(o);
		}
		out_khex(o, "pc", f->pc);
		out_khex(o, "sp", f->regs[CORE_REG_RSP]);
		out_key(o, "c_function");
		tr->cfunc ? out_str(o, tr->cfunc) : out_null(o);
		out_key(o, "go_caller");
		tr->gocaller ? out_str(o, tr->gocaller) : out_null(o);
		out_key(o, "backtrace");
		out_arr_begin(o);
		for (size_t i = 0; i < tr->bt.n; i++)
			unwind_frame_out(o, &tr->bt.frames[i]);
		out_arr_end(o);
		out_key(o, "fault_address");
		if (f->has_addr)
			classify_verdict_out(o, &tr->fault_verdict);
		else
			out_null(o);
		out_key(o, "registers");
		out_arr_begin(o);
		for (size_t i = 0; i < tr->nregs; i++) {
			out_obj_begin(o);
			out_kstr(o, "register", core_reg_names[tr->regs[i].reg]);
			out_key(o, "verdict");
			classify_verdict_out(o, &tr->regs[i].v);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_key(o, "holders");
		out_arr_begin(o);
		for (size_t i = 0; i < tr->holders.n; i++) {
			const struct holder *h = &tr->holders.h[i];
			out_obj_begin(o);
			out_khex(o, "at", h->at);
			out_khex(o, "value", h->value);
			out_kstr(o, "where", h->desc);
			out_kstr(o, "region", classify_region_name(h->where.region));
			out_kstr(o, "state", classify_state_name(h->where.state));
			out_obj_end(o);
		}
		out_arr_end(o);
		out_key(o, "victim");
		if (tr->victim) {
			out_obj_begin(o);
			out_khex(o, "object", tr->victim->where.d.heap.kind == GO_SPAN_INUSE ?
				  tr->victim->where.d.heap.slot.user : tr->victim->at);
			out_kuint(o, "size", tr->victim->where.d.heap.span.elemsize);
			out_kstr(o, "state", classify_state_name(tr->victim->where.state));
			out_key(o, "held_by");
			out_arr_begin(o);
			for (size_t i = 0; i < tr->victim_holders.n; i++)
				out_str(o, tr->victim_holders.h[i].desc);
			out_arr_end(o);
			out_obj_end(o);
		} else {
			out_null(o);
		}
		out_key(o, "go_fatal");
		tr->go_fatal[0] ? out_str(o, tr->go_fatal) : out_null(o);
		out_key(o, "fatal_map");
		if (tr->fatal_map[0]) {
			out_obj_begin(o);
			out_kstr(o, "name", tr->fatal_map);
			out_khex(o, "addr", tr->fatal_map_addr);
			out_obj_end(o);
		} else {
			out_null(o);
		}
		out_key(o, "abort_msg");
		tr->abort_msg[0] ? out_str(o, tr->abort_msg) : out_null(o);
		out_key(o, "warnings");
		out_arr_begin(o);
		for (size_t i = 0; i < t->nwarnings; i++)
			out_str(o, t->warnings[i]);
		out_arr_end(o);
		out_obj_end(o);
		return;
	}
	FILE *fp = o->f;
	fprintf(fp, "core:      %s\n", t->core ? t->core->path : "");
	fprintf(fp, "class:     %s\n", tr->klass);
	fprintf(fp, "verdict:   %s\n", tr->verdict);
	fprintf(fp, "signature: %s\n", tr->signature);
	fprintf(fp, "signal:    %s", signame ? signame : "?");
	if (code)
		fprintf(fp, " (%s)", code);
	if (f->has_addr)
		fprintf(fp, " at 0x%" PRIx64, f->addr);
	fprintf(fp, ", thread %d", f->tid);
	if (tr->has_g)
		fprintf(fp, ", goroutine %" PRIu64 " (%s)", tr->goid, tr->g_status);
	fprintf(fp, "\n           from %s", f->source == FAULT_SOURCE_SIGNAL_FRAME ?
		"the signal frame on the signal stack" : f->source == FAULT_SOURCE_GOROUTINE ?
		"the goroutine's saved signal (a fault in Go code, turned into a panic)" :
		"the core's signal information");
	if (tr->core_signo && tr->core_signo != f->signo)
		fprintf(fp, " (the core itself says %s: re-raised)",
			core_signal_name(tr->core_signo) ? core_signal_name(tr->core_signo) : "?");
	fputc('\n', fp);
	if (tr->go_fatal[0])
		fprintf(fp, "go:        %s\n", tr->go_fatal);
	if (tr->abort_msg[0])
		fprintf(fp, "glibc:     %s\n", tr->abort_msg);
	fprintf(fp, "backtrace:\n");
	unwind_backtrace_text(o, &tr->bt, tr->n_c_frames, tr->goid);
	if (f->has_addr) {
		fprintf(fp, "fault address:\n");
		struct out sub;
		out_init(&sub, fp, false);
		fputs("  ", fp);
		classify_verdict_out(&sub, &tr->fault_verdict);
	}
	if (tr->holders.n) {
		fprintf(fp, "held by (%zu of %zu pointers into 0x%" PRIx64 "-0x%" PRIx64 "):\n", tr->holders.n,
			tr->holders.total, tr->holders.lo, tr->holders.hi);
		for (size_t i = 0; i < tr->holders.n; i++)
			fprintf(fp, "    0x%" PRIx64 " = 0x%" PRIx64 "  %s\n", tr->holders.h[i].at,
				tr->holders.h[i].value, tr->holders.h[i].desc);
	}
	if (tr->victim) {
		fprintf(fp, "freed Go object 0x%" PRIx64 " held the pointer; pointers to it:\n",
			tr->victim->where.d.heap.slot.user);
		for (size_t i = 0; i < tr->victim_holders.n; i++)
			fprintf(fp, "    0x%" PRIx64 " = 0x%" PRIx64 "  %s\n", tr->victim_holders.h[i].at,
				tr->victim_holders.h[i].value, tr->victim_holders.h[i].desc);
	}
	if (tr->nregs) {
		fprintf(fp, "registers that point somewhere:\n");
		for (size_t i = 0; i < tr->nregs; i++) {
			const struct verdict *v = &tr->regs[i].v;
			fprintf(fp, "    %-4s 0x%-14" PRIx64 " %s %s\n", core_reg_names[tr->regs[i].reg],
				v->addr, classify_region_name(v->region), classify_state_name(v->state));
		}
	}
}
