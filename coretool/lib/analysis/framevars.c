#define _GNU_SOURCE
#include "framevars.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

#include "dw.h"

/* DWARF register numbers of x86-64 (psABI) -> core registers. */
static const int framevars_dwarf_regs[17] = {
	CORE_REG_RAX, CORE_REG_RDX, CORE_REG_RCX, CORE_REG_RBX, CORE_REG_RSI, CORE_REG_RDI,
	CORE_REG_RBP, CORE_REG_RSP, CORE_REG_R8, CORE_REG_R9, CORE_REG_R10, CORE_REG_R11,
	CORE_REG_R12, CORE_REG_R13, CORE_REG_R14, CORE_REG_R15, CORE_REG_RIP,
};

const char *framevar_state_text(enum framevar_state s)
{
	switch (s) {
	case FRAMEVAR_OK: return "ok";
	case FRAMEVAR_OPTIMIZED_OUT: return "<optimized out>";
	case FRAMEVAR_NOT_RECOVERED: return "<in a register not recovered>";
	case FRAMEVAR_UNSUPPORTED: return "<location not evaluated>";
	case FRAMEVAR_NOT_SAVED: return "<not saved in core>";
	}
	return "?";
}

struct framevars_ctx {
	struct target *t;
	const struct backtrace *bt;
	size_t i;
	const uint64_t *regs;
	uint64_t pc;       /* for lookups: pc (activation) or pc - 1 */
	uint64_t cfa;      /* 0: unknown */
	Dwarf_Die fn;      /* the subprogram */
};

/* The caller's stack pointer is this frame's CFA (x86-64: rsp before the
 * call pushed the return address). */
static uint64_t framevars_cfa(const struct backtrace *bt, size_t i)
{
	for (size_t j = i + 1; j < bt->n; j++)
		if (!bt->frames[j].inlined)
			return bt->frames[j].sp;
	return 0;
}

static bool framevars_reg(const struct framevars_ctx *c, unsigned dreg, uint64_t *v)
{
	if (dreg == 7 && c->bt->frames[c->i].sp) {
		*v = c->bt->frames[c->i].sp;
		return true;
	}
	const struct frame *f = &c->bt->frames[c->i];
	if (dreg < 16 && (f->saved_known & (1u << dreg)) && !c->regs) {
		*v = f->saved[dreg]; /* a callee-saved register the unwinder recovered */
		return true;
	}
	if (!c->regs || dreg >= 17)
		return false;
	*v = c->regs[framevars_dwarf_regs[dreg]];
	return true;
}

/* Evaluates the frame base (DW_AT_frame_base): DW_OP_call_frame_cfa, or a
 * register plus an offset. */
static bool framevars_frame_base(const struct framevars_ctx *c, uint64_t *ret)
{
	Dwarf_Attribute at;
	Dwarf_Op *ops;
	size_t n;
	Dwarf_Die fn = c->fn;
	if (!dwarf_attr(&fn, DW_AT_frame_base, &at) || dwarf_getlocation_addr(&at, c->pc, &ops, &n, 1) != 1 || n != 1)
		return false;
	if (ops[0].atom == DW_OP_call_frame_cfa) {
		*ret = c->cfa;
		return c->cfa != 0;
	}
	uint64_t r;
	if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg16 && framevars_reg(c, ops[0].atom - DW_OP_breg0, &r)) {
		*ret = r + (uint64_t)(int64_t)ops[0].number;
		return true;
	}
	return false;
}

/* A small DWARF expression stack machine for the other common locations:
 * register or frame-base plus offsets, constants, arithmetic, a dereference,
 * and DW_OP_stack_value (the result is the value, not an address). Entry
 * values and pieces are not evaluated. */
#define FRAMEVARS_STACK 16

static enum framevar_state framevars_eval(const struct framevars_ctx *c, const Dwarf_Op *ops, size_t n,
					  uint64_t *ret, bool *is_value)
{
	uint64_t st[FRAMEVARS_STACK], r;
	size_t sp = 0;
	*is_value = false;
	for (size_t i = 0; i < n; i++) {
		unsigned a = ops[i].atom;
		if (sp >= FRAMEVARS_STACK)
			return FRAMEVAR_UNSUPPORTED;
		if (a >= DW_OP_lit0 && a <= DW_OP_lit31) {
			st[sp++] = a - DW_OP_lit0;
		} else if (a == DW_OP_const1u || a == DW_OP_const2u || a == DW_OP_const4u || a == DW_OP_const8u ||
			   a == DW_OP_constu || a == DW_OP_const1s || a == DW_OP_const2s || a == DW_OP_const4s ||
			   a == DW_OP_const8s || a == DW_OP_consts) {
			st[sp++] = ops[i].number;
		} else if (a == DW_OP_addr) {
			st[sp++] = ops[i].number + c->t->bias;
		} else if (a >= DW_OP_breg0 && a <= DW_OP_breg16) {
			if (!framevars_reg(c, a - DW_OP_breg0, &r))
				return FRAMEVAR_NOT_RECOVERED;
			st[sp++] = r + ops[i].number;
		} else if (a >= DW_OP_reg0 && a <= DW_OP_reg16 && n == 1) {
			if (!framevars_reg(c, a - DW_OP_reg0, ret))
				return FRAMEVAR_NOT_RECOVERED;
			*is_value = true;
			return FRAMEVAR_OK;
		} else if (a == DW_OP_fbreg) {
			if (!framevars_frame_base(c, &r))
				return FRAMEVAR_UNSUPPORTED;
			st[sp++] = r + ops[i].number;
		} else if (a == DW_OP_call_frame_cfa) {
			if (!c->cfa)
				return FRAMEVAR_UNSUPPORTED;
			st[sp++] = c->cfa;
		} else if (a == DW_OP_plus_uconst && sp) {
			st[sp - 1] += ops[i].number;
		} else if ((a == DW_OP_plus || a == DW_OP_minus || a == DW_OP_and || a == DW_OP_or) && sp >= 2) {
			uint64_t y = st[--sp], x = st[sp - 1];
			st[sp - 1] = a == DW_OP_plus ? x + y : a == DW_OP_minus ? x - y : a == DW_OP_and ? x & y : x | y;
		} else if (a == DW_OP_deref && sp) {
			unsigned char b[8];
			if (mem_read(&c->t->mem, st[sp - 1], b, 8) != MEM_OK)
				return FRAMEVAR_NOT_SAVED;
			st[sp - 1] = mem_load(b, 8);
		} else if (a == DW_OP_stack_value && i == n - 1 && sp) {
			*is_value = true;
		} else {
			return FRAMEVAR_UNSUPPORTED;
		}
	}
	if (!sp)
		return FRAMEVAR_UNSUPPORTED;
	*ret = st[sp - 1];
	return FRAMEVAR_OK;
}

/* Where the variable is: an address (memory), or its value (a register). */
static enum framevar_state framevars_locate(const struct framevars_ctx *c, Dwarf_Die *var, uint64_t *addr,
					    bool *in_reg)
{
	Dwarf_Attribute at;
	Dwarf_Op *ops;
	size_t n;
	*in_reg = false;
	if (!dwarf_attr(var, DW_AT_location, &at))
		return FRAMEVAR_OPTIMIZED_OUT;
	int k = dwarf_getlocation_addr(&at, c->pc, &ops, &n, 1);
	if (k <= 0 || n == 0)
		return FRAMEVAR_OPTIMIZED_OUT;
	unsigned atom = ops[0].atom;
	uint64_t r;
	if (n == 1 && atom == DW_OP_fbreg) {
		uint64_t fb;
		if (!framevars_frame_base(c, &fb))
			return FRAMEVAR_UNSUPPORTED;
		*addr = fb + (uint64_t)(int64_t)ops[0].number;
		return FRAMEVAR_OK;
	}
	if (n == 1 && atom == DW_OP_call_frame_cfa) {
		*addr = c->cfa;
		return c->cfa ? FRAMEVAR_OK : FRAMEVAR_UNSUPPORTED;
	}
	if (n == 1 && atom >= DW_OP_breg0 && atom <= DW_OP_breg16) {
		if (!framevars_reg(c, atom - DW_OP_breg0, &r))
			return FRAMEVAR_NOT_RECOVERED;
		*addr = r + (uint64_t)(int64_t)ops[0].number;
		return FRAMEVAR_OK;
	}
	if (n == 1 && atom >= DW_OP_reg0 && atom <= DW_OP_reg16) {
		if (!framevars_reg(c, atom - DW_OP_reg0, addr))
			return FRAMEVAR_NOT_RECOVERED;
		*in_reg = true;
		return FRAMEVAR_OK;
	}
	if (n == 1 && atom == DW_OP_addr) {
		*addr = ops[0].number + c->t->bias;
		return FRAMEVAR_OK;
	}
	return framevars_eval(c, ops, n, addr, in_reg);
}

static void framevars_type(struct framevar *v, Dwarf_Die *var)
{
	Dwarf_Attribute at;
	Dwarf_Die type, peeled, target;
	if (!dwarf_attr_integrate(var, DW_AT_type, &at) || !dwarf_formref_die(&at, &type))
		return;
	v->type_die = type;
	v->has_type = true;
	v->type = dwarf_diename(&type);
	Dwarf_Word sz;
	if (dwarf_aggregate_size(&type, &sz) == 0)
		v->size = sz;
	if (dw_peel(&type, &peeled) && dwarf_tag(&peeled) == DW_TAG_pointer_type) {
		v->size = 8;
		if (dw_type_of(&peeled, &target) && dwarf_aggregate_size(&target, &sz) == 0)
			v->pointee_size = sz;
		if (!v->type) {
			Dwarf_Die t2;
			const char *tn = dw_type_of(&peeled, &t2) && dw_peel(&t2, &t2) ? dwarf_diename(&t2) : NULL;
			v->type = tn; /* the pointed-to type's name */
		}
	}
}

static void framevars_read(const struct framevars_ctx *c, Dwarf_Die *die, bool param, struct framevar *v)
{
	memset(v, 0, sizeof(*v));
	v->name = dwarf_diename(die);
	v->param = param;
	framevars_type(v, die);
	uint64_t addr = 0;
	bool in_reg;
	v->state = framevars_locate(c, die, &addr, &in_reg);
	if (v->state != FRAMEVAR_OK)
		return;
	if (in_reg) {
		v->value = v->size && v->size < 8 ? addr & ((1ULL << (8 * v->size)) - 1) : addr;
		return;
	}
	if (!v->size || v->size > 8) {
		v->by_address = true;
		v->value = addr;
		return;
	}
	unsigned char b[8];
	if (mem_read(&c->t->mem, addr, b, v->size) != MEM_OK) {
		v->state = FRAMEVAR_NOT_SAVED;
		return;
	}
	v->value = mem_load(b, v->size);
}

/* The DIE of the unit holding pc: our index for the executable, libdwfl's
 * for libraries. */
static bool framevars_unit(struct target *t, uint64_t pc, Dwarf_Die *cu, uint64_t *lookup, Dwarf_Die **out)
{
	(void)out;
	if (t->dw && pc >= t->bias && dw_unit_die(t->dw, pc - t->bias, cu)) {
		*lookup = pc - t->bias;
		return true;
	}
	Dwarf_Addr bias;
	Dwfl_Module *m = t->dwfl ? dwfl_addrmodule(t->dwfl, pc) : NULL;
	Dwarf_Die *d = m ? dwfl_module_addrdie(m, pc, &bias) : NULL;
	if (!d)
		return false;
	*cu = *d;
	*lookup = pc - bias;
	return true;
}

size_t framevars_of(struct target *t, const struct backtrace *bt, size_t i, const uint64_t *regs,
		    bool locals, struct framevar *ret, size_t max)
{
	const struct frame *f = &bt->frames[i];
	if (f->inlined || !f->pc)
		return 0;
	struct framevars_ctx c = { .t = t, .bt = bt, .i = i, .regs = regs, .cfa = framevars_cfa(bt, i) };
	Dwarf_Die cu, *scopes = NULL;
	uint64_t pc = f->activation ? f->pc : f->pc - 1;
	if (!framevars_unit(t, pc, &cu, &c.pc, NULL))
		return 0;
	/* the executable's units: remembered by pc (dw_scopes) */
	int ns = t->dw && cu.addr && dwarf_cu_getdwarf(cu.cu) == t->dw->dbg ? dw_scopes(t->dw, &cu, c.pc, &scopes)
								       : dwarf_getscopes(&cu, c.pc, &scopes);
	int fn = -1;
	for (int s = 0; s < ns && fn < 0; s++)
		if (dwarf_tag(&scopes[s]) == DW_TAG_subprogram)
			fn = s;
	if (fn < 0) {
		free(scopes);
		return 0;
	}
	c.fn = scopes[fn];
	size_t n = 0;
	/* Parameters of the function, then (when asked) the locals of every
	 * scope from the function in to the pc's innermost block. */
	for (int pass = 0; pass < 2 && n < max; pass++) {
		if (pass == 1 && !locals)
			break;
		for (int s = fn; s >= 0 && n < max; s--) {
			if (pass == 0 && s != fn)
				break;
			Dwarf_Die child;
			if (dwarf_child(&scopes[s], &child) != 0)
				continue;
			do {
				int tag = dwarf_tag(&child);
				bool want = pass == 0 ? tag == DW_TAG_formal_parameter : tag == DW_TAG_variable;
				if (want && dwarf_diename(&child))
					framevars_read(&c, &child, pass == 0, &ret[n++]);
			} while (n < max && dwarf_siblingof(&child, &child) == 0);
		}
	}
	free(scopes);
	return n;
}

const char *framevar_member_at(const struct framevar *v, uint64_t off)
{
	Dwarf_Die type = v->type_die, peeled, st;
	if (!v->has_type || !dw_peel(&type, &peeled) || dwarf_tag(&peeled) != DW_TAG_pointer_type ||
	    !dw_type_of(&peeled, &st))
		return NULL;
	struct dw_members it;
	Dwarf_Die m;
	const char *name, *best = NULL;
	uint64_t moff;
	dw_members_begin(&st, &it);
	while (dw_members_next(&it, &m, &name, &moff)) {
		Dwarf_Die mt;
		Dwarf_Word sz = 0;
		if (dw_type_of(&m, &mt))
			dwarf_aggregate_size(&mt, &sz);
		if (off >= moff && off < moff + (sz ? sz : 1))
			best = name;
	}
	return best;
}
