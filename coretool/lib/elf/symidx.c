#include "symidx.h"

#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>

/* A backward scan for the symbols holding an address stops after this many steps and asks
 * libdwfl instead: a huge symbol far below would otherwise make every lookup linear again. */
#define SYMIDX_MAX_SCAN 64

struct symidx_sym {
	uint64_t lo, hi; /* [lo, hi), load bias applied */
	const char *name;
	bool eligible; /* one libdwfl would answer with (named, defined, not a section/file/TLS) */
};

struct symidx {
	struct symidx_sym *syms; /* every symbol with a size, by lo */
	uint64_t *maxhi;         /* maxhi[i]: the highest hi of syms[0..i] (where a scan can stop) */
	uint64_t *emaxhi;        /* the same over the eligible ones only (0: none yet) */
	size_t nsyms;
	uint64_t *labels; /* the addresses of sizeless symbols, sorted */
	size_t nlabels;
	uint64_t *elabels; /* the same, eligible ones only */
	size_t nelabels;
	bool wraps;        /* a symbol's range wraps around: no answers of our own */
};

static int symidx_sym_cmp(const void *a, const void *b)
{
	const struct symidx_sym *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static int symidx_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct ct_error *symidx_build(Dwfl_Module *mod, struct symidx **ret)
{
	*ret = NULL;
	int n = dwfl_module_getsymtab(mod);
	if (n < 0)
		return ct_error_fmt(CT_ERR_NOTFOUND, "dwfl_module_getsymtab: %s", dwfl_errmsg(-1));
	struct symidx *x = calloc(1, sizeof(*x));
	if (!x)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	x->syms = malloc((size_t)(n ? n : 1) * sizeof(*x->syms));
	x->maxhi = malloc((size_t)(n ? n : 1) * sizeof(*x->maxhi));
	x->labels = malloc((size_t)(n ? n : 1) * sizeof(*x->labels));
	x->emaxhi = malloc((size_t)(n ? n : 1) * sizeof(*x->emaxhi));
	x->elabels = malloc((size_t)(n ? n : 1) * sizeof(*x->elabels));
	if (!x->syms || !x->maxhi || !x->labels || !x->emaxhi || !x->elabels) {
		symidx_destroy(x);
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	}
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (!name)
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		bool eligible = name[0] && sym.st_shndx != SHN_UNDEF && type != STT_SECTION &&
				type != STT_FILE && type != STT_TLS;
		if (sym.st_size == 0) {
			x->labels[x->nlabels++] = addr;
			if (eligible)
				x->elabels[x->nelabels++] = addr;
			continue;
		}
		if (addr + sym.st_size < addr) {
			x->wraps = true; /* leave everything to libdwfl's rules */
			continue;
		}
		x->syms[x->nsyms++] = (struct symidx_sym){ addr, addr + sym.st_size, name, eligible };
	}
	qsort(x->syms, x->nsyms, sizeof(*x->syms), symidx_sym_cmp);
	qsort(x->labels, x->nlabels, sizeof(*x->labels), symidx_u64_cmp);
	qsort(x->elabels, x->nelabels, sizeof(*x->elabels), symidx_u64_cmp);
	for (size_t i = 0; i < x->nsyms; i++) {
		x->maxhi[i] = i && x->maxhi[i - 1] > x->syms[i].hi ? x->maxhi[i - 1] : x->syms[i].hi;
		uint64_t e = x->syms[i].eligible ? x->syms[i].hi : 0;
		x->emaxhi[i] = i && x->emaxhi[i - 1] > e ? x->emaxhi[i - 1] : e;
	}
	*ret = x;
	return NULL;
}

/* The number of values in v[0..n) at or below addr (v sorted). */
static size_t symidx_upto(const uint64_t *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool symidx_is_label(const struct symidx *x, uint64_t addr)
{
	size_t k = symidx_upto(x->labels, x->nlabels, addr);
	return k && x->labels[k - 1] == addr;
}

/* Why the unambiguous case is libdwfl's answer: libdwfl only ever picks a sized symbol that
 * holds the address when there is one (sizeless labels are its fallback), and with a single
 * such symbol its preferences (closer start, global over local, smaller size) have nothing
 * to choose between. The one exception, a global sizeless label exactly at the address that
 * ends its search before the local symbols, is handed over too. */
const char *symidx_lookup(const struct symidx *x, Dwfl_Module *mod, uint64_t addr, uint64_t *off)
{
	if (x && x->nsyms) {
		size_t lo = 0, hi = x->nsyms; /* first symbol starting above addr */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (x->syms[mid].lo <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		const struct symidx_sym *found = NULL;
		size_t holders = 0, steps = 0;
		bool complete = true;
		for (size_t i = lo; i-- > 0 && x->maxhi[i] > addr;) {
			if (++steps > SYMIDX_MAX_SCAN) {
				complete = false;
				break;
			}
			if (x->syms[i].hi > addr) {
				found = &x->syms[i];
				if (++holders > 1)
					break;
			}
		}
		if (holders == 1 && complete && found->eligible && !symidx_is_label(x, addr)) {
			*off = addr - found->lo;
			return found->name;
		}
		/* No symbol at all, libdwfl's answer too when no sized symbol holds
		 * addr and no sizeless one can be its fallback: it takes a sizeless
		 * symbol only at or above the end of every eligible symbol that
		 * starts at or below addr, sizeless ones included — so only the
		 * highest label, and only if no sized symbol ends above it. */
		size_t k = symidx_upto(x->elabels, x->nelabels, addr);
		uint64_t ends = lo ? x->emaxhi[lo - 1] : 0;
		if (holders == 0 && complete && !x->wraps && (k == 0 || ends > x->elabels[k - 1])) {
			*off = 0;
			return NULL;
		}
	}
	GElf_Off o = 0;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(mod, addr, &o, &sym, NULL, NULL, NULL);
	*off = o;
	return name;
}

void symidx_destroy(struct symidx *x)
{
	if (!x)
		return;
	free(x->syms);
	free(x->maxhi);
	free(x->labels);
	free(x->emaxhi);
	free(x->elabels);
	free(x);
}
