/* Rendering of frames, shared by triage, bt and the gdb front end. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "render.h"

void unwind_frame_out(struct out *o, const struct frame *f)
{
	if (o->json) {
		out_obj_begin(o);
		out_khex(o, "pc", f->pc);
		out_key(o, "function");
		f->func ? out_str(o, f->func) : out_null(o);
		out_kuint(o, "offset", f->func_off);
		out_key(o, "file");
		f->file ? out_str(o, f->file) : out_null(o);
		out_kint(o, "line", f->line);
		out_key(o, "module");
		f->module ? out_str(o, f->module) : out_null(o);
		out_kstr(o, "lang", f->go ? "go" : "c");
		if (f->inlined)
			out_kbool(o, "inlined", true);
		out_obj_end(o);
		return;
	}
	fprintf(o->f, "    %s 0x%014" PRIx64 " ", f->go ? "go" : "c ", f->pc);
	if (f->func && f->inlined) {
		fprintf(o->f, "%s (inlined)", f->func);
	} else if (f->func) {
		fprintf(o->f, "%s+0x%" PRIx64, f->func, f->func_off);
	} else if (f->module) {
		const char *base = strrchr(f->module, '/');
		fprintf(o->f, "?? (%s+0x%" PRIx64 ")", base ? base + 1 : f->module, f->func_off);
	} else {
		fputs("??", o->f);
	}
	if (f->file)
		fprintf(o->f, "  %s:%d", f->file, f->line);
	fputc('\n', o->f);
}


/* Text: frames one per line, the cgo switch marked, and a run of identical
 * frames (deep recursion) folded after a few. */
void unwind_backtrace_text(struct out *o, const struct backtrace *bt, size_t n_c_frames, uint64_t goid)
{
	for (size_t i = 0; i < bt->n; i++) {
		if (i == n_c_frames && i > 0)
			fprintf(o->f, "    -- cgo call from goroutine %" PRIu64 " --\n", goid);
		size_t run = 1;
		while (i + run < bt->n && i + run != n_c_frames && bt->frames[i + run].pc == bt->frames[i].pc)
			run++;
		unwind_frame_out(o, &bt->frames[i]);
		if (run > 3) {
			unwind_frame_out(o, &bt->frames[i + 1]);
			fprintf(o->f, "    ... %zu more frames like this one\n", run - 2);
			i += run - 1;
		}
	}
	if (bt->truncated)
		fputs("    (the stack goes deeper: the walk stopped at its frame bound)\n", o->f);
	if (bt->stop)
		fprintf(o->f, "    (%s)\n", bt->stop);
}
