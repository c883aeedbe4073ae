/* C half of the crasher. Compiled by cgo with the package's CFLAGS (-O0 -g): every function
 * here is its own frame in the core, with the name the truth gives. */
#include "crasher.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

long c_global_counter = 42;
struct heap_plan c_plan;
struct session_c *cached_session; /* go-uaf: C keeps a Go pointer here */
uintptr_t stale_slot;             /* map-grow-stale: pointer into old map bucket/group memory */
volatile int overflow_stop = -1;  /* never reached: keeps recurse_deep from looking infinite */

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
