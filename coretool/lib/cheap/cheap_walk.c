/* The glibc heap model, part 2: chunk walks, free lists, lookups.
 *
 * A chunk is in use iff the next chunk's PREV_INUSE bit is set, except chunks
 * on a tcache or fastbin list, which keep it set (malloc/malloc.c). So the
 * free lists are read first, once: every arena's fastbins and bins, then every
 * thread's tcache_perthread_struct, found among the heaps' chunks (it is an
 * ordinary chunk, usually the first of a heap) and kept only if its entries
 * point at chunks of the right sizes. Each heap is walked once from its start;
 * the walk keeps every CHEAP_CKPT-th chunk address, so a lookup is a binary
 * search plus a few header reads. A size that is corrupt stops the walk there;
 * it resumes at the next chunk known from a bin, and what lies between is
 * unknown, with the reason. Every list walk is bounded and cycle-checked. */
#define _GNU_SOURCE
#include "cheap_int.h"
#include "ct_util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREV_INUSE 1u
#define IS_MMAPPED 2u
#define NON_MAIN_ARENA 4u

/* ---- the free set: chunk address -> list it is on ---- */

static uint64_t cheap_hash(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static const struct cheap_fs_ent *cheap_fs_get(const struct cheap *c, uint64_t chunk)
{
	if (!c->fs_cap || !chunk)
		return NULL;
	for (size_t i = cheap_hash(chunk) & (c->fs_cap - 1);; i = (i + 1) & (c->fs_cap - 1)) {
		if (c->fs[i].chunk == chunk)
			return &c->fs[i];
		if (!c->fs[i].chunk)
			return NULL;
	}
}

/* Adds a chunk; *dup is the entry already there (a cycle, or a chunk on two lists). */
static struct ct_error *cheap_fs_put(struct cheap *c, uint64_t chunk, uint64_t size, enum cheap_bin bin,
				     int index, const struct cheap_fs_ent **dup)
{
	*dup = cheap_fs_get(c, chunk);
	if (*dup)
		return NULL;
	if (2 * (c->fs_n + 1) > c->fs_cap) {
		size_t ncap = c->fs_cap ? 2 * c->fs_cap : 1024;
		struct cheap_fs_ent *n = calloc(ncap, sizeof(*n));
		if (!n)
			return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		for (size_t i = 0; i < c->fs_cap; i++) {
			if (!c->fs[i].chunk)
				continue;
			size_t j = cheap_hash(c->fs[i].chunk) & (ncap - 1);
			while (n[j].chunk)
				j = (j + 1) & (ncap - 1);
			n[j] = c->fs[i];
		}
		free(c->fs);
		c->fs = n;
		c->fs_cap = ncap;
	}
	size_t j = cheap_hash(chunk) & (c->fs_cap - 1);
	while (c->fs[j].chunk)
		j = (j + 1) & (c->fs_cap - 1);
	c->fs[j] = (struct cheap_fs_ent){ chunk, size, (uint8_t)bin, (int16_t)index };
	c->fs_n++;
	return NULL;
}

/* ---- pointers on free lists ---- */

static bool cheap_size_word(const struct cheap *c, uint64_t chunk, uint64_t *w)
{
	return cheap_read_u64(c, chunk + c->L.size_sz, w);
}

/* A chunk address that can be on a list of arena ai (SIZE_MAX: any arena). */
static bool cheap_chunk_in_arena(const struct cheap *c, uint64_t chunk, size_t ai)
{
	/* Page 0 is never mapped (mmap_min_addr), and 0 is the free set's empty
	 * slot: a list that reached it would add "new" chunks without end. */
	if (chunk < c->L.pagesize || (chunk & (c->L.align - 1)))
		return false;
	const struct cheap_heap *h = cheap_heap_of(c, chunk);
	return h && chunk >= h->start && chunk + 2 * c->L.size_sz <= h->end &&
	       (ai == SIZE_MAX || h->arena == ai);
}

static bool cheap_next_ok(const struct cheap *c, uint64_t p, bool user_ptr, uint64_t want_size)
{
	uint64_t chunk = user_ptr ? p - 2 * c->L.size_sz : p, w;
	return cheap_chunk_in_arena(c, chunk, SIZE_MAX) && cheap_size_word(c, chunk, &w) &&
	       (!want_size || (w & ~(uint64_t)7) == want_size);
}

/* Safe-linking (2.32+, malloc/malloc.c PROTECT_PTR): the stored value is
 * (pos >> 12) ^ ptr, pos being where it is stored. */
uint64_t cheap_reveal(const struct cheap *c, uint64_t pos, uint64_t stored, bool user_ptr,
		      uint64_t want_size)
{
	uint64_t safe = (pos >> 12) ^ stored;
	if (c->safe_linking == 1)
		return safe;
	if (c->safe_linking == 0 || !stored)
		return stored;
	if (!safe)
		return 0;
	if (cheap_next_ok(c, safe, user_ptr, want_size))
		return safe;
	return stored;
}

/* ---- arena lists ---- */

static struct ct_error *cheap_list_fastbins(struct cheap *c, size_t ai)
{
	const struct cheap_arena *a = &c->arenas[ai];
	const struct cheap_layout *L = &c->L;
	for (uint32_t i = 0; i < L->nfastbins; i++) {
		uint64_t want = (uint64_t)(i + 2) * 2 * L->size_sz; /* fastbin_index: (sz >> 4) - 2 */
		uint64_t p = cheap_ms_u64(c, a, L->ms_fastbins + 8 * i), w;
		for (uint32_t n = 0; p && n < CHEAP_MAX_LIST; n++) {
			if (!cheap_chunk_in_arena(c, p, ai)) {
				cheap_problem(c, "fastbin %u of arena 0x%" PRIx64 ": 0x%" PRIx64
					      " is not a chunk of the arena", i, a->addr, p);
				break;
			}
			if (!cheap_size_word(c, p, &w)) {
				cheap_problem(c, "fastbin %u of arena 0x%" PRIx64 ": chunk 0x%" PRIx64
					      " not in the core", i, a->addr, p);
				break;
			}
			if ((w & ~(uint64_t)7) != want)
				cheap_problem(c, "fastbin %u of arena 0x%" PRIx64 ": chunk 0x%" PRIx64
					      " has size 0x%" PRIx64 ", not 0x%" PRIx64,
					      i, a->addr, p, w & ~(uint64_t)7, want);
			const struct cheap_fs_ent *dup;
			struct ct_error *err = cheap_fs_put(c, p, w, CHEAP_BIN_FASTBIN, (int)i, &dup);
			if (err)
				return err;
			if (dup) {
				cheap_problem(c, "fastbin %u of arena 0x%" PRIx64 ": chunk 0x%" PRIx64
					      " is listed twice (cycle or double free)", i, a->addr, p);
				break;
			}
			uint64_t stored;
			uint64_t pos = p + 2 * L->size_sz;
			if (!cheap_read_u64(c, pos, &stored)) {
				cheap_problem(c, "fastbin %u of arena 0x%" PRIx64 ": fd of 0x%" PRIx64
					      " not in the core", i, a->addr, p);
				break;
			}
			p = cheap_reveal(c, pos, stored, false, want);
		}
	}
	return NULL;
}

static enum cheap_bin cheap_bin_kind(const struct cheap *c, uint32_t i)
{
	return i == 1 ? CHEAP_BIN_UNSORTED : i < c->L.nsmallbins ? CHEAP_BIN_SMALL : CHEAP_BIN_LARGE;
}

static struct ct_error *cheap_list_bins(struct cheap *c, size_t ai)
{
	const struct cheap_arena *a = &c->arenas[ai];
	const struct cheap_layout *L = &c->L;
	for (uint32_t i = 1; i < L->nbins; i++) {
		uint64_t head = cheap_bin_header(c, a, (int)i);
		uint64_t p = cheap_ms_u64(c, a, L->ms_bins + (i - 1) * 16), w, fd;
		enum cheap_bin kind = cheap_bin_kind(c, i);
		for (uint32_t n = 0; p != head && n < CHEAP_MAX_LIST; n++) {
			if (!cheap_chunk_in_arena(c, p, ai)) {
				cheap_problem(c, "%s bin %u of arena 0x%" PRIx64 ": 0x%" PRIx64
					      " is not a chunk of the arena", cheap_bin_name(kind), i,
					      a->addr, p);
				break;
			}
			if (!cheap_size_word(c, p, &w) || !cheap_read_u64(c, p + 2 * L->size_sz, &fd)) {
				cheap_problem(c, "%s bin %u of arena 0x%" PRIx64 ": chunk 0x%" PRIx64
					      " not in the core", cheap_bin_name(kind), i, a->addr, p);
				break;
			}
			const struct cheap_fs_ent *dup;
			struct ct_error *err = cheap_fs_put(c, p, w, kind, (int)i, &dup);
			if (err)
				return err;
			if (dup) {
				cheap_problem(c, "%s bin %u of arena 0x%" PRIx64 ": chunk 0x%" PRIx64
					      " is listed twice (cycle, or on two lists)",
					      cheap_bin_name(kind), i, a->addr, p);
				break;
			}
			p = fd;
		}
	}
	return NULL;
}

/* ---- heap walks ---- */

static struct ct_error *cheap_run_begin(struct cheap_heap *h, uint64_t start)
{
	struct cheap_run *r = CT_PUSH(h->runs, h->nruns, h->cap_runs);
	if (!r)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	r->start = start;
	return NULL;
}

static struct ct_error *cheap_run_add(struct cheap_run *r, uint64_t chunk)
{
	if (r->nchunks % CHEAP_CKPT == 0) {
		if ((r->nckpt & (r->nckpt - 1)) == 0) { /* grow at powers of two */
			uint64_t *n = realloc(r->ckpt, (r->nckpt ? 2 * r->nckpt : 4) * sizeof(*n));
			if (!n)
				return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
			r->ckpt = n;
		}
		r->ckpt[r->nckpt++] = chunk;
	}
	r->nchunks++;
	return NULL;
}

static uint64_t cheap_tc_chunk_size(const struct cheap *c, int counts_size)
{
	uint64_t s = (uint64_t)c->L.tc_bins * counts_size + 8ull * c->L.tc_bins; /* counts, entries */
	if (c->L.tc_counts_size == (uint32_t)counts_size && c->L.tc_sizeof)
		s = c->L.tc_sizeof;
	return (s + c->L.size_sz + c->L.align - 1) & ~(uint64_t)(c->L.align - 1); /* request2size */
}

static bool cheap_is_tc_size(const struct cheap *c, uint64_t sz)
{
	if (!c->L.tc_bins)
		return false;
	if (c->tc_counts_size)
		return sz == cheap_tc_chunk_size(c, c->tc_counts_size);
	return sz == cheap_tc_chunk_size(c, 2) || sz == cheap_tc_chunk_size(c, 1);
}

/* The first known chunk above x and below lim where the walk can resume. */
static uint64_t cheap_resync_after(const struct cheap *c, uint64_t x, uint64_t lim)
{
	size_t lo = ct_upper_bound_u64(c->resync, c->nresync, sizeof(*c->resync), 0, x);
	for (; lo < c->nresync && c->resync[lo] < lim; lo++) {
		uint64_t w, q = c->resync[lo];
		if (cheap_size_word(c, q, &w) && (w & ~(uint64_t)7) >= c->L.minsize &&
		    q + (w & ~(uint64_t)7) <= lim)
			return q;
	}
	return 0;
}

/* A thread arena's chunk in use by the next chunk's PREV_INUSE (allocated,
 * or in the tcache or a fastbin, which keep the header malloc wrote with
 * NON_MAIN_ARENA) but without the bit: damage, reported once the lists are
 * all read (cheap_nma_report), unless a bin lists it (a bin chunk has no bit
 * and its next chunk's PREV_INUSE is clear: that contradiction is the
 * verdict's to report, cheap_state). */
#define CHEAP_MAX_NMA_CAND (1u << 16)
static struct ct_error *cheap_nma_pending(struct cheap *c, uint64_t chunk)
{
	if (c->n_nma_cand >= CHEAP_MAX_NMA_CAND)
		return NULL;
	uint64_t *n = CT_PUSH(c->nma_cand, c->n_nma_cand, c->cap_nma_cand);
	if (!n)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	*n = chunk;
	return NULL;
}

static void cheap_nma_report(struct cheap *c)
{
	for (size_t i = 0; i < c->n_nma_cand; i++) {
		const struct cheap_fs_ent *fs = cheap_fs_get(c, c->nma_cand[i]);
		if (!fs || fs->bin == CHEAP_BIN_TCACHE || fs->bin == CHEAP_BIN_FASTBIN)
			cheap_problem(c, "chunk 0x%" PRIx64 ": in use in a thread arena without the "
				      "NON_MAIN_ARENA bit", c->nma_cand[i]);
	}
}

static struct ct_error *cheap_walk_heap(struct cheap *c, struct cheap_heap *h)
{
	const struct cheap_arena *a = &c->arenas[h->arena];
	const struct cheap_layout *L = &c->L;
	h->walked = true;
	uint64_t lim = h->end;
	if (h->has_top) {
		if (a->top >= h->start && a->top < h->end)
			lim = a->top;
		else
			h->has_top = false;
	}
	uint64_t p = h->start;
	struct ct_error *err = cheap_run_begin(h, p);
	if (err)
		return err;
	/* A chunk of a thread arena without NON_MAIN_ARENA, told once the next
	 * chunk's PREV_INUSE says whether it is in use (cheap_nma_pending). */
	uint64_t pend = 0;
	for (;;) {
		struct cheap_run *r = &h->runs[h->nruns - 1];
		char why[112] = "";
		uint64_t w = 0, sz = 0;
		if (p == lim) {
			r->end = p;
			if (pend && h->has_top && cheap_size_word(c, p, &w) && (w & PREV_INUSE) &&
			    (err = cheap_nma_pending(c, pend)))
				return err;
			break;
		}
		if (p + 2 * L->size_sz > lim) {
			snprintf(why, sizeof(why), "chunk header at 0x%" PRIx64 " crosses the heap's end", p);
		} else if (!cheap_size_word(c, p, &w)) {
			snprintf(why, sizeof(why), "chunk header at 0x%" PRIx64 " not in the core", p);
		} else if ((sz = w & ~(uint64_t)7) == 0 && !h->has_top) {
			r->end = p; /* the fencepost that closes a heap (sysmalloc) */
			break;
		} else if (sz == 2 * L->size_sz && !h->has_top) {
			/* first of the two fenceposts: kept as a tiny chunk */
		} else if (sz < L->minsize || (sz & (L->align - 1))) {
			snprintf(why, sizeof(why), "chunk 0x%" PRIx64 " has a corrupt size 0x%" PRIx64, p, w);
		} else if (sz > lim - p) {
			snprintf(why, sizeof(why), "chunk 0x%" PRIx64 " size 0x%" PRIx64 " leaves the heap",
				 p, sz);
		} else if (w & IS_MMAPPED) {
			snprintf(why, sizeof(why), "chunk 0x%" PRIx64 " in a heap has IS_MMAPPED set", p);
		}
		if (!why[0] && pend && (w & PREV_INUSE) && (err = cheap_nma_pending(c, pend)))
			return err;
		pend = 0;
		if (!why[0]) {
			if ((err = cheap_run_add(r, p)))
				return err;
			/* glibc never sets NON_MAIN_ARENA in the main arena. A thread
			 * arena's chunks carry it while in use (and in the tcache and
			 * fastbins, which keep the header), but not once in a bin:
			 * _int_free's consolidation and malloc's remainders write
			 * set_head(p, size | PREV_INUSE). */
			if (sz > 2 * L->size_sz && a->is_main && (w & NON_MAIN_ARENA))
				cheap_problem(c, "chunk 0x%" PRIx64 ": NON_MAIN_ARENA bit set in the main "
					      "arena", p);
			else if (sz > 2 * L->size_sz && !a->is_main && !(w & NON_MAIN_ARENA))
				pend = p;
			if (cheap_is_tc_size(c, sz)) {
				if (c->ntc_cand == c->tc_cand_cap) {
					size_t ncap = c->tc_cand_cap ? 2 * c->tc_cand_cap : 16;
					uint64_t *n = realloc(c->tc_cand, ncap * sizeof(*n));
					if (!n)
						return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
					c->tc_cand = n;
					c->tc_cand_cap = ncap;
				}
				c->tc_cand[c->ntc_cand++] = p;
			}
			p += sz;
			continue;
		}
		r->end = p;
		r->damaged = true;
		snprintf(r->stop, sizeof(r->stop), "%s", why);
		cheap_problem(c, "heap 0x%" PRIx64 ": walk stopped: %s", h->base, why);
		uint64_t q = cheap_resync_after(c, p, lim);
		if (!q)
			break;
		if ((err = cheap_run_begin(h, q)))
			return err;
		p = q;
	}
	return NULL;
}

/* ---- tcaches ---- */

/* Reads a tcache_perthread_struct candidate (user pointer u) and lists its
 * chunks if its entries point at chunks of the sizes of their bins. */
static struct ct_error *cheap_try_tcache(struct cheap *c, uint64_t chunk, uint64_t sz)
{
	const struct cheap_layout *L = &c->L;
	int cs = c->tc_counts_size ? c->tc_counts_size : sz == cheap_tc_chunk_size(c, 2) ? 2 : 1;
	/* 64-bit sums: the layout is checked (cheap_layout_sane), and this
	 * bound holds whatever it says. */
	uint64_t nb = L->tc_bins, eoff = (L->tc_counts_size == (uint32_t)cs && L->tc_entries)
						 ? L->tc_entries : nb * (uint64_t)cs;
	uint64_t u = chunk + 2 * L->size_sz, nw;
	unsigned char buf[CHEAP_MAX_TCACHE_BINS * 10];
	if (nb > CHEAP_MAX_TCACHE_BINS || eoff > sizeof(buf) || 8 * nb > sizeof(buf) - eoff ||
	    nb * (uint64_t)cs > eoff || mem_read(&c->mem, u, buf, eoff + 8 * nb) != MEM_OK)
		return NULL;
	/* It must be in use: the next chunk's PREV_INUSE is set. */
	if (!cheap_size_word(c, chunk + sz, &nw) || !(nw & PREV_INUSE))
		return NULL;
	/* A bin is good when its count is the length of its chain of chunks of
	 * the bin's size (entries[i] != NULL iff counts[i] > 0 in glibc); a user
	 * chunk of the same size rarely looks like that by chance. */
	int bad = 0, good = 0;
	for (uint32_t i = 0; i < nb; i++) {
		uint64_t cnt = mem_load(buf + i * cs, cs), e = mem_load(buf + eoff + 8 * i, 8);
		uint64_t want = (uint64_t)i * L->align + L->minsize, stored, k = 0;
		if (!e && !cnt)
			continue;
		while (e && k <= cnt && cheap_next_ok(c, e, true, want) && cheap_read_u64(c, e, &stored)) {
			k++;
			e = cheap_reveal(c, e, stored, true, want);
		}
		if (!e && k == cnt)
			good++;
		else
			bad++;
	}
	/* The first chunk of a heap of this size is the tcache of the thread
	 * that made the heap (tcache_init runs on a thread's first malloc):
	 * kept even when damaged, with what of it still holds. */
	const struct cheap_heap *h = cheap_heap_of(c, chunk);
	bool first = h && h->start == chunk;
	if (!first && (bad > 2 || !good))
		return NULL;
	if (first && bad > 2) {
		cheap_problem(c, "tcache 0x%" PRIx64 " (first chunk of heap 0x%" PRIx64 "): %d bins do not "
			      "validate", u, h->base, bad);
		memset(c->tc_damaged, 0xff, sizeof(c->tc_damaged));
	}
	uint64_t *n = CT_PUSH(c->tcaches, c->ntcaches, c->cap_tcaches);
	if (!n)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	*n = u;
	for (uint32_t i = 0; i < nb; i++) {
		uint64_t cnt = mem_load(buf + i * cs, cs), e = mem_load(buf + eoff + 8 * i, 8);
		uint64_t want = (uint64_t)i * L->align + L->minsize; /* tidx2usize + SIZE_SZ */
		uint32_t k = 0;
		for (; e && k < CHEAP_MAX_LIST; k++) {
			uint64_t ch = e - 2 * L->size_sz, w, stored;
			if (!cheap_next_ok(c, e, true, want) || !cheap_size_word(c, ch, &w)) {
				cheap_problem(c, "tcache 0x%" PRIx64 " bin %u: entry 0x%" PRIx64
					      " is not a free chunk of size 0x%" PRIx64, u, i, e, want);
				c->tc_damaged[i / 64] |= 1ull << (i % 64);
				break;
			}
			const struct cheap_fs_ent *dup;
			struct ct_error *err = cheap_fs_put(c, ch, w, CHEAP_BIN_TCACHE, (int)i, &dup);
			if (err)
				return err;
			if (dup) {
				cheap_problem(c, "tcache 0x%" PRIx64 " bin %u: chunk 0x%" PRIx64
					      " is already on a %s list (cycle or double free)", u, i, ch,
					      cheap_bin_name((enum cheap_bin)dup->bin));
				c->tc_damaged[i / 64] |= 1ull << (i % 64);
				break;
			}
			uint64_t key;
			if (L->tc_key && cheap_read_u64(c, e + L->size_sz, &key) && key != u &&
			    !c->tc_key_known) {
				c->tc_key = key;
				c->tc_key_known = true;
			}
			if (!cheap_read_u64(c, e, &stored))
				break;
			e = cheap_reveal(c, e, stored, true, want);
		}
		if (k != cnt && k < CHEAP_MAX_LIST) {
			cheap_problem(c, "tcache 0x%" PRIx64 " bin %u: count %" PRIu64 " but %u chunks listed",
				      u, i, cnt, k);
			c->tc_damaged[i / 64] |= 1ull << (i % 64);
		}
	}
	return NULL;
}

static int cheap_u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

struct ct_error *cheap_load(struct cheap *c)
{
	if (c->loaded)
		return NULL;
	c->loaded = true;
	struct ct_error *err;
	/* The free lists jump all over the heaps, then the walks read them in
	 * order: either way, most of their pages. */
	for (size_t i = 0; i < c->nheaps; i++)
		mem_advise(&c->mem, c->heaps[i].start, c->heaps[i].end - c->heaps[i].start,
			   MEM_ACCESS_WALK);
	for (size_t i = 0; i < c->narenas; i++)
		if ((err = cheap_list_fastbins(c, i)) || (err = cheap_list_bins(c, i)))
			return err;
	/* Where a walk can resume after damage: the chunks the bins know. */
	if (c->fs_n) {
		c->resync = malloc(c->fs_n * sizeof(*c->resync));
		if (!c->resync)
			return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		for (size_t i = 0; i < c->fs_cap; i++)
			if (c->fs[i].chunk)
				c->resync[c->nresync++] = c->fs[i].chunk;
		qsort(c->resync, c->nresync, sizeof(*c->resync), cheap_u64_cmp);
	}
	for (size_t i = 0; i < c->nheaps; i++) {
		if ((err = cheap_walk_heap(c, &c->heaps[i])))
			return err;
		/* Lookups come back for a few pages only: let the rest go. */
		mem_advise(&c->mem, c->heaps[i].start, c->heaps[i].end - c->heaps[i].start,
			   MEM_ACCESS_DONE);
	}
	for (size_t i = 0; i < c->ntc_cand; i++) {
		uint64_t w;
		if (cheap_size_word(c, c->tc_cand[i], &w) &&
		    (err = cheap_try_tcache(c, c->tc_cand[i], w & ~(uint64_t)7)))
			return err;
	}
	cheap_nma_report(c);
	return NULL;
}

void cheap_walk_free(struct cheap *c)
{
	for (size_t i = 0; i < c->nheaps; i++) {
		for (size_t j = 0; j < c->heaps[i].nruns; j++)
			free(c->heaps[i].runs[j].ckpt);
		free(c->heaps[i].runs);
	}
	for (size_t i = 0; c->mm && i < c->nregions; i++)
		free(c->mm[i].chunks);
	free(c->fs);
	free(c->resync);
	free(c->tcaches);
	free(c->tc_cand);
	free(c->nma_cand);
}

/* ---- verdicts ---- */

static void cheap_reason(struct cheap_chunk *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cheap_reason(struct cheap_chunk *ch, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ch->reason, sizeof(ch->reason), fmt, ap);
	va_end(ap);
}

static void cheap_base(const struct cheap *c, const struct cheap_heap *h, struct cheap_chunk *ch)
{
	const struct cheap_arena *a = &c->arenas[h->arena];
	memset(ch, 0, sizeof(*ch));
	ch->arena = a->addr;
	ch->main_arena = a->is_main;
	ch->heap = h->base;
	ch->bin_index = -1;
}

/* A chunk of a tcache bin whose chain broke, still carrying the tcache key
 * that tcache_put wrote (tcache_get clears it): maybe one the list lost. */
static bool cheap_lost_tcache(const struct cheap *c, uint64_t p, uint64_t sz)
{
	const struct cheap_layout *L = &c->L;
	if (!L->tc_key || sz < L->minsize || !L->tc_bins)
		return false;
	uint64_t i = (sz - L->minsize) / L->align, key;
	if (i >= L->tc_bins || i >= CHEAP_MAX_TCACHE_BINS || !(c->tc_damaged[i / 64] & (1ull << (i % 64))))
		return false;
	if (!cheap_read_u64(c, p + 3 * L->size_sz, &key))
		return false;
	if (c->tc_key_known && key == c->tc_key)
		return true;
	for (size_t k = 0; k < c->ntcaches; k++)
		if (key == c->tcaches[k])
			return true;
	return false;
}

/* The state of the chunk at p (size word w) from the lists and the next
 * chunk's size word; next_bad says why that one cannot be trusted (NULL: it can). */
static void cheap_state(const struct cheap *c, uint64_t p, uint64_t w, uint64_t next_w,
			const char *next_bad, struct cheap_chunk *ch)
{
	bool next_ok = !next_bad;
	const struct cheap_layout *L = &c->L;
	uint64_t sz = w & ~(uint64_t)7;
	ch->chunk = p;
	ch->size = sz;
	ch->user = p + 2 * L->size_sz;
	ch->user_size = sz > L->size_sz ? sz - L->size_sz : 0;
	const struct cheap_fs_ent *fs = cheap_fs_get(c, p);
	if (sz == 2 * L->size_sz) {
		ch->state = CHEAP_ALLOCATED;
		ch->user_size = 0;
		cheap_reason(ch, "fencepost at the end of a heap");
	} else if (fs && (fs->bin == CHEAP_BIN_TCACHE || fs->bin == CHEAP_BIN_FASTBIN)) {
		ch->state = CHEAP_FREE;
		ch->bin = fs->bin;
		ch->bin_index = fs->index;
		if (next_ok && !(next_w & PREV_INUSE))
			cheap_reason(ch, "on a %s list, but the next chunk's PREV_INUSE is clear",
				     cheap_bin_name(ch->bin));
	} else if (!next_ok && fs) {
		/* The list says free and nothing says otherwise. */
		ch->state = CHEAP_FREE;
		ch->bin = fs->bin;
		ch->bin_index = fs->index;
		cheap_reason(ch, "free by its bin; the next chunk is unreadable: %s", next_bad);
	} else if (!next_ok) {
		ch->state = CHEAP_UNKNOWN;
		cheap_reason(ch, "the next chunk is unreadable: %s", next_bad);
	} else if (next_w & PREV_INUSE) {
		if (fs) {
			ch->state = CHEAP_UNKNOWN;
			cheap_reason(ch, "on %s bin %d, but the next chunk's PREV_INUSE says in use",
				     cheap_bin_name((enum cheap_bin)fs->bin), fs->index);
		} else if (cheap_lost_tcache(c, p, sz)) {
			ch->state = CHEAP_UNKNOWN;
			cheap_reason(ch, "looks in use, but carries the tcache key and its tcache bin "
					 "(%d) is damaged: maybe a lost tcache chunk",
				     (int)((sz - L->minsize) / L->align));
		} else {
			ch->state = CHEAP_ALLOCATED;
		}
	} else if (fs) {
		ch->state = CHEAP_FREE;
		ch->bin = fs->bin;
		ch->bin_index = fs->index;
	} else {
		/* Every free chunk that is not in a tcache or fastbin is in a bin of
		 * its arena: this is damage, or the crash came inside malloc/free. */
		ch->state = CHEAP_UNKNOWN;
		cheap_reason(ch, "the next chunk's PREV_INUSE says free, but no list of its arena "
				 "has it");
	}
}

static void cheap_top(const struct cheap *c, const struct cheap_heap *h, struct cheap_chunk *ch)
{
	const struct cheap_arena *a = &c->arenas[h->arena];
	cheap_base(c, h, ch);
	ch->chunk = a->top;
	ch->size = h->end - a->top;
	ch->user = a->top + 2 * c->L.size_sz;
	ch->user_size = ch->size > c->L.size_sz ? ch->size - c->L.size_sz : 0;
	ch->state = CHEAP_FREE;
	ch->bin = CHEAP_BIN_TOP;
}

/* The run of h holding addr, or the run before it (NULL: before the first). */
static const struct cheap_run *cheap_run_of(const struct cheap_heap *h, uint64_t addr)
{
	size_t lo = CT_UPPER_BOUND(h->runs, h->nruns, start, addr);
	return lo ? &h->runs[lo - 1] : NULL;
}

static void cheap_lookup_heap(const struct cheap *c, const struct cheap_heap *h, uint64_t addr,
			      struct cheap_chunk *ch)
{
	const struct cheap_arena *a = &c->arenas[h->arena];
	const struct cheap_layout *L = &c->L;
	cheap_base(c, h, ch);
	if (addr < h->start) {
		ch->state = CHEAP_ALLOCATED;
		cheap_reason(ch, "glibc metadata: heap_info and malloc_state of arena 0x%" PRIx64,
			     a->addr);
		return;
	}
	if (h->has_top && addr >= a->top) {
		if (addr - a->top < L->size_sz && a->top > h->start) {
			/* top's prev_size field: the last chunk's (its usable size
			 * reaches it), in use or in the tcache or a fastbin (a chunk
			 * freed into a bin would have merged into top) */
			struct cheap_chunk pc;
			cheap_lookup_heap(c, h, a->top - 1, &pc);
			if (pc.chunk && pc.size > 2 * L->size_sz && pc.chunk + pc.size == a->top) {
				*ch = pc;
				return;
			}
		}
		cheap_top(c, h, ch);
		return;
	}
	const struct cheap_run *r = cheap_run_of(h, addr);
	if (!r || addr >= r->end) {
		if (r && !r->damaged) {
			ch->state = CHEAP_ALLOCATED;
			cheap_reason(ch, "fencepost at the end of a heap");
		} else {
			ch->state = CHEAP_UNKNOWN;
			cheap_reason(ch, "the walk of heap 0x%" PRIx64 " stopped: %s", h->base,
				     r ? r->stop : "no chunk known");
		}
		return;
	}
	size_t lo = ct_upper_bound_u64(r->ckpt, r->nckpt, sizeof(*r->ckpt), 0, addr);
	size_t k = lo - 1; /* ckpt[0] == r->start <= addr */
	if (k > 0 && addr - r->ckpt[k] < L->size_sz)
		k--; /* the chunk before may own addr (its user data ends in the next prev_size) */
	uint64_t p = r->ckpt[k], prev = 0, prev_w = 0, w = 0;
	for (int i = 0; i < 2 * CHEAP_CKPT + 2; i++) {
		if (!cheap_size_word(c, p, &w)) {
			ch->state = CHEAP_UNKNOWN;
			cheap_reason(ch, "chunk header at 0x%" PRIx64 " not in the core", p);
			return;
		}
		uint64_t sz = w & ~(uint64_t)7;
		if (sz == 0 || p + sz > addr)
			break;
		prev = p;
		prev_w = w;
		p += sz;
	}
	uint64_t sz = w & ~(uint64_t)7, nw = 0;
	if (addr < p || addr - p >= sz) {
		ch->state = CHEAP_UNKNOWN;
		cheap_reason(ch, "no chunk of heap 0x%" PRIx64 " holds the address", h->base);
		return;
	}
	const char *bad = NULL;
	char nb[64];
	if (r->damaged && p + sz == r->end)
		bad = r->stop;
	else if (!cheap_size_word(c, p + sz, &nw))
		bad = (snprintf(nb, sizeof(nb), "0x%" PRIx64 " not in the core", p + sz), nb);
	/* p's prev_size field is the last word of the chunk before: inside its
	 * usable size (user_size), whatever its state. In use, it is the
	 * program's data; in the tcache or a fastbin (PREV_INUSE stays set) it
	 * is what was left of the freed data; in a bin it is glibc's footer of
	 * the free chunk. Either way the address belongs to that chunk. */
	if (prev && addr < p + L->size_sz && (prev_w & ~(uint64_t)7) > 2 * L->size_sz) {
		cheap_base(c, h, ch);
		cheap_state(c, prev, prev_w, w, NULL, ch);
		return;
	}
	cheap_state(c, p, w, nw, bad, ch);
}

/* ---- mmapped chunks ---- */

/* A chunk of its own mapping (sysmalloc's mmap path): prev_size 0 (no
 * alignment correction), IS_MMAPPED alone among the flags, whole pages. */
static bool cheap_mmapped_at(const struct cheap *c, uint64_t p, uint64_t end, uint64_t *size)
{
	unsigned char b[16];
	if (end - p < c->L.pagesize || mem_read(&c->mem, p, b, 16) != MEM_OK)
		return false;
	uint64_t ps = mem_load(b, 8), w = mem_load(b + 8, 8), sz = w & ~(uint64_t)7;
	if (ps || (w & 7) != IS_MMAPPED || !sz || (sz & (c->L.pagesize - 1)) || sz > end - p)
		return false;
	*size = sz;
	return true;
}

static struct ct_error *cheap_mm_push(struct cheap_mmregion *m, uint64_t p, uint64_t sz)
{
	if ((m->n & (m->n - 1)) == 0) {
		uint64_t *n = realloc(m->chunks, 2 * (m->n ? 2 * m->n : 4) * sizeof(*n));
		if (!n)
			return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		m->chunks = n;
	}
	m->chunks[2 * m->n] = p;
	m->chunks[2 * m->n + 1] = sz;
	m->n++;
	return NULL;
}

static bool cheap_mm_candidate(const struct cheap *c, const struct cheap_region *r);

/* Which mappings are probed page by page: those up to CHEAP_MMAP_SCAN_MAX, in
 * address order while the core's budget of probed pages lasts. Decided once
 * for all of them, so that an answer does not depend on what was asked before. */
static void cheap_mm_plan(struct cheap *c)
{
	c->mm_planned = true;
	uint64_t pages = 0;
	for (size_t ri = 0; ri < c->nregions; ri++) {
		const struct cheap_region *r = &c->regions[ri];
		uint64_t n = (r->end - r->start) / c->L.pagesize;
		if (!cheap_mm_candidate(c, r) || r->end - r->start > CHEAP_MMAP_SCAN_MAX)
			continue;
		if (n > CHEAP_MMAP_SCAN_PAGES - pages) {
			cheap_problem(c, "mmapped chunks: %llu pages of anonymous mappings probed; "
				      "mappings from 0x%" PRIx64 " on are searched from their start only",
				      (unsigned long long)pages, r->start);
			return;
		}
		pages += n;
		c->mm[ri].whole = true;
	}
}

/* The mmapped chunks of an anonymous writable mapping: page by page where
 * cheap_mm_plan says so (the kernel merges neighbouring mappings, so a chunk
 * may start anywhere on a page boundary), else from its start only. */
static struct ct_error *cheap_mm_scan(struct cheap *c, size_t ri)
{
	if (!c->mm_planned)
		cheap_mm_plan(c);
	struct cheap_mmregion *m = &c->mm[ri];
	const struct cheap_region *r = &c->regions[ri];
	m->scanned = true;
	bool full = m->whole;
	uint64_t p = r->start, sz;
	while (p < r->end) {
		const struct cheap_heap *h = cheap_heap_of(c, p);
		if (h) {
			/* A heap ending at the top of the address space rounds to 0. */
			uint64_t next = (h->end + c->L.pagesize - 1) & ~(uint64_t)(c->L.pagesize - 1);
			if (next <= p)
				break;
			p = next;
			continue;
		}
		if (cheap_mmapped_at(c, p, r->end, &sz)) {
			struct ct_error *err = cheap_mm_push(m, p, sz);
			if (err)
				return err;
			p += sz;
		} else if (full) {
			p += c->L.pagesize;
		} else {
			break;
		}
	}
	return NULL;
}

static bool cheap_mm_candidate(const struct cheap *c, const struct cheap_region *r)
{
	(void)c;
	return r->writable && !r->file;
}

static void cheap_mm_fill(uint64_t p, uint64_t sz, struct cheap_chunk *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->chunk = p;
	ch->size = sz;
	ch->user = p + 16;
	ch->user_size = sz - 16; /* memsize: an mmapped chunk has no next prev_size to lend */
	ch->mmapped = true;
	ch->state = CHEAP_ALLOCATED; /* free() unmaps an mmapped chunk at once */
	ch->bin_index = -1;
}

static struct ct_error *cheap_lookup_mmapped(struct cheap *c, uint64_t addr, bool *found,
					     struct cheap_chunk *ch)
{
	const struct cheap_region *r = cheap_region_of(c, addr);
	if (!r || !cheap_mm_candidate(c, r))
		return NULL;
	size_t ri = (size_t)(r - c->regions);
	struct cheap_mmregion *m = &c->mm[ri];
	struct ct_error *err;
	if (!m->scanned && (err = cheap_mm_scan(c, ri)))
		return err;
	/* chunks holds (address, size) pairs: search the addresses. */
	size_t lo = ct_upper_bound_u64(m->chunks, m->n, 2 * sizeof(*m->chunks), 0, addr);
	if (lo && addr - m->chunks[2 * (lo - 1)] < m->chunks[2 * (lo - 1) + 1]) {
		cheap_mm_fill(m->chunks[2 * (lo - 1)], m->chunks[2 * (lo - 1) + 1], ch);
		*found = true;
		return NULL;
	}
	if (m->whole)
		return NULL;
	/* A mapping scanned from its start only: look down from addr (64 MiB). */
	uint64_t page = c->L.pagesize, p = addr & ~(page - 1), sz;
	for (uint64_t n = 0; n < (64ull << 20) / page && p >= r->start; n++, p -= page) {
		if (cheap_mmapped_at(c, p, r->end, &sz)) {
			if (addr - p < sz) {
				cheap_mm_fill(p, sz, ch);
				*found = true;
			}
			break;
		}
		if (p < page)
			break;
	}
	return NULL;
}

/* ---- the API ---- */

struct ct_error *cheap_lookup(struct cheap *c, uint64_t addr, bool *found, struct cheap_chunk *ret)
{
	*found = false;
	memset(ret, 0, sizeof(*ret));
	ret->bin_index = -1;
	struct ct_error *err = cheap_load(c);
	if (err)
		return err;
	const struct cheap_heap *h = cheap_heap_of(c, addr);
	if (h) {
		cheap_lookup_heap(c, h, addr, ret);
		*found = true;
		return NULL;
	}
	return cheap_lookup_mmapped(c, addr, found, ret);
}

struct ct_error *cheap_foreach_chunk(struct cheap *c,
				     bool (*fn)(const struct cheap_chunk *ch, void *arg), void *arg)
{
	struct ct_error *err = cheap_load(c);
	if (err)
		return err;
	struct cheap_chunk ch;
	for (size_t i = 0; i < c->nheaps; i++) {
		const struct cheap_heap *h = &c->heaps[i];
		const struct cheap_arena *a = &c->arenas[h->arena];
		for (size_t j = 0; j < h->nruns; j++) {
			const struct cheap_run *r = &h->runs[j];
			uint64_t p = r->start, w, nw;
			if (!cheap_size_word(c, p, &w))
				continue;
			/* Bounded by the walk that built the run. */
			for (size_t n = 0; n < r->nchunks && p < r->end; n++) {
				uint64_t sz = w & ~(uint64_t)7;
				if (!sz)
					break;
				const char *bad = NULL;
				if (r->damaged && p + sz == r->end)
					bad = r->stop;
				else if (!cheap_size_word(c, p + sz, &nw))
					bad = "not in the core";
				cheap_base(c, h, &ch);
				cheap_state(c, p, w, nw, bad, &ch);
				if (!fn(&ch, arg))
					return NULL;
				p += sz;
				w = nw;
				if (bad)
					break;
			}
		}
		if (h->has_top && a->top >= h->start && a->top < h->end) {
			cheap_top(c, h, &ch);
			if (!fn(&ch, arg))
				return NULL;
		}
	}
	for (size_t ri = 0; ri < c->nregions; ri++) {
		if (!cheap_mm_candidate(c, &c->regions[ri]))
			continue;
		if (!c->mm[ri].scanned && (err = cheap_mm_scan(c, ri)))
			return err;
		for (size_t k = 0; k < c->mm[ri].n; k++) {
			cheap_mm_fill(c->mm[ri].chunks[2 * k], c->mm[ri].chunks[2 * k + 1], &ch);
			if (!fn(&ch, arg))
				return NULL;
		}
	}
	return NULL;
}
