/* How a core came in: unpacked from a compressed file or a zip, and what its
 * collector recorded beside it (unpack.h, origin.h), for info and triage. */
#include <inttypes.h>

#include "render.h"

void core_input_out(struct out *o, const struct core *c, int width, bool colon)
{
	const struct unpack *u = &c->unpacked;
	const struct origin *g = &c->origin;
	if (o->json) {
		if (u->format != UNPACK_RAW) {
			out_key(o, "input");
			out_obj_begin(o);
			out_kstr(o, "format", unpack_format_name(u->format));
			if (u->member) {
				out_kstr(o, "member", u->member);
				out_kstr(o, "member_format", unpack_format_name(u->inner));
			}
			out_kuint(o, "packed_size", u->packed_size);
			out_kuint(o, "size", u->size);
			out_kuint(o, "disk_size", u->disk_size);
			out_kbool(o, "cached", u->cached);
			out_key(o, "seconds");
			out_double(o, u->seconds);
			out_key(o, "unpacked_to");
			u->kept_path ? out_str(o, u->kept_path) : out_null(o);
			out_obj_end(o);
		}
		if (g->collector) {
			out_key(o, "origin");
			out_obj_begin(o);
			out_kstr(o, "collector", g->collector);
			for (size_t i = 0; i < g->n; i++)
				out_kstr(o, g->fields[i].key, g->fields[i].value);
			out_obj_end(o);
		}
		return;
	}
	FILE *f = o->f;
	if (u->format != UNPACK_RAW) {
		fprintf(f, "%-*s%s", width, colon ? "input:" : "input", unpack_format_name(u->format));
		if (u->member)
			fprintf(f, ", member %s (%s)", u->member, unpack_format_name(u->inner));
		fprintf(f, ", %" PRIu64 " bytes unpacked to %" PRIu64 " (%" PRIu64 " on disk)", u->packed_size,
			u->size, u->disk_size);
		if (u->cached)
			fprintf(f, ", reused from %s\n", u->kept_path ? u->kept_path : "the cache");
		else
			fprintf(f, " in %.2f s, %s%s\n", u->seconds, u->kept_path ? "kept in " : "a temporary file",
				u->kept_path ? u->kept_path : "");
	}
	if (g->collector) {
		fprintf(f, "%-*s%s:", width, colon ? "origin:" : "origin", g->collector);
		for (size_t i = 0; i < g->n; i++)
			fprintf(f, "%s %s=%s", i ? "," : "", g->fields[i].key, g->fields[i].value);
		fprintf(f, "\n");
	}
}
