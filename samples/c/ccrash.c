/* ccrash — a plain C program (no Go) that writes its ground truth and crashes.
 *
 *   ccrash SCENARIO OUTDIR
 *     c-uaf      glibc chunks in every state (see heapplan.h) held by a global table; frees
 *                them, then reads through the table's pointer to a freed (munmapped) 300000-byte
 *                chunk -> SIGSEGV at exactly that address.
 *     null-deref reads r->count (offset 16) through a NULL struct pointer -> SIGSEGV at 0x10.
 *
 * OUTDIR/truth.json is written (write + fsync + close, no stdio, no malloc) before the crash;
 * see samples/README.md for the format.
 */
#include "heapplan.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>

/* ---- a tiny JSON builder into a static buffer (no malloc) ---- */
static char jbuf[1 << 16];
static size_t jlen;

static void jf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void jf(const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(jbuf + jlen, sizeof jbuf - jlen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof jbuf - jlen) {
		static const char msg[] = "ccrash: truth buffer overflow\n";
		if (write(2, msg, sizeof msg - 1) < 0) { }
		_exit(3);
	}
	jlen += (size_t)n;
}

static int nfields; /* comma management for address lists */

static void addr_begin(uintptr_t a, const char *what, const char *region, const char *state)
{
	jf("%s\n    {\"addr\": \"0x%lx\", \"what\": \"%s\", \"region\": \"%s\", \"state\": \"%s\", "
	   "\"detail\": {",
	   nfields++ ? "," : "", (unsigned long)a, what, region, state);
}

static void addr_end(void) { jf("}}"); }

static void write_truth(const char *outdir)
{
	char path[4096];
	int fd;
	size_t off = 0;
	snprintf(path, sizeof path, "%s/truth.json", outdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(path);
		_exit(2);
	}
	while (off < jlen) {
		ssize_t w = write(fd, jbuf + off, jlen - off);
		if (w <= 0) {
			perror("write truth");
			_exit(2);
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		perror("fsync/close truth");
		_exit(2);
	}
}

/* ---- globals (image region) ---- */
struct cache_entry {
	const char *name;
	void *data;
};
struct cache_entry cache_table[HP_MAX]; /* holds every chunk of the plan, freed ones too */
long ccrash_counter = 7;               /* initialized data */
static struct heap_plan plan;

struct record {
	long id;
	long flags;
	int count; /* offset 16 */
};

__attribute__((noinline)) int record_count(struct record *r) { return r->count; }

__attribute__((noinline)) struct record *lookup_record(int id)
{
	(void)id;
	return NULL; /* "not found" */
}

__attribute__((noinline)) int probe_entry(struct cache_entry *e)
{
	return ((volatile const char *)e->data)[0];
}

__attribute__((noinline)) int release_and_probe(int idx)
{
	hp_release(&plan);
	return probe_entry(&cache_table[idx]);
}

static void chunk_truth(const struct hp_chunk *c, const char *holder)
{
	const char *bin = hp_expect_name[c->expect];
	unsigned long chunk = (unsigned long)hp_chunk_of(c->p), csize = hp_csize(c->p);
	switch (c->expect) {
	case HP_LIVE:
	case HP_GUARD:
	case HP_REUSED:
		addr_begin((uintptr_t)c->p, c->key, "c-heap", "allocated");
		jf("\"arena\": \"main\", \"chunk\": \"0x%lx\", \"chunk_size\": %lu, \"user_size\": %zu, "
		   "\"mmapped\": %s",
		   chunk, csize, c->req, c->mmapped ? "true" : "false");
		if (c->expect == HP_REUSED)
			jf(", \"reused\": true");
		break;
	case HP_MUNMAPPED:
		addr_begin((uintptr_t)c->p, c->key, "unmapped", "unmapped");
		jf("\"reason\": \"plain\", \"mmapped\": true, \"munmapped_chunk\": true, "
		   "\"chunk\": \"0x%lx\", \"user_size\": %zu",
		   chunk, c->req);
		break;
	default:
		addr_begin((uintptr_t)c->p, c->key, "c-heap", "free");
		jf("\"arena\": \"main\", \"bin\": \"%s\", \"chunk\": \"0x%lx\", \"chunk_size\": %lu, "
		   "\"user_size\": %zu, \"mmapped\": false",
		   bin, chunk, csize, c->req);
	}
	if (holder)
		jf(", \"holder\": \"%s\"", holder);
	addr_end();
}

int main(int argc, char **argv)
{
	const char *sc, *outdir;
	int i, local_on_stack = 1, fault_idx = -1;

	if (argc != 3) {
		fprintf(stderr, "usage: ccrash c-uaf|null-deref OUTDIR\n");
		return 64;
	}
	sc = argv[1];
	outdir = argv[2];
	if (strcmp(sc, "c-uaf") && strcmp(sc, "null-deref")) {
		fprintf(stderr, "ccrash: unknown scenario %s\n", sc);
		return 64;
	}
	signal(SIGSEGV, SIG_DFL);

	if (hp_alloc(&plan, HP_WITH_MMAP_FREE | HP_WITH_MMAP_LIVE) != 0)
		fprintf(stderr, "TRUTH-WARNING: heap plan allocation did not go as designed\n");
	for (i = 0; i < plan.n; i++) {
		cache_table[i].name = plan.c[i].key;
		cache_table[i].data = plan.c[i].p;
		if (plan.c[i].expect == HP_MUNMAPPED)
			fault_idx = i;
	}

	jf("{\n  \"scenario\": \"%s\",\n  \"program\": \"ccrash\",\n  \"pid\": %d,\n"
	   "  \"addresses\": [",
	   sc, (int)getpid());
	for (i = 0; i < plan.n; i++) {
		char holder[64];
		snprintf(holder, sizeof holder, "cache_table[%d]", i);
		chunk_truth(&plan.c[i], holder);
	}
	addr_begin((uintptr_t)&ccrash_counter, "C global ccrash_counter", "image", "allocated");
	jf("\"symbol\": \"ccrash_counter\"");
	addr_end();
	addr_begin((uintptr_t)&cache_table[3], "C global cache_table[3]", "image", "allocated");
	jf("\"symbol\": \"cache_table\", \"offset\": %zu", 3 * sizeof(struct cache_entry));
	addr_end();
	addr_begin((uintptr_t)&local_on_stack, "local variable of main()", "thread-stack",
		   "allocated");
	jf("\"thread\": \"main\"");
	addr_end();
	addr_begin(0x8, "null page", "unmapped", "unmapped");
	jf("\"reason\": \"null-page\"");
	addr_end();
	jf("\n  ],\n  \"maps\": [],\n");

	if (!strcmp(sc, "c-uaf")) {
		jf("  \"crash\": {\"class\": \"c-use-after-free\", \"signal\": \"SIGSEGV\", "
		   "\"core_signal\": \"SIGSEGV\", \"fault_addr\": \"0x%lx\", \"c_function\": "
		   "\"probe_entry\", \"holder\": {\"global\": \"cache_table\", \"index\": %d, \"key\": "
		   "\"%s\"}}\n}\n",
		   (unsigned long)plan.c[fault_idx].p, fault_idx, plan.c[fault_idx].key);
		write_truth(outdir);
		return release_and_probe(fault_idx);
	}
	jf("  \"crash\": {\"class\": \"null-deref\", \"signal\": \"SIGSEGV\", \"core_signal\": "
	   "\"SIGSEGV\", \"fault_addr\": \"0x%zx\", \"c_function\": \"record_count\"}\n}\n",
	   offsetof(struct record, count));
	write_truth(outdir);
	hp_release(&plan);
	return record_count(lookup_record(42));
}
