/* Map walks over synthetic memory: the cases real cores rarely catch (a
 * classic map with some old buckets evacuated and some not, overflow loops,
 * a Swiss directory whose tables span several entries, a stale table, garbage
 * ctrl bytes, absurd header values). Layouts are set by hand here (the real
 * ones come from DWARF; see tests/test_maps.py for those), constants come from
 * gomap.c's fallback table since the fake executable has no DWARF. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap.h"
#include "gomap_int.h"

static int failures;
#define CHECK(c)                                                                     \
	do {                                                                         \
		if (!(c)) {                                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
			failures++;                                                  \
		}                                                                    \
	} while (0)

/* ---- fake memory: a few regions ---- */

struct region {
	uint64_t addr;
	unsigned char *buf;
	size_t len;
};
static struct region regions[16];
static int nregions;

static unsigned char *region(uint64_t addr, size_t len)
{
	struct region *r = &regions[nregions++];
	r->addr = addr;
	r->len = len;
	r->buf = calloc(1, len);
	return r->buf;
}

static void regions_free(void)
{
	for (int i = 0; i < nregions; i++)
		free(regions[i].buf);
	nregions = 0;
}

static enum mem_status fake_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	(void)arg;
	for (int i = 0; i < nregions; i++) {
		struct region *r = &regions[i];
		if (addr >= r->addr && addr - r->addr <= r->len && len <= r->len - (addr - r->addr)) {
			memcpy(buf, r->buf + (addr - r->addr), len);
			return MEM_OK;
		}
	}
	return MEM_UNMAPPED;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

/* ---- collecting entries ---- */

struct seen {
	uint64_t keys[256];
	int n, dups;
};

static bool collect(void *arg, const struct gomap *m, const struct gomap_entry *e)
{
	struct seen *s = arg;
	unsigned char b[8];
	(void)m;
	if (fake_read(NULL, e->key_addr, b, 8) != MEM_OK)
		return true;
	uint64_t k = mem_load(b, 8);
	for (int i = 0; i < s->n; i++)
		s->dups += s->keys[i] == k;
	if (s->n < 256)
		s->keys[s->n++] = k;
	return true;
}

static bool has_issue(const struct gomap_health *h, const char *needle)
{
	for (unsigned i = 0; i < h->nissues; i++)
		if (strstr(h->issues[i], needle))
			return true;
	return false;
}

static void type_defaults(struct gomap_type *t)
{
	memset(t, 0, sizeof(*t));
	t->name = "map[int]int";
	t->key_size = t->elem_size = 8;
	t->slots = 8;
	t->off_count = t->off_flags = t->off_B = t->off_noverflow = t->off_hash0 = t->off_buckets =
		t->off_oldbuckets = t->off_nevacuate = t->off_extra = t->off_clear_seq = t->off_seed =
		t->off_dir_ptr = t->off_dir_len = t->off_global_depth = t->off_global_shift =
		t->off_writing = t->off_tombstone_possible = t->overflow_off = GOMAP_NONE;
}

/* ---- classic: bucket = tophash[8], keys[8]int, values[8]int, overflow ---- */

enum { CB_SIZE = 144, CB_KEYS = 8, CB_VALS = 72, CB_OVF = 136 };

static void classic_type(struct gomap_type *t)
{
	type_defaults(t);
	t->impl = GO_MAP_CLASSIC;
	t->group_size = CB_SIZE;
	t->ctrl_off = 0;
	t->key_base = CB_KEYS;
	t->key_stride = 8;
	t->elem_base = CB_VALS;
	t->elem_stride = 8;
	t->overflow_off = CB_OVF;
}

static void cslot(unsigned char *b, int i, uint8_t top, uint64_t k)
{
	b[i] = top;
	put64(b + CB_KEYS + 8 * i, k);
	put64(b + CB_VALS + 8 * i, k * 10);
}

static void test_classic_mid_growth(const struct gomap_ctx *ctx)
{
	/* B = 2 (4 new buckets), growing from 2 old buckets; old bucket 0 was
	 * evacuated to new buckets 0 and 2, old bucket 1 was not (new 1 and 3 empty). */
	uint64_t nb = 0x10000, ob = 0x20000, ovf = 0x30000;
	unsigned char *newb = region(nb, 4 * CB_SIZE);
	unsigned char *oldb = region(ob, 2 * CB_SIZE);
	unsigned char *ov = region(ovf, CB_SIZE);
	cslot(oldb, 0, 2, 1); /* evacuatedX: key 1 moved */
	cslot(oldb, 1, 3, 2); /* evacuatedY */
	oldb[2] = 4;          /* evacuatedEmpty */
	cslot(newb, 0, 0x55, 1);
	cslot(newb + 2 * CB_SIZE, 0, 0x66, 2);
	cslot(oldb + CB_SIZE, 0, 0x77, 3);
	cslot(oldb + CB_SIZE, 1, 1, 99); /* emptyOne: deleted, not an entry */
	cslot(oldb + CB_SIZE, 2, 0x78, 4);
	memset(oldb + CB_SIZE + 3, 1, 5); /* emptyOne: the chain goes on (emptyRest would end it) */
	put64(oldb + CB_SIZE + CB_OVF, ovf);
	cslot(ov, 0, 0x79, 5);
	struct gomap m = { 0 };
	classic_type(&m.type);
	m.addr = 0x1000;
	m.count = 5;
	m.B = 2;
	m.buckets = nb;
	m.oldbuckets = ob;
	m.nevacuate = 1;
	struct seen s = { 0 };
	struct gomap_visitor v = { .entry = collect, .arg = &s };
	struct gomap_health h;
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(s.n == 5 && s.dups == 0);
	CHECK(h.live == 5 && h.complete && h.nissues == 0);
	CHECK(h.growing && h.old_unevacuated == 1 && h.evacuated == 3);
	/* The growth text counts evacuated old buckets by their states, and
	 * says nevacuate apart: with nevacuate 0, old bucket 0 is still
	 * evacuated (a write's growWork moved it). */
	char growth[128];
	m.nevacuate = 0;
	gomap_growth_str(ctx, &m, growth, sizeof(growth));
	CHECK(!strcmp(growth, "growing (2x), 1/2 old buckets evacuated (nevacuate 0)"));
	memcpy(oldb + CB_SIZE, oldb, 1); /* old bucket 1 evacuated too */
	gomap_growth_str(ctx, &m, growth, sizeof(growth));
	CHECK(!strcmp(growth, "growing (2x), 2/2 old buckets evacuated (nevacuate 0)"));
	oldb[CB_SIZE] = 0x77;
	m.nevacuate = 1;

	/* An overflow bucket that points at itself: cut, each entry still once. */
	put64(ov + CB_OVF, ovf);
	memset(&s, 0, sizeof(s));
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(s.n == 5 && s.dups == 0);
	CHECK(has_issue(&h, "loops back"));
	CHECK(gomap_health_bad(&h));

	/* An overflow pointer into the new bucket array. */
	put64(ov + CB_OVF, nb + CB_SIZE);
	memset(&s, 0, sizeof(s));
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(s.n == 5 && s.dups == 0);
	CHECK(has_issue(&h, "points into the bucket array"));

	/* A wild overflow pointer: partial, says where it stopped. */
	put64(ov + CB_OVF, 0xdead0000);
	memset(&s, 0, sizeof(s));
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(s.n == 5 && !h.complete && strstr(h.stopped, "0xdead0000"));

	/* A live entry in a new bucket whose old bucket is not evacuated. */
	put64(ov + CB_OVF, 0);
	cslot(newb + CB_SIZE, 0, 0x80, 6);
	memset(&s, 0, sizeof(s));
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(s.n == 6 && has_issue(&h, "not evacuated") && has_issue(&h, "count 5 but 6"));

	/* Absurd B: rejected before any loop. */
	m.B = 60;
	memset(&s, 0, sizeof(s));
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(s.n == 0 && has_issue(&h, "B = 60 is impossible") && !h.complete);

	/* B that the bucket memory does not back. */
	m.B = 20;
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(has_issue(&h, "runs into unmapped memory"));
	regions_free();
}

static void test_classic_flags(const struct gomap_ctx *ctx)
{
	uint64_t nb = 0x10000;
	unsigned char *b = region(nb, CB_SIZE);
	cslot(b, 0, 0x42, 7);
	struct gomap m = { 0 };
	classic_type(&m.type);
	m.addr = 0x1000;
	m.count = 1;
	m.buckets = nb;
	m.flags = 4 | 1; /* hashWriting | iterator */
	struct gomap_health h;
	char fl[64];
	CHECK(gomap_walk(ctx, &m, NULL, &h) == NULL);
	CHECK(h.writing && h.iterating && has_issue(&h, "hashWriting"));
	gomap_flags_str(ctx, &m, fl, sizeof(fl));
	CHECK(!strcmp(fl, "iterator|hashWriting"));
	regions_free();
}

/* ---- swiss: group = ctrl u64, slots [8]{key int; elem int}; table 32 bytes ---- */

enum { SG_SIZE = 8 + 8 * 16 };

static void swiss_type(struct gomap_type *t)
{
	type_defaults(t);
	t->impl = GO_MAP_SWISS;
	t->group_size = SG_SIZE;
	t->ctrl_off = 0;
	t->key_base = 8;
	t->key_stride = 16;
	t->elem_base = 16;
	t->elem_stride = 16;
	t->tab_size = 32;
	t->tab_used = 0;
	t->tab_capacity = 2;
	t->tab_growth_left = 4;
	t->tab_local_depth = 6;
	t->tab_index = 8;
	t->tab_groups_data = 16;
	t->tab_groups_mask = 24;
}

static void sslot(unsigned char *g, int i, uint8_t ctrl, uint64_t k)
{
	g[i] = ctrl;
	put64(g + 8 + 16 * i, k);
	put64(g + 16 + 16 * i, k + 100);
}

static void sgroup_empty(unsigned char *g)
{
	memset(g, 0x80, 8);
}

/* One table of one group with `n` entries from key k0 and `del` tombstones. */
static void stable(uint64_t ta, uint64_t ga, int64_t index, uint8_t depth, int n, int del,
		   uint64_t k0)
{
	unsigned char *t = region(ta, 32);
	unsigned char *g = region(ga, SG_SIZE);
	sgroup_empty(g);
	for (int i = 0; i < n; i++)
		sslot(g, i, 0x11 + i, k0 + i);
	for (int i = 0; i < del; i++)
		g[n + i] = 0xFE;
	put16(t + 0, n);
	put16(t + 2, 8);
	put16(t + 4, 7 - n - del); /* maxGrowthLeft of one group is capacity-1 */
	t[6] = depth;
	put64(t + 8, (uint64_t)index);
	put64(t + 16, ga);
	put64(t + 24, 0);
}

static void test_swiss_directory(const struct gomap_ctx *ctx)
{
	/* globalDepth 2: table A (localDepth 1) fills dir[0] and dir[1], B and C one each. */
	uint64_t dir = 0x40000;
	unsigned char *d = region(dir, 4 * 8);
	stable(0x50000, 0x51000, 0, 1, 3, 1, 100);
	stable(0x52000, 0x53000, 2, 2, 2, 0, 200);
	stable(0x54000, 0x55000, 3, 2, 4, 2, 300);
	put64(d + 0, 0x50000);
	put64(d + 8, 0x50000);
	put64(d + 16, 0x52000);
	put64(d + 24, 0x54000);
	struct gomap m = { 0 };
	swiss_type(&m.type);
	m.addr = 0x1000;
	m.count = 9;
	m.dir_ptr = dir;
	m.dir_len = 4;
	m.global_depth = 2;
	m.global_shift = 62;
	struct seen s = { 0 };
	struct gomap_visitor v = { .entry = collect, .arg = &s };
	struct gomap_health h;
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(s.n == 9 && s.dups == 0);
	CHECK(h.tables == 3 && h.groups == 3 && h.deleted == 3 && h.nissues == 0 && h.complete);

	/* A stale table (index -1) installed in dir[3]: said, and walked anyway. */
	/* regions: 0 directory, 1/2 table A header/group, 3/4 B, 5/6 C */
	put64(regions[5].buf + 8, (uint64_t)-1);
	memset(&s, 0, sizeof(s));
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(has_issue(&h, "whose index is -1"));
	CHECK(s.dups == 0);
	put64(regions[5].buf + 8, 3);

	/* Table used disagrees with its ctrl bytes. */
	put16(regions[1].buf + 0, 5);
	memset(&s, 0, sizeof(s));
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(has_issue(&h, "used 5 but 3 full slots"));
	put16(regions[1].buf + 0, 3);

	/* dirLen not a power of two / huge: rejected before the loop. */
	m.dir_len = 3;
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(has_issue(&h, "dirLen 3 is impossible") && !h.complete);
	m.dir_len = (int64_t)1 << 40;
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(has_issue(&h, "is impossible"));
	m.dir_len = 1 << 20; /* plausible, but the directory memory is not there */
	m.global_depth = 20;
	m.global_shift = 44;
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(has_issue(&h, "runs into unmapped memory"));
	regions_free();
}

static void test_swiss_small(const struct gomap_ctx *ctx)
{
	uint64_t ga = 0x60000;
	unsigned char *g = region(ga, SG_SIZE);
	sgroup_empty(g);
	sslot(g, 0, 0x01, 1);
	sslot(g, 5, 0x7f, 2);
	struct gomap m = { 0 };
	swiss_type(&m.type);
	m.addr = 0x1000;
	m.count = 2;
	m.dir_ptr = ga;
	m.writing = 1;
	struct seen s = { 0 };
	struct gomap_visitor v = { .entry = collect, .arg = &s };
	struct gomap_health h;
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(s.n == 2 && h.writing && has_issue(&h, "writing = 1"));
	m.writing = 0;
	g[2] = 0x9a; /* high bit set, neither empty nor deleted */
	g[3] = 0xFE; /* small maps have no tombstones */
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(has_issue(&h, "ctrl byte 0x9a is impossible") && has_issue(&h, "tombstone in a small map"));
	m.count = 9;
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(has_issue(&h, "small map (dirLen 0) with used 9"));
	regions_free();
}

/* Go 1.27 GOEXPERIMENT=mapsplitgroup: ctrl, keys [8]int, elems [8]int. */
static void test_swiss_split_group(const struct gomap_ctx *ctx)
{
	uint64_t ga = 0x70000;
	unsigned char *g = region(ga, 8 + 64 + 64);
	memset(g, 0x80, 8);
	for (int i = 0; i < 3; i++) {
		g[2 * i] = 0x10 + i;
		put64(g + 8 + 8 * (2 * i), 40 + i);
		put64(g + 72 + 8 * (2 * i), 400 + i);
	}
	struct gomap m = { 0 };
	swiss_type(&m.type);
	m.type.split_group = true;
	m.type.group_size = 8 + 64 + 64;
	m.type.key_base = 8;
	m.type.key_stride = 8;
	m.type.elem_base = 72;
	m.type.elem_stride = 8;
	m.addr = 0x1000;
	m.count = 3;
	m.dir_ptr = ga;
	struct seen s = { 0 };
	struct gomap_visitor v = { .entry = collect, .arg = &s };
	struct gomap_health h;
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(s.n == 3 && s.keys[0] == 40 && s.keys[2] == 42 && !gomap_health_bad(&h));
	regions_free();
}

/* The walk stops when the callback says so, and the health says it was asked to. */
static bool stop_after_one(void *arg, const struct gomap *m, const struct gomap_entry *e)
{
	(void)m;
	(void)e;
	return ++*(int *)arg < 1;
}

static void test_caller_stop(const struct gomap_ctx *ctx)
{
	uint64_t ga = 0x60000;
	unsigned char *g = region(ga, SG_SIZE);
	sgroup_empty(g);
	sslot(g, 0, 0x01, 1);
	sslot(g, 1, 0x02, 2);
	struct gomap m = { 0 };
	swiss_type(&m.type);
	m.addr = 0x1000;
	m.count = 2;
	m.dir_ptr = ga;
	int n = 0;
	struct gomap_visitor v = { .entry = stop_after_one, .arg = &n };
	struct gomap_health h;
	CHECK(gomap_walk(ctx, &m, &v, &h) == NULL);
	CHECK(n == 1 && h.stopped_by_caller && !gomap_health_bad(&h));
	regions_free();
}

int main(void)
{
	struct dw dw;
	memset(&dw, 0, sizeof(dw)); /* no DWARF: constants from gomap.c's table */
	dw.path = "(synthetic)";
	struct mem mem = { fake_read, NULL, NULL, NULL, NULL };
	struct go_rt rt;
	memset(&rt, 0, sizeof(rt));
	rt.dw = &dw;
	rt.mem = &mem;
	struct gomap_ctx *ctx;
	CHECK(gomap_ctx_create(&rt, &ctx) == NULL);
	const struct gomap_consts *c = gomap_ctx_consts(ctx);
	CHECK(c->ctrl_empty == 0x80 && c->ctrl_deleted == 0xFE && c->min_top_hash == 5);
	test_classic_mid_growth(ctx);
	test_classic_flags(ctx);
	test_swiss_directory(ctx);
	test_swiss_small(ctx);
	test_swiss_split_group(ctx);
	test_caller_stop(ctx);
	gomap_ctx_destroy(ctx);
	if (failures)
		fprintf(stderr, "test_gomap: %d checks failed\n", failures);
	else
		printf("test_gomap: ok\n");
	return failures ? 1 : 0;
}
