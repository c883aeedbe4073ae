/* Renders the crash report (triage.h): text for people, or one JSON object
 * per core (JSON Lines in batches). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "render.h"

void framevar_out(struct out *o, const struct framevar *v)
{
	if (o->json) {
		out_obj_begin(o);
		out_kstr(o, "name", v->name);
		out_kbool(o, "param", v->param);
		out_key(o, "type");
		v->type ? out_str(o, v->type) : out_null(o);
		out_key(o, "value");
		v->state == FRAMEVAR_OK ? out_hex(o, v->value) : out_null(o);
		if (v->by_address)
			out_kbool(o, "address", true);
		out_kstr(o, "state", v->state == FRAMEVAR_OK ? "ok" : framevar_state_text(v->state));
		out_obj_end(o);
		return;
	}
	if (v->state != FRAMEVAR_OK)
		fprintf(o->f, "%s=%s", v->name, framevar_state_text(v->state));
	else
		fprintf(o->f, "%s=%s0x%" PRIx64, v->name, v->by_address ? "&" : "", v->value);
}

static void triage_reg_out(struct out *o, const char *key, int reg)
{
	out_key(o, key);
	insn_reg_name(reg) ? out_str(o, insn_reg_name(reg)) : out_null(o);
}

static void triage_insn_out(struct out *o, const struct triage *tr)
{
	const struct insn *in = &tr->insn;
	out_key(o, "instruction");
	if (!in->decoded && !in->exec_fault) {
		out_null(o);
	} else {
		out_obj_begin(o);
		out_key(o, "pc");
		in->decoded ? out_hex(o, in->pc) : out_null(o);
		out_key(o, "text");
		in->decoded ? out_str(o, in->text) : out_null(o);
		out_kstr(o, "access", insn_access_name(in->access));
		out_kuint(o, "size", in->size);
		out_key(o, "mem");
		if (in->has_mem) {
			out_obj_begin(o);
			triage_reg_out(o, "base", in->mem.rip_relative ? CORE_REG_RIP : in->mem.base);
			triage_reg_out(o, "index", in->mem.index);
			out_kint(o, "scale", in->mem.scale);
			out_kint(o, "disp", in->mem.disp);
			triage_reg_out(o, "segment", in->mem.segment);
			out_obj_end(o);
		} else {
			out_null(o);
		}
		out_key(o, "ea");
		in->has_ea ? out_hex(o, in->ea) : out_null(o);
		out_kbool(o, "bad_pc", in->exec_fault);
		out_obj_end(o);
	}
	out_key(o, "pointer");
	if (!tr->has_ptr && !tr->has_origin) {
		out_null(o);
		return;
	}
	out_obj_begin(o);
	triage_reg_out(o, "register", in->ptr_reg);
	out_key(o, "value");
	tr->has_ptr ? out_hex(o, in->exec_fault ? in->bad_pc : in->ptr_value) : out_null(o);
	out_key(o, "offset");
	tr->has_ptr && in->has_ea && !in->exec_fault ? out_int(o, (int64_t)(in->ea - in->ptr_value)) : out_null(o);
	out_key(o, "verdict");
	tr->has_ptr ? classify_verdict_out(o, &tr->ptr_verdict) : out_null(o);
	out_key(o, "loaded_from");
	if (tr->has_origin) {
		out_obj_begin(o);
		out_khex(o, "addr", in->origin.from);
		out_khex(o, "by", in->origin.insn_pc);
		out_kstr(o, "insn", in->origin.text);
		triage_reg_out(o, "base", in->origin.from_base);
		out_key(o, "object");
		in->origin.from_base != INSN_NO_REG ? out_hex(o, in->origin.from_base_value) : out_null(o);
		out_key(o, "verdict");
		classify_verdict_out(o, &tr->origin_verdict);
		out_obj_end(o);
	} else {
		out_null(o);
	}
	out_key(o, "note");
	tr->ptr_note ? out_str(o, tr->ptr_note) : out_null(o);
	out_obj_end(o);
}

void triage_out(struct out *o, const struct target *t, const struct triage *tr)
{
	const struct fault *f = &tr->fault;
	const char *signame = core_signal_name(f->signo);
	const char *code = fault_code_name(f->signo, f->code);
	if (o->json) {
		out_obj_begin(o);
		out_kstr(o, "core", t->core ? t->core->path : "");
		if (t->core)
			core_input_out(o, t->core, 0, false);
		out_kstr(o, "executable", t->exe_path);
		/* Only when found by build ID: absent, it is where the core says
		 * (or given with --exe). */
		if (t->exe_found == TARGET_FOUND_TREE || t->exe_found == TARGET_FOUND_DEBUGINFOD)
			out_kstr(o, "executable_found", target_found_name(t->exe_found));
		out_key(o, "go_version");
		t->go ? out_str(o, t->go->version) : out_null(o);
		out_kstr(o, "class", tr->klass);
		out_kstr(o, "verdict", tr->verdict);
		out_kstr(o, "rule", tr->rule);
		out_kstr(o, "signature", tr->signature);
		out_kstr(o, "signature_all", tr->signature_all);
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
		out_key(o, "addr_source");
		tr->addr_source ? out_str(o, tr->addr_source) : out_null(o);
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
		out_key(o, "backtrace_stop");
		tr->bt.stop ? out_str(o, tr->bt.stop) : out_null(o);
		out_key(o, "frame_vars");
		out_arr_begin(o);
		for (size_t i = 0; i < tr->bt.n && i < TRIAGE_VAR_FRAMES; i++) {
			if (!tr->nvars[i])
				continue;
			out_obj_begin(o);
			out_kuint(o, "frame", i);
			out_key(o, "function");
			tr->bt.frames[i].func ? out_str(o, tr->bt.frames[i].func) : out_null(o);
			out_key(o, "vars");
			out_arr_begin(o);
			for (size_t k = 0; k < tr->nvars[i]; k++)
				framevar_out(o, &tr->vars[i][k]);
			out_arr_end(o);
			out_obj_end(o);
		}
		out_arr_end(o);
		triage_insn_out(o, tr);
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
		out_key(o, "held_addr");
		tr->held_addr ? out_hex(o, tr->held_addr) : out_null(o);
		out_kuint(o, "holders_total", tr->holders.total);
		out_key(o, "holder_values");
		out_arr_begin(o);
		for (size_t i = 0; i < tr->holders.nvalues; i++) {
			out_obj_begin(o);
			out_khex(o, "value", tr->holders.values[i].value);
			out_kuint(o, "words", tr->holders.values[i].count);
			out_obj_end(o);
		}
		out_arr_end(o);
		out_key(o, "best_holder");
		const struct holder *best = holders_best(&tr->holders);
		tr->chain_holder[0] ? out_str(o, tr->chain_holder) : best ? out_str(o, best->desc) : out_null(o);
		out_key(o, "held_chain");
		out_arr_begin(o);
		for (size_t i = 0; i < tr->nchain; i++) {
			out_obj_begin(o);
			out_khex(o, "object", tr->chain[i].object);
			out_khex(o, "at", tr->chain[i].at);
			out_kstr(o, "where", tr->chain[i].desc);
			out_kstr(o, "region", classify_region_name(tr->chain[i].where.region));
			out_kstr(o, "state", classify_state_name(tr->chain[i].where.state));
			out_obj_end(o);
		}
		out_arr_end(o);
		out_key(o, "object");
		if (tr->object) {
			out_obj_begin(o);
			out_khex(o, "addr", tr->object);
			out_key(o, "verdict");
			classify_verdict_out(o, &tr->object_verdict);
			out_obj_end(o);
		} else {
			out_null(o);
		}
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
		if (tr->retain_done) {
			/* only with --retain: the default report keeps its fields */
			out_key(o, "holder_path");
			if (tr->retain_holder_at) {
				out_obj_begin(o);
				out_khex(o, "holder", tr->retain_holder_at);
				out_khex(o, "object", tr->retain_object);
				out_kbool(o, "reached", tr->retain_reached);
				out_kstr(o, "root_kind", tr->retain_root_kind);
				out_kstr(o, "root", tr->retain_root);
				out_kstr(o, "field", tr->retain_field);
				out_kstr(o, "text", tr->retain_path);
				out_obj_end(o);
			} else {
				out_null(o);
			}
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
		out_key(o, "freed_ptr");
		if (tr->freed_ptr) {
			out_obj_begin(o);
			out_khex(o, "addr", tr->freed_ptr);
			out_key(o, "verdict");
			classify_verdict_out(o, &tr->freed_verdict);
			out_obj_end(o);
		} else {
			out_null(o);
		}
		out_key(o, "panic");
		if (tr->has_panic) {
			out_obj_begin(o);
			out_kuint(o, "goroutine", tr->panic_goid);
			out_kstr(o, "type", tr->panic.type);
			out_kstr(o, "message", tr->panic.msg);
			out_kbool(o, "message_exact", tr->panic.msg_exact);
			out_kuint(o, "depth", tr->panic.depth);
			out_obj_end(o);
		} else {
			out_null(o);
		}
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
	if (t->core)
		core_input_out(o, t->core, 11, true);
	fprintf(fp, "class:     %s\n", tr->klass);
	fprintf(fp, "verdict:   %s\n", tr->verdict);
	fprintf(fp, "signature: %s\n", tr->signature);
	fprintf(fp, "signal:    %s", signame ? signame : "?");
	if (code)
		fprintf(fp, " (%s)", code);
	if (f->has_addr)
		fprintf(fp, " at 0x%" PRIx64 "%s", f->addr,
			tr->addr_source && !strcmp(tr->addr_source, "instruction") ? " (computed from the instruction)" : "");
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
	if (tr->has_panic)
		fprintf(fp, "panic:     %s (%s), goroutine %" PRIu64 "\n", tr->panic.msg, tr->panic.type, tr->panic_goid);
	if (tr->insn.decoded || tr->insn.exec_fault) {
		const struct insn *in = &tr->insn;
		fprintf(fp, "insn:      ");
		if (in->exec_fault)
			fprintf(fp, "pc 0x%" PRIx64 " is not code; ", in->bad_pc);
		if (in->decoded)
			fprintf(fp, "0x%" PRIx64 "  %s  (%s", in->pc, in->text, insn_access_name(in->access));
		if (in->decoded && in->size)
			fprintf(fp, ", %u bytes", in->size);
		if (in->decoded && in->has_ea && !in->exec_fault)
			fprintf(fp, " at 0x%" PRIx64, in->ea);
		fprintf(fp, "%s\n", in->decoded ? ")" : "");
		if (tr->has_ptr) {
			char d[240];
			classify_brief(&tr->ptr_verdict, d, sizeof(d));
			fprintf(fp, "pointer:   %s = 0x%" PRIx64 ": %s\n", insn_reg_name(in->ptr_reg) ? insn_reg_name(in->ptr_reg) : "?",
				in->exec_fault ? in->bad_pc : in->ptr_value, d);
		}
		if (tr->has_origin) {
			char d[240];
			classify_brief(&tr->origin_verdict, d, sizeof(d));
			fprintf(fp, "           loaded from 0x%" PRIx64 " (%s) by `%s` at 0x%" PRIx64 "%s%s\n", in->origin.from,
				d, in->origin.text, in->origin.insn_pc, tr->ptr_note ? ": " : "", tr->ptr_note ? tr->ptr_note : "");
		}
	}
	if (tr->freed_ptr)
		fprintf(fp, "freed:     0x%" PRIx64 " (the pointer freed twice)\n", tr->freed_ptr);
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
		fprintf(fp, "held by (%zu of %zu pointers into 0x%" PRIx64 "-0x%" PRIx64 ", named first):\n", tr->holders.n,
			tr->holders.total, tr->holders.lo, tr->holders.hi);
		for (size_t i = 0; i < tr->holders.nvalues; i++)
			if (tr->holders.values[i].count > 1)
				fprintf(fp, "    %" PRIu64 " words hold 0x%" PRIx64 "\n", tr->holders.values[i].count,
					tr->holders.values[i].value);
		for (size_t i = 0; i < tr->holders.n; i++)
			fprintf(fp, "    0x%" PRIx64 " = 0x%" PRIx64 "  %s\n", tr->holders.h[i].at,
				tr->holders.h[i].value, tr->holders.h[i].desc);
	}
	if (tr->nchain) {
		fprintf(fp, "held through (each held by the next):\n");
		for (size_t i = 0; i < tr->nchain; i++)
			fprintf(fp, "    0x%" PRIx64 "  %s\n", tr->chain[i].at, tr->chain[i].desc);
		fprintf(fp, "    %s\n", tr->chain_holder);
	}
	if (tr->retain_done && tr->retain_holder_at) {
		if (tr->retain_path[0])
			fprintf(fp, "holder kept alive by (from a root):\n    %s\n", tr->retain_path);
		else if (!tr->retain_reached)
			fprintf(fp, "holder 0x%" PRIx64 " is in Go heap object 0x%" PRIx64
				    " that no root reaches (garbage)\n",
				tr->retain_holder_at, tr->retain_object);
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
