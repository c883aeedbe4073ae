/* cgocheck scenario, C side: C keeps Go pointers (static globals: only DWARF
 * names them in a cgo binary), a cgo.Handle, and a chunk of pointer-looking
 * integers that point nowhere in the Go heap. */
#include <stdint.h>
#include <stdlib.h>

#include "crasher.h"

static void *c_kept_live;   /* a live Go object, not pinned: breaks the cgo rules */
static void *c_kept_dead;   /* a Go object the GC freed */
static void *c_kept_pinned; /* a Go object pinned by runtime.Pinner */
static uintptr_t c_handle;  /* a runtime/cgo.Handle: an integer, not a pointer */

void cg_keep(int which, void *p)
{
	if (which == 0)
		c_kept_live = p;
	else if (which == 1)
		c_kept_dead = p;
	else
		c_kept_pinned = p;
}

void cg_keep_handle(uintptr_t h) { c_handle = h; }

uintptr_t cg_kept_addr(int which)
{
	return which == 0 ? (uintptr_t)&c_kept_live : which == 1 ? (uintptr_t)&c_kept_dead :
	       which == 2 ? (uintptr_t)&c_kept_pinned : (uintptr_t)&c_handle;
}

/* malloc(n) followed by a small live guard, so that freeing it leaves it in a
 * bin instead of merging it into top. */
void *cg_malloc_guarded(size_t n)
{
	void *p = malloc(n);
	(void)malloc(32);
	return p;
}

void cg_free(void *p) { free(p); }

/* n words of pseudo-random user-space addresses that stay at least 8 GiB away
 * from the Go heap around go_heap (xorshift, fixed seed). */
uint64_t *cg_noise_chunk(size_t n, uintptr_t go_heap)
{
	uint64_t *w = malloc(n * sizeof(*w));
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint64_t lo = go_heap > (8ULL << 30) ? go_heap - (8ULL << 30) : 0, hi = go_heap + (8ULL << 30);
	for (size_t i = 0; i < n && w;) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t v = 0x10000 + x % (0x7fffffffffffULL - 0x10000);
		v &= ~7ULL;
		if (v >= lo && v < hi)
			continue;
		w[i++] = v;
	}
	return w;
}
