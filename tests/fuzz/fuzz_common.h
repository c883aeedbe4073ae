/* Shared by the libFuzzer harnesses (fuzz_*.c) and the seed extractor
 * (mkseed.c): a memory image format, a struct mem over it, the sample
 * executables whose DWARF the memory harnesses use, and a strict JSON/UTF-8
 * checker.
 *
 * A memory image is what a model read from a real sample core, cut into
 * records:  u64 addr | u32 len | len bytes  (little-endian), repeated to the
 * end of the input. The fuzzer mutates the bytes, the lengths and the
 * addresses alike. Bytes no record covers are "not in the core", as bytes a
 * truncated or filtered core did not save. */
#ifndef CT_FUZZ_COMMON_H
#define CT_FUZZ_COMMON_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dw.h"
#include "mem.h"
#include "target.h"

/* ---- reading the input ---- */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool fz_take(struct fz_in *in, void *out, size_t len)
{
	if (in->n < len) {
		memset(out, 0, len);
		return false;
	}
	memcpy(out, in->p, len);
	in->p += len;
	in->n -= len;
	return true;
}

static inline uint64_t fz_u64(struct fz_in *in)
{
	uint8_t b[8];
	fz_take(in, b, 8);
	return mem_load(b, 8);
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	uint8_t b[4];
	fz_take(in, b, 4);
	return (uint32_t)mem_load(b, 4);
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	uint8_t b[2];
	fz_take(in, b, 2);
	return (uint16_t)mem_load(b, 2);
}

static inline uint8_t fz_u8(struct fz_in *in)
{
	uint8_t b = 0;
	fz_take(in, &b, 1);
	return b;
}

/* ---- the memory image ---- */

struct fz_rec {
	uint64_t addr, len;
	const uint8_t *data;
};

struct fz_image {
	struct fz_rec *recs; /* sorted by addr, non-overlapping */
	size_t n;
};

static int fz_rec_cmp(const void *a, const void *b)
{
	const struct fz_rec *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Parses records from the rest of the input; the image points into it. */
static inline void fz_image_parse(struct fz_in *in, struct fz_image *img)
{
	img->recs = NULL;
	img->n = 0;
	size_t cap = 0;
	while (in->n >= 12) {
		uint64_t addr = fz_u64(in);
		uint64_t len = fz_u32(in);
		if (len > in->n)
			len = in->n;
		if (len && addr + len >= addr) { /* no wrap past 2^64 */
			if (img->n == cap) {
				cap = cap ? cap * 2 : 64;
				img->recs = realloc(img->recs, cap * sizeof(*img->recs));
				if (!img->recs)
					abort();
			}
			img->recs[img->n++] = (struct fz_rec){ addr, len, in->p };
		}
		in->p += len;
		in->n -= len;
	}
	if (img->n)
		qsort(img->recs, img->n, sizeof(*img->recs), fz_rec_cmp);
	/* Overlaps: the earlier record wins, the later one is cut or dropped. */
	size_t k = 0;
	for (size_t i = 0; i < img->n; i++) {
		struct fz_rec r = img->recs[i];
		if (k) {
			const struct fz_rec *prev = &img->recs[k - 1];
			uint64_t end = prev->addr + prev->len;
			if (r.addr < end) {
				if (r.addr + r.len <= end)
					continue;
				r.data += end - r.addr;
				r.len -= end - r.addr;
				r.addr = end;
			}
		}
		img->recs[k++] = r;
	}
	img->n = k;
}

static inline void fz_image_free(struct fz_image *img)
{
	free(img->recs);
	img->recs = NULL;
	img->n = 0;
}

static inline const struct fz_rec *fz_image_find(const struct fz_image *img, uint64_t addr)
{
	size_t lo = 0, hi = img->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct fz_rec *r = &img->recs[mid];
		if (addr < r->addr)
			hi = mid;
		else if (addr - r->addr >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static enum mem_status fz_image_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct fz_image *img = arg;
	unsigned char *out = buf;
	bool some = false;
	while (len > 0) {
		const struct fz_rec *r = fz_image_find(img, addr);
		if (!r)
			return some ? MEM_NOT_SAVED : MEM_UNMAPPED;
		uint64_t off = addr - r->addr, n = r->len - off;
		if (n > len)
			n = len;
		memcpy(out, r->data + off, n);
		out += n;
		addr += n;
		len -= n;
		some = true;
	}
	return MEM_OK;
}

static inline struct mem fz_image_mem(struct fz_image *img)
{
	return (struct mem){ fz_image_read, img, NULL, NULL };
}


/* ---- record mode: making seeds from a real core ----
 *
 * With CT_FUZZ_RECORD=CORE:OUT in the environment, a harness run on one input
 * reads the real core (through the same struct mem as the CLI) instead of the
 * input's image, records every range it read successfully, and writes OUT: its
 * parameters (which the harness may complete from the core) followed by the
 * recorded ranges as image records. The seed is then exactly the memory the
 * harness's own code path touches (tests/fuzz/mkseeds.py drives this). */

struct fz_range {
	uint64_t addr, len;
};

struct fz_recorder {
	struct target *t;
	struct mem inner;
	struct fz_range *r;
	size_t n, cap;
	char *out;
};

static struct fz_recorder *fz_rec;

static enum mem_status fz_rec_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct fz_recorder *rec = arg;
	enum mem_status st = mem_read(&rec->inner, addr, buf, len);
	if (st == MEM_OK && len) {
		if (rec->n == rec->cap) {
			rec->cap = rec->cap ? rec->cap * 2 : 1024;
			rec->r = realloc(rec->r, rec->cap * sizeof(*rec->r));
			if (!rec->r)
				abort();
		}
		rec->r[rec->n++] = (struct fz_range){ addr, len };
	}
	return st;
}

/* Called from LLVMFuzzerInitialize. */
static inline void fz_record_init(void)
{
	const char *env = getenv("CT_FUZZ_RECORD");
	if (!env || !*env)
		return;
	char *spec = strdup(env), *colon = strrchr(spec, ':');
	if (!colon) {
		fprintf(stderr, "CT_FUZZ_RECORD=CORE:OUT\n");
		exit(2);
	}
	*colon = 0;
	fz_rec = calloc(1, sizeof(*fz_rec));
	fz_rec->out = strdup(colon + 1);
	struct target_options opt = { 0 };
	struct ct_error *err = target_open_core(spec, &opt, &fz_rec->t);
	if (err) {
		fprintf(stderr, "%s: %s\n", spec, err->msg);
		exit(2);
	}
	fz_rec->inner = fz_rec->t->mem;
	free(spec);
}

/* The memory a harness reads: the input's image, or the real core when recording. */
static inline struct mem fz_mem(struct fz_image *img)
{
	if (fz_rec)
		return (struct mem){ fz_rec_read, fz_rec, NULL, NULL };
	return fz_image_mem(img);
}

static int fz_range_cmp(const void *a, const void *b)
{
	const struct fz_range *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static inline void fz_put(FILE *f, uint64_t v, size_t size)
{
	for (size_t i = 0; i < size; i++)
		fputc((int)(v >> (8 * i)) & 0xff, f);
}

/* Writes the seed: the harness's parameters, then the merged ranges read.
 * Ranges closer than `gap` bytes are joined when the gap is readable too, so
 * that a pointer moved a little by the fuzzer still finds bytes. */
static inline void fz_record_write(const void *hdr, size_t hdrlen, uint64_t gap)
{
	struct fz_recorder *rec = fz_rec;
	if (rec->n)
		qsort(rec->r, rec->n, sizeof(*rec->r), fz_range_cmp);
	size_t k = 0;
	for (size_t i = 0; i < rec->n; i++) {
		struct fz_range r = rec->r[i];
		if (k) {
			struct fz_range *p = &rec->r[k - 1];
			uint64_t pend = p->addr + p->len;
			if (r.addr <= pend + gap) {
				uint64_t end = r.addr + r.len > pend ? r.addr + r.len : pend;
				unsigned char probe;
				bool gap_ok = true;
				for (uint64_t a = pend; a < r.addr && gap_ok; a++)
					gap_ok = mem_read(&rec->inner, a, &probe, 1) == MEM_OK;
				if (gap_ok && end - p->addr < (1u << 30)) {
					p->len = end - p->addr;
					continue;
				}
			}
		}
		rec->r[k++] = r;
	}
	rec->n = k;
	FILE *f = fopen(rec->out, "wb");
	if (!f) {
		perror(rec->out);
		exit(2);
	}
	fwrite(hdr, 1, hdrlen, f);
	size_t total = 0;
	for (size_t i = 0; i < rec->n; i++) {
		unsigned char *buf = malloc(rec->r[i].len);
		if (!buf || mem_read(&rec->inner, rec->r[i].addr, buf, rec->r[i].len) != MEM_OK)
			abort();
		fz_put(f, rec->r[i].addr, 8);
		fz_put(f, rec->r[i].len, 4);
		fwrite(buf, 1, rec->r[i].len, f);
		total += rec->r[i].len;
		free(buf);
	}
	fclose(f);
	fprintf(stderr, "recorded %zu ranges, %zu bytes -> %s\n", rec->n, total, rec->out);
	rec->n = 0;
}

/* CT_FUZZ_VERBOSE=1: harnesses say what failed (to check that seeds get far). */
static inline void fz_note(const char *what, const struct ct_error *err)
{
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("CT_FUZZ_VERBOSE") != NULL;
	if (verbose && err)
		fprintf(stderr, "fuzz: %s: %s\n", what, err->msg);
}

#define FZ_STR2(x) #x
#define FZ_STR(x) FZ_STR2(x)
/* Drops an error the harness expects (damage), saying so when verbose. */
#define FZ_DROP(err) do { fz_note(__FILE__ ":" FZ_STR(__LINE__), (err)); ct_error_destroy(err); } while (0)

/* A growing byte buffer for the parameters of a seed. */
struct fz_buf {
	unsigned char *p;
	size_t n, cap;
};

static inline void fz_buf_put(struct fz_buf *b, uint64_t v, size_t size)
{
	if (b->n + size > b->cap) {
		b->cap = (b->n + size) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	for (size_t i = 0; i < size; i++)
		b->p[b->n++] = (unsigned char)(v >> (8 * i));
}

static inline void fz_buf_bytes(struct fz_buf *b, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fz_buf_put(b, ((const unsigned char *)p)[i], 1);
}

/* ---- the sample executables (DWARF of real Go binaries) ---- */

#ifndef CT_FUZZ_ROOT
#define CT_FUZZ_ROOT "."
#endif

/* Index 0: classic maps (go1.23), 1: Swiss maps (go1.26); an input names its
 * executable by index. CT_FUZZ_EXES=path:path overrides the list. */
#define FZ_MAX_EXES 8
static const char *const fz_default_exes[] = {
	CT_FUZZ_ROOT "/build/samples/go1.23/maps/exe",
	CT_FUZZ_ROOT "/build/samples/go1.26/maps/exe",
};

struct fz_exes {
	struct dw *dw[FZ_MAX_EXES];
	size_t n;
};

static inline void fz_exes_open(struct fz_exes *ex)
{
	memset(ex, 0, sizeof(*ex));
	const char *env = getenv("CT_FUZZ_EXES");
	char *list = NULL;
	const char *paths[FZ_MAX_EXES];
	size_t np = 0;
	if (env && *env) {
		list = strdup(env);
		for (char *s = strtok(list, ":"); s && np < FZ_MAX_EXES; s = strtok(NULL, ":"))
			paths[np++] = s;
	} else {
		for (size_t i = 0; i < sizeof(fz_default_exes) / sizeof(fz_default_exes[0]); i++)
			paths[np++] = fz_default_exes[i];
	}
	for (size_t i = 0; i < np; i++) {
		struct dw *dw = NULL;
		struct ct_error *err = dw_open(paths[i], &dw);
		if (err) {
			fprintf(stderr, "fuzz: %s: %s (harness runs without it)\n", paths[i], err->msg);
			ct_error_destroy(err);
			dw = NULL;
		}
		ex->dw[ex->n++] = dw;
	}
	free(list);
}

static inline const struct dw *fz_exe(const struct fz_exes *ex, uint8_t idx)
{
	if (!ex->n)
		return NULL;
	const struct dw *dw = ex->dw[idx % ex->n];
	/* Recording: the seed must be made with the executable it will be replayed with. */
	if (fz_rec && (!dw || !fz_rec->t->dw || dw->build_id_len != fz_rec->t->dw->build_id_len ||
		       memcmp(dw->build_id, fz_rec->t->dw->build_id, dw->build_id_len))) {
		fprintf(stderr, "record: executable %u is not the core's executable\n", idx % (unsigned)ex->n);
		exit(3); /* mkseeds.py: skip this core */
	}
	return dw;
}

/* ---- strict JSON checking ---- */

/* Decodes one UTF-8 sequence strictly (no overlongs, surrogates, > U+10FFFF);
 * returns its length or 0. */
static inline size_t fz_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned c = s[0];
	size_t len;
	uint32_t v;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; }
	else if (c >= 0xE0 && c <= 0xEF) { len = 3; v = c & 0x0F; }
	else if (c >= 0xF0 && c <= 0xF4) { len = 4; v = c & 0x07; }
	else return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) || v > 0x10FFFF ||
	    (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

struct fz_json {
	const unsigned char *s;
	size_t n, i;
	int depth;
	/* Code points of the strings, in order (when collecting). */
	uint32_t *cps;
	size_t ncps, capcps;
	bool collect;
};

static inline void fz_json_ws(struct fz_json *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\n' || j->s[j->i] == '\t' ||
			       j->s[j->i] == '\r'))
		j->i++;
}

static inline void fz_json_cp(struct fz_json *j, uint32_t cp)
{
	if (!j->collect)
		return;
	if (j->ncps == j->capcps) {
		j->capcps = j->capcps ? 2 * j->capcps : 256;
		j->cps = realloc(j->cps, j->capcps * sizeof(*j->cps));
		if (!j->cps)
			abort();
	}
	j->cps[j->ncps++] = cp;
}

static inline int fz_hex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static inline bool fz_json_string(struct fz_json *j)
{
	if (j->i >= j->n || j->s[j->i] != '"')
		return false;
	j->i++;
	while (j->i < j->n) {
		unsigned c = j->s[j->i];
		if (c == '"') {
			j->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++j->i >= j->n)
				return false;
			c = j->s[j->i++];
			uint32_t cp;
			switch (c) {
			case '"': cp = '"'; break;
			case '\\': cp = '\\'; break;
			case '/': cp = '/'; break;
			case 'b': cp = 8; break;
			case 'f': cp = 12; break;
			case 'n': cp = 10; break;
			case 'r': cp = 13; break;
			case 't': cp = 9; break;
			case 'u': {
				if (j->n - j->i < 4)
					return false;
				cp = 0;
				for (int k = 0; k < 4; k++) {
					int h = fz_hex(j->s[j->i++]);
					if (h < 0)
						return false;
					cp = cp << 4 | (uint32_t)h;
				}
				/* A lone surrogate escape is not valid Unicode: reject it. */
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return false;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (j->n - j->i < 6 || j->s[j->i] != '\\' || j->s[j->i + 1] != 'u')
						return false;
					j->i += 2;
					uint32_t lo = 0;
					for (int k = 0; k < 4; k++) {
						int h = fz_hex(j->s[j->i++]);
						if (h < 0)
							return false;
						lo = lo << 4 | (uint32_t)h;
					}
					if (lo < 0xDC00 || lo > 0xDFFF)
						return false;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				}
				break;
			}
			default:
				return false;
			}
			fz_json_cp(j, cp);
			continue;
		}
		uint32_t cp;
		size_t len = fz_utf8(j->s + j->i, j->n - j->i, &cp);
		if (!len)
			return false;
		j->i += len;
		fz_json_cp(j, cp);
	}
	return false;
}

static inline bool fz_json_value(struct fz_json *j);

static inline bool fz_json_lit(struct fz_json *j, const char *lit)
{
	size_t n = strlen(lit);
	if (j->n - j->i < n || memcmp(j->s + j->i, lit, n))
		return false;
	j->i += n;
	return true;
}

static inline bool fz_json_number(struct fz_json *j)
{
	size_t start = j->i;
	if (j->i < j->n && j->s[j->i] == '-')
		j->i++;
	if (j->i >= j->n)
		return false;
	if (j->s[j->i] == '0') {
		j->i++;
	} else if (j->s[j->i] >= '1' && j->s[j->i] <= '9') {
		while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
	} else {
		return false;
	}
	if (j->i < j->n && j->s[j->i] == '.') {
		j->i++;
		size_t d = j->i;
		while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
		if (j->i == d)
			return false;
	}
	if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
		j->i++;
		if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
			j->i++;
		size_t d = j->i;
		while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
		if (j->i == d)
			return false;
	}
	return j->i > start;
}

static inline bool fz_json_value(struct fz_json *j)
{
	fz_json_ws(j);
	if (j->i >= j->n)
		return false;
	unsigned c = j->s[j->i];
	if (c == '"')
		return fz_json_string(j);
	if (c == '{' || c == '[') {
		if (++j->depth > 200)
			return false;
		unsigned close = c == '{' ? '}' : ']';
		j->i++;
		fz_json_ws(j);
		if (j->i < j->n && j->s[j->i] == close) {
			j->i++;
			j->depth--;
			return true;
		}
		for (;;) {
			if (c == '{') {
				fz_json_ws(j);
				if (!fz_json_string(j))
					return false;
				fz_json_ws(j);
				if (j->i >= j->n || j->s[j->i] != ':')
					return false;
				j->i++;
			}
			if (!fz_json_value(j))
				return false;
			fz_json_ws(j);
			if (j->i >= j->n)
				return false;
			if (j->s[j->i] == ',') {
				j->i++;
				continue;
			}
			if (j->s[j->i] == close) {
				j->i++;
				j->depth--;
				return true;
			}
			return false;
		}
	}
	if (c == 't')
		return fz_json_lit(j, "true");
	if (c == 'f')
		return fz_json_lit(j, "false");
	if (c == 'n')
		return fz_json_lit(j, "null");
	return fz_json_number(j);
}

/* True if s[0..n) is a sequence of JSON values separated by whitespace (JSON
 * Lines included), all strings valid UTF-8. */
static inline bool fz_json_valid(const char *s, size_t n)
{
	struct fz_json j = { .s = (const unsigned char *)s, .n = n };
	fz_json_ws(&j);
	while (j.i < j.n) {
		if (!fz_json_value(&j))
			return false;
		fz_json_ws(&j);
	}
	return true;
}

#endif
