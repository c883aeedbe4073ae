/* C half of the crasher. Compiled by cgo with the package's CFLAGS (-O0 -g): every function
 * here is its own frame in the core, with the name the truth gives. */
#include "crasher.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

long c_global_counter = 42;
struct heap_plan c_plan;
struct session_c *cached_session; /* go-uaf: C keeps a Go pointer here */
uintptr_t stale_slot;             /* map-grow-stale: pointer into old map bucket/group memory */
volatile int overflow_stop = -1;  /* never reached: keeps recurse_deep from looking infinite */
void *c_big_holder;               /* c-uaf-mmap-write: C keeps the big object's pointer here */

static void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n = snprintf(buf, sizeof buf, "TRUTH-WARNING: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	if (write(2, buf, (size_t)n) < 0) { }
}

void crasher_init(void) { mallopt(M_MMAP_THRESHOLD, HP_MMAP_THRESHOLD); }

void crasher_block_ms(int ms) { usleep((useconds_t)ms * 1000); }

int addr_mapped(uintptr_t a) { return hp_mapped(a); }

/* ---- heap plan (c-uaf-map, maps) ---- */
int plan_alloc(int flags) { return hp_alloc(&c_plan, flags); }

/* Frees the plan's chunks, then reads through p (the Go map's pointer to the freed,
 * munmapped chunk): SIGSEGV at exactly p. */
int cache_release_and_probe(void *p)
{
	hp_release(&c_plan);
	return ((volatile const char *)p)[0];
}

/* ---- go-uaf ---- */
void *session_buf_alloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		abort();
	memset(p, 0x5a, n < 4096 ? n : 4096);
	return p;
}

void session_remember(void *s) { cached_session = (struct session_c *)s; }

int session_read_buf(void)
{
	struct session_c *s = cached_session;
	if (s->magic != SESSION_MAGIC)
		warnf("go-uaf: freed session slot was reused (magic %lx)", (unsigned long)s->magic);
	if (hp_mapped((uintptr_t)s->buf))
		warnf("go-uaf: buffer %p is mapped again", s->buf);
	return ((volatile const char *)s->buf)[0];
}

/* ---- map-grow-stale ---- */
void *cbuf_alloc(size_t n) { return session_buf_alloc(n); }
void cbuf_free(void *p) { free(p); }
void stale_remember(uintptr_t slot) { stale_slot = slot; }

/* Reads the pointer stored in the stale map slot and dereferences it. */
int stale_read_deref(uintptr_t expect)
{
	uintptr_t v = *(volatile uintptr_t *)stale_slot;
	if (v != expect)
		warnf("map-grow-stale: stale slot holds %lx, expected %lx", (unsigned long)v,
		      (unsigned long)expect);
	if (hp_mapped(v))
		warnf("map-grow-stale: %lx is mapped", (unsigned long)v);
	return *(volatile const char *)v;
}

/* ---- c-double-free ---- */
void *df_alloc(void)
{
	void *p = malloc(152); /* chunk 0xa0: a tcache bin nothing else here uses */
	memset(p, 0x11, 152);
	return p;
}

void release_twice(void *p)
{
	void *volatile q = p;
	free(q);
	free(q); /* glibc: "free(): double free detected in tcache 2" -> abort() */
}

/* ---- c-null-deref ---- */
int record_count(struct record *r) { return r->count; }

int maps_release_and_crash(struct record *r)
{
	hp_release(&c_plan);
	return record_count(r);
}

/* ---- c-stack-overflow ---- */
void thread_stack_bounds(uintptr_t *lo, uintptr_t *hi, uintptr_t *guard)
{
	pthread_attr_t a;
	void *addr = NULL;
	size_t size = 0, g = 0;
	*lo = *hi = *guard = 0;
	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	pthread_attr_getstack(&a, &addr, &size);
	pthread_attr_getguardsize(&a, &g);
	pthread_attr_destroy(&a);
	*lo = (uintptr_t)addr;
	*hi = (uintptr_t)addr + size;
	*guard = g;
}

int recurse_deep(int depth)
{
	volatile char frame[1024];
	frame[0] = (char)depth;
	frame[sizeof frame - 1] = (char)depth;
	if (depth == overflow_stop)
		return frame[0];
	return recurse_deep(depth + 1) + frame[depth & 1023];
}

/* ---- maps: helper pthread ---- */
static pthread_mutex_t helper_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t helper_cv = PTHREAD_COND_INITIALIZER;
static int helper_ready;

static void *helper_main(void *arg)
{
	struct helper_info *out = arg;
	volatile uint64_t local[4] = {0x10ca1, 0x10ca1, 0x10ca1, 0x10ca1};
	sigset_t all;
	uintptr_t lo, hi, g;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* never runs Go's signal handlers */
	out->chunk = malloc(200); /* first malloc of this thread: a thread arena */
	memset(out->chunk, 0x77, 200);
	out->stack_local = (uintptr_t)&local[0];
	thread_stack_bounds(&lo, &hi, &g);
	out->stack_lo = lo;
	out->stack_hi = hi;
	pthread_mutex_lock(&helper_mu);
	helper_ready = 1;
	pthread_cond_broadcast(&helper_cv);
	for (;;)
		pthread_cond_wait(&helper_cv, &helper_mu); /* parked until the process dies */
	return NULL;
}

void start_helper_thread(struct helper_info *out)
{
	pthread_t t;
	/* three pages, the outer two PROT_NONE, so that the middle one stays its own mapping and
	 * never merges with a neighbouring anonymous mapping (a thread stack, an arena) */
	char *m = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + 4096, 4096, PROT_READ | PROT_WRITE) != 0)
		abort();
	out->anon_page = m + 4096;
	memset(out->anon_page, 0x33, 4096);
	if (pthread_create(&t, NULL, helper_main, out) != 0)
		abort();
	pthread_mutex_lock(&helper_mu);
	while (!helper_ready)
		pthread_cond_wait(&helper_cv, &helper_mu);
	pthread_mutex_unlock(&helper_mu);
}

/* ---- c-null-field-far ---- */
long entry_refs(struct entry *e) { return e->refs; }

/* ---- c-uaf-mmap-field, c-uaf-mmap-write ---- */
void *bigobj_alloc(size_t n)
{
	char *p = malloc(n);
	if (!p)
		abort();
	memset(p, 0x5b, n);
	if (!(hp_size_word(p) & 2))
		warnf("bigobj: malloc(%zu) = %p is not an mmapped chunk", n, (void *)p);
	return p;
}

void bigobj_hold(void *p) { c_big_holder = p; }

/* free() of an mmapped chunk munmaps it: checked with mincore */
void bigobj_release(void *p)
{
	void *volatile q = p;
	free(q);
	if (hp_mapped((uintptr_t)p))
		warnf("bigobj: %p is still mapped after free", p);
	if (hp_mapped((uintptr_t)p + BIGOBJ_FIELD))
		warnf("bigobj: %p + 0x%x is still mapped after free", p, BIGOBJ_FIELD);
}

long bigobj_field(void *p)
{
	if (hp_mapped((uintptr_t)p + BIGOBJ_FIELD))
		warnf("bigobj: %p + 0x%x is mapped again", p, BIGOBJ_FIELD);
	return *(volatile long *)((char *)p + BIGOBJ_FIELD);
}

/* writes the field through the C global's (stale) pointer */
void bigobj_write_field(void)
{
	void *p = c_big_holder;
	if (hp_mapped((uintptr_t)p + BIGOBJ_FIELD))
		warnf("bigobj: %p + 0x%x is mapped again", p, BIGOBJ_FIELD);
	*(volatile long *)((char *)p + BIGOBJ_FIELD) = 1;
}

/* ---- c-noncanonical ---- */
void *obj_alloc(void)
{
	struct obj *o = malloc(64);
	if (!o)
		abort();
	memset(o, 0, 64);
	o->id = 1;
	o->val = 0x1234;
	return o;
}

long handle_read(uintptr_t h) { return ((struct obj *)h)->val; }

/* ---- c-freelist-small, c-freelist-key, c-call-freed-fnptr ---- */
static int canonical(uint64_t a) { return (int64_t)a >> 47 == 0 || (int64_t)a >> 47 == -1; }

/* After free() the chunk's first word is tcache's next pointer, safe-linked:
 * PROTECT_PTR(&e->next, old head) = (&e->next >> 12) ^ old head; the bin was empty, so
 * old head = NULL and the word is p >> 12. */
static void check_link(const char *who, void *p)
{
	uintptr_t want = (uintptr_t)p >> 12, got = *(volatile uintptr_t *)p;
	if (got != want)
		warnf("%s: freed chunk %p holds %lx at offset 0, expected %lx (tcache bin not empty?)", who,
		      p, (unsigned long)got, (unsigned long)want);
}

static void node_fill(void *p, size_t n)
{
	if (!p)
		abort();
	memset(p, 0x3c, n);
}

struct node *node_alloc(void)
{
	struct node *n = malloc(NODE_REQ);
	node_fill(n, NODE_REQ);
	n->next = n;
	n->val = 7;
	return n;
}

long node_next_val(struct node *n) { return n->next->val; }

long node_release_and_read(struct node *n)
{
	struct node *volatile q = n;
	free(q);
	check_link("c-freelist-small", q);
	if (hp_mapped(((uintptr_t)n >> 12) + 8))
		warnf("c-freelist-small: %lx is mapped", (unsigned long)(((uintptr_t)n >> 12) + 8));
	return node_next_val(q);
}

struct node2 *node2_alloc(void)
{
	struct node2 *n = malloc(NODE2_REQ);
	node_fill(n, NODE2_REQ);
	n->val = 7;
	n->peer = n;
	return n;
}

long node2_peer_val(struct node2 *n) { return n->peer->val; }

/* offset 8 of a tcache chunk is glibc's tcache_key (2.34+: random, from getrandom) */
long node2_release_and_read(struct node2 *n)
{
	struct node2 *volatile q = n;
	uint64_t key;
	free(q);
	check_link("c-freelist-key", q);
	key = *(volatile uint64_t *)((char *)q + 8);
	dprintf(2, "crasher: c-freelist-key: word at %p + 8 after free (tcache_key): 0x%lx\n", (void *)q,
		(unsigned long)key);
	if (canonical(key))
		warnf("c-freelist-key: the word at offset 8 after free is canonical: 0x%lx", (unsigned long)key);
	return node2_peer_val(q);
}

static void handler_ok(void) { c_global_counter++; }

struct handler *handler_alloc(void)
{
	struct handler *h = malloc(HANDLER_REQ);
	node_fill(h, HANDLER_REQ);
	h->fn = handler_ok;
	h->arg = 1;
	return h;
}

void handler_invoke(struct handler *h) { h->fn(); }

void handler_release_and_call(struct handler *h)
{
	struct handler *volatile q = h;
	free(q);
	check_link("c-call-freed-fnptr", q);
	if (hp_mapped((uintptr_t)h >> 12))
		warnf("c-call-freed-fnptr: %lx is mapped", (unsigned long)((uintptr_t)h >> 12));
	handler_invoke(q);
}

/* ---- c-stack-overflow-main ---- */
/* The [stack] line of /proc/self/maps: the main thread's stack as mapped right now. */
void main_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	*lo = *hi = 0;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &a, &b) == 2) {
			*lo = a;
			*hi = b;
		}
	}
	fclose(f);
}

uint64_t stack_rlimit(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_STACK, &r) != 0)
		return 0;
	return r.rlim_cur;
}

/* ---- go-panic-callback ---- */
extern void goCallbackPanics(void); /* export_panic.go */

void call_go_callback(void) { goCallbackPanics(); }
