/* C side of the crasher (implemented in crasher.c). */
#ifndef CRASHER_H
#define CRASHER_H

#include <stddef.h>
#include <stdint.h>
#include "heapplan.h"

/* ---- globals the truth names (image region) ---- */
extern long c_global_counter;
extern struct heap_plan c_plan;

void crasher_init(void);
void crasher_block_ms(int ms);

/* c-uaf-map / maps: the heap plan (heapplan.h) on the calling (main) thread */
int plan_alloc(int flags);
int cache_release_and_probe(void *p);

/* go-uaf */
struct session_c {
	uint64_t magic;
	void *buf;
	int64_t id;
};
#define SESSION_MAGIC 0x5e5510a5c0ffee01ULL
extern struct session_c *cached_session;
void *session_buf_alloc(size_t n);
void session_remember(void *s);
int session_read_buf(void);

/* map-grow-stale */
extern uintptr_t stale_slot;
void *cbuf_alloc(size_t n);
void cbuf_free(void *p);
void stale_remember(uintptr_t slot);
int stale_read_deref(uintptr_t expect);

/* c-double-free */
void *df_alloc(void);
void release_twice(void *p);

/* c-null-deref, maps */
struct record {
	long id;
	long flags;
	int count; /* offset 16 */
};
int record_count(struct record *r);
int maps_release_and_crash(struct record *r);

/* c-stack-overflow */
void thread_stack_bounds(uintptr_t *lo, uintptr_t *hi, uintptr_t *guard);
int recurse_deep(int depth);

/* maps: a C pthread (not a Go M) that mallocs in its own arena and parks */
struct helper_info {
	void *chunk;          /* malloc(200) made by the helper thread */
	uintptr_t stack_local; /* address of a local of the helper thread */
	uintptr_t stack_lo, stack_hi;
	void *anon_page;      /* an anonymous mmap page (region "mapped") */
};
void start_helper_thread(struct helper_info *out);
int addr_mapped(uintptr_t a);

/* cgocheck */
void cg_keep(int which, void *p);
void cg_keep_handle(uintptr_t h);
uintptr_t cg_kept_addr(int which);
void *cg_malloc_guarded(size_t n);
void cg_free(void *p);
uint64_t *cg_noise_chunk(size_t n, uintptr_t go_heap);

#endif
