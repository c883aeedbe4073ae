#include "gdbsyntax.h"

#include <math.h>
#include <string.h>

#include "govalue.h"
#include "mem.h"

/* The longest string written here; longer ones go to gdb (which cuts them at
 * `print elements`, 200 by default, anyway). */
enum { GDBSYN_MAX_STRING = 4096 };

int gdbsyn_kind(Dwarf_Die *type, uint64_t *size)
{
	Dwarf_Die under;
	int kind = govalue_kind(type, &under);
	*size = 0;
	if (!dw_size(&under, size))
		return -1;
	switch (kind) {
	case GO_KIND_BOOL:
		return *size == 1 ? kind : -1;
	case GO_KIND_INT: case GO_KIND_INT16: case GO_KIND_INT32: case GO_KIND_INT64:
	case GO_KIND_UINT: case GO_KIND_UINT16: case GO_KIND_UINT32: case GO_KIND_UINT64:
	case GO_KIND_UINTPTR:
		/* int8/uint8 are left out: gdb prints them as `65 'A'` */
		return *size == 2 || *size == 4 || *size == 8 ? kind : -1;
	case GO_KIND_FLOAT32:
		return *size == 4 ? kind : -1;
	case GO_KIND_FLOAT64:
		return *size == 8 ? kind : -1;
	case GO_KIND_STRING:
		return *size == 16 ? kind : -1;
	default:
		return -1;
	}
}

static bool is_signed(int kind)
{
	return kind >= GO_KIND_INT && kind <= GO_KIND_INT64;
}

/* One byte of a string as gdb's generic_emit_char writes it inside "...",
 * or false for a byte whose printing depends on the charset. */
static bool put_char(FILE *f, uint8_t c, bool next_is_digit)
{
	/* f NULL: only say whether c can be written */
	static const char named[] = { ['\a'] = 'a', ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n',
				      ['\r'] = 'r', ['\t'] = 't', ['\v'] = 'v' };
	if (c >= 0x80)
		return false;
	bool octal = (c < 0x20 && !(c < sizeof(named) && named[c])) || c == 0x7f;
	/* an octal escape followed by a digit would read differently */
	if (octal && next_is_digit)
		return false;
	if (!f)
		return true;
	if (c == '"' || c == '\\')
		fprintf(f, "\\%c", c);
	else if (octal)
		fprintf(f, "\\%03o", c);
	else if (c < 0x20)
		fprintf(f, "\\%c", named[c]);
	else
		fputc(c, f);
	return true;
}

static bool write_string(const struct go_rt *rt, uint64_t addr, const struct gdbsyn_opts *opts,
			 FILE *f)
{
	uint64_t ptr, len;
	if (mem_read(rt->mem, addr + rt->string_ptr_off, &ptr, 8) != MEM_OK ||
	    mem_read(rt->mem, addr + rt->string_len_off, &len, 8) != MEM_OK)
		return false;
	if (len == 0) {
		fputs("\"\"", f);
		return true;
	}
	if (len > GDBSYN_MAX_STRING || (opts->max_string && len >= opts->max_string))
		return false;
	uint8_t buf[GDBSYN_MAX_STRING];
	if (mem_read(rt->mem, ptr, buf, len) != MEM_OK)
		return false;
	/* check first, so that nothing is written for a refused string */
	uint64_t run = 0;
	for (uint64_t i = 0; i < len; i++) {
		run = i && buf[i] == buf[i - 1] ? run + 1 : 1;
		if (buf[i] >= 0x80 || (opts->repeats && run > opts->repeats))
			return false;
		bool digit = i + 1 < len && buf[i + 1] >= '0' && buf[i + 1] <= '9';
		if (!put_char(NULL, buf[i], digit))
			return false;
	}
	fputc('"', f);
	for (uint64_t i = 0; i < len; i++)
		put_char(f, buf[i], false);
	fputc('"', f);
	return true;
}

bool gdbsyn_write(const struct go_rt *rt, int kind, uint64_t size, uint64_t addr,
		  const struct gdbsyn_opts *opts, FILE *f)
{
	if (kind == GO_KIND_STRING)
		return write_string(rt, addr, opts, f);
	uint8_t b[8] = { 0 };
	if (size > sizeof(b) || mem_read(rt->mem, addr, b, size) != MEM_OK)
		return false;
	uint64_t u = 0;
	memcpy(&u, b, size); /* little-endian: the low bytes */
	switch (kind) {
	case GO_KIND_BOOL:
		/* gdb prints a bool byte other than 0 or 1 as the number */
		if (u > 1)
			return false;
		fputs(u ? "true" : "false", f);
		return true;
	case GO_KIND_FLOAT32: {
		float v;
		memcpy(&v, b, 4);
		if (!isfinite(v))
			return false;
		/* gdb: %g with the digits that round-trip the format (9 for float) */
		fprintf(f, "%.9g", (double)v);
		return true;
	}
	case GO_KIND_FLOAT64: {
		double v;
		memcpy(&v, b, 8);
		if (!isfinite(v))
			return false;
		fprintf(f, "%.17g", v);
		return true;
	}
	default:
		break;
	}
	if (is_signed(kind) && size < 8 && (u >> (size * 8 - 1)) & 1)
		u |= ~0ULL << (size * 8); /* sign-extend */
	if (is_signed(kind))
		fprintf(f, "%lld", (long long)(int64_t)u);
	else
		fprintf(f, "%llu", (unsigned long long)u);
	return true;
}
