#define _GNU_SOURCE
#include "cgocheck.h"

#include <dwarf.h>
#include <elf.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap_holders.h"

const char *cgocheck_verdict_name(enum cgocheck_verdict v)
{
	return v == CGOCHECK_DANGLING ? "dangling" : v == CGOCHECK_UNPINNED ? "unpinned" : "ok";
}

const char *cgocheck_place_name(enum cgocheck_place p)
{
	static const char *const n[] = { "global", "chunk", "map", "go-heap", "stack" };
	return (unsigned)p < 5 ? n[p] : "?";
}

/* ---- address ranges ---- */

struct range {
	uint64_t lo, hi;
};

struct ranges {
	struct range *r;
	size_t n, cap;
};

static void ranges_add(struct ranges *rs, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return;
	if (rs->n == rs->cap) {
		size_t ncap = rs->cap ? rs->cap * 2 : 16;
		struct range *n = realloc(rs->r, ncap * sizeof(*n));
		if (!n)
			return;
		rs->r = n;
		rs->cap = ncap;
	}
	rs->r[rs->n++] = (struct range){ lo, hi };
}

/* Removes [lo, hi) from every range. */
static void ranges_cut(struct ranges *rs, uint64_t lo, uint64_t hi)
{
	size_t n = rs->n;
	for (size_t i = 0; i < n; i++) {
		struct range r = rs->r[i];
		if (hi <= r.lo || lo >= r.hi)
			continue;
		rs->r[i].hi = rs->r[i].lo; /* emptied; the pieces outside are re-added */
		if (r.lo < lo)
			ranges_add(rs, r.lo, lo);
		if (hi < r.hi)
			ranges_add(rs, hi, r.hi);
	}
}

static const struct target_module *cgocheck_exe(const struct target *t)
{
	for (size_t i = 0; i < t->nmodules; i++)
		if (t->modules[i].is_exe)
			return &t->modules[i];
	return NULL;
}

/* The Go runtime's own data and bss (runtime.firstmoduledata): what is not
 * C's. Each range must lie inside the executable's image (the module's
 * extent, from its file, not from the core or the DWARF cache): one that does
 * not, or cannot be read, is a warning, and false is returned — the
 * executable's C data then cannot be told from Go's. */
static bool cgocheck_go_data(struct target *t, struct ranges *go)
{
	static const char *const f[][2] = { { "noptrdata", "enoptrdata" }, { "data", "edata" },
					    { "bss", "ebss" }, { "noptrbss", "enoptrbss" } };
	const struct target_module *exe = cgocheck_exe(t);
	uint64_t md;
	struct ct_error *err = go_var_addr(t->go, "runtime.firstmoduledata", &md);
	if (err) {
		target_warn(t, "cgocheck: Go's data unknown: %s", err->msg);
		ct_error_destroy(err);
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < 4; i++) {
		uint64_t off_lo, off_hi, lo, hi;
		if ((err = dw_member_offset(t->dw, "runtime.moduledata", f[i][0], &off_lo)) ||
		    (err = dw_member_offset(t->dw, "runtime.moduledata", f[i][1], &off_hi)) ||
		    (err = mem_read_u64(&t->mem, md + off_lo, &lo, "moduledata")) ||
		    (err = mem_read_u64(&t->mem, md + off_hi, &hi, "moduledata"))) {
			target_warn(t, "cgocheck: Go's %s unknown: %s", f[i][0], err->msg);
			ct_error_destroy(err);
			ok = false;
			continue;
		}
		if (hi < lo || (exe && (lo < exe->start || hi > exe->end))) {
			target_warn(t, "cgocheck: runtime.firstmoduledata.%s-%s = 0x%" PRIx64 "-0x%" PRIx64
				    " is not inside the executable (0x%" PRIx64 "-0x%" PRIx64 "): not scanned",
				    f[i][0], f[i][1], lo, hi, exe ? exe->start : 0, exe ? exe->end : 0);
			ok = false;
			continue;
		}
		ranges_add(go, lo, hi);
	}
	return ok;
}

/* Writable data of a module's file: .data and .bss (plus bias). */
static void cgocheck_module_data(const struct target_module *m, struct ranges *out)
{
	Dwarf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->dwmod, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || !(sh.sh_flags & SHF_WRITE))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".data") || !strcmp(name, ".bss")))
			ranges_add(out, sh.sh_addr + bias, sh.sh_addr + bias + sh.sh_size);
	}
}

/* ---- C variables by address: static C variables of a cgo binary are only in
 * DWARF (Go's linker keeps no local C symbols). ---- */

struct cvar {
	uint64_t lo, hi;
	const char *name;
};

struct cvars {
	struct cvar *v;
	size_t n, cap;
	const struct dw *dw;
	uint64_t bias;
};

static bool cvars_collect(const struct dw_entry *e, void *arg)
{
	struct cvars *cv = arg;
	Dwarf_Die d, cu, type;
	if (!dwarf_offdie(cv->dw->dbg, e->off, &d) || !dwarf_diecu(&d, &cu, NULL, NULL))
		return true;
	Dwarf_Attribute a;
	Dwarf_Word lang = 0;
	if (dwarf_attr(&cu, DW_AT_language, &a))
		dwarf_formudata(&a, &lang);
	if (lang == DW_LANG_Go)
		return true;
	uint64_t addr, size = 1;
	struct ct_error *err = dw_var_addr(cv->dw, e->name, &addr);
	if (err) {
		ct_error_destroy(err);
		return true;
	}
	if (dw_type_of(&d, &type))
		dw_size(&type, &size);
	if (cv->n == cv->cap) {
		size_t ncap = cv->cap ? cv->cap * 2 : 256;
		struct cvar *n = realloc(cv->v, ncap * sizeof(*n));
		if (!n)
			return false;
		cv->v = n;
		cv->cap = ncap;
	}
	cv->v[cv->n++] = (struct cvar){ addr + cv->bias, addr + cv->bias + (size ? size : 1), e->name };
	return true;
}

static int cvar_cmp(const void *a, const void *b)
{
	const struct cvar *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static const struct cvar *cvars_find(const struct cvars *cv, uint64_t addr)
{
	size_t lo = 0, hi = cv->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cv->v[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && addr < cv->v[lo - 1].hi ? &cv->v[lo - 1] : NULL;
}

/* ---- the audit ---- */

/* What is scanned, for the accounting of what could not be. */
enum cgocheck_part { PART_C_DATA, PART_C_CHUNKS, PART_STACKS, PART_GO_DATA, PART_GO_HEAP, NPARTS };
static const char *const cgocheck_part_names[NPARTS] = { "C data", "C chunks", "thread stacks",
							  "Go data", "Go heap objects" };

struct cgocheck {
	struct target *t;
	const struct go_heap *h;
	struct cheap *c;
	struct cvars cvars;
	cgocheck_fn fn;
	void *arg;
	struct cgocheck_stats *st;
	bool stop;          /* fn said stop */
	bool over_budget;   /* scanned more than the core holds: ranges overlap */
	uint64_t budget, scanned;
	uint64_t missing[NPARTS];
	uint64_t bad_spans, unresolved;
	char first_bad_span[256], first_unresolved[256];
};

/* A word that may point at Go or C memory whose state cannot be read: the
 * audit cannot say whether it dangles. */
static void cgocheck_unresolved(struct cgocheck *ck, uint64_t at, uint64_t w, const char *why)
{
	if (!ck->unresolved++)
		snprintf(ck->first_unresolved, sizeof(ck->first_unresolved), "0x%" PRIx64 " at 0x%" PRIx64 ": %s",
			 w, at, why);
}

static bool cgocheck_halted(const struct cgocheck *ck)
{
	return ck->stop || ck->over_budget;
}

static void cgocheck_emit(struct cgocheck *ck, struct cgocheck_finding *f)
{
	if (f->place == CGOCHECK_STACK)
		ck->st->on_stacks++;
	else
		ck->st->n[f->verdict]++;
	if (!cgocheck_halted(ck) && !ck->fn(ck->arg, f))
		ck->stop = true;
}

static void cgocheck_name_c(struct cgocheck *ck, uint64_t at, const char *region_what,
			    struct cgocheck_finding *f)
{
	const struct cvar *v = cvars_find(&ck->cvars, at);
	if (v) {
		snprintf(f->holder, sizeof(f->holder), "%s+0x%" PRIx64 " (C variable)", v->name, at - v->lo);
		return;
	}
	struct verdict w;
	classify_addr(ck->t, at, &w);
	if (w.region == REGION_IMAGE && w.d.image.symbol)
		snprintf(f->holder, sizeof(f->holder), "%s+0x%" PRIx64 " (%s)", w.d.image.symbol,
			 w.d.image.sym_offset, w.d.image.section ? w.d.image.section : "image");
	else
		snprintf(f->holder, sizeof(f->holder), "%s", region_what);
}

/* A word of C memory: is it a Go heap (or stack) pointer, and how bad? */
static void cgocheck_c_word(struct cgocheck *ck, uint64_t at, uint64_t w, enum cgocheck_place place,
			    const char *where)
{
	enum go_span_kind kind;
	struct go_span span;
	struct ct_error *err = go_heap_span_of(ck->h, w, &kind, &span);
	if (err) {
		/* A word into a heap arena whose index cannot be read: a Go pointer
		 * whose state is unknown. Counted: the audit is partial. */
		if (go_heap_in_arena(ck->h, w))
			cgocheck_unresolved(ck, at, w, err->msg);
		ct_error_destroy(err);
		return;
	}
	if (kind == GO_SPAN_NONE)
		return;
	struct cgocheck_finding f = { .kind = CGOCHECK_C_HOLDS_GO, .place = place, .at = at, .value = w };
	classify_addr(ck->t, w, &f.target);
	const struct verdict *v = &f.target;
	if (v->region == REGION_GO_HEAP) {
		if (v->state == VSTATE_FREE || v->state == VSTATE_GARBAGE) {
			f.verdict = CGOCHECK_DANGLING;
		} else if (v->state == VSTATE_ALLOCATED) {
			int pinned = go_span_pinned(ck->h, &v->d.heap.span, v->d.heap.slot.index);
			f.verdict = pinned == 1 ? CGOCHECK_OK : CGOCHECK_UNPINNED;
		} else {
			if (v->state == VSTATE_UNKNOWN)
				cgocheck_unresolved(ck, at, w, v->note[0] ? v->note : "Go heap state unknown");
			return;
		}
	} else if (v->region == REGION_GO_STACK) {
		/* Stacks move when they grow: C may never keep a pointer into one. */
		f.verdict = v->state == VSTATE_FREE ? CGOCHECK_DANGLING : CGOCHECK_UNPINNED;
	} else {
		return;
	}
	if (place == CGOCHECK_CHUNK || place == CGOCHECK_STACK)
		snprintf(f.holder, sizeof(f.holder), "%s", where);
	else
		cgocheck_name_c(ck, at, where, &f);
	cgocheck_emit(ck, &f);
}

/* Linux x86-64 places mmaps top-down just below the stacks (the mmap base is
 * 128 TiB minus the stack gap and randomization): an unmapped "chunk pointer"
 * far from there is an integer, not a freed large chunk. */
#define CGOCHECK_MMAP_LOW 0x7e0000000000ULL
#define CGOCHECK_MMAP_TOP 0x800000000000ULL

/* A word of Go memory: a pointer to a freed C chunk? */
static void cgocheck_go_word(struct cgocheck *ck, uint64_t at, uint64_t w, enum cgocheck_place place,
			     const char *where, bool conservative)
{
	if (w < CLASSIFY_NULL_PAGE_END || !ck->c)
		return;
	struct cgocheck_finding f = { .kind = CGOCHECK_GO_HOLDS_FREED_C, .verdict = CGOCHECK_DANGLING,
				      .place = place, .at = at, .value = w, .conservative = conservative };
	const struct core_segment *s = ck->t->core ? core_segment_of(ck->t->core, w) : NULL;
	if (s) {
		bool found = false;
		struct cheap_chunk ch;
		struct ct_error *err = cheap_lookup(ck->c, w, &found, &ch);
		if (err || !found || ch.state != CHEAP_FREE || ch.bin == CHEAP_BIN_TOP || w != ch.user) {
			if (err && err->code != CT_ERR_NOTFOUND)
				cgocheck_unresolved(ck, at, w, err->msg);
			ct_error_destroy(err);
			return; /* only pointers to the start of a freed chunk: what malloc returned */
		}
	} else {
		/* free() unmaps a large (mmapped) chunk at once; its user pointer
		 * was 16 bytes into a page. Without a mapping nothing proves it,
		 * so this is only flagged as likely. */
		if (!cheap_mmapped_user_shape(w) || w >= CGOCHECK_MMAP_TOP || w < CGOCHECK_MMAP_LOW)
			return;
		f.conservative = true;
	}
	classify_addr(ck->t, w, &f.target);
	if (place == CGOCHECK_MAP || place == CGOCHECK_GO_HEAP) {
		if (!gomap_holder_describe(ck->t, at, f.holder, sizeof(f.holder))) {
			if (place == CGOCHECK_MAP)
				return;
			snprintf(f.holder, sizeof(f.holder), "%s", where);
		} else {
			f.place = CGOCHECK_MAP;
			f.conservative = conservative && !s;
		}
	} else {
		struct verdict hv;
		classify_addr(ck->t, at, &hv);
		if (hv.region == REGION_IMAGE && hv.d.image.symbol)
			snprintf(f.holder, sizeof(f.holder), "%s+0x%" PRIx64 " (Go global)", hv.d.image.symbol,
				 hv.d.image.sym_offset);
		else
			snprintf(f.holder, sizeof(f.holder), "%s", where);
	}
	cgocheck_emit(ck, &f);
}

typedef void (*cgocheck_word_fn)(struct cgocheck *ck, uint64_t at, uint64_t w,
				 enum cgocheck_place place, const char *where, bool flag);

static void cgocheck_c_word_adapter(struct cgocheck *ck, uint64_t at, uint64_t w,
				    enum cgocheck_place place, const char *where, bool flag)
{
	(void)flag;
	cgocheck_c_word(ck, at, w, place, where);
}

static uint64_t cgocheck_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Missing bytes add up without wrapping (a garbage segment is terabytes). */
static void cgocheck_missing(struct cgocheck *ck, enum cgocheck_part part, uint64_t n)
{
	if (__builtin_add_overflow(ck->missing[part], n, &ck->missing[part]))
		ck->missing[part] = UINT64_MAX;
}

/* The piece of [a, hi) from a that reads one way: saved in the core, or
 * read from the file the core maps there (up to that file's real end), or
 * neither (not saved, or unmapped). The bound of every scan: a range's claimed
 * size never makes a loop longer than what the core and its files hold. */
static uint64_t cgocheck_piece(struct cgocheck *ck, uint64_t a, uint64_t hi, bool *readable)
{
	const struct core *c = ck->t->core;
	*readable = false;
	size_t lo = 0, n = c->nsegs; /* the first segment ending after a */
	while (lo < n) {
		size_t mid = lo + (n - lo) / 2;
		if (c->segs[mid].vaddr + c->segs[mid].memsz <= a)
			lo = mid + 1;
		else
			n = mid;
	}
	if (lo == c->nsegs)
		return hi - a;
	const struct core_segment *s = &c->segs[lo];
	if (a < s->vaddr)
		return cgocheck_min(s->vaddr, hi) - a;
	uint64_t end = cgocheck_min(s->vaddr + s->memsz, hi);
	if (a - s->vaddr < s->filesz) {
		*readable = true;
		return cgocheck_min(s->vaddr + s->filesz, end) - a;
	}
	const struct core_file_map *fm = core_file_of(c, a);
	if (fm) {
		uint64_t fend = cgocheck_min(fm->end, end);
		unsigned char b;
		/* The read opens the file if it was not yet (target.c). */
		if (ck->t->files && mem_read(&ck->t->mem, a, &b, 1) == MEM_OK) {
			const struct target_file *f = &ck->t->files[fm - c->files];
			if (f->data && fm->pgoff < f->size) {
				uint64_t avail = f->size - fm->pgoff;
				uint64_t file_end = fm->start + avail < fm->start ? UINT64_MAX : fm->start + avail;
				if (a < file_end) {
					*readable = true;
					return cgocheck_min(file_end, fend) - a;
				}
			}
		}
		return fend - a;
	}
	uint64_t next = end; /* not saved, no file here: up to the next file mapping */
	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].start > a && c->files[i].start < next)
			next = c->files[i].start;
	return next - a;
}

/* Scans [lo, hi) word by word, over the pieces the core or its files hold;
 * the rest is counted missing under part. Stops (over_budget) past the
 * audit's budget: the ranges overlap (damage), scanning more would only
 * repeat itself. */
static uint64_t cgocheck_scan(struct cgocheck *ck, enum cgocheck_part part, uint64_t lo, uint64_t hi,
			      enum cgocheck_place place, const char *where, cgocheck_word_fn fn, bool flag)
{
	static _Thread_local uint64_t buf[8192];
	uint64_t scanned = 0;
	if (lo > UINT64_MAX - 7)
		return 0;
	lo = (lo + 7) & ~7ULL;
	if (hi <= lo || hi - lo < 8)
		return 0;
	hi = lo + (hi - lo) / 8 * 8;
	for (uint64_t a = lo; a < hi && !cgocheck_halted(ck);) {
		bool readable;
		uint64_t piece = cgocheck_piece(ck, a, hi, &readable);
		if (!piece) /* cannot happen; never loop on it */
			piece = hi - a;
		if (!readable) {
			cgocheck_missing(ck, part, piece);
			a += piece;
			continue;
		}
		/* Pieces of the core may end off a word boundary (a damaged
		 * segment): a word across the boundary is read with the next. */
		uint64_t pend = a + piece;
		while (a < pend && !cgocheck_halted(ck)) {
			uint64_t n = (pend - a + 7) / 8;
			if (n > 8192)
				n = 8192;
			if (a + n * 8 > hi)
				n = (hi - a) / 8;
			if (!n)
				break;
			if (ck->scanned + n * 8 > ck->budget) {
				ck->over_budget = true;
				break;
			}
			ck->scanned += n * 8;
			if (mem_read(&ck->t->mem, a, buf, n * 8) != MEM_OK) {
				cgocheck_missing(ck, part, n * 8);
				a += n * 8;
				continue;
			}
			for (uint64_t k = 0; k < n && !cgocheck_halted(ck); k++)
				if (buf[k] >= 0x10000)
					fn(ck, a + k * 8, buf[k], place, where, flag);
			scanned += n * 8;
			a += n * 8;
		}
		if (a < pend)
			a = pend; /* halted: the loop ends */
	}
	return scanned;
}

static bool cgocheck_chunk(const struct cheap_chunk *ch, void *arg)
{
	struct cgocheck *ck = arg;
	if (ch->state != CHEAP_ALLOCATED)
		return !cgocheck_halted(ck);
	char where[96];
	snprintf(where, sizeof(where), "C chunk 0x%" PRIx64 " (%" PRIu64 " bytes)", ch->user, ch->user_size);
	ck->st->chunks++;
	uint64_t hi = ch->user + ch->user_size < ch->user ? UINT64_MAX : ch->user + ch->user_size;
	ck->st->c_bytes += cgocheck_scan(ck, PART_C_CHUNKS, ch->user, hi, CGOCHECK_CHUNK, where,
					 cgocheck_c_word_adapter, false);
	return !cgocheck_halted(ck);
}

static bool cgocheck_go_span(const struct go_span *s, void *arg)
{
	struct cgocheck *ck = arg;
	if (s->state != ck->h->span_inuse)
		return !cgocheck_halted(ck);
	/* The one span check (as classify's and the census'): a span whose
	 * sizes do not add up is skipped and counted, never walked. After it,
	 * nelems * esize fits the span's pages. */
	struct ct_error *err = go_span_check(ck->h, s);
	if (err) {
		if (!ck->bad_spans++)
			snprintf(ck->first_bad_span, sizeof(ck->first_bad_span), "%s", err->msg);
		ct_error_destroy(err);
		return !cgocheck_halted(ck);
	}
	uint64_t esize = go_span_elem_bytes(ck->h, s);
	uint64_t nelems = s->nelems ? s->nelems : 1;
	for (uint64_t i = 0; i < nelems && !cgocheck_halted(ck); i++) {
		bool alloc;
		err = go_span_allocated(ck->h, s, i, &alloc);
		if (err) {
			ct_error_destroy(err);
			cgocheck_missing(ck, PART_GO_HEAP, (nelems - i) * esize); /* its objects are unknown */
			break;
		}
		if (!alloc)
			continue;
		uint64_t base = s->start + i * esize;
		ck->st->go_bytes += cgocheck_scan(ck, PART_GO_HEAP, base, base + esize, CGOCHECK_GO_HEAP,
						  "Go heap object", cgocheck_go_word, true);
	}
	return !cgocheck_halted(ck);
}

/* The audit's budget: what the core holds (segments' saved bytes), twice, and
 * room for data read from mapped files. The ranges of a healthy process are
 * disjoint, so a full audit reads each saved byte about once. */
static uint64_t cgocheck_budget(const struct core *c)
{
	uint64_t saved = 0;
	for (size_t i = 0; i < c->nsegs; i++)
		saved += c->segs[i].filesz;
	return 2 * saved + (256ULL << 20);
}

struct ct_error *cgocheck_run(struct target *t, cgocheck_fn fn, void *arg, struct cgocheck_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!t->core)
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "cgocheck needs a core");
	struct cgocheck ck = { .t = t, .fn = fn, .arg = arg, .st = st, .budget = cgocheck_budget(t->core) };
	size_t nwarn0 = t->nwarnings; /* the models' warnings from here on count too */
	const struct ct_error *herr = target_go_heap(t, &ck.h);
	if (herr)
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "no Go heap: %s", herr->msg);
	const struct ct_error *cerr = target_cheap(t, &ck.c);
	if (cerr) {
		/* No glibc heap: only globals are audited. A glibc there but
		 * unreadable is a partial audit; no glibc at all is not. */
		if (cerr->code != CT_ERR_NOTFOUND)
			target_warn(t, "cgocheck: C heap unreadable, its chunks not audited: %s", cerr->msg);
		ck.c = NULL;
	}
	ck.cvars.dw = t->dw;
	ck.cvars.bias = t->bias;
	if (t->dw->dbg) {
		dw_foreach(t->dw, DW_TAG_variable, cvars_collect, &ck.cvars);
		if (ck.cvars.n)
			qsort(ck.cvars.v, ck.cvars.n, sizeof(*ck.cvars.v), cvar_cmp);
	}

	/* 1. C memory holding Go pointers: C globals, allocated chunks, thread stacks. */
	struct ranges go = { 0 }, cdata = { 0 };
	bool go_data_ok = cgocheck_go_data(t, &go);
	for (size_t i = 0; i < t->nmodules; i++) {
		if (strstr(t->modules[i].name, "vdso"))
			continue;
		/* Without Go's ranges the executable's data is Go's and C's mixed:
		 * scanning it would report Go's own pointers as C's. */
		if (t->modules[i].is_exe && !go_data_ok) {
			target_warn(t, "cgocheck: the executable's C data not audited (Go's data unknown)");
			continue;
		}
		cgocheck_module_data(&t->modules[i], &cdata);
	}
	for (size_t i = 0; i < go.n; i++)
		ranges_cut(&cdata, go.r[i].lo, go.r[i].hi);
	for (size_t i = 0; i < cdata.n && !cgocheck_halted(&ck); i++)
		st->c_bytes += cgocheck_scan(&ck, PART_C_DATA, cdata.r[i].lo, cdata.r[i].hi, CGOCHECK_GLOBAL,
					     "C data", cgocheck_c_word_adapter, false);
	if (ck.c && !cgocheck_halted(&ck)) {
		struct ct_error *err = cheap_foreach_chunk(ck.c, cgocheck_chunk, &ck);
		if (err) {
			target_warn(t, "C heap walk: %s", err->msg);
			ct_error_destroy(err);
		}
	}
	const struct target_tstack *ts;
	size_t nts;
	target_thread_stacks(t, &ts, &nts);
	for (size_t i = 0; i < nts && !cgocheck_halted(&ck); i++) {
		/* An M's stacks run the runtime itself, full of Go pointers by
		 * right: only threads C made on its own are looked at. */
		if (ts[i].m_id >= 0 || ts[i].g0)
			continue;
		char where[64];
		snprintf(where, sizeof(where), "stack of thread %" PRId64, ts[i].tid);
		/* The live part only: below sp is dead. */
		uint64_t lo = ts[i].sp > ts[i].lo && ts[i].sp < ts[i].hi ? ts[i].sp : ts[i].lo;
		cgocheck_scan(&ck, PART_STACKS, lo, ts[i].hi, CGOCHECK_STACK, where, cgocheck_c_word_adapter,
			      false);
	}

	/* 2. Go memory holding freed C pointers: Go globals, then every live Go
	 * object (map buckets/groups among them, named as map entries). */
	for (size_t i = 0; i < go.n && !cgocheck_halted(&ck); i++)
		st->go_bytes += cgocheck_scan(&ck, PART_GO_DATA, go.r[i].lo, go.r[i].hi, CGOCHECK_GLOBAL,
					      "Go global data", cgocheck_go_word, false);
	if (!cgocheck_halted(&ck)) {
		uint64_t unreadable = 0;
		struct ct_error *err = go_heap_foreach_span(ck.h, cgocheck_go_span, &ck, &unreadable);
		if (err) {
			target_warn(t, "Go heap walk: %s", err->msg);
			ct_error_destroy(err);
		}
		if (unreadable)
			target_warn(t, "%" PRIu64 " Go spans could not be read", unreadable);
	}
	st->truncated = ck.stop;

	/* What the audit could not see: each cause a warning, the audit partial. */
	if (ck.bad_spans)
		target_warn(t, "cgocheck: %" PRIu64 " Go span%s skipped: sizes that do not add up (first: %s)",
			    ck.bad_spans, ck.bad_spans == 1 ? "" : "s", ck.first_bad_span);
	if (ck.unresolved)
		target_warn(t, "cgocheck: %" PRIu64 " pointer%s whose target's state cannot be read "
			    "(Go heap arena index or span, C heap): dangling or not is unknown (first: %s)",
			    ck.unresolved, ck.unresolved == 1 ? "" : "s", ck.first_unresolved);
	if (ck.over_budget)
		target_warn(t, "cgocheck: stopped after scanning %" PRIu64 " bytes, more than the core "
			    "holds: the ranges to scan overlap (damaged metadata)", ck.scanned);
	uint64_t missing = 0;
	char parts[256] = "";
	size_t plen = 0;
	for (int i = 0; i < NPARTS; i++) {
		if (!ck.missing[i])
			continue;
		missing = missing + ck.missing[i] < missing ? UINT64_MAX : missing + ck.missing[i];
		if (plen < sizeof(parts))
			plen += snprintf(parts + plen, sizeof(parts) - plen, "%s%s %" PRIu64, plen ? ", " : "",
					 cgocheck_part_names[i], ck.missing[i]);
	}
	if (missing)
		target_warn(t, "cgocheck: %" PRIu64 " bytes to audit are not in the core (%s)", missing, parts);
	st->missing_bytes = missing;
	/* Any warning from here on (the heap and the C heap models' too) means
	 * the audit did not see everything it needed. */
	st->partial = t->nwarnings > nwarn0;
	free(go.r);
	free(cdata.r);
	free(ck.cvars.v);
	return NULL;
}
