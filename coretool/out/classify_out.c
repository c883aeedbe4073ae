/* Rendering of verdicts, shared by the CLI and the gdb front end. */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>

#include "render.h"

static const char *unmapped_kind_name(enum unmapped_kind k)
{
	switch (k) {
	case UNMAPPED_NULL_PAGE: return "null-page";
	case UNMAPPED_NON_CANONICAL: return "non-canonical";
	case UNMAPPED_STACK_GUARD: return "stack-guard";
	default: return "plain";
	}
}

static void perms(uint32_t flags, char buf[4])
{
	buf[0] = flags & PF_R ? 'r' : '-';
	buf[1] = flags & PF_W ? 'w' : '-';
	buf[2] = flags & PF_X ? 'x' : '-';
	buf[3] = 0;
}

static void verdict_detail_json(struct out *o, const struct verdict *v)
{
	char p[4];
	switch (v->region) {
	case REGION_GO_HEAP: {
		const struct go_span *s = &v->d.heap.span;
		const struct go_slot *sl = &v->d.heap.slot;
		if (v->d.heap.kind != GO_SPAN_INUSE)
			break;
		out_key(o, "span");
		out_obj_begin(o);
		out_khex(o, "mspan", s->addr);
		out_khex(o, "start", s->start);
		out_khex(o, "limit", s->limit);
		out_kuint(o, "npages", s->npages);
		out_kuint(o, "spanclass", s->spanclass);
		out_kuint(o, "sizeclass", go_spanclass_sizeclass(s->spanclass));
		out_kuint(o, "elemsize", s->elemsize);
		out_kuint(o, "nelems", s->nelems);
		out_kbool(o, "noscan", go_spanclass_noscan(s->spanclass));
		out_obj_end(o);
		out_key(o, "slot");
		out_obj_begin(o);
		out_kuint(o, "index", sl->index);
		out_khex(o, "base", sl->base);
		out_kuint(o, "offset", sl->offset);
		out_khex(o, "object", sl->user);
		out_kbool(o, "header", sl->has_header);
		out_obj_end(o);
		out_key(o, "marked");
		sl->marked < 0 ? out_null(o) : out_bool(o, sl->marked);
		out_kbool(o, "large", sl->large);
		out_kbool(o, "tiny", sl->tiny);
		break;
	}
	case REGION_GO_STACK:
		if (!v->d.stack.g)
			break;
		out_kuint(o, "goid", v->d.stack.goid);
		out_khex(o, "g", v->d.stack.g);
		out_kstr(o, "status", v->d.stack.status_name);
		out_khex(o, "lo", v->d.stack.lo);
		out_khex(o, "hi", v->d.stack.hi);
		out_khex(o, "sp", v->d.stack.sp);
		out_key(o, "live");
		v->d.stack.live < 0 ? out_null(o) : out_bool(o, v->d.stack.live);
		break;
	case REGION_GO_RUNTIME:
		out_kstr(o, "what", v->d.rt.what);
		out_kint(o, "m", v->d.rt.m_id);
		out_kint(o, "tid", v->d.rt.tid);
		out_khex(o, "lo", v->d.rt.lo);
		out_khex(o, "hi", v->d.rt.hi);
		break;
	case REGION_C_HEAP: {
		const struct cheap_chunk *c = &v->d.chunk;
		if (!c->chunk)
			break;
		out_key(o, "arena");
		c->arena ? out_hex(o, c->arena) : out_null(o);
		out_kbool(o, "main_arena", c->main_arena);
		out_khex(o, "chunk", c->chunk);
		out_kuint(o, "size", c->size);
		out_khex(o, "user", c->user);
		out_kuint(o, "user_size", c->user_size);
		out_kint(o, "offset", (int64_t)(v->addr - c->user)); /* < 0: in the chunk header */
		out_kbool(o, "mmapped", c->mmapped);
		out_key(o, "bin");
		c->state == CHEAP_FREE ? out_str(o, cheap_bin_name(c->bin)) : out_null(o);
		break;
	}
	case REGION_IMAGE:
		out_kstr(o, "module", v->d.image.module);
		out_key(o, "section");
		v->d.image.section ? out_str(o, v->d.image.section) : out_null(o);
		out_key(o, "symbol");
		v->d.image.symbol ? out_str(o, v->d.image.symbol) : out_null(o);
		out_kuint(o, "symbol_offset", v->d.image.sym_offset);
		break;
	case REGION_THREAD_STACK:
		out_kint(o, "tid", v->d.tstack.tid);
		out_key(o, "m");
		v->d.tstack.m_id < 0 ? out_null(o) : out_int(o, v->d.tstack.m_id);
		out_kstr(o, "kind", v->d.tstack.kind);
		out_khex(o, "lo", v->d.tstack.lo);
		out_khex(o, "hi", v->d.tstack.hi);
		out_key(o, "live");
		v->d.tstack.live < 0 ? out_null(o) : out_bool(o, v->d.tstack.live);
		break;
	case REGION_MAPPED:
		perms(v->d.mapping.flags, p);
		out_khex(o, "start", v->d.mapping.start);
		out_khex(o, "end", v->d.mapping.end);
		out_kstr(o, "perms", p);
		out_key(o, "file");
		v->d.mapping.file ? out_str(o, v->d.mapping.file) : out_null(o);
		out_kbool(o, "saved", v->d.mapping.saved);
		break;
	case REGION_UNMAPPED:
		out_kstr(o, "reason", unmapped_kind_name(v->d.unmapped.kind));
		if (v->d.unmapped.kind == UNMAPPED_STACK_GUARD) {
			out_kint(o, "tid", v->d.unmapped.tid);
			out_khex(o, "stack_lo", v->d.unmapped.stack_lo);
		}
		break;
	}
	if (v->note[0])
		out_kstr(o, "note", v->note);
}

static void verdict_detail_text(FILE *f, const struct verdict *v)
{
	char p[4];
	switch (v->region) {
	case REGION_GO_HEAP: {
		const struct go_span *s = &v->d.heap.span;
		const struct go_slot *sl = &v->d.heap.slot;
		if (v->d.heap.kind != GO_SPAN_INUSE)
			break;
		fprintf(f, "    span 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " pages), spanclass %u "
			   "(size class %u, %s), elemsize %" PRIu64 ", %" PRIu64 " slots  [mspan 0x%" PRIx64 "]\n",
			s->start, s->limit, s->npages, s->spanclass, go_spanclass_sizeclass(s->spanclass),
			go_spanclass_noscan(s->spanclass) ? "noscan" : "scan", s->elemsize, s->nelems,
			s->addr);
		fprintf(f, "    slot %" PRIu64 " at 0x%" PRIx64 " +0x%" PRIx64 "%s%s%s", sl->index,
			sl->base, sl->offset, sl->has_header ? ", object after 8-byte type header" : "",
			sl->large ? ", large object" : "", sl->tiny ? ", tiny-allocator block" : "");
		if (sl->marked >= 0)
			fprintf(f, ", %s", sl->marked ? "marked" : "unmarked");
		fputc('\n', f);
		break;
	}
	case REGION_GO_STACK:
		if (v->d.stack.g)
			fprintf(f, "    goroutine %" PRIu64 " (%s), stack 0x%" PRIx64 "-0x%" PRIx64
				   ", sp 0x%" PRIx64 "%s\n",
				v->d.stack.goid, v->d.stack.status_name, v->d.stack.lo, v->d.stack.hi,
				v->d.stack.sp, v->d.stack.live < 0 ? "" : v->d.stack.live ?
				", live part" : ", below sp (dead part)");
		break;
	case REGION_GO_RUNTIME:
		fprintf(f, "    %s of M%" PRId64 " (thread %" PRId64 "), 0x%" PRIx64 "-0x%" PRIx64 "\n",
			v->d.rt.what, v->d.rt.m_id, v->d.rt.tid, v->d.rt.lo, v->d.rt.hi);
		break;
	case REGION_C_HEAP: {
		const struct cheap_chunk *c = &v->d.chunk;
		if (!c->chunk)
			break;
		int64_t off = (int64_t)(v->addr - c->user);
		fprintf(f, "    chunk 0x%" PRIx64 " size %" PRIu64 ", user 0x%" PRIx64 " (%" PRIu64
			   " bytes) %s0x%" PRIx64 "%s\n",
			c->chunk, c->size, c->user, c->user_size, off < 0 ? "-" : "+",
			(uint64_t)(off < 0 ? -off : off), c->mmapped ? ", mmapped" : "");
		if (c->mmapped)
			break;
		fprintf(f, "    arena 0x%" PRIx64 " (%s)", c->arena, c->main_arena ? "main" : "thread");
		if (c->state == CHEAP_FREE)
			fprintf(f, ", in %s bin", cheap_bin_name(c->bin));
		fputc('\n', f);
		break;
	}
	case REGION_IMAGE:
		fprintf(f, "    %s", v->d.image.module);
		if (v->d.image.section)
			fprintf(f, " %s", v->d.image.section);
		if (v->d.image.symbol)
			fprintf(f, " %s+0x%" PRIx64, v->d.image.symbol, v->d.image.sym_offset);
		fputc('\n', f);
		break;
	case REGION_THREAD_STACK:
		fprintf(f, "    thread %" PRId64 " %s stack 0x%" PRIx64 "-0x%" PRIx64, v->d.tstack.tid,
			v->d.tstack.kind, v->d.tstack.lo, v->d.tstack.hi);
		if (v->d.tstack.m_id >= 0)
			fprintf(f, " (M%" PRId64 ")", v->d.tstack.m_id);
		if (v->d.tstack.live >= 0)
			fprintf(f, ", %s", v->d.tstack.live ? "live part" : "below sp");
		fputc('\n', f);
		break;
	case REGION_MAPPED:
		perms(v->d.mapping.flags, p);
		fprintf(f, "    0x%" PRIx64 "-0x%" PRIx64 " %s %s%s\n", v->d.mapping.start,
			v->d.mapping.end, p, v->d.mapping.file ? v->d.mapping.file : "(anonymous)",
			v->d.mapping.saved ? "" : ", not saved in the core");
		break;
	case REGION_UNMAPPED:
		fprintf(f, "    %s", unmapped_kind_name(v->d.unmapped.kind));
		if (v->d.unmapped.kind == UNMAPPED_STACK_GUARD)
			fprintf(f, " of thread %" PRId64 " (stack starts at 0x%" PRIx64 ")",
				v->d.unmapped.tid, v->d.unmapped.stack_lo);
		fputc('\n', f);
		break;
	}
	if (v->note[0])
		fprintf(f, "    note: %s\n", v->note);
}

void classify_verdict_out(struct out *o, const struct verdict *v)
{
	if (o->json) {
		out_obj_begin(o);
		out_khex(o, "addr", v->addr);
		out_kstr(o, "region", classify_region_name(v->region));
		out_kstr(o, "state", classify_state_name(v->state));
		out_key(o, "detail");
		out_obj_begin(o);
		verdict_detail_json(o, v);
		out_obj_end(o);
		out_obj_end(o);
		return;
	}
	fprintf(o->f, "0x%-14" PRIx64 " %-12s %s\n", v->addr, classify_region_name(v->region),
		classify_state_name(v->state));
	verdict_detail_text(o->f, v);
}
