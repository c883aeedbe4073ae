/* The renderers: each analysis result as text for people (aligned, one
 * verdict per line, details indented) or as JSON (the contract's field names),
 * through the writer of out.h. The analyses return data and never print. */
#ifndef CT_RENDER_H
#define CT_RENDER_H

#include "classify.h"
#include "out.h"
#include "triage.h"
#include "unwind.h"

/* A verdict: text (one line, details indented) or JSON (addr, region, state,
 * detail), as the contract says (classify_out.c). */
void classify_verdict_out(struct out *o, const struct verdict *v);

/* One frame: JSON object {pc, function, offset, file, line, module, lang}, or
 * one indented text line (unwind_out.c). */
void unwind_frame_out(struct out *o, const struct frame *f);
/* A stitched backtrace as text (frames [0, n_c_frames) are C). */
void unwind_backtrace_text(struct out *o, const struct backtrace *bt, size_t n_c_frames, uint64_t goid);

/* The crash report: text, or one JSON object (triage_out.c). */
void triage_out(struct out *o, const struct target *t, const struct triage *tr);

/* How the core came in (unpacked from a compressed file or zip) and what its
 * collector recorded (origin): JSON keys "input" and "origin", each only when
 * there is something to say, or text lines labelled "input" and "origin" in a
 * column of width (with a colon: triage's style) (input_out.c). */
void core_input_out(struct out *o, const struct core *c, int width, bool colon);

/* One frame variable: {"name", "param", "type", "value", "state"}, or
 * name=0x... in text. */
void framevar_out(struct out *o, const struct framevar *v);

#endif
