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

/* c-null-field-far: a field far beyond the first 64 KiB of its struct */
struct entry {
	char pad[0x493e0];
	long refs; /* offset 0x493e0 */
};
long entry_refs(struct entry *e);

/* c-uaf-mmap-field, c-uaf-mmap-write: a 300000-byte object (mmapped chunk) */
#define BIGOBJ_SIZE 300000
#define BIGOBJ_FIELD 0x2000 /* offset of the long the C code reads or writes */
extern void *c_big_holder;
void *bigobj_alloc(size_t n);
void bigobj_hold(void *p);
void bigobj_release(void *p);
long bigobj_field(void *p);
void bigobj_write_field(void);

/* c-noncanonical: a tagged handle (pointer | tag in the top 16 bits) used as a pointer */
struct obj {
	long id;
	long val; /* offset 8 */
};
#define HANDLE_TAG ((uintptr_t)0xdead << 48)
void *obj_alloc(void);
long handle_read(uintptr_t h);

/* c-freelist-small, c-freelist-key, c-call-freed-fnptr: stale pointers into freed tcache
 * chunks; each request size has a tcache bin that nothing else in the program uses */
struct node {
	struct node *next; /* offset 0: tcache's safe-linked next pointer after free */
	long val;          /* offset 8 */
};
struct node2 {
	long val;           /* offset 0 */
	struct node2 *peer; /* offset 8: tcache_key after free */
};
struct handler {
	void (*fn)(void); /* offset 0: tcache's safe-linked next pointer after free */
	long arg;
};
#define NODE_REQ 696    /* chunk 0x2c0 */
#define NODE2_REQ 744   /* chunk 0x2f0 */
#define HANDLER_REQ 792 /* chunk 0x320 */
struct node *node_alloc(void);
long node_next_val(struct node *n);
long node_release_and_read(struct node *n);
struct node2 *node2_alloc(void);
long node2_peer_val(struct node2 *n);
long node2_release_and_read(struct node2 *n);
struct handler *handler_alloc(void);
void handler_invoke(struct handler *h);
void handler_release_and_call(struct handler *h);

/* c-stack-overflow-main: the main thread's stack */
void main_stack_bounds(uintptr_t *lo, uintptr_t *hi);
uint64_t stack_rlimit(void);

/* go-panic-callback: C calls back into Go (export_panic.go) */
void call_go_callback(void);

#endif
