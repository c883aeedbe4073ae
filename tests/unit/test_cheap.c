/* Unit tests of the glibc heap model over a synthetic process image: a fake
 * libc data page holding main_arena, a brk heap, a thread arena's heap and an
 * mmapped chunk, laid out as glibc 2.36 lays them out (offsets from coretool's
 * own table, cheap_layout_row(36)). Then damaged copies: sizes that leave the
 * heap, a zero size, bytes not in the core, cycles in tcache, fastbin, unsorted
 * bin, arena ring and heap_info chain, and random corruption: every verdict
 * must come back, bounded, and right where the data allows one. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cheap_int.h"

static int failures;
#define CHECK(cond, ...)                                                            \
	do {                                                                        \
		if (!(cond)) {                                                      \
			failures++;                                                 \
			fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                               \
			fputc('\n', stderr);                                        \
		}                                                                   \
	} while (0)

/* ---- a process image ---- */

struct seg {
	uint64_t start, size;
	unsigned char *data;
	bool writable, file;
	uint64_t unsaved_lo, unsaved_hi; /* bytes "not in the core" */
};

struct image {
	struct seg segs[8];
	int n;
};

static enum mem_status img_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct image *im = arg;
	for (int i = 0; i < im->n; i++) {
		struct seg *s = &im->segs[i];
		if (addr < s->start || addr - s->start >= s->size)
			continue;
		if (len > s->size - (addr - s->start))
			return MEM_UNMAPPED;
		if (addr < s->unsaved_hi && addr + len > s->unsaved_lo)
			return MEM_NOT_SAVED;
		memcpy(buf, s->data + (addr - s->start), len);
		return MEM_OK;
	}
	return MEM_UNMAPPED;
}

static struct seg *img_seg(struct image *im, uint64_t addr)
{
	for (int i = 0; i < im->n; i++)
		if (addr >= im->segs[i].start && addr - im->segs[i].start < im->segs[i].size)
			return &im->segs[i];
	return NULL;
}

static void put(struct image *im, uint64_t addr, uint64_t v)
{
	struct seg *s = img_seg(im, addr);
	if (!s || addr + 8 > s->start + s->size) {
		fprintf(stderr, "test bug: put 0x%" PRIx64 "\n", addr);
		exit(2);
	}
	memcpy(s->data + (addr - s->start), &v, 8);
}

static void put16(struct image *im, uint64_t addr, uint16_t v)
{
	struct seg *s = img_seg(im, addr);
	memcpy(s->data + (addr - s->start), &v, 2);
}

static uint64_t get(struct image *im, uint64_t addr)
{
	uint64_t v;
	struct seg *s = img_seg(im, addr);
	memcpy(&v, s->data + (addr - s->start), 8);
	return v;
}

static void img_add(struct image *im, uint64_t start, uint64_t size, bool writable, bool file)
{
	struct seg *s = &im->segs[im->n++];
	*s = (struct seg){ start, size, calloc(1, size), writable, file, 0, 0 };
}

static void img_copy(struct image *dst, const struct image *src)
{
	*dst = *src;
	for (int i = 0; i < src->n; i++) {
		dst->segs[i].data = malloc(src->segs[i].size);
		memcpy(dst->segs[i].data, src->segs[i].data, src->segs[i].size);
	}
}

static void img_free(struct image *im)
{
	for (int i = 0; i < im->n; i++)
		free(im->segs[i].data);
}

/* ---- glibc 2.36 laid out by hand ---- */

#define LIBC 0x7ffff7e00000ull
#define MA (LIBC + 0x460)
#define BRK 0x555555559000ull
#define HEAPSZ 0x21000ull
#define TH 0x7fffe8000000ull /* 64 MiB aligned */
#define MM 0x7ffff0000000ull
#define KEY 0x5eed5eed5eed5eedull

static const struct cheap_layout *L;

static uint64_t protect(uint64_t pos, uint64_t ptr)
{
	return L->safe_linking ? (pos >> 12) ^ ptr : ptr;
}

static uint64_t bin_at(uint64_t arena, int i)
{
	return arena + L->ms_bins + (uint64_t)(i - 1) * 16 - 16;
}

static void arena_init(struct image *im, uint64_t a, uint64_t next, uint64_t top, uint32_t flags)
{
	put(im, a + L->ms_mutex, (uint64_t)flags << 32); /* mutex 0, flags */
	for (uint32_t i = 1; i < L->nbins; i++) {
		put(im, a + L->ms_bins + (i - 1) * 16, bin_at(a, (int)i));
		put(im, a + L->ms_bins + (i - 1) * 16 + 8, bin_at(a, (int)i));
	}
	put(im, a + L->ms_top, top);
	put(im, a + L->ms_next, next);
	put(im, a + L->ms_attached_threads, 1);
	put(im, a + L->ms_system_mem, HEAPSZ);
	put(im, a + L->ms_max_system_mem, HEAPSZ);
}

static void chunk(struct image *im, uint64_t p, uint64_t sizeword)
{
	put(im, p + 8, sizeword);
}

/* A free chunk in a doubly linked bin of its own: footer, fd/bk, head links. */
static void bin_one(struct image *im, uint64_t a, int bin, uint64_t p, uint64_t size)
{
	uint64_t h = bin_at(a, bin);
	put(im, p + 16, h);
	put(im, p + 24, h);
	put(im, h + 16, p);
	put(im, h + 24, p);
	put(im, p + size, size); /* prev_size of the next chunk */
}

/* Where things are for the layout under test: main heap chunks as offsets
 * from BRK (a tcache_perthread_struct first when the version has tcache), the
 * thread arena right after its heap_info, its first chunk after the arena. */
static struct {
	uint64_t tcs; /* tcache struct chunk size, 0: no tcache */
	uint64_t tc, a, b1, b2, f1, g1, s1, g2, l1, g3, u1, g4, top;
	uint64_t ta, tfirst, tlive, t1, ttop;
	uint64_t key; /* what tcache_put writes at user + 8 */
} o;

static void layout_init(void)
{
	o.tcs = L->tc_sizeof ? (L->tc_sizeof + 8 + 15) & ~15ull : 0;
	static const uint64_t sizes[] = { 0x20, 0x100, 0x100, 0x70, 0x30, 0x200, 0x30, 0x800, 0x30,
					  0x300, 0x40 };
	uint64_t *dst[] = { &o.a, &o.b1, &o.b2, &o.f1, &o.g1, &o.s1, &o.g2, &o.l1, &o.g3, &o.u1, &o.g4 };
	uint64_t p = o.tc = 0;
	p += o.tcs;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		*dst[i] = p;
		p += sizes[i];
	}
	o.top = p;
	o.ta = TH + L->hi_sizeof;
	o.tfirst = o.ta + L->ms_size;
	if ((o.tfirst + 16) & 15)
		o.tfirst += 16 - ((o.tfirst + 16) & 15);
	o.tlive = o.tfirst + o.tcs;
	o.t1 = o.tlive + 0x30;
	o.ttop = o.t1 + 0x20;
	/* 2.29-2.33: the owning tcache; 2.34+: the random tcache_key */
	o.key = L->since >= 34 ? KEY : BRK + o.tc + 16;
}

static void counts_put(struct image *im, uint64_t tcache, int bin, unsigned n)
{
	if (L->tc_counts_size == 2)
		put16(im, tcache + 2 * bin, (uint16_t)n);
	else
		img_seg(im, tcache)->data[tcache + bin - img_seg(im, tcache)->start] = (unsigned char)n;
}

static void build(struct image *im)
{
	memset(im, 0, sizeof(*im));
	img_add(im, LIBC, 0x2000, true, true);
	img_add(im, BRK, HEAPSZ, true, false);
	img_add(im, TH, HEAPSZ, true, false);
	img_add(im, MM, 0x40000, true, false);

	arena_init(im, MA, o.ta, BRK + o.top, 0);
	arena_init(im, o.ta, MA, o.ttop, 2);

	/* main heap */
	if (o.tcs)
		chunk(im, BRK + o.tc, o.tcs | 1);
	chunk(im, BRK + o.a, 0x20 | 1);
	chunk(im, BRK + o.b1, 0x100 | 1);
	chunk(im, BRK + o.b2, 0x100 | 1);
	chunk(im, BRK + o.f1, 0x70 | 1);
	chunk(im, BRK + o.g1, 0x30 | 1);
	chunk(im, BRK + o.s1, 0x200 | 1);
	chunk(im, BRK + o.g2, 0x30);
	chunk(im, BRK + o.l1, 0x800 | 1);
	chunk(im, BRK + o.g3, 0x30);
	chunk(im, BRK + o.u1, 0x300 | 1);
	chunk(im, BRK + o.g4, 0x40);
	chunk(im, BRK + o.top, (HEAPSZ - o.top) | 1);
	/* tcache: bin 14 (0x100) B1 -> B2 (without tcache: two live chunks) */
	if (o.tcs) {
		uint64_t tc = BRK + o.tc + 16;
		counts_put(im, tc, 14, 2);
		put(im, tc + L->tc_entries + 8 * 14, BRK + o.b1 + 16);
		put(im, BRK + o.b1 + 16, protect(BRK + o.b1 + 16, BRK + o.b2 + 16));
		put(im, BRK + o.b1 + 24, o.key);
		put(im, BRK + o.b2 + 16, protect(BRK + o.b2 + 16, 0));
		put(im, BRK + o.b2 + 24, o.key);
	}
	/* fastbin 5 (0x70) */
	put(im, MA + L->ms_fastbins + 8 * 5, BRK + o.f1);
	put(im, BRK + o.f1 + 16, protect(BRK + o.f1 + 16, 0));
	if (L->ms_have_fastchunks >= 0)
		put(im, MA + L->ms_have_fastchunks, 1);
	/* small bin 32 (0x200), large bin 80 (0x800), unsorted (0x300) */
	bin_one(im, MA, 32, BRK + o.s1, 0x200);
	bin_one(im, MA, 80, BRK + o.l1, 0x800);
	bin_one(im, MA, 1, BRK + o.u1, 0x300);

	/* thread heap: heap_info, malloc_state, [tcache], live, T1 (tcache bin 0), top */
	put(im, TH + L->hi_ar_ptr, o.ta);
	put(im, TH + L->hi_prev, 0);
	put(im, TH + L->hi_size, HEAPSZ);
	put(im, TH + L->hi_mprotect_size, HEAPSZ);
	if (o.tcs)
		chunk(im, o.tfirst, o.tcs | 5);
	chunk(im, o.tlive, 0x30 | 5);
	chunk(im, o.t1, 0x20 | 5);
	chunk(im, o.ttop, (TH + HEAPSZ - o.ttop) | 1);
	if (o.tcs) {
		uint64_t ttc = o.tfirst + 16;
		counts_put(im, ttc, 0, 1);
		put(im, ttc + L->tc_entries, o.t1 + 16);
		put(im, o.t1 + 16, protect(o.t1 + 16, 0));
		put(im, o.t1 + 24, L->since >= 34 ? KEY : ttc);
	}

	/* an mmapped chunk at the start of an anonymous mapping */
	put(im, MM, 0);
	put(im, MM + 8, 0x21000 | 2);
}

static struct cheap *open_img(struct image *im, bool search, int minor, struct ct_error **errp)
{
	struct cheap_region regs[8], lib[1];
	for (int i = 0; i < im->n; i++)
		regs[i] = (struct cheap_region){ im->segs[i].start, im->segs[i].start + im->segs[i].size,
						 im->segs[i].writable, im->segs[i].file };
	lib[0] = regs[0];
	struct cheap_source src = {
		.mem = { img_read, im },
		.regions = regs,
		.nregions = (size_t)im->n,
		.search = lib,
		.nsearch = 1,
		.main_arena = search ? 0 : MA,
		.glibc_minor = minor,
	};
	struct cheap *c = NULL;
	struct ct_error *err = cheap_open_source(&src, &c);
	if (errp)
		*errp = err;
	else if (err) {
		CHECK(!err, "cheap_open_source: %s", err->msg);
		ct_error_destroy(err);
	}
	return c;
}

static struct cheap_chunk look(struct cheap *c, uint64_t addr, bool *found)
{
	struct cheap_chunk ch;
	struct ct_error *err = cheap_lookup(c, addr, found, &ch);
	CHECK(!err, "lookup 0x%" PRIx64 ": %s", addr, err ? err->msg : "");
	ct_error_destroy(err);
	return ch;
}

static void expect(struct cheap *c, uint64_t addr, enum cheap_state st, enum cheap_bin bin,
		   uint64_t chunk_addr, const char *what)
{
	bool found;
	struct cheap_chunk ch = look(c, addr, &found);
	CHECK(found, "%s 0x%" PRIx64 ": not found", what, addr);
	CHECK(ch.state == st, "%s 0x%" PRIx64 ": state %s, want %s (%s)", what, addr,
	      cheap_state_name(ch.state), cheap_state_name(st), ch.reason);
	CHECK(ch.bin == bin, "%s 0x%" PRIx64 ": bin %s, want %s", what, addr, cheap_bin_name(ch.bin),
	      cheap_bin_name(bin));
	if (chunk_addr != UINT64_MAX)
		CHECK(ch.chunk == chunk_addr, "%s 0x%" PRIx64 ": chunk 0x%" PRIx64 ", want 0x%" PRIx64,
		      what, addr, ch.chunk, chunk_addr);
}

static bool has_problem(struct cheap *c, const char *needle)
{
	const char *const *p;
	size_t n = cheap_problems(c, &p);
	for (size_t i = 0; i < n; i++)
		if (strstr(p[i], needle))
			return true;
	return false;
}

static void dump_problems(struct cheap *c)
{
	const char *const *p;
	size_t n = cheap_problems(c, &p);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  problem: %s\n", p[i]);
}

static void healthy_verdicts(struct cheap *c)
{
	expect(c, BRK + o.a + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, BRK + o.a, "live");
	expect(c, BRK + o.a + 20, CHEAP_ALLOCATED, CHEAP_BIN_NONE, BRK + o.a, "live interior");
	/* B1's prev_size field is A's last 8 usable bytes. */
	expect(c, BRK + o.b1 + 3, CHEAP_ALLOCATED, CHEAP_BIN_NONE, BRK + o.a, "prev_size of next");
	enum cheap_state tst = o.tcs ? CHEAP_FREE : CHEAP_ALLOCATED;
	enum cheap_bin tbin = o.tcs ? CHEAP_BIN_TCACHE : CHEAP_BIN_NONE;
	expect(c, BRK + o.b1 + 16, tst, tbin, BRK + o.b1, "tcache 1");
	expect(c, BRK + o.b2 + 0x80, tst, tbin, BRK + o.b2, "tcache 2");
	expect(c, BRK + o.f1 + 16, CHEAP_FREE, CHEAP_BIN_FASTBIN, BRK + o.f1, "fastbin");
	/* G1's prev_size is the last word of F1's usable size: F1's (free, fastbin). */
	expect(c, BRK + o.g1, CHEAP_FREE, CHEAP_BIN_FASTBIN, BRK + o.f1, "after fastbin");
	expect(c, BRK + o.s1 + 16, CHEAP_FREE, CHEAP_BIN_SMALL, BRK + o.s1, "small");
	expect(c, BRK + o.l1 + 0x400, CHEAP_FREE, CHEAP_BIN_LARGE, BRK + o.l1, "large");
	expect(c, BRK + o.u1 + 16, CHEAP_FREE, CHEAP_BIN_UNSORTED, BRK + o.u1, "unsorted");
	expect(c, BRK + o.g4 + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, BRK + o.g4, "before top");
	expect(c, BRK + o.top + 0x5000, CHEAP_FREE, CHEAP_BIN_TOP, BRK + o.top, "top");
	expect(c, BRK + o.top + 4, CHEAP_ALLOCATED, CHEAP_BIN_NONE, BRK + o.g4, "top's prev_size");
	expect(c, BRK + o.top + 8, CHEAP_FREE, CHEAP_BIN_TOP, BRK + o.top, "top's size");
	if (o.tcs)
		expect(c, BRK + o.tc + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, BRK + o.tc, "tcache struct");
	/* the thread arena */
	expect(c, o.tlive + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, o.tlive, "thread live");
	expect(c, o.t1 + 16, tst, tbin, o.t1, "thread tcache");
	expect(c, TH + 0x100, CHEAP_ALLOCATED, CHEAP_BIN_NONE, 0, "arena metadata");
	bool found;
	struct cheap_chunk ch = look(c, o.t1 + 16, &found);
	CHECK(!ch.main_arena && ch.arena == o.ta && ch.heap == TH, "thread chunk arena 0x%" PRIx64,
	      ch.arena);
	ch = look(c, BRK + o.a + 16, &found);
	CHECK(ch.main_arena && ch.arena == MA && ch.user_size == 0x18 && ch.size == 0x20,
	      "main chunk: arena 0x%" PRIx64 " user_size %" PRIu64, ch.arena, ch.user_size);
	/* the mmapped chunk */
	ch = look(c, MM + 0x1234, &found);
	CHECK(found && ch.mmapped && ch.state == CHEAP_ALLOCATED && ch.chunk == MM &&
	      ch.size == 0x21000 && ch.user_size == 0x21000 - 16 && ch.arena == 0,
	      "mmapped: found %d mmapped %d chunk 0x%" PRIx64, found, ch.mmapped, ch.chunk);
	look(c, MM + 0x30000, &found);
	CHECK(!found, "past the mmapped chunk");
	look(c, LIBC + 0x10, &found);
	CHECK(!found, "libc data");
	look(c, 0x1000, &found);
	CHECK(!found, "unmapped");
}

struct count {
	size_t n, alloc, free, unknown, mmapped, top;
};

static bool count_cb(const struct cheap_chunk *ch, void *arg)
{
	struct count *k = arg;
	k->n++;
	k->alloc += ch->state == CHEAP_ALLOCATED;
	k->free += ch->state == CHEAP_FREE;
	k->unknown += ch->state == CHEAP_UNKNOWN;
	k->mmapped += ch->mmapped;
	k->top += ch->bin == CHEAP_BIN_TOP;
	return true;
}

/* The table's rows against facts read again from the glibc sources (not from
 * coretool): sizeof (struct malloc_state), offset of top, the tcache struct's
 * chunk size, sizeof (heap_info), safe-linking, tcache_entry.key. */
static void test_table_facts(void)
{
	static const struct {
		int minor;
		uint32_t ms_size, top, tcs, hi;
		bool safe, key;
	} facts[] = {
		{ 24, 0x890, 0x58, 0, 32, false, false },
		{ 26, 0x890, 0x58, 0x250, 32, false, false },
		{ 27, 0x898, 0x60, 0x250, 32, false, false },
		{ 29, 0x898, 0x60, 0x250, 32, false, true },
		{ 31, 0x898, 0x60, 0x290, 32, false, true },
		{ 33, 0x898, 0x60, 0x290, 32, true, true },
		{ 35, 0x898, 0x60, 0x290, 48, true, true },
		{ 36, 0x898, 0x60, 0x290, 48, true, true },
		{ 41, 0x898, 0x60, 0x290, 48, true, true },
	};
	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		const struct cheap_layout *r = cheap_layout_row(facts[i].minor);
		CHECK(r, "no row for 2.%d", facts[i].minor);
		if (!r)
			continue;
		uint32_t tcs = r->tc_sizeof ? (r->tc_sizeof + 8 + 15) & ~15u : 0;
		CHECK(r->ms_size == facts[i].ms_size && r->ms_top == facts[i].top && tcs == facts[i].tcs &&
			      r->hi_sizeof == facts[i].hi && r->safe_linking == facts[i].safe &&
			      r->tc_key == facts[i].key,
		      "row %s for 2.%d", r->name, facts[i].minor);
	}
	CHECK(!cheap_layout_row(22) && !cheap_layout_row(0), "rows for unknown versions");
}

/* One healthy image per row of the layout table, read with and without the
 * version, with the address given (debug info) and searched for. */
static void test_healthy_versions(void)
{
	static const int minors[] = { 36, 33, 31, 29, 27, 26, 24 };
	for (size_t vi = 0; vi < sizeof(minors) / sizeof(minors[0]); vi++) {
		L = cheap_layout_row(minors[vi]);
		layout_init();
		struct image im;
		build(&im);
		for (int m = 0; m < 2; m++) {
			for (int v = 0; v < 2; v++) {
				bool search = m;
				int minor = v ? 0 : minors[vi];
				struct cheap *c = open_img(&im, search, minor, NULL);
				if (!c) {
					CHECK(c, "2.%d (as 2.%d, search %d) not opened", minors[vi], minor, search);
					continue;
				}
				struct cheap_summary s;
				cheap_summarize(c, &s);
				CHECK(s.main_arena == MA, "2.%d: main_arena 0x%" PRIx64, minors[vi], s.main_arena);
				CHECK(!strcmp(s.found_by, search ? "search" : "debuginfo"), "found_by %s",
				      s.found_by);
				healthy_verdicts(c);
				cheap_summarize(c, &s);
				size_t ntc = o.tcs ? 2 : 0;
				CHECK(s.narenas == 2 && s.nheaps == 2 && s.ntcaches == ntc,
				      "2.%d: arenas %zu heaps %zu tcaches %zu", minors[vi], s.narenas, s.nheaps,
				      s.ntcaches);
				const char *const *p;
				CHECK(cheap_problems(c, &p) == 0, "problems on a healthy heap (2.%d as 2.%d, "
				      "search %d)", minors[vi], minor, search);
				if (cheap_problems(c, &p))
					dump_problems(c);
				struct count k = { 0 };
				struct ct_error *err = cheap_foreach_chunk(c, count_cb, &k);
				CHECK(!err, "foreach");
				/* main: 11 chunks [+ tcache] + top; thread: 2 [+ tcache] + top; 1 mmapped */
				size_t nt = o.tcs ? 1 : 0;
				CHECK(k.n == 11 + nt + 1 + 2 + nt + 1 + 1 && k.top == 2 && k.mmapped == 1 &&
					      k.unknown == 0 && k.free == 4 + 2 * nt + 1 + nt + 1,
				      "2.%d foreach: n %zu alloc %zu free %zu unknown %zu mmapped %zu top %zu",
				      minors[vi], k.n, k.alloc, k.free, k.unknown, k.mmapped, k.top);
				cheap_close(c);
			}
		}
		img_free(&im);
	}
	L = cheap_layout_row(36);
	layout_init();
}

/* Safe-linked pointers stored raw (as before 2.32) with the version unknown:
 * told apart per pointer. */
static void test_raw_pointers(void)
{
	struct image im;
	build(&im);
	put(&im, BRK + o.b1 + 16, BRK + o.b2 + 16);
	put(&im, BRK + o.b2 + 16, 0);
	put(&im, BRK + o.f1 + 16, 0);
	put(&im, o.t1 + 16, 0);
	struct cheap *c = open_img(&im, true, 0, NULL);
	if (c) {
		expect(c, BRK + o.b2 + 16, CHEAP_FREE, CHEAP_BIN_TCACHE, BRK + o.b2, "raw tcache 2");
		expect(c, BRK + o.f1 + 16, CHEAP_FREE, CHEAP_BIN_FASTBIN, BRK + o.f1, "raw fastbin");
		expect(c, o.t1 + 16, CHEAP_FREE, CHEAP_BIN_TCACHE, o.t1, "raw thread");
		const char *const *p;
		CHECK(cheap_problems(c, &p) == 0, "problems with raw pointers, version unknown");
		if (cheap_problems(c, &p))
			dump_problems(c);
	}
	cheap_close(c);
	img_free(&im);
}

static void test_damage(void)
{
	struct image im;
	struct cheap *c;
	bool found;
	struct cheap_chunk ch;

	/* A size that leaves the heap: unknown after it, resumes at the small bin chunk. */
	build(&im);
	put(&im, BRK + o.f1 + 8, 0x7777771);
	c = open_img(&im, true, 36, NULL);
	expect(c, BRK + o.a + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, BRK + o.a, "before damage");
	ch = look(c, BRK + o.g1 + 16, &found);
	CHECK(found && ch.state == CHEAP_UNKNOWN && strstr(ch.reason, "leaves the heap"),
	      "in the damage: %s %s", cheap_state_name(ch.state), ch.reason);
	expect(c, BRK + o.s1 + 16, CHEAP_FREE, CHEAP_BIN_SMALL, BRK + o.s1, "after resync");
	expect(c, BRK + o.g4 + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, BRK + o.g4, "after resync 2");
	expect(c, BRK + o.top + 16, CHEAP_FREE, CHEAP_BIN_TOP, BRK + o.top, "top after damage");
	CHECK(has_problem(c, "walk stopped"), "damage reported");
	cheap_close(c);
	img_free(&im);

	/* A zero size in a heap with top: a stop, not a loop. */
	build(&im);
	put(&im, BRK + o.g3 + 8, 0);
	c = open_img(&im, true, 36, NULL);
	ch = look(c, BRK + o.g3 + 16, &found);
	CHECK(found && ch.state == CHEAP_UNKNOWN && strstr(ch.reason, "corrupt size"), "zero size: %s",
	      ch.reason);
	expect(c, BRK + o.l1 + 16, CHEAP_FREE, CHEAP_BIN_LARGE, BRK + o.l1, "before zero size");
	/* L1's next header is the corrupt one: free by its bin, with a note. */
	ch = look(c, BRK + o.l1 + 16, &found);
	CHECK(strstr(ch.reason, "corrupt size"), "note on L1: %s", ch.reason);
	expect(c, BRK + o.u1 + 16, CHEAP_FREE, CHEAP_BIN_UNSORTED, BRK + o.u1, "resync at unsorted");
	cheap_close(c);
	img_free(&im);

	/* Bytes not in the core: a page of the heap, and the reason says so. */
	build(&im);
	im.segs[1].unsaved_lo = BRK + 0x1000;
	im.segs[1].unsaved_hi = BRK + 0x2000;
	c = open_img(&im, true, 36, NULL);
	ch = look(c, BRK + o.u1 + 16, &found);
	CHECK(found && ch.state == CHEAP_FREE && ch.bin == CHEAP_BIN_UNSORTED &&
		      strstr(ch.reason, "not in the core"),
	      "unsaved next header: %s %s", cheap_state_name(ch.state), ch.reason);
	ch = look(c, BRK + o.g3 + 16, &found);
	CHECK(found && ch.state == CHEAP_ALLOCATED, "G3 before the unsaved page: %s %s",
	      cheap_state_name(ch.state), ch.reason);
	ch = look(c, BRK + o.g4 + 16, &found);
	CHECK(found && ch.state == CHEAP_UNKNOWN && strstr(ch.reason, "not in the core"),
	      "unsaved header: %s %s", cheap_state_name(ch.state), ch.reason);
	expect(c, BRK + o.a + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, BRK + o.a, "saved part");
	cheap_close(c);
	img_free(&im);

	/* Cycles: tcache B1 -> B2 -> B1, fastbin F1 -> F1, unsorted U1 -> U1. */
	build(&im);
	put(&im, BRK + o.b2 + 16, protect(BRK + o.b2 + 16, BRK + o.b1 + 16));
	put(&im, BRK + o.f1 + 16, protect(BRK + o.f1 + 16, BRK + o.f1));
	put(&im, BRK + o.u1 + 16, BRK + o.u1);
	c = open_img(&im, true, 36, NULL);
	expect(c, BRK + o.b1 + 16, CHEAP_FREE, CHEAP_BIN_TCACHE, BRK + o.b1, "tcache cycle 1");
	expect(c, BRK + o.b2 + 16, CHEAP_FREE, CHEAP_BIN_TCACHE, BRK + o.b2, "tcache cycle 2");
	expect(c, BRK + o.f1 + 16, CHEAP_FREE, CHEAP_BIN_FASTBIN, BRK + o.f1, "fastbin cycle");
	expect(c, BRK + o.u1 + 16, CHEAP_FREE, CHEAP_BIN_UNSORTED, BRK + o.u1, "unsorted cycle");
	CHECK(has_problem(c, "tcache") && has_problem(c, "fastbin 5") && has_problem(c, "unsorted bin"),
	      "cycles reported");
	cheap_close(c);
	img_free(&im);

	/* A tcache entry pointing outside any heap. */
	build(&im);
	put(&im, BRK + o.b1 + 16, protect(BRK + o.b1 + 16, 0x1234560));
	c = open_img(&im, true, 36, NULL);
	expect(c, BRK + o.b1 + 16, CHEAP_FREE, CHEAP_BIN_TCACHE, BRK + o.b1, "listed before the break");
	/* B2 still carries the tcache key, and bin 14 is damaged: not "allocated". */
	ch = look(c, BRK + o.b2 + 16, &found);
	CHECK(ch.state == CHEAP_UNKNOWN && strstr(ch.reason, "tcache key"), "lost from tcache: %s %s",
	      cheap_state_name(ch.state), ch.reason);
	CHECK(has_problem(c, "not a free chunk"), "bad tcache entry reported");
	cheap_close(c);
	img_free(&im);

	/* Arena ring that never comes back: the search refuses it, the symbol survives it. */
	build(&im);
	put(&im, o.ta + L->ms_next, o.ta);
	struct ct_error *err = NULL;
	c = open_img(&im, true, 36, &err);
	CHECK(!c && err && err->code == CT_ERR_NOTFOUND, "broken ring accepted by the search");
	ct_error_destroy(err);
	cheap_close(c);
	c = open_img(&im, false, 36, NULL);
	CHECK(c && has_problem(c, "cycle"), "arena cycle reported");
	if (c)
		expect(c, BRK + o.a + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, BRK + o.a, "ring cycle");
	cheap_close(c);
	img_free(&im);

	/* heap_info chain: top in a second heap whose prev is itself. */
	build(&im);
	img_add(&im, TH + 0x4000000, 0x1000, true, false);
	put(&im, TH + 0x4000000, o.ta);
	put(&im, TH + 0x4000000 + 8, TH + 0x4000000);
	put(&im, TH + 0x4000000 + 16, 0x1000);
	put(&im, o.ta + L->ms_top, TH + 0x4000000 + 0x30);
	put(&im, TH + 0x4000000 + 0x38, (0x1000 - 0x30) | 1);
	c = open_img(&im, false, 36, NULL);
	CHECK(c && has_problem(c, "heap_info chain"), "heap_info cycle reported");
	if (c)
		expect(c, o.tlive + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, o.tlive,
		       "first heap found by its mapping");
	cheap_close(c);
	img_free(&im);

	/* A user chunk of the tcache struct's size is not taken for a tcache:
	 * entries without counts, pointers to chunks of other sizes. */
	build(&im);
	uint64_t d = o.ttop;
	chunk(&im, d, 0x290 | 5);
	put(&im, d + 16 + 128, o.t1 + 16);     /* bin 0, count 0 */
	put(&im, d + 16 + 128 + 8 * 3, o.tlive + 16); /* bin 3 (0x50): a 0x30 chunk */
	put(&im, o.ta + L->ms_top, d + 0x290);
	chunk(&im, d + 0x290, (TH + HEAPSZ - (d + 0x290)) | 1);
	c = open_img(&im, true, 36, NULL);
	expect(c, o.tlive + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, o.tlive, "decoy target");
	expect(c, d + 16, CHEAP_ALLOCATED, CHEAP_BIN_NONE, d, "decoy");
	struct cheap_summary sum;
	cheap_summarize(c, &sum);
	CHECK(sum.ntcaches == 2, "decoy taken for a tcache (%zu)", sum.ntcaches);
	CHECK(cheap_problems(c, &(const char *const *){ 0 }) == 0, "problems with a decoy");
	cheap_close(c);
	img_free(&im);

	/* Never initialized (no malloc yet): found, no heap. */
	struct image e;
	memset(&e, 0, sizeof(e));
	img_add(&e, LIBC, 0x2000, true, true);
	put(&e, MA + L->ms_next, MA);
	put(&e, MA + L->ms_attached_threads, 1);
	c = open_img(&e, true, 36, NULL);
	CHECK(c != NULL, "uninitialized main_arena not found");
	if (c) {
		look(c, LIBC + 0x100, &found);
		CHECK(!found, "no heap");
	}
	cheap_close(c);
	img_free(&e);
}

/* Random corruption of arena, heaps and tcache: everything returns, bounded. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static bool any_cb(const struct cheap_chunk *ch, void *arg)
{
	(void)ch;
	return ++*(size_t *)arg < 1000000;
}

static void test_fuzz(void)
{
	struct image base;
	build(&base);
	const uint64_t targets[][2] = {
		{ MA, 0x898 }, { BRK, 0x1400 }, { TH, 0xc00 }, { o.ta, 0x898 }, { MM, 0x20 },
	};
	for (int it = 0; it < 1500; it++) {
		struct image im;
		img_copy(&im, &base);
		int nflips = 1 + (int)(rnd() % 24);
		for (int k = 0; k < nflips; k++) {
			const uint64_t *t = targets[rnd() % 5];
			uint64_t a = t[0] + (rnd() % t[1]) / 8 * 8;
			switch (rnd() % 4) {
			case 0: put(&im, a, get(&im, a) ^ (1ull << (rnd() % 64))); break;
			case 1: put(&im, a, rnd()); break;
			case 2: put(&im, a, BRK + (rnd() % HEAPSZ)); break;
			default: put(&im, a, get(&im, a + 8 * (rnd() % 16))); break;
			}
		}
		for (int mode = 0; mode < 2; mode++) {
			struct ct_error *err = NULL;
			struct cheap *c = open_img(&im, mode, (int)(rnd() % 2) * 36, &err);
			ct_error_destroy(err);
			if (!c)
				continue;
			for (uint64_t a = BRK; a < BRK + 0x1400; a += 8) {
				bool found;
				struct cheap_chunk ch;
				ct_error_destroy(cheap_lookup(c, a, &found, &ch));
				if (found && ch.chunk && !ch.mmapped)
					CHECK(ch.chunk <= a + 16, "chunk 0x%" PRIx64 " after 0x%" PRIx64,
					      ch.chunk, a);
			}
			for (uint64_t a = TH; a < TH + 0xc00; a += 8) {
				bool found;
				struct cheap_chunk ch;
				ct_error_destroy(cheap_lookup(c, a, &found, &ch));
			}
			size_t n = 0;
			ct_error_destroy(cheap_foreach_chunk(c, any_cb, &n));
			cheap_close(c);
		}
		img_free(&im);
	}
	img_free(&base);
}

int main(void)
{
	L = cheap_layout_row(36);
	if (!L) {
		fprintf(stderr, "no layout for glibc 2.36\n");
		return 1;
	}
	layout_init();
	test_table_facts();
	test_healthy_versions();
	test_raw_pointers();
	test_damage();
	test_fuzz();
	if (failures) {
		fprintf(stderr, "test_cheap: %d failures\n", failures);
		return 1;
	}
	printf("test_cheap: ok\n");
	return 0;
}
