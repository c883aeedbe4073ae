/* The glibc heap model, part 1: which glibc, where main_arena is, the arenas
 * and their heaps. Chunk walks, free lists and lookups are in cheap_walk.c.
 *
 * main_arena is a static variable of libc.so.6 (malloc/malloc.c), in no
 * dynamic symbol table. With libc's debug info (Debian's libc6-dbg, found by
 * build-id) it is a symbol and struct malloc_state a DWARF type; without it,
 * libc's writable data is searched for a malloc_state that validates: its
 * `next` ring returns to it, its empty bins point at themselves, its fastbins
 * and top are aligned chunk pointers. */
#define _GNU_SOURCE
#include "cheap_int.h"
#include "ct_util.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "dw.h"

/* glibc malloc on x86-64 (LP64: SIZE_SZ 8, MALLOC_ALIGNMENT 16, MINSIZE 32),
 * read from the sources of each version:
 *   malloc/malloc.c  struct malloc_state (mutex, flags, have_fastchunks from
 *                    2.27, fastbinsY[NFASTBINS = 10], top, last_remainder,
 *                    bins[NBINS * 2 - 2 = 254], binmap[4], next, next_free,
 *                    attached_threads, system_mem, max_system_mem);
 *                    tcache_perthread_struct (2.26+: counts[TCACHE_MAX_BINS = 64],
 *                    char until 2.29, uint16_t from 2.30; entries[64]);
 *                    tcache_entry.key (2.29+); PROTECT_PTR safe-linking (2.32+);
 *                    NONCONTIGUOUS_BIT 2, ARENA_CORRUPTION_BIT 4 (FASTCHUNKS_BIT 1
 *                    until 2.26).
 *                    NSMALLBINS 64; mmapped chunks cover whole 4 KiB pages.
 *   malloc/arena.c   heap_info {ar_ptr, prev, size, mprotect_size, pad} (32 bytes;
 *                    2.35+ adds pagesize before pad: 48 bytes),
 *                    HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX = 64 MiB (from
 *                    2.35 4 x the huge page size when glibc.malloc.hugetlb is set:
 *                    not handled).
 * Libc's DWARF, when present, overrides the structure offsets (cheap_dwarf_layout).
 * A newer glibc is read with the newest row, and said so (cheap_open_internal):
 * its tcache may differ (2.42 reworked it). */
#define CHEAP_MS_A /* 2.23-2.26: no have_fastchunks */                                   \
	.ms_mutex = 0, .ms_flags = 4, .ms_have_fastchunks = -1, .ms_fastbins = 0x08,          \
	.nfastbins = 10, .ms_top = 0x58, .ms_last_remainder = 0x60, .ms_bins = 0x68,           \
	.nbins = 128, .ms_binmap = 0x858, .ms_next = 0x868, .ms_next_free = 0x870,             \
	.ms_attached_threads = 0x878, .ms_system_mem = 0x880, .ms_max_system_mem = 0x888,      \
	.ms_size = 0x890
#define CHEAP_MS_B /* 2.27+: int have_fastchunks at 8 */                                   \
	.ms_mutex = 0, .ms_flags = 4, .ms_have_fastchunks = 8, .ms_fastbins = 0x10,           \
	.nfastbins = 10, .ms_top = 0x60, .ms_last_remainder = 0x68, .ms_bins = 0x70,           \
	.nbins = 128, .ms_binmap = 0x860, .ms_next = 0x870, .ms_next_free = 0x878,             \
	.ms_attached_threads = 0x880, .ms_system_mem = 0x888, .ms_max_system_mem = 0x890,      \
	.ms_size = 0x898
#define CHEAP_COMMON                                                                     \
	.size_sz = 8, .align = 16, .minsize = 32, .nsmallbins = 64, .pagesize = 4096, .hi_ar_ptr = 0, .hi_prev = 8, .hi_size = 16, \
	.hi_mprotect_size = 24, .heap_max = 64ull << 20, .flags_mask = 7
#define CHEAP_TC_NONE .tc_bins = 0, .tc_counts_size = 0, .tc_entries = 0, .tc_sizeof = 0
#define CHEAP_TC_U8 .tc_bins = 64, .tc_counts_size = 1, .tc_entries = 64, .tc_sizeof = 576
#define CHEAP_TC_U16 .tc_bins = 64, .tc_counts_size = 2, .tc_entries = 128, .tc_sizeof = 640

static const struct cheap_layout cheap_layouts[] = {
	{ .name = "2.35-2.41", .since = 35, .until = 41, CHEAP_COMMON, CHEAP_MS_B, CHEAP_TC_U16,
	  .tc_key = true, .safe_linking = true, .hi_sizeof = 48 },
	{ .name = "2.32-2.34", .since = 32, .until = 34, CHEAP_COMMON, .hi_sizeof = 32, CHEAP_MS_B, CHEAP_TC_U16,
	  .tc_key = true, .safe_linking = true },
	{ .name = "2.30-2.31", .since = 30, .until = 31, CHEAP_COMMON, .hi_sizeof = 32, CHEAP_MS_B, CHEAP_TC_U16,
	  .tc_key = true },
	{ .name = "2.29", .since = 29, .until = 29, CHEAP_COMMON, .hi_sizeof = 32, CHEAP_MS_B, CHEAP_TC_U8,
	  .tc_key = true },
	{ .name = "2.27-2.28", .since = 27, .until = 28, CHEAP_COMMON, .hi_sizeof = 32, CHEAP_MS_B, CHEAP_TC_U8 },
	{ .name = "2.26", .since = 26, .until = 26, CHEAP_COMMON, .hi_sizeof = 32, CHEAP_MS_A, CHEAP_TC_U8 },
	{ .name = "2.23-2.25", .since = 23, .until = 25, CHEAP_COMMON, .hi_sizeof = 32, CHEAP_MS_A, CHEAP_TC_NONE },
};
#define CHEAP_NLAYOUTS (sizeof(cheap_layouts) / sizeof(cheap_layouts[0]))

const struct cheap_layout *cheap_layout_row(int minor)
{
	for (size_t i = 0; i < CHEAP_NLAYOUTS && minor; i++)
		if (minor >= cheap_layouts[i].since && minor <= cheap_layouts[i].until)
			return &cheap_layouts[i];
	return NULL;
}

static bool cheap_canonical(uint64_t p)
{
	return p >= 0x1000 && p < (1ull << 47);
}

void cheap_problem(struct cheap *c, const char *fmt, ...)
{
	if (c->nproblems >= CHEAP_MAX_PROBLEMS)
		return;
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	for (size_t i = 0; i < c->nproblems; i++)
		if (!strcmp(c->problems[i], msg)) {
			free(msg);
			return;
		}
	char **p = realloc(c->problems, (c->nproblems + 1) * sizeof(*p));
	if (!p) {
		free(msg);
		return;
	}
	c->problems = p;
	p[c->nproblems++] = msg;
	ct_warn(&c->warn, "C heap: %s", msg);
}

size_t cheap_problems(const struct cheap *c, const char *const **ret)
{
	*ret = (const char *const *)c->problems;
	return c->nproblems;
}

bool cheap_read_u64(const struct cheap *c, uint64_t addr, uint64_t *ret)
{
	unsigned char b[8];
	const void *p = mem_view(&c->mem, addr, 8, b); /* a walk reads millions */
	if (!p)
		return false;
	*ret = mem_load(p, 8);
	return true;
}

uint64_t cheap_ms_u64(const struct cheap *c, const struct cheap_arena *a, uint32_t off)
{
	return (uint64_t)off + 8 <= c->L.ms_size ? mem_load(a->state + off, 8) : 0;
}

const struct cheap_region *cheap_region_of(const struct cheap *c, uint64_t addr)
{
	size_t i = CT_UPPER_BOUND(c->regions, c->nregions, start, addr);
	return i && addr < c->regions[i - 1].end ? &c->regions[i - 1] : NULL;
}

const struct cheap_heap *cheap_heap_of(const struct cheap *c, uint64_t addr)
{
	size_t i = CT_UPPER_BOUND(c->heaps, c->nheaps, base, addr);
	return i && addr < c->heaps[i - 1].end ? &c->heaps[i - 1] : NULL;
}

/* ---- which glibc ---- */

bool cheap_is_libc(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return !strncmp(b, "libc.so", 7) || !strncmp(b, "libc-2.", 7);
}

/* The version from the banner every libc.so.6 carries ("... release version
 * 2.36."), else from a pre-2.34 file name (libc-2.31.so); 0 if unknown. */
static int cheap_glibc_minor(const struct cheap_module *m)
{
	Dwarf_Addr bias;
	Elf *elf = m->dwmod ? dwfl_module_getelf(m->dwmod, &bias) : NULL;
	size_t size = 0;
	const char *raw = elf ? elf_rawfile(elf, &size) : NULL;
	static const char banner[] = "release version 2.";
	if (raw) {
		const char *p = memmem(raw, size, banner, sizeof(banner) - 1);
		if (p) {
			p += sizeof(banner) - 1;
			int v = 0;
			for (int i = 0; i < 3 && p + i < raw + size && p[i] >= '0' && p[i] <= '9'; i++)
				v = v * 10 + (p[i] - '0');
			if (v > 0)
				return v;
		}
	}
	const char *b = strrchr(m->name, '/');
	b = b ? b + 1 : m->name;
	int v;
	if (sscanf(b, "libc-2.%d.so", &v) == 1 && v > 0)
		return v;
	return 0;
}

/* ---- libc's debug info ---- */

static bool cheap_array_len(Dwarf_Die *member, uint64_t *len, uint64_t *elem_size)
{
	Dwarf_Die at, sub, et;
	if (!dw_type_of(member, &at) || !dw_peel(&at, &at) || dwarf_tag(&at) != DW_TAG_array_type)
		return false;
	if (dwarf_child(&at, &sub) != 0 || dwarf_tag(&sub) != DW_TAG_subrange_type)
		return false;
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (dwarf_attr(&sub, DW_AT_count, &a) && dwarf_formudata(&a, &w) == 0)
		*len = w;
	else if (dwarf_attr(&sub, DW_AT_upper_bound, &a) && dwarf_formudata(&a, &w) == 0)
		*len = w + 1;
	else
		return false;
	return !elem_size || (dw_type_of(&at, &et) && dw_size(&et, elem_size));
}

struct cheap_dwtypes {
	Dwarf_Die ms, hi, tc, mp;
	bool has_ms, has_hi, has_tc, has_mp;
};

static void cheap_dwarf_scan_cu(Dwarf_Die *cu, struct cheap_dwtypes *ty)
{
	Dwarf_Die d;
	if (dwarf_child(cu, &d) != 0)
		return;
	do {
		int tag = dwarf_tag(&d);
		if (tag != DW_TAG_structure_type || dwarf_hasattr(&d, DW_AT_declaration))
			continue;
		const char *n = dwarf_diename(&d);
		if (!n)
			continue;
		if (!ty->has_ms && !strcmp(n, "malloc_state"))
			ty->ms = d, ty->has_ms = true;
		else if (!ty->has_hi && !strcmp(n, "_heap_info"))
			ty->hi = d, ty->has_hi = true;
		else if (!ty->has_tc && !strcmp(n, "tcache_perthread_struct"))
			ty->tc = d, ty->has_tc = true;
		else if (!ty->has_mp && !strcmp(n, "malloc_par"))
			ty->mp = d, ty->has_mp = true;
	} while (dwarf_siblingof(&d, &d) == 0);
}

#define CHEAP_DW_OFF(die, member, field)                                     \
	do {                                                                 \
		uint64_t o_;                                                 \
		if (!dw_member(die, member, &o_, NULL))                      \
			return false;                                        \
		L->field = (uint32_t)o_;                                     \
	} while (0)

/* Is [off, off + len) inside a structure of size total? In 64 bits: a
 * hostile offset near 2^32 must not wrap back inside. */
static bool cheap_fits(uint64_t off, uint64_t len, uint64_t total)
{
	return off <= total && len <= total - off;
}

/* The one check of a layout that did not come from the table: read from
 * libc's DWARF (input like any other) or from a cache file (whose checksum
 * proves it intact, not sane). Every field is checked, in 64-bit arithmetic,
 * against what the code that indexes with it assumes: offsets inside the
 * structures they index, counts within the buffers they size, and the
 * constants DWARF does not carry equal to the table's (x86-64, LP64). */
static bool cheap_layout_sane(const struct cheap_layout *L)
{
	const struct cheap_layout *T = &cheap_layouts[0];
	/* Not in DWARF: copied from the table's newest row (cheap_debuginfo). */
	if (L->since != T->since || L->until != T->until || L->size_sz != T->size_sz ||
	    L->align != T->align || L->minsize != T->minsize || L->nsmallbins != T->nsmallbins ||
	    L->pagesize != T->pagesize || L->heap_max != T->heap_max || L->flags_mask != T->flags_mask)
		return false;
	/* struct malloc_state */
	uint64_t ms = L->ms_size;
	if (ms < 64 || ms > 0x10000 || (ms & 7))
		return false;
	const uint32_t w8[] = { L->ms_top, L->ms_last_remainder, L->ms_next, L->ms_next_free,
				L->ms_attached_threads, L->ms_system_mem, L->ms_max_system_mem };
	for (size_t i = 0; i < sizeof(w8) / sizeof(w8[0]); i++)
		if (!cheap_fits(w8[i], 8, ms))
			return false;
	if (!cheap_fits(L->ms_mutex, 4, ms) || !cheap_fits(L->ms_flags, 4, ms) ||
	    !cheap_fits(L->ms_binmap, 4, ms) ||
	    (L->ms_have_fastchunks < -1 ||
	     (L->ms_have_fastchunks >= 0 && !cheap_fits((uint32_t)L->ms_have_fastchunks, 4, ms))))
		return false;
	if (L->nfastbins > CHEAP_MAX_NFASTBINS || !cheap_fits(L->ms_fastbins, 8ull * L->nfastbins, ms))
		return false;
	/* bins[NBINS * 2 - 2]; bin_at(1) is 16 bytes before bins[0]. */
	if (L->nbins < 2 || L->nbins > 1024 || L->nsmallbins > L->nbins || L->ms_bins < 16 ||
	    !cheap_fits(L->ms_bins, 16ull * (L->nbins - 1), ms))
		return false;
	/* heap_info: the arena of a heap's first chunk follows it. */
	uint64_t hi = L->hi_sizeof;
	if (hi < 32 || hi > 4096 || (hi & 7) || !cheap_fits(L->hi_ar_ptr, 8, hi) ||
	    !cheap_fits(L->hi_prev, 8, hi) || !cheap_fits(L->hi_size, 8, hi) ||
	    !cheap_fits(L->hi_mprotect_size, 8, hi))
		return false;
	/* tcache_perthread_struct: counts[tc_bins] then entries[tc_bins] at tc_entries. */
	if (!L->tc_counts_size)
		return !L->tc_bins && !L->tc_entries && !L->tc_sizeof;
	if ((L->tc_counts_size != 1 && L->tc_counts_size != 2) || !L->tc_bins ||
	    L->tc_bins > CHEAP_MAX_TCACHE_BINS || L->tc_sizeof > 4096 ||
	    (uint64_t)L->tc_bins * L->tc_counts_size > L->tc_entries ||
	    !cheap_fits(L->tc_entries, 8ull * L->tc_bins, L->tc_sizeof))
		return false;
	return true;
}

/* The layout from libc's DWARF (the malloc.c unit). False if anything is missing. */
static bool cheap_dwarf_layout(struct cheap_dwtypes *ty, struct cheap_layout *L,
			       uint64_t *mp_sbrk_off)
{
	if (!ty->has_ms || !ty->has_hi)
		return false;
	Dwarf_Die *ms = &ty->ms, m;
	uint64_t v, es;
	CHEAP_DW_OFF(ms, "mutex", ms_mutex);
	CHEAP_DW_OFF(ms, "flags", ms_flags);
	L->ms_have_fastchunks = dw_member(ms, "have_fastchunks", &v, NULL) ? (int32_t)v : -1;
	CHEAP_DW_OFF(ms, "fastbinsY", ms_fastbins);
	CHEAP_DW_OFF(ms, "top", ms_top);
	CHEAP_DW_OFF(ms, "last_remainder", ms_last_remainder);
	CHEAP_DW_OFF(ms, "bins", ms_bins);
	CHEAP_DW_OFF(ms, "binmap", ms_binmap);
	CHEAP_DW_OFF(ms, "next", ms_next);
	CHEAP_DW_OFF(ms, "next_free", ms_next_free);
	CHEAP_DW_OFF(ms, "attached_threads", ms_attached_threads);
	CHEAP_DW_OFF(ms, "system_mem", ms_system_mem);
	CHEAP_DW_OFF(ms, "max_system_mem", ms_max_system_mem);
	if (!dw_size(ms, &v))
		return false;
	L->ms_size = (uint32_t)v;
	if (!dw_member(ms, "fastbinsY", NULL, &m) || !cheap_array_len(&m, &v, NULL) ||
	    v > CHEAP_MAX_NFASTBINS)
		return false;
	L->nfastbins = (uint32_t)v;
	if (!dw_member(ms, "bins", NULL, &m) || !cheap_array_len(&m, &v, NULL) || v < 4)
		return false;
	L->nbins = (uint32_t)((v + 2) / 2); /* bins[NBINS * 2 - 2] */
	Dwarf_Die *hi = &ty->hi;
	CHEAP_DW_OFF(hi, "ar_ptr", hi_ar_ptr);
	CHEAP_DW_OFF(hi, "prev", hi_prev);
	CHEAP_DW_OFF(hi, "size", hi_size);
	CHEAP_DW_OFF(hi, "mprotect_size", hi_mprotect_size);
	if (!dw_size(hi, &v))
		return false;
	L->hi_sizeof = (uint32_t)v;
	if (ty->has_tc) {
		Dwarf_Die *tc = &ty->tc;
		if (!dw_member(tc, "counts", NULL, &m) || !cheap_array_len(&m, &v, &es) ||
		    v > CHEAP_MAX_TCACHE_BINS || (es != 1 && es != 2))
			return false;
		L->tc_bins = (uint32_t)v;
		L->tc_counts_size = (uint32_t)es;
		CHEAP_DW_OFF(tc, "entries", tc_entries);
		if (!dw_size(tc, &v))
			return false;
		L->tc_sizeof = (uint32_t)v;
	} else {
		L->tc_bins = L->tc_counts_size = L->tc_entries = L->tc_sizeof = 0;
	}
	if (ty->has_mp && dw_member(&ty->mp, "sbrk_base", &v, NULL))
		*mp_sbrk_off = v;
	L->name = "DWARF";
	return cheap_layout_sane(L);
}

/* What libc's debug file says (libdwfl loads it by build-id): main_arena and
 * mp_ from its symbol table, the malloc structures from its DWARF. false: it
 * does not name main_arena. */
struct cheap_dbg {
	uint64_t main_arena, mp;  /* addresses in the process */
	uint64_t sbrk_off;        /* of mp_.sbrk_base; UINT64_MAX: unknown */
	bool have_layout;
	struct cheap_layout L;
};

static bool cheap_debuginfo(const struct cheap_module *m, struct cheap_dbg *d)
{
	Dwfl_Module *mod = m->dwmod;
	int n = dwfl_module_getsymtab(mod);
	memset(d, 0, sizeof(*d));
	d->sbrk_off = UINT64_MAX;
	for (int i = 1; i < n && (!d->main_arena || !d->mp); i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (!name || GELF_ST_TYPE(sym.st_info) != STT_OBJECT)
			continue;
		if (!strcmp(name, "main_arena"))
			d->main_arena = addr;
		else if (!strcmp(name, "mp_"))
			d->mp = addr;
	}
	if (!d->main_arena)
		return false;
	Dwarf_Addr bias;
	Dwarf *dbg = dwfl_module_getdwarf(mod, &bias);
	if (!dbg)
		return true;
	struct cheap_dwtypes ty = { 0 };
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(dbg, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		if (dwarf_offdie(dbg, off + hsize, &cu)) {
			const char *name = dwarf_diename(&cu);
			size_t len = name ? strlen(name) : 0;
			if (len >= 8 && !strcmp(name + len - 8, "malloc.c") &&
			    (len == 8 || name[len - 9] == '/')) {
				cheap_dwarf_scan_cu(&cu, &ty);
				if (ty.has_ms)
					break;
			}
		}
		off = next;
	}
	d->L = cheap_layouts[0]; /* the constants DWARF does not carry */
	d->have_layout = cheap_dwarf_layout(&ty, &d->L, &d->sbrk_off);
	return true;
}

/* The one check of what libc's debug info says, whether just read from it
 * or taken from the cache: main_arena and mp_ inside libc's mapping and
 * aligned, the offset of mp_.sbrk_base inside a malloc_par, the layout sane
 * (cheap_layout_sane). false: main_arena is not usable (then it is searched
 * for); a layout that is not sane is dropped (the table's rows are tried). */
static bool cheap_dbg_check(const struct cheap_module *m, struct cheap_dbg *d)
{
	uint64_t span = m->end > m->start ? m->end - m->start : 0;
	if (d->main_arena < m->start || d->main_arena - m->start >= span || (d->main_arena & 7))
		return false;
	if (d->mp && (d->mp < m->start || d->mp - m->start >= span || (d->mp & 7)))
		d->mp = 0;
	if (d->sbrk_off != UINT64_MAX && (!d->mp || d->sbrk_off > 4096 - 8 || (d->sbrk_off & 7)))
		d->sbrk_off = UINT64_MAX;
	if (d->have_layout && !cheap_layout_sane(&d->L))
		d->have_layout = false;
	return true;
}

/* The same, through the cache (cache.h) keyed by libc's build ID: reading
 * libc's DWARF costs more than walking a million chunks. Only a found
 * main_arena is cached, so that installing libc6-dbg later is noticed.
 * Bump CHEAP_CACHE_FORMAT when struct cheap_layout changes. An entry is
 * taken only if it is exactly what cheap_dbg_check passes unchanged: a
 * checksum proves the file intact, not its contents sane. */
#define CHEAP_CACHE_FORMAT 1

struct cheap_cached {
	uint32_t format, have_layout;
	uint64_t main_arena, mp, sbrk_off; /* module-relative, sbrk_off as is */
	struct cheap_layout L;             /* L.name not kept */
};

/* An entry's fields, checked as if read from libc's debug info. */
static bool cheap_cached_take(const struct cheap_module *m, const struct cache_blob *b,
			      struct cheap_dbg *d)
{
	struct cheap_cached cc;
	if (b->len != sizeof(cc))
		return false;
	/* The bools are bytes of the file: only 0 and 1 may be loaded as bool. */
	const size_t bools[] = { offsetof(struct cheap_cached, L) + offsetof(struct cheap_layout, tc_key),
				 offsetof(struct cheap_cached, L) + offsetof(struct cheap_layout, safe_linking) };
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (b->data[bools[i]] > 1)
			return false;
	memcpy(&cc, b->data, sizeof(cc));
	cc.L.name = "DWARF";
	uint64_t span = m->end > m->start ? m->end - m->start : 0;
	if (cc.format != CHEAP_CACHE_FORMAT || cc.have_layout > 1 || !cc.main_arena ||
	    cc.main_arena >= span || cc.mp >= span)
		return false;
	*d = (struct cheap_dbg){ m->start + cc.main_arena, cc.mp ? m->start + cc.mp : 0, cc.sbrk_off,
				 cc.have_layout != 0, cc.L };
	struct cheap_dbg chk = *d;
	return cheap_dbg_check(m, &chk) && chk.mp == d->mp && chk.sbrk_off == d->sbrk_off &&
	       chk.have_layout == d->have_layout;
}

static int cheap_arena_score(const struct cheap_layout *L, const unsigned char *b, uint64_t addr,
			     bool main_candidate);

/* Does a malloc_state that validates sit at d->main_arena in the process,
 * read with d's layout (else any row of the table)? What a cached entry
 * says is checked against the memory too: an entry that names another
 * place than libc's debug info would is not taken. */
static bool cheap_dbg_validates(const struct mem *mem, const struct cheap_dbg *d)
{
	const struct cheap_layout *rows[CHEAP_NLAYOUTS + 1];
	size_t n = 0;
	uint32_t msz = 0;
	if (d->have_layout)
		rows[n++] = &d->L;
	else
		for (size_t i = 0; i < CHEAP_NLAYOUTS; i++)
			rows[n++] = &cheap_layouts[i];
	for (size_t i = 0; i < n; i++)
		msz = rows[i]->ms_size > msz ? rows[i]->ms_size : msz;
	unsigned char *b = malloc(msz);
	bool ok = b && mem_read(mem, d->main_arena, b, msz) == MEM_OK;
	size_t i = 0;
	while (ok && i < n && cheap_arena_score(rows[i], b, d->main_arena, true) < 0)
		i++;
	free(b);
	return ok && i < n;
}

static bool cheap_debuginfo_cached(const struct cheap_module *m, const struct mem *mem,
				   struct cheap_dbg *d)
{
	char key[2 * CHEAP_BUILD_ID_MAX + 1];
	uint64_t fp = cache_hash(CACHE_HASH_INIT, "malloc", 6);
	const uint64_t fmt[2] = { CHEAP_CACHE_FORMAT, sizeof(struct cheap_cached) };
	fp = cache_hash(cache_hash(fp, fmt, sizeof(fmt)), m->build_id, m->build_id_len);
	for (size_t i = 0; i < m->build_id_len; i++)
		snprintf(key + 2 * i, 3, "%02x", m->build_id[i]);
	key[2 * m->build_id_len] = 0;
	struct cache_blob b;
	if (m->build_id_len && cache_load(key, "malloc", fp, &b, NULL, 0)) {
		bool ok = cheap_cached_take(m, &b, d) && cheap_dbg_validates(mem, d);
		cache_release(&b);
		if (ok)
			return true;
	}
	if (!cheap_debuginfo(m, d) || !cheap_dbg_check(m, d))
		return false;
	if (m->build_id_len) {
		struct cheap_cached cc;
		memset(&cc, 0, sizeof(cc)); /* padding too: the same entry, byte for byte */
		cc.format = CHEAP_CACHE_FORMAT;
		cc.have_layout = d->have_layout;
		cc.main_arena = d->main_arena - m->start;
		cc.mp = d->mp ? d->mp - m->start : 0;
		cc.sbrk_off = d->sbrk_off;
		if (d->have_layout) {
			cc.L = d->L;
			cc.L.name = NULL;
		}
		struct cache_part part = { &cc, sizeof(cc) };
		cache_store(key, "malloc", fp, &part, 1, NULL, 0);
	}
	return true;
}

/* ---- finding main_arena ---- */

/* How much a malloc_state image at addr looks like one: < 0 = not at all. */
static int cheap_arena_score(const struct cheap_layout *L, const unsigned char *b, uint64_t addr,
			     bool main_candidate)
{
	uint32_t mutex = (uint32_t)mem_load(b + L->ms_mutex, 4);
	uint32_t flags = (uint32_t)mem_load(b + L->ms_flags, 4);
	if (mutex > 2 || (flags & ~L->flags_mask))
		return -1;
	if (L->ms_have_fastchunks >= 0 && mem_load(b + L->ms_have_fastchunks, 4) > 1)
		return -1;
	bool zero = true;
	for (uint32_t i = 0; i < L->nfastbins; i++) {
		uint64_t f = mem_load(b + L->ms_fastbins + 8 * i, 8);
		if (f && ((f & (L->align - 1)) || !cheap_canonical(f)))
			return -1;
		zero = zero && !f;
	}
	uint64_t top = mem_load(b + L->ms_top, 8), lr = mem_load(b + L->ms_last_remainder, 8);
	uint64_t next = mem_load(b + L->ms_next, 8), nfree = mem_load(b + L->ms_next_free, 8);
	uint64_t attached = mem_load(b + L->ms_attached_threads, 8);
	uint64_t sys = mem_load(b + L->ms_system_mem, 8), maxsys = mem_load(b + L->ms_max_system_mem, 8);
	if (!cheap_canonical(next) || (next & 7) || (nfree && (!cheap_canonical(nfree) || (nfree & 7))))
		return -1;
	if (attached > (1u << 20) || sys > maxsys || maxsys > (1ull << 47))
		return -1;
	if (main_candidate && next != addr && (next & (L->heap_max - 1)) != L->hi_sizeof)
		return -1;
	int selfref = 0, zeros = 0;
	for (uint32_t i = 1; i < L->nbins; i++) {
		uint64_t h = addr + L->ms_bins + (uint64_t)(i - 1) * 16 - 16;
		uint64_t fd = mem_load(b + L->ms_bins + (i - 1) * 16, 8);
		uint64_t bk = mem_load(b + L->ms_bins + (i - 1) * 16 + 8, 8);
		if (fd == h && bk == h)
			selfref++;
		else if (!fd && !bk)
			zeros++;
		else if (((fd | bk) & (L->align - 1)) || !cheap_canonical(fd) || !cheap_canonical(bk))
			return -1;
	}
	if (zeros == (int)L->nbins - 1) {
		/* Never initialized (the process has not called malloc): only the
		 * static initializer's fields are set. */
		if (!zero || top || lr || sys || next != addr || attached == 0)
			return -1;
		return 1;
	}
	if (zeros || selfref == 0)
		return -1;
	uint64_t initial_top = addr + L->ms_bins - 16;
	if (top != initial_top && (!cheap_canonical(top) || (top & (L->align - 1))))
		return -1;
	if (lr && (!cheap_canonical(lr) || (lr & (L->align - 1))))
		return -1;
	return selfref + (next == addr ? 20 : 0) + (sys ? 10 : 0);
}

/* Does the `next` ring from addr come back to addr through valid thread arenas? */
static bool cheap_ring_ok(const struct mem *mem, const struct cheap_layout *L, uint64_t addr,
			  uint64_t next)
{
	unsigned char *b = malloc(L->ms_size);
	if (!b)
		return false;
	bool ok = false;
	for (int i = 0; i < CHEAP_MAX_ARENAS; i++) {
		if (next == addr) {
			ok = true;
			break;
		}
		if ((next & (L->heap_max - 1)) != L->hi_sizeof ||
		    mem_read(mem, next, b, L->ms_size) != MEM_OK || cheap_arena_score(L, b, next, false) < 0)
			break;
		next = mem_load(b + L->ms_next, 8);
	}
	free(b);
	return ok;
}

struct cheap_found {
	uint64_t addr;
	int score;
	const struct cheap_layout *L;
	int count;          /* distinct addresses that validate */
	uint64_t seen[8];
};

static void cheap_search_range(const struct mem *mem, const struct cheap_region *r,
			       const struct cheap_layout *const *layouts, size_t nlayouts,
			       struct cheap_found *best)
{
	const uint64_t page = 4096, max = 64ull << 20;
	uint64_t start = r->start & ~(uint64_t)7, len = r->end > start ? r->end - start : 0;
	if (len > max)
		len = max;
	if (!len)
		return;
	unsigned char *buf = malloc(len);
	size_t npages = (len + page - 1) / page;
	bool *ok = calloc(npages, sizeof(*ok));
	if (!buf || !ok)
		goto out;
	/* Page by page: a page the core did not save must not hide the others. */
	for (size_t i = 0; i < npages; i++) {
		uint64_t a = start + i * page, n = len - i * page < page ? len - i * page : page;
		ok[i] = mem_read(mem, a, buf + i * page, n) == MEM_OK;
	}
	for (size_t li = 0; li < nlayouts; li++) {
		const struct cheap_layout *L = layouts[li];
		for (uint64_t o = 0; o + L->ms_size <= len; o += 8) {
			/* Pages not in the core are skipped whole: cost follows the bytes
			 * saved, not a (hostile) segment size; buf there is not filled. */
			if (!ok[o / page]) {
				o = (o / page + 1) * page - 8;
				continue;
			}
			uint64_t addr = start + o;
			uint64_t next = mem_load(buf + o + L->ms_next, 8);
			/* Cheap filter first: next is the arena itself or a thread arena. */
			if (next != addr && (next & (L->heap_max - 1)) != L->hi_sizeof)
				continue;
			bool all = true;
			for (uint64_t p = o / page; p <= (o + L->ms_size - 1) / page; p++)
				all = all && ok[p];
			if (!all)
				continue;
			int s = cheap_arena_score(L, buf + o, addr, true);
			if (s < 0 || (next != addr && !cheap_ring_ok(mem, L, addr, next)))
				continue;
			bool seen = false;
			for (int k = 0; k < best->count && k < 8; k++)
				seen = seen || best->seen[k] == addr;
			if (!seen) {
				if (best->count < 8)
					best->seen[best->count] = addr;
				best->count++;
			}
			if (s > best->score) {
				best->score = s;
				best->addr = addr;
				best->L = L;
			}
		}
	}
out:
	free(buf);
	free(ok);
}

/* ---- arenas and heaps ---- */

static struct ct_error *cheap_add_arena(struct cheap *c, uint64_t addr, bool is_main)
{
	struct cheap_arena *a = realloc(c->arenas, (c->narenas + 1) * sizeof(*a));
	if (!a)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	c->arenas = a;
	a += c->narenas;
	memset(a, 0, sizeof(*a));
	a->addr = addr;
	a->is_main = is_main;
	a->state = malloc(c->L.ms_size);
	if (!a->state)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	enum mem_status st = mem_read(&c->mem, addr, a->state, c->L.ms_size);
	if (st != MEM_OK) {
		free(a->state);
		return mem_error(st, addr, c->L.ms_size, is_main ? "main_arena" : "malloc arena");
	}
	c->narenas++;
	a->top = mem_load(a->state + c->L.ms_top, 8);
	a->system_mem = mem_load(a->state + c->L.ms_system_mem, 8);
	a->flags = (uint32_t)mem_load(a->state + c->L.ms_flags, 4);
	uint64_t w;
	if (a->top && a->top != cheap_bin_header(c, a, 1) && cheap_read_u64(c, a->top + 8, &w)) {
		a->top_read = true;
		a->top_size = w & ~(uint64_t)7;
	}
	return NULL;
}

static struct ct_error *cheap_add_heap(struct cheap *c, const struct cheap_heap *h)
{
	if (c->nheaps >= CHEAP_MAX_HEAPS)
		return NULL;
	for (size_t i = 0; i < c->nheaps; i++)
		if (c->heaps[i].base == h->base)
			return NULL;
	struct cheap_heap *n = CT_PUSH(c->heaps, c->nheaps, c->cap_heaps);
	if (!n)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	*n = *h;
	return NULL;
}

static uint64_t cheap_align_chunk(const struct cheap *c, uint64_t p)
{
	/* The first chunk sits where its user pointer is aligned (sysmalloc,
	 * _int_new_arena: "misalign = chunk2mem (ptr) & MALLOC_ALIGN_MASK"). */
	uint64_t mis = (p + 2 * c->L.size_sz) & (c->L.align - 1);
	return mis ? p + c->L.align - mis : p;
}

/* Is a chunk header at p a plausible first chunk of a heap ending at or after lim? */
static bool cheap_first_chunk_ok(const struct cheap *c, uint64_t p, uint64_t top)
{
	uint64_t w;
	if (p == top)
		return true;
	if (p > top || !cheap_read_u64(c, p + 8, &w))
		return false;
	uint64_t sz = w & ~(uint64_t)7;
	return (w & 1) && !(w & 2) && sz >= c->L.minsize && !(sz & (c->L.align - 1)) && p + sz <= top;
}

/* The main arena's heap: brk memory from mp_.sbrk_base up to the end of top
 * (do_check_malloc_state: sbrk_base + system_mem == top + chunksize (top) for
 * a contiguous main arena). Without mp_, the candidates are that identity and
 * the start of the mapping holding top. */
static struct ct_error *cheap_main_heap(struct cheap *c, struct cheap_arena *a)
{
	if (!a->top || a->top == cheap_bin_header(c, a, 1))
		return NULL; /* malloc never got memory */
	const struct cheap_region *r = cheap_region_of(c, a->top);
	uint64_t end = a->top_read ? a->top + a->top_size : r ? r->end : a->top;
	if (r && (end > r->end || end <= a->top)) {
		cheap_problem(c, "main arena: top chunk 0x%" PRIx64 " has size 0x%" PRIx64
			      " beyond its mapping", a->top, a->top_size);
		end = r->end;
	}
	uint64_t cand[3];
	int n = 0;
	if (c->sbrk_base)
		cand[n++] = cheap_align_chunk(c, c->sbrk_base);
	if (a->system_mem && a->system_mem <= end && end - a->system_mem <= a->top)
		cand[n++] = cheap_align_chunk(c, end - a->system_mem);
	if (r)
		cand[n++] = cheap_align_chunk(c, r->start);
	uint64_t start = 0;
	for (int i = 0; i < n && !start; i++)
		if ((!r || cand[i] >= r->start || cheap_region_of(c, cand[i])) &&
		    cheap_first_chunk_ok(c, cand[i], a->top))
			start = cand[i];
	if (!start) {
		start = n ? cand[n - 1] : a->top;
		cheap_problem(c, "main arena: no plausible first chunk of the brk heap (tried from 0x%" PRIx64
			      "); top is 0x%" PRIx64, start, a->top);
	}
	if (a->flags & 2)
		cheap_problem(c, "main arena is non-contiguous (brk failed): only the heap holding top "
			      "is known");
	struct cheap_heap h = { .arena = (size_t)(a - c->arenas), .base = start, .start = start,
				.end = end, .has_top = true };
	return cheap_add_heap(c, &h);
}

static bool cheap_read_heap_info(const struct cheap *c, uint64_t h, uint64_t *ar, uint64_t *prev,
				 uint64_t *size)
{
	return cheap_read_u64(c, h + c->L.hi_ar_ptr, ar) && cheap_read_u64(c, h + c->L.hi_prev, prev) &&
	       cheap_read_u64(c, h + c->L.hi_size, size);
}

static struct ct_error *cheap_thread_heaps(struct cheap *c, struct cheap_arena *a)
{
	const struct cheap_layout *L = &c->L;
	uint64_t first = a->addr - L->hi_sizeof, mask = L->heap_max - 1;
	size_t ai = (size_t)(a - c->arenas);
	if (first & mask)
		cheap_problem(c, "arena 0x%" PRIx64 " is not right after a heap_info", a->addr);
	if (!a->top || a->top == cheap_bin_header(c, a, 1))
		return NULL;
	uint64_t h = a->top & ~mask;
	struct ct_error *err;
	for (int i = 0; i < CHEAP_MAX_HEAPS && h; i++) {
		uint64_t ar, prev, size;
		if (!cheap_read_heap_info(c, h, &ar, &prev, &size)) {
			cheap_problem(c, "arena 0x%" PRIx64 ": heap_info at 0x%" PRIx64 " not in the core",
				      a->addr, h);
			break;
		}
		if (ar != a->addr || size < L->hi_sizeof || size > L->heap_max) {
			cheap_problem(c, "arena 0x%" PRIx64 ": heap_info at 0x%" PRIx64
				      " is corrupt (ar_ptr 0x%" PRIx64 ", size 0x%" PRIx64 ")",
				      a->addr, h, ar, size);
			break;
		}
		struct cheap_heap hp = { .arena = ai, .base = h, .end = h + size,
					 .has_top = (h == (a->top & ~mask)) };
		hp.start = h == first ? cheap_align_chunk(c, a->addr + L->ms_size) : h + L->hi_sizeof;
		if (hp.has_top && a->top_read && a->top + a->top_size != hp.end) {
			cheap_problem(c, "arena 0x%" PRIx64 ": top chunk 0x%" PRIx64 " size 0x%" PRIx64
				      " does not end its heap (0x%" PRIx64 ")",
				      a->addr, a->top, a->top_size, hp.end);
		}
		bool seen = false;
		for (size_t j = 0; j < c->nheaps && !seen; j++)
			seen = c->heaps[j].base == h;
		if (seen) {
			cheap_problem(c, "arena 0x%" PRIx64 ": heap_info chain comes back to 0x%" PRIx64
				      " (cycle)", a->addr, h);
			break;
		}
		if ((err = cheap_add_heap(c, &hp)))
			return err;
		if (h == first)
			return NULL;
		if (prev & mask) {
			cheap_problem(c, "arena 0x%" PRIx64 ": heap_info at 0x%" PRIx64
				      " has a bad prev 0x%" PRIx64, a->addr, h, prev);
			break;
		}
		h = prev;
	}
	/* The chain broke: the mappings that start with a heap_info of this arena. */
	for (size_t i = 0; i < c->nregions; i++) {
		const struct cheap_region *r = &c->regions[i];
		uint64_t ar, prev, size;
		if ((r->start & mask) || !r->writable || r->file ||
		    !cheap_read_heap_info(c, r->start, &ar, &prev, &size) || ar != a->addr ||
		    size < L->hi_sizeof || size > L->heap_max)
			continue;
		struct cheap_heap hp = { .arena = ai, .base = r->start, .end = r->start + size,
					 .has_top = (r->start == (a->top & ~mask)) };
		hp.start = r->start == first ? cheap_align_chunk(c, a->addr + L->ms_size)
					     : r->start + L->hi_sizeof;
		if ((err = cheap_add_heap(c, &hp)))
			return err;
	}
	return NULL;
}

static int cheap_heap_cmp(const void *x, const void *y)
{
	const struct cheap_heap *a = x, *b = y;
	return a->base < b->base ? -1 : a->base > b->base;
}

static struct ct_error *cheap_find_arenas(struct cheap *c)
{
	struct ct_error *err = cheap_add_arena(c, c->main_arena, true);
	if (err)
		return err;
	uint64_t next = cheap_ms_u64(c, &c->arenas[0], c->L.ms_next);
	for (int i = 0; i < CHEAP_MAX_ARENAS && next != c->main_arena; i++) {
		bool seen = false;
		for (size_t j = 0; j < c->narenas; j++)
			seen = seen || c->arenas[j].addr == next;
		if (seen || !cheap_canonical(next)) {
			cheap_problem(c, "arena list: 0x%" PRIx64 " %s", next,
				      seen ? "comes back before main_arena (cycle)" : "is not an address");
			break;
		}
		if ((err = cheap_add_arena(c, next, false))) {
			cheap_problem(c, "arena list stops: %s", err->msg);
			ct_error_destroy(err);
			break;
		}
		unsigned char *b = c->arenas[c->narenas - 1].state;
		if (cheap_arena_score(&c->L, b, next, false) < 0)
			cheap_problem(c, "arena 0x%" PRIx64 " does not look like a malloc_state", next);
		next = mem_load(b + c->L.ms_next, 8);
	}
	for (size_t i = 0; i < c->narenas; i++) {
		err = c->arenas[i].is_main ? cheap_main_heap(c, &c->arenas[i])
					   : cheap_thread_heaps(c, &c->arenas[i]);
		if (err)
			return err;
	}
	if (c->nheaps)
		qsort(c->heaps, c->nheaps, sizeof(*c->heaps), cheap_heap_cmp);
	for (size_t i = 1; i < c->nheaps; i++)
		if (c->heaps[i].base < c->heaps[i - 1].end) {
			cheap_problem(c, "heaps 0x%" PRIx64 " and 0x%" PRIx64 " overlap", c->heaps[i - 1].base,
				      c->heaps[i].base);
			c->heaps[i - 1].end = c->heaps[i].base;
		}
	return NULL;
}

static struct ct_error *cheap_open_internal(const struct cheap_source *src,
					    const struct cheap_layout *known, struct cheap **ret)
{
	*ret = NULL;
	struct cheap *c = calloc(1, sizeof(*c));
	if (!c)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	struct ct_error *err = NULL;
	c->warn = src->warn;
	c->mem = src->mem;
	c->glibc_minor = src->glibc_minor;
	c->sbrk_base = src->sbrk_base;
	if (src->nregions) {
		c->regions = malloc(src->nregions * sizeof(*c->regions));
		c->mm = calloc(src->nregions, sizeof(*c->mm));
		if (!c->regions || !c->mm) {
			err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
			goto fail;
		}
		memcpy(c->regions, src->regions, src->nregions * sizeof(*c->regions));
		c->nregions = src->nregions;
	}
	/* The rows of the table this glibc may use. */
	const struct cheap_layout *rows[CHEAP_NLAYOUTS];
	size_t nrows = 0;
	int minor = c->glibc_minor; /* the row's version */
	if (minor > cheap_layouts[0].until) {
		cheap_problem(c, "glibc 2.%d is newer than the layouts known (2.%d-2.%d): read as 2.%d",
			      minor, cheap_layouts[CHEAP_NLAYOUTS - 1].since, cheap_layouts[0].until,
			      cheap_layouts[0].until);
		minor = cheap_layouts[0].until;
	}
	if (known) {
		rows[nrows++] = known;
	} else {
		for (size_t i = 0; i < CHEAP_NLAYOUTS; i++)
			if (!minor || (minor >= cheap_layouts[i].since && minor <= cheap_layouts[i].until))
				rows[nrows++] = &cheap_layouts[i];
		if (!nrows) {
			err = ct_error_fmt(CT_ERR_UNSUPPORTED, "glibc 2.%d: malloc layout not known",
					   c->glibc_minor);
			goto fail;
		}
	}
	if (src->main_arena) {
		c->main_arena = src->main_arena;
		c->found_by = "debuginfo";
		c->L = *rows[0];
		uint32_t msz = 0;
		for (size_t i = 0; i < nrows; i++)
			msz = rows[i]->ms_size > msz ? rows[i]->ms_size : msz;
		unsigned char *b = malloc(msz);
		bool ok = b && mem_read(&c->mem, c->main_arena, b, msz) == MEM_OK;
		int i = 0;
		while (ok && i < (int)nrows && cheap_arena_score(rows[i], b, c->main_arena, true) < 0)
			i++;
		if (ok && i < (int)nrows)
			c->L = *rows[i];
		else if (ok)
			cheap_problem(c, "main_arena (0x%" PRIx64 ", from debug info) does not validate",
				      c->main_arena);
		free(b);
	} else {
		struct cheap_found best = { .score = -1 };
		for (size_t i = 0; i < src->nsearch; i++)
			cheap_search_range(&c->mem, &src->search[i], rows, nrows, &best);
		if (!best.L) {
			err = ct_error_fmt(CT_ERR_NOTFOUND,
					   "glibc's main_arena not found in libc's data (no libc debug info)");
			goto fail;
		}
		if (best.count > 1)
			cheap_problem(c, "%d places in libc's data look like main_arena; took 0x%" PRIx64,
				      best.count, best.addr);
		c->main_arena = best.addr;
		c->found_by = "search";
		c->L = *best.L;
	}
	/* Safe-linking and the tcache counts' width come with the version, not
	 * with the structures' layout: unknown version, decided per pointer and
	 * per candidate. */
	const struct cheap_layout *vrow = cheap_layout_row(minor);
	c->safe_linking = vrow ? vrow->safe_linking : -1;
	if (vrow)
		c->L.tc_key = vrow->tc_key;
	if (known)
		c->tc_counts_size = (int)c->L.tc_counts_size;
	else if (vrow)
		c->tc_counts_size = (int)vrow->tc_counts_size;
	else
		c->tc_counts_size = c->L.ms_have_fastchunks >= 0 ? 0 : 1;
	if (!vrow && !known)
		c->L.name = c->L.ms_have_fastchunks >= 0 ? "2.27+ (version unknown)"
							  : "2.23-2.26 (version unknown)";
	if ((err = cheap_find_arenas(c)))
		goto fail;
	*ret = c;
	return NULL;
fail:
	cheap_close(c);
	return err;
}

struct ct_error *cheap_open_source(const struct cheap_source *src, struct cheap **ret)
{
	return cheap_open_internal(src, NULL, ret);
}

static struct ct_error *cheap_push_region(struct cheap_region **v, size_t *n, struct cheap_region r)
{
	struct cheap_region *p = realloc(*v, (*n + 1) * sizeof(*p));
	if (!p)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	*v = p;
	p[(*n)++] = r;
	return NULL;
}

struct ct_error *cheap_open_process(const struct cheap_process *p, struct cheap **ret)
{
	*ret = NULL;
	struct ct_error *err = NULL;
	struct cheap_source src = { .mem = p->mem, .warn = p->warn };
	struct cheap_region *search = NULL;
	size_t nsearch = 0;
	const struct cheap_module *libc = p->libc;
	/* Where main_arena may be: libc's writable mappings (it is in .data), or
	 * the executable's for a static binary. */
	const struct cheap_module *where = libc ? libc : p->exe;
	if (!where)
		err = ct_error_fmt(CT_ERR_NOTFOUND, "no libc.so.6 in the process: no glibc malloc");
	for (size_t i = 0; i < p->nregions && !err; i++) {
		const struct cheap_region *r = &p->regions[i];
		if (r->writable && r->start < where->end && r->end > where->start)
			err = cheap_push_region(&search, &nsearch, *r);
	}
	if (!err && !nsearch)
		err = ct_error_fmt(CT_ERR_NOTFOUND, "%s has no writable data in the core", where->name);
	struct cheap_layout dl;
	bool have_dl = false;
	const char *ver = p->glibc_version;
	int vmaj = 0, vmin = 0;
	if (ver && *ver && (sscanf(ver, "%d.%d", &vmaj, &vmin) < 1 || (vmaj && vmaj != 2) || vmin < 0))
		ct_warn(&p->warn, "%s=%s: not a glibc 2.x version; ignored", CHEAP_ENV_GLIBC_VERSION, ver);
	else if (ver && *ver)
		src.glibc_minor = vmin;
	if (!err && libc) {
		if (!ver || !*ver)
			src.glibc_minor = cheap_glibc_minor(libc);
		struct cheap_dbg d;
		if (!p->no_debuginfo && libc->dwmod && cheap_debuginfo_cached(libc, &src.mem, &d)) {
			src.main_arena = d.main_arena;
			if (d.have_layout) {
				dl = d.L;
				have_dl = true;
				uint64_t sb;
				if (d.mp && d.sbrk_off != UINT64_MAX &&
				    mem_read(&src.mem, d.mp + d.sbrk_off, &sb, 8) == MEM_OK)
					src.sbrk_base = sb;
			}
		}
	}
	if (!err) {
		src.regions = p->regions;
		src.nregions = p->nregions;
		src.search = search;
		src.nsearch = nsearch;
		err = cheap_open_internal(&src, have_dl ? &dl : NULL, ret);
		if (err && !libc && err->code == CT_ERR_NOTFOUND) {
			ct_error_destroy(err);
			err = ct_error_fmt(CT_ERR_NOTFOUND,
					   "no libc.so.6 in the process and no malloc state in the "
					   "executable: no glibc malloc");
		}
	}
	free(search);
	return err;
}

void cheap_close(struct cheap *c)
{
	if (!c)
		return;
	cheap_walk_free(c);
	for (size_t i = 0; i < c->narenas; i++)
		free(c->arenas[i].state);
	free(c->arenas);
	free(c->heaps);
	free(c->regions);
	free(c->mm);
	for (size_t i = 0; i < c->nproblems; i++)
		free(c->problems[i]);
	free(c->problems);
	free(c);
}

void cheap_summarize(const struct cheap *c, struct cheap_summary *ret)
{
	*ret = (struct cheap_summary){
		.main_arena = c->main_arena,
		.found_by = c->found_by,
		.layout = c->L.name,
		.glibc_minor = c->glibc_minor,
		.sbrk_base = c->sbrk_base,
		.narenas = c->narenas,
		.nheaps = c->nheaps,
		.ntcaches = c->ntcaches,
		.safe_linking = c->safe_linking,
	};
}

bool cheap_is_tcache(const struct cheap *c, uint64_t user)
{
	for (size_t k = 0; k < c->ntcaches; k++)
		if (c->tcaches[k] == user)
			return true;
	return false;
}

const char *cheap_bin_name(enum cheap_bin bin)
{
	static const char *const names[] = { "none", "tcache", "fastbin", "unsorted", "small", "large", "top" };
	return (unsigned)bin < sizeof(names) / sizeof(names[0]) ? names[bin] : "?";
}

const char *cheap_state_name(enum cheap_state st)
{
	return st == CHEAP_ALLOCATED ? "allocated" : st == CHEAP_FREE ? "free" : "unknown";
}
