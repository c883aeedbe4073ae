/* Rendering of frames, shared by triage, bt and the gdb front end. */
#include <inttypes.h>
#include <stdio.h>

#include "out.h"
#include "unwind.h"

void frame_out(struct out *o, const struct frame *f)
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
		out_obj_end(o);
		return;
	}
	fprintf(o->f, "    %s 0x%014" PRIx64 " %s+0x%" PRIx64, f->go ? "go" : "c ", f->pc,
		f->func ? f->func : "??", f->func_off);
	if (f->file)
		fprintf(o->f, "  %s:%d", f->file, f->line);
	fputc('\n', o->f);
}

