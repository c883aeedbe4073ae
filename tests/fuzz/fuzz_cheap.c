/* Harness (d): glibc's malloc state (cheap.c, cheap_walk.c): the search for
 * main_arena, the arena list, heaps, chunk walks, tcache/fastbin/bin lists
 * and lookups, over a memory image recorded from a real sample core (mkseed
 * cheap) with the fuzzer's changes. Cycles, sizes that leave the heap and
 * absurd counts must end as problems, in bounded time.
 *
 * Input: u64 main_arena (0: search) | u8 glibc minor | u64 sbrk_base
 *        | u8 n | n x { u64 start | u64 end | u8 flags (1 writable, 2 file,
 *        4 search for main_arena here) } | u8 m | m x u64 address
 *        | image records (fuzz_common.h). */
#include "fuzz_common.h"

#include <elf.h>

#include "cheap.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_record_init();
	return 0;
}

enum { MAX_REGIONS = 255 };

/* Recording: the source as target_cheap_open() makes it from the core. */
static void record_source(struct cheap_source *src, struct cheap_region *regions,
			  size_t *nr, uint8_t *rflags, bool search)
{
	struct target *t = fz_rec->t;
	const struct target_module *libc = NULL;
	for (size_t i = 0; i < t->nmodules && !libc; i++) {
		const char *b = strrchr(t->modules[i].name, '/');
		b = b ? b + 1 : t->modules[i].name;
		if (!strncmp(b, "libc.so", 7) || !strncmp(b, "libc-2.", 7))
			libc = &t->modules[i];
	}
	*nr = 0;
	for (size_t i = 0; i < t->core->nsegs && *nr < MAX_REGIONS; i++) {
		const struct core_segment *s = &t->core->segs[i];
		struct cheap_region r = { s->vaddr, s->vaddr + s->memsz, (s->flags & PF_W) != 0,
					  core_file_of(t->core, s->vaddr) != NULL };
		uint8_t fl = (r.writable ? 1 : 0) | (r.file ? 2 : 0);
		if (libc && r.writable && r.start < libc->end && r.end > libc->start)
			fl |= 4;
		rflags[*nr] = fl;
		regions[(*nr)++] = r;
	}
	struct cheap *c = NULL;
	struct ct_error *err = target_cheap_open(t, &c);
	if (err) {
		fprintf(stderr, "record: target_cheap_open: %s\n", err->msg);
		exit(2);
	}
	struct cheap_summary sum;
	cheap_summarize(c, &sum);
	src->main_arena = search ? 0 : sum.main_arena;
	src->glibc_minor = sum.glibc_minor;
	src->sbrk_base = search ? 0 : sum.sbrk_base;
	cheap_close(c);
}

static int region_cmp(const void *a, const void *b)
{
	const struct cheap_region *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The source's contract: sorted, non-overlapping, non-empty ranges. */
static size_t regions_clean(struct cheap_region *r, size_t n)
{
	qsort(r, n, sizeof(*r), region_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].end <= r[i].start || (k && r[i].start < r[k - 1].end))
			continue;
		r[k++] = r[i];
	}
	return k;
}

struct count {
	uint64_t n;
};

static bool on_chunk(const struct cheap_chunk *ch, void *arg)
{
	struct count *c = arg;
	(void)cheap_bin_name(ch->bin);
	(void)cheap_state_name(ch->state);
	if (strnlen(ch->reason, sizeof(ch->reason)) == sizeof(ch->reason))
		abort(); /* reason not terminated */
	return ++c->n < 1000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct cheap_source src = { 0 };
	src.main_arena = fz_u64(&in);
	src.glibc_minor = fz_u8(&in) % 64;
	src.sbrk_base = fz_u64(&in);
	struct cheap_region regions[MAX_REGIONS], search[MAX_REGIONS];
	uint8_t rflags[MAX_REGIONS];
	size_t nr = fz_u8(&in), ns = 0;
	for (size_t i = 0; i < nr; i++) {
		regions[i].start = fz_u64(&in);
		regions[i].end = fz_u64(&in);
		rflags[i] = fz_u8(&in);
	}
	uint64_t addrs[16];
	size_t na = fz_u8(&in) % 17;
	for (size_t i = 0; i < na; i++)
		addrs[i] = fz_u64(&in);
	struct fz_image img;
	fz_image_parse(&in, &img);
	src.mem = fz_mem(&img);
	if (fz_rec)
		record_source(&src, regions, &nr, rflags, src.main_arena == 0);
	struct fz_buf hdr = { 0 };
	if (fz_rec) {
		fz_buf_put(&hdr, src.main_arena, 8);
		fz_buf_put(&hdr, (uint64_t)src.glibc_minor, 1);
		fz_buf_put(&hdr, src.sbrk_base, 8);
		fz_buf_put(&hdr, nr, 1);
		for (size_t i = 0; i < nr; i++) {
			fz_buf_put(&hdr, regions[i].start, 8);
			fz_buf_put(&hdr, regions[i].end, 8);
			fz_buf_put(&hdr, rflags[i], 1);
		}
		fz_buf_put(&hdr, na, 1);
		for (size_t i = 0; i < na; i++)
			fz_buf_put(&hdr, addrs[i], 8);
	}
	for (size_t i = 0; i < nr; i++) {
		regions[i].writable = rflags[i] & 1;
		regions[i].file = rflags[i] & 2;
		if (rflags[i] & 4)
			search[ns++] = regions[i];
	}
	src.regions = regions;
	src.nregions = regions_clean(regions, nr);
	src.search = search;
	src.nsearch = regions_clean(search, ns);

	struct cheap *c = NULL;
	struct ct_error *err = cheap_open_source(&src, &c);
	if (err) {
		if (!err->msg || !*err->msg)
			abort();
		FZ_DROP(err);
		goto out;
	}
	err = cheap_load(c);
	FZ_DROP(err);
	for (size_t i = 0; i < na; i++) {
		bool found = false;
		struct cheap_chunk ch;
		err = cheap_lookup(c, addrs[i], &found, &ch);
		if (err) {
			FZ_DROP(err);
			continue;
		}
		/* A heap chunk also owns the next chunk's prev_size word (its usable
		 * size reaches it: cheap.h); an mmapped chunk owns its pages only. */
		uint64_t owned = ch.size + (ch.mmapped ? 0 : 8);
		if (found && ch.chunk && ch.state != CHEAP_UNKNOWN &&
		    (addrs[i] < ch.chunk || addrs[i] - ch.chunk >= owned)) {
			fprintf(stderr, "cheap_lookup(0x%llx): chunk 0x%llx size 0x%llx does not hold it\n",
				(unsigned long long)addrs[i], (unsigned long long)ch.chunk,
				(unsigned long long)ch.size);
			abort();
		}
	}
	struct count cnt = { 0 };
	err = cheap_foreach_chunk(c, on_chunk, &cnt);
	FZ_DROP(err);
	const char *const *problems;
	size_t np = cheap_problems(c, &problems);
	for (size_t i = 0; i < np; i++)
		if (!problems[i])
			abort();
	struct cheap_summary sum;
	cheap_summarize(c, &sum);
	cheap_close(c);
out:
	if (fz_rec)
		fz_record_write(hdr.p, hdr.n, 0);
	free(hdr.p);
	fz_image_free(&img);
	return 0;
}
