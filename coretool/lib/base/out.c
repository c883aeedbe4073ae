#define _GNU_SOURCE
#include "out.h"

#include <inttypes.h>
#include <stdio_ext.h>
#include <math.h>
#include <string.h>

/* A dump writes tens of millions of bytes in pieces of a few: each piece goes
 * straight into the stream's buffer when it fits, as glibc's own putc macro
 * does (a line-buffered terminal never has room: it takes fwrite's path). */
static inline void write_o(const void *p, size_t n, FILE *f)
{
#ifdef __GLIBC__
	if ((size_t)(f->_IO_write_end - f->_IO_write_ptr) >= n) {
		memcpy(f->_IO_write_ptr, p, n);
		f->_IO_write_ptr += n;
		return;
	}
#endif
	fwrite_unlocked(p, 1, n, f);
}
#define putc_o(c, f) putc_unlocked((c), (f))
#define puts_o(s, f) write_o((s), strlen(s), (f))

void out_init(struct out *o, FILE *f, bool json)
{
	/* One thread writes a stream: stdio's per-call locking is pure cost on
	 * a million-entry dump. */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->json = json;
	o->first[0] = true;
}

static void out_indent(struct out *o)
{
	static const char nl[] = "\n                                                                "
				 "                                                                ";
	if (!o->pretty)
		return;
	size_t n = 1 + 2 * (size_t)o->depth;
	write_o(nl, n < sizeof(nl) - 1 ? n : sizeof(nl) - 1, o->f);
}

/* Separator before a value (or a key) at the current depth. */
static void out_raw_str(struct out *o, const char *s, size_t n);

static void out_sep(struct out *o)
{
	if (o->after_key) {
		o->after_key = false;
		return;
	}
	if (o->depth > 0) {
		if (!o->first[o->depth])
			putc_o(',', o->f);
		out_indent(o);
	}
	o->first[o->depth] = false;
}

static void out_open(struct out *o, char c)
{
	out_sep(o);
	putc_o(c, o->f);
	if (o->depth < OUT_MAX_DEPTH - 1)
		o->depth++;
	o->first[o->depth] = true;
}

static void out_close(struct out *o, char c)
{
	bool empty = o->first[o->depth];
	if (o->depth > 0)
		o->depth--;
	if (!empty)
		out_indent(o);
	putc_o(c, o->f);
}

void out_obj_begin(struct out *o) { out_open(o, '{'); }
void out_obj_end(struct out *o) { out_close(o, '}'); }
void out_arr_begin(struct out *o) { out_open(o, '['); }
void out_arr_end(struct out *o) { out_close(o, ']'); }

void out_key(struct out *o, const char *key)
{
	out_sep(o);
	out_raw_str(o, key, strlen(key));
	puts_o(o->pretty ? ": " : ":", o->f);
	o->after_key = true;
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
	else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
	else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
	else return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and out-of-range code points are invalid. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* JSON has no byte escape: an invalid byte becomes "\u00XX" (the byte's
 * value as a code point), so the output stays valid UTF-8 and the byte is still visible. */
static void out_raw_str(struct out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	putc_o('"', o->f);
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		if (c == '"' || c == '\\') {
			putc_o('\\', o->f);
			putc_o(c, o->f);
			i++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': puts_o("\\n", o->f); break;
			case '\t': puts_o("\\t", o->f); break;
			case '\r': puts_o("\\r", o->f); break;
			default: fprintf(o->f, "\\u%04x", c);
			}
			i++;
		} else if (c < 0x80) {
			size_t j = i + 1; /* a run of plain ASCII: one write */
			while (j < n && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\')
				j++;
			write_o(p + i, j - i, o->f);
			i = j;
		} else {
			size_t len = utf8_len(p + i, n - i);
			if (len) {
				write_o(p + i, len, o->f);
				i += len;
			} else {
				fprintf(o->f, "\\u%04x", c);
				i++;
			}
		}
	}
	putc_o('"', o->f);
}

void out_strn(struct out *o, const char *s, size_t n)
{
	out_sep(o);
	out_raw_str(o, s, n);
}

void out_str(struct out *o, const char *s) { out_strn(o, s ? s : "", s ? strlen(s) : 0); }

/* Integers by hand: printf's format parsing dominates a large dump, and a
 * constant base lets the compiler divide by multiplying. */
static void out_decimal(FILE *f, uint64_t v, bool neg)
{
	char buf[24];
	size_t i = sizeof(buf);
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		buf[--i] = '-';
	write_o(buf + i, sizeof(buf) - i, f);
}

static void out_hex_digits(FILE *f, uint64_t v)
{
	char buf[24];
	size_t i = sizeof(buf);
	buf[--i] = '"';
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	buf[--i] = '"';
	write_o(buf + i, sizeof(buf) - i, f);
}

void out_int(struct out *o, int64_t v)
{
	out_sep(o);
	out_decimal(o->f, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
}
void out_uint(struct out *o, uint64_t v) { out_sep(o); out_decimal(o->f, v, false); }
void out_hex(struct out *o, uint64_t v)
{
	out_sep(o);
	out_hex_digits(o->f, v);
}
void out_bool(struct out *o, bool v) { out_sep(o); puts_o(v ? "true" : "false", o->f); }
void out_null(struct out *o) { out_sep(o); puts_o("null", o->f); }

void out_double(struct out *o, double v)
{
	out_sep(o);
	if (isfinite(v))
		fprintf(o->f, "%.17g", v);
	else /* JSON has no NaN/Inf: say it as a string */
		fprintf(o->f, "\"%s\"", isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
}

void out_kstr(struct out *o, const char *k, const char *s) { out_key(o, k); out_str(o, s); }
void out_kint(struct out *o, const char *k, int64_t v) { out_key(o, k); out_int(o, v); }
void out_kuint(struct out *o, const char *k, uint64_t v) { out_key(o, k); out_uint(o, v); }
void out_khex(struct out *o, const char *k, uint64_t v) { out_key(o, k); out_hex(o, v); }
void out_kbool(struct out *o, const char *k, bool v) { out_key(o, k); out_bool(o, v); }

void out_end_line(struct out *o)
{
	putc_o('\n', o->f);
	o->depth = 0;
	o->first[0] = true;
	o->after_key = false;
}

void out_text_quoted(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	putc_o('"', f);
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\x%02x", c);
			i++;
		} else if (c < 0x80) {
			putc_o(c, f);
			i++;
		} else {
			size_t len = utf8_len(p + i, n - i);
			if (len) {
				write_o(p + i, len, f);
				i += len;
			} else {
				fprintf(f, "\\x%02x", c);
				i++;
			}
		}
	}
	putc_o('"', f);
}
