/* Output: a streaming JSON writer (valid UTF-8 whatever bytes a Go string held,
 * addresses as "0x..." strings) and helpers for aligned text. The models never
 * print; front ends render their results through this. */
#ifndef CT_OUT_H
#define CT_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OUT_MAX_DEPTH 64

struct out {
	FILE *f;
	bool json;
	bool pretty;             /* JSON: indent (else one line, for JSON Lines) */
	int depth;
	bool first[OUT_MAX_DEPTH]; /* no element written yet at this depth */
	bool after_key;
};

void out_init(struct out *o, FILE *f, bool json);

/* JSON structure. Keys are plain ASCII literals from our code. */
void out_obj_begin(struct out *o);
void out_obj_end(struct out *o);
void out_arr_begin(struct out *o);
void out_arr_end(struct out *o);
void out_key(struct out *o, const char *key);

/* JSON values. */
void out_str(struct out *o, const char *s);
void out_strn(struct out *o, const char *s, size_t n); /* arbitrary bytes: escaped */
void out_int(struct out *o, int64_t v);
void out_uint(struct out *o, uint64_t v);
void out_hex(struct out *o, uint64_t v); /* "0x..." */
void out_bool(struct out *o, bool v);
void out_null(struct out *o);
void out_double(struct out *o, double v);

/* key + value shorthands */
void out_kstr(struct out *o, const char *k, const char *s);
void out_kint(struct out *o, const char *k, int64_t v);
void out_kuint(struct out *o, const char *k, uint64_t v);
void out_khex(struct out *o, const char *k, uint64_t v);
void out_kbool(struct out *o, const char *k, bool v);

/* Ends a top-level JSON value with a newline (JSON Lines). */
void out_end_line(struct out *o);

/* Text: bytes as a Go-quoted string, invalid UTF-8 and control bytes escaped. */
void out_text_quoted(FILE *f, const char *s, size_t n);

#endif
