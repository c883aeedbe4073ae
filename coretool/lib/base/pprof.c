/* The pprof profile writer (pprof.h): interned strings, one function and one
 * location per frame name, samples merged by stack, then the protobuf wire
 * format (varints, length-delimited fields) deflated by zlib in gzip form. */
#define _GNU_SOURCE
#include "pprof.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ct_util.h"

struct pp_sample {
	size_t off; /* into stacks */
	uint32_t n;
	int64_t v[PPROF_MAX_VALUES];
};

struct pprof {
	char **str;
	size_t nstr, cap_str;
	uint32_t *stab; /* string index + 1; 0 free */
	size_t cap_stab;
	uint32_t *fn_of_str; /* string index -> function id (0: none); sized cap_str */
	uint32_t *fn_name;   /* function id - 1 -> string index */
	size_t nfn, cap_fn;
	uint32_t *stacks; /* location ids, the samples' stacks end to end */
	size_t nstacks, cap_stacks;
	struct pp_sample *samples;
	size_t nsamples, cap_samples;
	uint32_t *sstab; /* sample index + 1 */
	size_t cap_sstab;
	size_t ntypes;
	uint32_t type[PPROF_MAX_VALUES], unit[PPROF_MAX_VALUES];
	uint32_t *comments;
	size_t ncomments, cap_comments;
};

static uint64_t fnv(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static struct ct_error *nomem(void)
{
	return ct_error_fmt(CT_ERR_NOMEM, "pprof: out of memory");
}

/* Doubles an index table (slots hold index + 1), rehashing by key(i). */
static bool rehash(uint32_t **tab, size_t *cap, size_t n, uint64_t (*key)(const struct pprof *, size_t),
		   const struct pprof *p)
{
	size_t nc = *cap ? *cap * 2 : 1024;
	uint32_t *t = calloc(nc, sizeof(*t));
	if (!t)
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t s = key(p, i) & (nc - 1);
		while (t[s])
			s = (s + 1) & (nc - 1);
		t[s] = (uint32_t)(i + 1);
	}
	free(*tab);
	*tab = t;
	*cap = nc;
	return true;
}

static uint64_t str_key(const struct pprof *p, size_t i)
{
	return fnv(p->str[i], strlen(p->str[i]));
}

static uint64_t sample_key(const struct pprof *p, size_t i)
{
	return fnv(p->stacks + p->samples[i].off, p->samples[i].n * sizeof(uint32_t));
}

static struct ct_error *intern(struct pprof *p, const char *s, uint32_t *ret)
{
	if ((p->nstr + 1) * 2 > p->cap_stab && !rehash(&p->stab, &p->cap_stab, p->nstr, str_key, p))
		return nomem();
	uint64_t h = fnv(s, strlen(s));
	size_t slot = h & (p->cap_stab - 1);
	for (; p->stab[slot]; slot = (slot + 1) & (p->cap_stab - 1))
		if (!strcmp(p->str[p->stab[slot] - 1], s)) {
			*ret = p->stab[slot] - 1;
			return NULL;
		}
	if (p->nstr >= UINT32_MAX - 1)
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "pprof: too many strings");
	if (p->nstr == p->cap_str) {
		size_t nc = p->cap_str ? p->cap_str * 2 : 256;
		char **ns = realloc(p->str, nc * sizeof(*ns));
		if (!ns)
			return nomem();
		p->str = ns;
		uint32_t *nf = realloc(p->fn_of_str, nc * sizeof(*nf));
		if (!nf)
			return nomem();
		memset(nf + p->cap_str, 0, (nc - p->cap_str) * sizeof(*nf));
		p->fn_of_str = nf;
		p->cap_str = nc;
	}
	char *d = strdup(s);
	if (!d)
		return nomem();
	p->str[p->nstr] = d;
	p->stab[slot] = (uint32_t)(p->nstr + 1);
	*ret = (uint32_t)p->nstr++;
	return NULL;
}

/* The function (and location: the same id) named s. */
static struct ct_error *func_of(struct pprof *p, const char *s, uint32_t *ret)
{
	uint32_t si;
	struct ct_error *err = intern(p, s, &si);
	if (err)
		return err;
	if (!p->fn_of_str[si]) {
		uint32_t *slot = CT_PUSH(p->fn_name, p->nfn, p->cap_fn);
		if (!slot)
			return nomem();
		*slot = si;
		p->fn_of_str[si] = (uint32_t)p->nfn;
	}
	*ret = p->fn_of_str[si];
	return NULL;
}

struct ct_error *pprof_new(const char *const *types, const char *const *units, size_t ntypes,
			   struct pprof **ret)
{
	if (!ntypes || ntypes > PPROF_MAX_VALUES)
		return ct_error_fmt(CT_ERR_USAGE, "pprof: 1 to %d sample types", PPROF_MAX_VALUES);
	struct pprof *p = calloc(1, sizeof(*p));
	if (!p)
		return nomem();
	uint32_t empty;
	struct ct_error *err = intern(p, "", &empty); /* string_table[0] is "" */
	for (size_t i = 0; !err && i < ntypes; i++)
		if (!(err = intern(p, types[i], &p->type[i])))
			err = intern(p, units[i], &p->unit[i]);
	if (err) {
		pprof_free(p);
		return err;
	}
	p->ntypes = ntypes;
	*ret = p;
	return NULL;
}

void pprof_free(struct pprof *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nstr; i++)
		free(p->str[i]);
	free(p->str);
	free(p->stab);
	free(p->fn_of_str);
	free(p->fn_name);
	free(p->stacks);
	free(p->samples);
	free(p->sstab);
	free(p->comments);
	free(p);
}

struct ct_error *pprof_comment(struct pprof *p, const char *text)
{
	uint32_t si;
	struct ct_error *err = intern(p, text, &si);
	if (err)
		return err;
	uint32_t *c = CT_PUSH(p->comments, p->ncomments, p->cap_comments);
	if (!c)
		return nomem();
	*c = si;
	return NULL;
}

struct ct_error *pprof_add(struct pprof *p, const char *const *frames, size_t nframes,
			   const int64_t *values)
{
	if (nframes > PPROF_MAX_DEPTH)
		nframes = PPROF_MAX_DEPTH;
	/* The stack goes at the end of the pool; dropped again if seen before. */
	size_t off = p->nstacks;
	for (size_t i = 0; i < nframes; i++) {
		uint32_t loc = 0;
		struct ct_error *err = func_of(p, frames[i] && frames[i][0] ? frames[i] : "?", &loc);
		if (err) {
			p->nstacks = off;
			return err;
		}
		uint32_t *slot = CT_PUSH(p->stacks, p->nstacks, p->cap_stacks);
		if (!slot) {
			p->nstacks = off;
			return nomem();
		}
		*slot = loc;
	}
	if ((p->nsamples + 1) * 2 > p->cap_sstab &&
	    !rehash(&p->sstab, &p->cap_sstab, p->nsamples, sample_key, p)) {
		p->nstacks = off;
		return nomem();
	}
	size_t bytes = nframes * sizeof(uint32_t);
	size_t slot = fnv(p->stacks + off, bytes) & (p->cap_sstab - 1);
	for (; p->sstab[slot]; slot = (slot + 1) & (p->cap_sstab - 1)) {
		struct pp_sample *s = &p->samples[p->sstab[slot] - 1];
		if (s->n == nframes && !memcmp(p->stacks + s->off, p->stacks + off, bytes)) {
			for (size_t v = 0; v < p->ntypes; v++)
				s->v[v] += values[v];
			p->nstacks = off;
			return NULL;
		}
	}
	if (p->nsamples >= UINT32_MAX - 1)
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "pprof: too many stacks");
	struct pp_sample *s = CT_PUSH(p->samples, p->nsamples, p->cap_samples);
	if (!s) {
		p->nstacks = off;
		return nomem();
	}
	s->off = off;
	s->n = (uint32_t)nframes;
	for (size_t v = 0; v < p->ntypes; v++)
		s->v[v] = values[v];
	p->sstab[slot] = (uint32_t)p->nsamples;
	return NULL;
}

size_t pprof_nsamples(const struct pprof *p)
{
	return p->nsamples;
}

/* ---- the wire format ---- */

struct buf {
	unsigned char *b;
	size_t n, cap;
	bool nomem;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->nomem)
		return;
	if (b->n + n > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->n + n)
			nc *= 2;
		unsigned char *nb = realloc(b->b, nc);
		if (!nb) {
			b->nomem = true;
			return;
		}
		b->b = nb;
		b->cap = nc;
	}
	memcpy(b->b + b->n, d, n);
	b->n += n;
}

static void varint(struct buf *b, uint64_t v)
{
	unsigned char t[10];
	size_t n = 0;
	do {
		t[n] = v & 0x7f;
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	put(b, t, n);
}

/* Field numbers and wire types: 0 varint, 2 length-delimited. */
static void key(struct buf *b, unsigned field, unsigned wire)
{
	varint(b, (uint64_t)field << 3 | wire);
}

static void field_int(struct buf *b, unsigned field, uint64_t v)
{
	if (!v)
		return; /* proto3: zero is the default, not written */
	key(b, field, 0);
	varint(b, v);
}

static void field_bytes(struct buf *b, unsigned field, const void *d, size_t n)
{
	key(b, field, 2);
	varint(b, n);
	put(b, d, n);
}

/* A sub-message: encoded into m (reset by the caller), then written whole. */
static void field_msg(struct buf *b, unsigned field, const struct buf *m)
{
	if (m->nomem)
		b->nomem = true;
	field_bytes(b, field, m->b, m->n);
}

static void value_type(struct buf *b, struct buf *m, unsigned field, uint32_t type, uint32_t unit)
{
	m->n = 0;
	field_int(m, 1, type);
	field_int(m, 2, unit);
	field_msg(b, field, m);
}

static struct ct_error *encode(const struct pprof *p, struct buf *b)
{
	struct buf m = { 0 }, packed = { 0 };
	for (size_t i = 0; i < p->ntypes; i++)
		value_type(b, &m, 1, p->type[i], p->unit[i]);
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct pp_sample *s = &p->samples[i];
		m.n = 0;
		packed.n = 0;
		for (uint32_t k = 0; k < s->n; k++)
			varint(&packed, p->stacks[s->off + k]);
		if (packed.nomem)
			m.nomem = true;
		field_bytes(&m, 1, packed.b, packed.n);
		packed.n = 0;
		for (size_t v = 0; v < p->ntypes; v++)
			varint(&packed, (uint64_t)s->v[v]);
		if (packed.nomem)
			m.nomem = true;
		field_bytes(&m, 2, packed.b, packed.n);
		field_msg(b, 2, &m);
	}
	/* One mapping that says the functions are known: pprof does not try to
	 * symbolize addresses (our locations have none). */
	m.n = 0;
	field_int(&m, 1, 1);
	key(&m, 7, 0);
	varint(&m, 1); /* has_functions */
	field_msg(b, 3, &m);
	for (size_t f = 0; f < p->nfn; f++) {
		struct buf line = { 0 };
		m.n = 0;
		field_int(&m, 1, f + 1); /* id */
		field_int(&m, 2, 1);     /* mapping_id */
		field_int(&line, 1, f + 1);
		field_msg(&m, 4, &line);
		free(line.b);
		field_msg(b, 4, &m);
	}
	for (size_t f = 0; f < p->nfn; f++) {
		m.n = 0;
		field_int(&m, 1, f + 1);
		field_int(&m, 2, p->fn_name[f]);
		field_int(&m, 3, p->fn_name[f]);
		field_msg(b, 5, &m);
	}
	for (size_t i = 0; i < p->nstr; i++)
		field_bytes(b, 6, p->str[i], strlen(p->str[i]));
	for (size_t i = 0; i < p->ncomments; i++)
		field_int(b, 13, p->comments[i]);
	field_int(b, 14, p->type[p->ntypes - 1]);
	bool bad = m.nomem || packed.nomem || b->nomem;
	free(m.b);
	free(packed.b);
	return bad ? nomem() : NULL;
}

struct ct_error *pprof_write(const struct pprof *p, const char *path)
{
	struct buf b = { 0 };
	struct ct_error *err = encode(p, &b);
	if (!err && b.n > UINT32_MAX)
		err = ct_error_fmt(CT_ERR_UNSUPPORTED, "%s: profile over 4 GiB", path);
	if (err) {
		free(b.b);
		return err;
	}
	z_stream z;
	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer, as pprof expects */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(b.b);
		return nomem();
	}
	FILE *f = fopen(path, "wb");
	if (!f) {
		err = ct_error_fmt(CT_ERR_IO, "%s: %s", path, strerror(errno));
		deflateEnd(&z);
		free(b.b);
		return err;
	}
	unsigned char out[65536];
	z.next_in = b.b;
	z.avail_in = (uInt)b.n;
	int zr;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		zr = deflate(&z, Z_FINISH);
		size_t have = sizeof(out) - z.avail_out;
		if (have && fwrite(out, 1, have, f) != have) {
			err = ct_error_fmt(CT_ERR_IO, "%s: %s", path, strerror(errno));
			break;
		}
	} while (zr == Z_OK);
	if (!err && zr != Z_STREAM_END)
		err = ct_error_fmt(CT_ERR_IO, "%s: compression failed", path);
	deflateEnd(&z);
	free(b.b);
	if (fclose(f) && !err)
		err = ct_error_fmt(CT_ERR_IO, "%s: %s", path, strerror(errno));
	return err;
}
