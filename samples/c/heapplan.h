/* heapplan.h — a glibc malloc "plan" shared by samples/c/ccrash.c and the Go crasher
 * (samples/go/crasher/crasher.c): allocate chunks whose final state (live, tcache, fastbin,
 * unsorted, small bin, large bin, top, munmapped, freed-and-reused) is known by construction,
 * then release them in one go right before the program crashes.
 *
 * Written against glibc 2.36 (Debian 12) on x86_64; the rules it relies on (malloc/malloc.c):
 *   - chunk = user pointer - 16; size word at chunk+8 (low bits PREV_INUSE=1, IS_MMAPPED=2,
 *     NON_MAIN_ARENA=4); chunk size = max(32, (req + 8 + 15) & ~15).
 *   - tcache: 7 entries per size up to chunk size 0x410; a tcache entry's word at user+8 is the
 *     process-wide random tcache_key. calloc() bypasses tcache.
 *   - fastbins: chunk sizes up to 0x80 (global_max_fast), used once the tcache bin is full; free
 *     leaves PREV_INUSE of the next chunk set and does not touch user+8.
 *   - other frees go to the unsorted bin (coalescing with free neighbours, or into top when the
 *     next chunk is top); a malloc that walks the unsorted bin sorts chunks into small bins
 *     (< 0x400) and large bins, oldest first, and returns at once on an exact fit (sizes above
 *     the tcache range).
 *   - a free that leaves a chunk >= 64 KiB (e.g. merging into top) runs malloc_consolidate,
 *     which empties the fastbins: so top is made first and fastbin chunks are freed last.
 *   - requests >= M_MMAP_THRESHOLD are mmapped and free() munmaps them; the threshold is pinned
 *     with mallopt so that it does not move up after such a free.
 *
 * Every chunk with a coalescing bin (unsorted/small/large/reused) sits between two live 64-byte
 * guard chunks, checked adjacent at allocation time. Nothing in here prints or allocates
 * between hp_release()'s frees and the caller's crash, except the freed-and-reused malloc that
 * is part of the plan. hp_release() checks what it can see from the chunk headers afterwards and
 * writes "TRUTH-WARNING: ..." lines to stderr (with write(2)) for every prediction that the
 * heap contradicts; the truth file itself is written before and never patched.
 */
#ifndef HEAPPLAN_H
#define HEAPPLAN_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* dladdr; must come before the first system header */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <unistd.h>
#include <errno.h>
#include <dlfcn.h>
#include <sys/mman.h>

enum hp_expect {
	HP_LIVE = 0,     /* allocated */
	HP_TCACHE,       /* free, in the freeing thread's tcache */
	HP_FASTBIN,      /* free, in a fastbin */
	HP_UNSORTED,     /* free, in the unsorted bin */
	HP_SMALLBIN,     /* free, in a small bin */
	HP_LARGEBIN,     /* free, in a large bin */
	HP_TOP,          /* free, merged into the top chunk (the user pointer is inside top) */
	HP_MUNMAPPED,    /* was an mmapped chunk; free() unmapped it */
	HP_REUSED,       /* freed, then handed out again by malloc: allocated (to someone else) */
	HP_GUARD,        /* allocated guard chunk */
	HP_NEXPECT
};

static const char *const hp_expect_name[HP_NEXPECT] = {
	"live", "tcache", "fastbin", "unsorted", "small", "large", "top", "munmapped", "reused", "guard",
};

#define HP_MAX 64
#define HP_PATTERN 0xa5
#define HP_PATTERN_WORD 0xa5a5a5a5a5a5a5a5ULL

struct hp_chunk {
	void *p;            /* user pointer */
	size_t req;         /* requested size */
	int expect;         /* enum hp_expect */
	int mmapped;        /* 1 if allocated as an mmapped chunk */
	char key[32];       /* name (map key in the Go crasher) */
};

struct heap_plan {
	int n;
	int warnings;
	struct hp_chunk c[HP_MAX];
};

/* flags for hp_alloc */
#define HP_WITH_MMAP_FREE 1   /* a 300000-byte mmapped chunk that hp_release frees (munmap) */
#define HP_WITH_MMAP_LIVE 2   /* a 400000-byte mmapped chunk that stays allocated */

#define HP_MMAP_THRESHOLD (128 * 1024)

static size_t hp_size_word(const void *p) { return ((const size_t *)p)[-1]; }
static size_t hp_csize(const void *p) { return hp_size_word(p) & ~(size_t)7; }
static char *hp_chunk_of(const void *p) { return (char *)p - 16; }
static size_t hp_next_size_word(const void *p) {
	return *(const size_t *)(hp_chunk_of(p) + hp_csize(p) + 8);
}

static void hp_warn(struct heap_plan *pl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void hp_warn(struct heap_plan *pl, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n = snprintf(buf, sizeof buf, "TRUTH-WARNING: heapplan: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	if (write(2, buf, (size_t)n) < 0) { /* nothing to do */ }
	pl->warnings++;
}

/* 1 if the page holding addr is mapped (mincore fails with ENOMEM on unmapped pages). */
static int hp_mapped(uintptr_t addr)
{
	unsigned char vec;
	long ps = sysconf(_SC_PAGESIZE);
	void *page = (void *)(addr & ~(uintptr_t)(ps - 1));
	if (mincore(page, (size_t)ps, &vec) == 0)
		return 1;
	return errno != ENOMEM;
}

static struct hp_chunk *hp_add(struct heap_plan *pl, void *p, size_t req, int expect,
			       const char *key)
{
	struct hp_chunk *c;
	if (pl->n >= HP_MAX)
		abort();
	c = &pl->c[pl->n++];
	c->p = p;
	c->req = req;
	c->expect = expect;
	c->mmapped = (hp_size_word(p) & 2) != 0;
	snprintf(c->key, sizeof c->key, "%s", key);
	return c;
}

static void *hp_malloc(size_t req)
{
	void *p = malloc(req);
	if (!p)
		abort();
	memset(p, HP_PATTERN, req < 4096 ? req : 4096);
	return p;
}

static int hp_adjacent(const void *a, const void *b)
{
	return !(hp_size_word(a) & 2) && (const char *)a + hp_csize(a) == (const char *)b;
}

/* A chunk between two live 64-byte guards that are its physical neighbours. Attempts that
 * do not come out adjacent are leaked (they stay allocated and are not recorded). */
static void *hp_guarded(struct heap_plan *pl, size_t req, int expect, const char *key, int *gn)
{
	char gk[32];
	int tries;
	for (tries = 0; tries < 16; tries++) {
		void *g0 = hp_malloc(64), *p = hp_malloc(req), *g1 = hp_malloc(64);
		if (hp_adjacent(g0, p) && hp_adjacent(p, g1)) {
			snprintf(gk, sizeof gk, "guard-%d", (*gn)++);
			hp_add(pl, g0, 64, HP_GUARD, gk);
			hp_add(pl, p, req, expect, key);
			snprintf(gk, sizeof gk, "guard-%d", (*gn)++);
			hp_add(pl, g1, 64, HP_GUARD, gk);
			return p;
		}
	}
	hp_warn(pl, "%s: no adjacent guards after 16 tries", key);
	return NULL;
}

/* Is the chunk at p directly followed by the main arena's top chunk (which ends at brk)? */
static int hp_before_top(const void *p)
{
	const char *next = hp_chunk_of(p) + hp_csize(p);
	size_t nsz = (*(const size_t *)(next + 8)) & ~(size_t)7;
	return nsz >= 32 && next + nsz == (const char *)sbrk(0);
}

/* Call on the thread whose arena and tcache the plan is about (the main thread). */
static int hp_alloc(struct heap_plan *pl, int flags)
{
	char key[32];
	int i, gn = 0, tries;
	void *p;

	memset(pl, 0, sizeof *pl);
	mallopt(M_MMAP_THRESHOLD, HP_MMAP_THRESHOLD);

	hp_add(pl, hp_malloc(24), 24, HP_LIVE, "live-24");
	for (i = 0; i < 7; i++) {
		snprintf(key, sizeof key, "tcache-240-%d", i);
		hp_add(pl, hp_malloc(240), 240, HP_TCACHE, key);
	}
	hp_guarded(pl, 240, HP_SMALLBIN, "smallbin-240", &gn);
	hp_guarded(pl, 1500, HP_LARGEBIN, "largebin-1500", &gn);
	hp_guarded(pl, 4096, HP_REUSED, "reused-4096", &gn);
	hp_guarded(pl, 2000, HP_UNSORTED, "unsorted-2000", &gn);
	for (i = 0; i < 7; i++) {
		snprintf(key, sizeof key, "tcache-100-%d", i);
		hp_add(pl, hp_malloc(100), 100, HP_TCACHE, key);
	}
	hp_add(pl, hp_malloc(100), 100, HP_FASTBIN, "fastbin-100");
	hp_add(pl, hp_malloc(200), 200, HP_TCACHE, "tcache-200");
	hp_add(pl, hp_malloc(40), 40, HP_TCACHE, "tcache-40");
	hp_add(pl, hp_malloc(1000), 1000, HP_LIVE, "live-1000");
	if (flags & HP_WITH_MMAP_LIVE) {
		p = hp_malloc(400000);
		memset(p, HP_PATTERN, 400000);
		hp_add(pl, p, 400000, HP_LIVE, "live-mmap-400000");
	}
	if (flags & HP_WITH_MMAP_FREE)
		hp_add(pl, hp_malloc(300000), 300000, HP_MUNMAPPED, "mmap-300000");
	/* Last: a chunk carved from top, directly before it. */
	for (tries = 0; tries < 16; tries++) {
		p = hp_malloc(5000);
		if (hp_before_top(p))
			break;
	}
	hp_add(pl, p, 5000, HP_TOP, "top-5000");
	for (i = 0; i < pl->n; i++) {
		struct hp_chunk *c = &pl->c[i];
		if (hp_size_word(c->p) & 4)
			hp_warn(pl, "%s: NON_MAIN_ARENA set (size word %zx)", c->key,
				hp_size_word(c->p));
		if ((c->req >= HP_MMAP_THRESHOLD) != (c->mmapped != 0))
			hp_warn(pl, "%s: mmapped=%d for request %zu", c->key, c->mmapped, c->req);
	}
	return pl->warnings;
}

static struct hp_chunk *hp_find(struct heap_plan *pl, int expect)
{
	int i;
	for (i = 0; i < pl->n; i++)
		if (pl->c[i].expect == expect)
			return &pl->c[i];
	return NULL;
}

/* large bin index of a chunk size (glibc largebin_index_64) */
static unsigned hp_largebin_index(size_t sz)
{
	if ((sz >> 6) <= 48) return 48 + (unsigned)(sz >> 6);
	if ((sz >> 9) <= 20) return 91 + (unsigned)(sz >> 9);
	if ((sz >> 12) <= 10) return 110 + (unsigned)(sz >> 12);
	if ((sz >> 15) <= 4) return 119 + (unsigned)(sz >> 15);
	if ((sz >> 18) <= 2) return 124 + (unsigned)(sz >> 18);
	return 126;
}

/* Free everything the plan says is free, in the order that gives each chunk its bin, then
 * check. Returns the number of warnings. The caller crashes right after. */
static int hp_release(struct heap_plan *pl)
{
	int i, ord;
	struct hp_chunk *c, *top = hp_find(pl, HP_TOP), *reused = hp_find(pl, HP_REUSED);
	void *again;
	uintptr_t tkey = 0, ubin = 0;

	/* 1. top: merge into top while there is nothing of ours in the fastbins. */
	if (top) {
		if (!hp_before_top(top->p))
			hp_warn(pl, "%s: no longer directly before top", top->key);
		free(top->p);
	}
	/* 2. fill the 0x100 tcache bin; 3. the 8th 0x100 chunk and the 0x5f0 chunk go to the
	 * unsorted bin; 4. free the 0x1010 chunk and malloc the same size again: the walk over
	 * the unsorted bin sorts the first two into their small/large bins and returns the
	 * exact fit. */
	for (ord = 0; ord < 4; ord++) {
		for (i = 0; i < pl->n; i++) {
			c = &pl->c[i];
			if ((ord == 0 && c->expect == HP_TCACHE && c->req == 240) ||
			    (ord == 1 && c->expect == HP_LARGEBIN) ||
			    (ord == 2 && c->expect == HP_SMALLBIN) ||
			    (ord == 3 && c->expect == HP_REUSED))
				free(c->p);
		}
	}
	if (reused) {
		again = malloc(reused->req);
		if (again != reused->p)
			hp_warn(pl, "%s: malloc returned %p, not %p", reused->key, again, reused->p);
	}
	/* 5. unsorted; 6. 7 x 0x70 into tcache then one into the fastbin; 7. other tcache;
	 * 8. munmap. */
	for (ord = 0; ord < 5; ord++) {
		for (i = 0; i < pl->n; i++) {
			c = &pl->c[i];
			if ((ord == 0 && c->expect == HP_UNSORTED) ||
			    (ord == 1 && c->expect == HP_TCACHE && c->req == 100) ||
			    (ord == 2 && c->expect == HP_FASTBIN) ||
			    (ord == 3 && c->expect == HP_TCACHE && c->req != 100 && c->req != 240) ||
			    (ord == 4 && c->expect == HP_MUNMAPPED))
				free(c->p);
		}
	}

	/* Checks (reads only). */
	for (i = 0; i < pl->n; i++) {
		c = &pl->c[i];
		if (c->expect == HP_TCACHE) {
			uintptr_t k = ((uintptr_t *)c->p)[1];
			if (k == (uintptr_t)HP_PATTERN_WORD)
				hp_warn(pl, "%s: no tcache key at +8 (%lx)", c->key, (unsigned long)k);
			else if (tkey == 0)
				tkey = k;
			else if (k != tkey)
				hp_warn(pl, "%s: tcache key %lx differs from %lx", c->key, (unsigned long)k, (unsigned long)tkey);
		}
	}
	for (i = 0; i < pl->n; i++) {
		c = &pl->c[i];
		switch (c->expect) {
		case HP_FASTBIN:
			if (((uintptr_t *)c->p)[1] != (uintptr_t)HP_PATTERN_WORD)
				hp_warn(pl, "%s: word at +8 changed (%lx): not a fastbin chunk?",
					c->key, (unsigned long)((uintptr_t *)c->p)[1]);
			if (!(hp_next_size_word(c->p) & 1))
				hp_warn(pl, "%s: next chunk's PREV_INUSE clear", c->key);
			break;
		case HP_UNSORTED:
		case HP_SMALLBIN:
		case HP_LARGEBIN:
			if (hp_next_size_word(c->p) & 1)
				hp_warn(pl, "%s: next chunk's PREV_INUSE set: not in a regular bin",
					c->key);
			if (c->expect == HP_UNSORTED) {
				uintptr_t fd = ((uintptr_t *)c->p)[0], bk = ((uintptr_t *)c->p)[1];
				Dl_info di;
				if (fd == bk)
					ubin = fd;
				if (!dladdr((void *)fd, &di) || !di.dli_fname || !strstr(di.dli_fname, "libc"))
					hp_warn(pl, "%s: fd %lx does not point into libc (main_arena)",
						c->key, (unsigned long)fd);
			}
			break;
		case HP_LIVE:
		case HP_GUARD:
		case HP_REUSED:
			if (!c->mmapped && !(hp_next_size_word(c->p) & 1))
				hp_warn(pl, "%s: next chunk's PREV_INUSE clear: chunk is free",
					c->key);
			break;
		case HP_MUNMAPPED:
			if (hp_mapped((uintptr_t)c->p))
				hp_warn(pl, "%s: %p still mapped after free", c->key, c->p);
			break;
		}
	}
	/* Bin identity, when each chunk is alone in its bin (fd == bk): bins are 16 bytes apart
	 * in malloc_state, unsorted = bin 1, small bin index = size >> 4. */
	if (ubin) {
		for (i = 0; i < pl->n; i++) {
			uintptr_t fd, bk, want;
			c = &pl->c[i];
			if (c->expect != HP_SMALLBIN && c->expect != HP_LARGEBIN)
				continue;
			fd = ((uintptr_t *)c->p)[0];
			bk = ((uintptr_t *)c->p)[1];
			if (fd != bk)
				continue;
			want = ubin + 16 * ((c->expect == HP_SMALLBIN ? (hp_csize(c->p) >> 4)
								 : hp_largebin_index(hp_csize(c->p))) - 1);
			if (fd != want)
				hp_warn(pl, "%s: fd %lx is not the expected bin header %lx", c->key,
					(unsigned long)fd, (unsigned long)want);
		}
	}
	return pl->warnings;
}

#endif
