/* The function table and stack maps (gofunc.h). Every read goes through the
 * target's memory and is bounded by the table's own lengths. */
#define _GNU_SOURCE
#include "gofunc.h"

#include <stdlib.h>
#include <string.h>

#include "ct_util.h"
#include "dw.h"
#include "mem.h"

/* runtime/symtab.go, internal/abi/symtab.go (stable from Go 1.20 to 1.27) */
#define PCLN_MAGIC_120 0xfffffff1u
#define PCDATA_STACKMAP_INDEX 1
#define FUNCDATA_ARGS_MAPS 0
#define FUNCDATA_LOCALS_MAPS 1
#define FUNCDATA_STACK_OBJECTS 2
#define FUNCDATA_NONE 0xffffffffu
/* Bounds: functions in one table, steps of one pc-value walk, funcdata slots. */
#define GOFUNC_MAX_FUNCS (1u << 22)
#define GOFUNC_MAX_STEPS (1u << 20)
#define GOFUNC_MAX_PCDATA 64
#define GOFUNC_MAX_FUNCDATA 64

struct functab {
	uint32_t entryoff, funcoff;
};

struct go_funcs {
	const struct go_rt *rt;
	uint64_t text, gofunc, pctab, pctab_len, pclntable, pclntable_len;
	uint64_t rodata; /* stack objects' pointer masks are at offsets from it (0: not known) */
	struct functab *ftab; /* nftab entries, the last the end sentinel */
	size_t nftab;
	/* runtime._func */
	uint64_t f_entry, f_args, f_pcsp, f_npcdata, f_nfuncdata, func_size;
	unsigned quantum;
};

static struct ct_error *unsupported(const char *what)
{
	return ct_error_fmt(CT_ERR_UNSUPPORTED, "function table: %s", what);
}

static bool rd(const struct go_funcs *f, uint64_t addr, void *buf, size_t n)
{
	return mem_read(f->rt->mem, addr, buf, n) == MEM_OK;
}

static bool rd_u64(const struct go_funcs *f, uint64_t addr, uint64_t *v)
{
	return rd(f, addr, v, 8);
}

struct ct_error *go_funcs_open(const struct go_rt *rt, struct go_funcs **ret)
{
	*ret = NULL;
	const struct dw *dw = rt->dw;
	uint64_t md, o_hdr, o_pctab, o_pcln, o_ftab, o_text, o_gofunc;
	struct ct_error *err;
	struct go_funcs *f = calloc(1, sizeof(*f));
	if (!f)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	f->rt = rt;
	if ((err = go_var_addr(rt, "runtime.firstmoduledata", &md)) ||
	    (err = dw_member_offset(dw, "runtime.moduledata", "pcHeader", &o_hdr)) ||
	    (err = dw_member_offset(dw, "runtime.moduledata", "pctab", &o_pctab)) ||
	    (err = dw_member_offset(dw, "runtime.moduledata", "pclntable", &o_pcln)) ||
	    (err = dw_member_offset(dw, "runtime.moduledata", "ftab", &o_ftab)) ||
	    (err = dw_member_offset(dw, "runtime.moduledata", "text", &o_text)) ||
	    (err = dw_member_offset(dw, "runtime.moduledata", "gofunc", &o_gofunc)) ||
	    (err = dw_member_offset(dw, "runtime._func", "entryOff", &f->f_entry)) ||
	    (err = dw_member_offset(dw, "runtime._func", "args", &f->f_args)) ||
	    (err = dw_member_offset(dw, "runtime._func", "pcsp", &f->f_pcsp)) ||
	    (err = dw_member_offset(dw, "runtime._func", "npcdata", &f->f_npcdata)) ||
	    (err = dw_member_offset(dw, "runtime._func", "nfuncdata", &f->f_nfuncdata)) ||
	    (err = dw_struct_size(dw, "runtime._func", &f->func_size))) {
		struct ct_error *e = unsupported(err->msg);
		ct_error_destroy(err);
		free(f);
		return e;
	}
	uint64_t hdr, ftab_ptr, ftab_len;
	uint32_t magic = 0;
	uint8_t quantum = 0;
	if (!rd_u64(f, md + o_hdr, &hdr) || !rd(f, hdr, &magic, 4) || !rd(f, hdr + 6, &quantum, 1) ||
	    !rd_u64(f, md + o_pctab, &f->pctab) || !rd_u64(f, md + o_pctab + 8, &f->pctab_len) ||
	    !rd_u64(f, md + o_pcln, &f->pclntable) || !rd_u64(f, md + o_pcln + 8, &f->pclntable_len) ||
	    !rd_u64(f, md + o_ftab, &ftab_ptr) || !rd_u64(f, md + o_ftab + 8, &ftab_len) ||
	    !rd_u64(f, md + o_text, &f->text) || !rd_u64(f, md + o_gofunc, &f->gofunc)) {
		free(f);
		return unsupported("runtime.firstmoduledata unreadable");
	}
	if (magic != PCLN_MAGIC_120 || !quantum || ftab_len < 2 || ftab_len > GOFUNC_MAX_FUNCS ||
	    f->func_size < f->f_nfuncdata + 1 || f->func_size > 256) {
		free(f);
		return unsupported("not the Go 1.20+ table (pcHeader magic, ftab)");
	}
	f->quantum = quantum;
	f->nftab = (size_t)ftab_len;
	/* optional: without it stack objects are scanned as words */
	uint64_t o_rodata;
	struct ct_error *re = dw_member_offset(dw, "runtime.moduledata", "rodata", &o_rodata);
	if (re || !rd_u64(f, md + o_rodata, &f->rodata))
		f->rodata = 0;
	ct_error_destroy(re);
	f->ftab = malloc(f->nftab * sizeof(*f->ftab));
	if (!f->ftab) {
		free(f);
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	}
	if (!rd(f, ftab_ptr, f->ftab, f->nftab * sizeof(*f->ftab))) {
		go_funcs_close(f);
		return unsupported("moduledata.ftab unreadable");
	}
	/* sorted by entry, as findfunc relies on: else binary search lies */
	for (size_t i = 1; i < f->nftab; i++)
		if (f->ftab[i].entryoff < f->ftab[i - 1].entryoff) {
			go_funcs_close(f);
			return unsupported("moduledata.ftab not sorted");
		}
	*ret = f;
	return NULL;
}

void go_funcs_close(struct go_funcs *f)
{
	if (!f)
		return;
	free(f->ftab);
	free(f);
}

/* A reader of the pc-value table, from pctab + off, a few bytes at a time. */
struct pcreader {
	const struct go_funcs *f;
	uint64_t pos, end;
	uint8_t buf[64];
	uint64_t buf_at;
	size_t buf_n;
};

static bool pc_byte(struct pcreader *r, uint8_t *b)
{
	if (r->pos >= r->end)
		return false;
	if (r->pos < r->buf_at || r->pos >= r->buf_at + r->buf_n) {
		size_t n = r->end - r->pos < sizeof(r->buf) ? (size_t)(r->end - r->pos) : sizeof(r->buf);
		/* a short read near the end of memory: byte by byte */
		if (!rd(r->f, r->pos, r->buf, n)) {
			n = 1;
			if (!rd(r->f, r->pos, r->buf, 1))
				return false;
		}
		r->buf_at = r->pos;
		r->buf_n = n;
	}
	*b = r->buf[r->pos - r->buf_at];
	r->pos++;
	return true;
}

static bool pc_varint(struct pcreader *r, uint32_t *v)
{
	uint32_t x = 0;
	for (unsigned shift = 0; shift < 35; shift += 7) {
		uint8_t b;
		if (!pc_byte(r, &b))
			return false;
		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* The value at targetpc of the pc-value table at pctab + off (runtime's
 * pcvalue: zig-zag value deltas, pc deltas times the quantum). */
static bool pcvalue(const struct go_funcs *f, uint32_t off, uint64_t entry, uint64_t targetpc,
		    int32_t *ret)
{
	if (!off || off >= f->pctab_len)
		return false;
	struct pcreader r = { .f = f, .pos = f->pctab + off, .end = f->pctab + f->pctab_len };
	int32_t val = -1;
	uint64_t pc = entry;
	for (unsigned step = 0; step < GOFUNC_MAX_STEPS; step++) {
		uint32_t uv, pcd;
		if (!pc_varint(&r, &uv) || (uv == 0 && step > 0) || !pc_varint(&r, &pcd))
			return false;
		int32_t vd = (uv & 1) ? (int32_t)~(uv >> 1) : (int32_t)(uv >> 1);
		val += vd;
		pc += (uint64_t)pcd * f->quantum;
		if (targetpc < pc) {
			*ret = val;
			return true;
		}
	}
	return false;
}

/* A stack map's bitmap idx: n maps of nbit bits each. */
static bool stackmap(const struct go_funcs *f, uint64_t addr, int32_t idx, uint32_t *nbit,
		     uint8_t *bits)
{
	int32_t hdr[2];
	if (!rd(f, addr, hdr, sizeof(hdr)) || hdr[0] <= 0 || hdr[1] < 0 || idx < 0 || idx >= hdr[0] ||
	    hdr[1] > GO_FRAME_MAX_WORDS)
		return false;
	uint64_t nbytes = ((uint64_t)hdr[1] + 7) / 8;
	*nbit = (uint32_t)hdr[1];
	return !nbytes || rd(f, addr + 8 + (uint64_t)idx * nbytes, bits, nbytes);
}

/* The frame's stack objects (runtime.stackObjectRecord, 16 bytes each:
 * off from varp if negative, else from argp; size; ptrBytes; gcdataoff),
 * after a uintptr count. The pointer mask of an object (one bit a word of its
 * ptrBytes) is at moduledata.rodata + gcdataoff. Go 1.22-1.23 mark a type
 * with a GC program by a negative ptrBytes: no mask, its -ptrBytes as words. */
static bool stack_objects(const struct go_funcs *f, uint64_t addr, struct go_frame_map *m)
{
	uint64_t n;
	if (!rd_u64(f, addr, &n) || n > GO_FRAME_MAX_OBJECTS)
		return false;
	uint32_t rec[4 * GO_FRAME_MAX_OBJECTS];
	if (n && !rd(f, addr + 8, rec, n * 16))
		return false;
	m->nmask = 0;
	for (uint64_t i = 0; i < n; i++) {
		int32_t off = (int32_t)rec[4 * i], size = (int32_t)rec[4 * i + 1], ptr = (int32_t)rec[4 * i + 2];
		bool prog = ptr < 0 && ptr != INT32_MIN;
		if (prog)
			ptr = -ptr;
		if (size < 0 || ptr < 0 || ptr > size)
			return false;
		struct go_stack_object *o = &m->objs[m->nobjs++];
		o->addr = off < 0 ? m->varp - (uint64_t)(-(int64_t)off) : m->argp + (uint64_t)off;
		o->size = (uint32_t)size;
		o->ptr_bytes = (uint32_t)ptr;
		o->masked = false;
		uint32_t words = (uint32_t)ptr / 8, nbytes = (words + 7) / 8;
		if (!prog && f->rodata && words && nbytes <= sizeof(m->mask) - m->nmask &&
		    rd(f, f->rodata + rec[4 * i + 3], m->mask + m->nmask, nbytes)) {
			o->masked = true;
			o->mask_off = m->nmask;
			m->nmask += nbytes;
		}
	}
	return true;
}

bool go_frame_map_at(struct go_funcs *f, uint64_t pc, uint64_t sp, struct go_frame_map *ret)
{
	memset(ret, 0, offsetof(struct go_frame_map, locals));
	ret->nobjs = 0;
	ret->nmask = 0;
	ret->stack_objects = false;
	if (!f || pc < f->text)
		return false;
	uint64_t rel = pc - f->text;
	if (rel >= f->ftab[f->nftab - 1].entryoff)
		return false;
	/* the last function whose entry is at or below pc */
	size_t lo = 0, hi = f->nftab - 1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->ftab[mid].entryoff <= rel)
			lo = mid;
		else
			hi = mid;
	}
	if (f->ftab[lo].entryoff > rel)
		return false;
	uint64_t fa = f->pclntable + f->ftab[lo].funcoff;
	if (f->ftab[lo].funcoff >= f->pclntable_len)
		return false;
	uint8_t fb[256];
	if (!rd(f, fa, fb, f->func_size))
		return false;
	uint32_t entryoff, pcsp, npcdata;
	int32_t args;
	memcpy(&entryoff, fb + f->f_entry, 4);
	memcpy(&args, fb + f->f_args, 4);
	memcpy(&pcsp, fb + f->f_pcsp, 4);
	memcpy(&npcdata, fb + f->f_npcdata, 4);
	uint8_t nfuncdata = fb[f->f_nfuncdata];
	/* args < 0: abi.ArgsSizeUnknown (assembly, reflect's calls): no map */
	if (entryoff != f->ftab[lo].entryoff || npcdata > GOFUNC_MAX_PCDATA ||
	    nfuncdata > GOFUNC_MAX_FUNCDATA || args < 0)
		return false;
	uint32_t tab[GOFUNC_MAX_PCDATA + GOFUNC_MAX_FUNCDATA];
	if ((npcdata + nfuncdata) && !rd(f, fa + f->func_size, tab, (npcdata + nfuncdata) * 4u))
		return false;
	uint64_t entry = f->text + entryoff;
	ret->entry = entry;
	/* the frame: sp + the frame size at pc, then the return address; the
	 * saved frame pointer below it when the frame has any size */
	int32_t spdelta;
	if (!pcvalue(f, pcsp, entry, pc, &spdelta) || spdelta < 0)
		return false;
	ret->fp = sp + (uint64_t)spdelta + 8;
	ret->varp = ret->fp - 8;
	if (ret->varp > sp)
		ret->varp -= 8;
	ret->argp = ret->fp;
	/* the stack map index at the call (pc - 1 of a return address); -1 is
	 * read as 0, as the runtime does (a map may be at the entry) */
	int32_t idx = -1;
	uint64_t target = pc;
	if (target != entry) {
		target--;
		if (npcdata > PCDATA_STACKMAP_INDEX && tab[PCDATA_STACKMAP_INDEX] &&
		    !pcvalue(f, tab[PCDATA_STACKMAP_INDEX], entry, target, &idx))
			return false;
	}
	if (idx < 0)
		idx = 0;
	const uint32_t *fd = tab + npcdata;
	ret->stack_objects = nfuncdata > FUNCDATA_STACK_OBJECTS && fd[FUNCDATA_STACK_OBJECTS] != FUNCDATA_NONE;
	if (ret->stack_objects && !stack_objects(f, f->gofunc + fd[FUNCDATA_STACK_OBJECTS], ret))
		return false;
	/* locals: needed when the frame has any beyond the return address and bp */
	if (ret->varp > sp) {
		if (nfuncdata <= FUNCDATA_LOCALS_MAPS || fd[FUNCDATA_LOCALS_MAPS] == FUNCDATA_NONE ||
		    !stackmap(f, f->gofunc + fd[FUNCDATA_LOCALS_MAPS], idx, &ret->nlocals, ret->locals))
			return false;
		if ((uint64_t)ret->nlocals * 8 > ret->varp - sp)
			return false;
	}
	if (args > 0) {
		if (nfuncdata <= FUNCDATA_ARGS_MAPS || fd[FUNCDATA_ARGS_MAPS] == FUNCDATA_NONE ||
		    !stackmap(f, f->gofunc + fd[FUNCDATA_ARGS_MAPS], idx, &ret->nargs, ret->args))
			return false;
		if (ret->nargs > (uint32_t)args / 8)
			ret->nargs = (uint32_t)args / 8;
	}
	return true;
}
