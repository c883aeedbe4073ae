#define _GNU_SOURCE
#include "insn.h"

#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_util.h"

/* How much of a function is decoded to find where a register came from: the
 * faulting instruction's function from its symbol up to the pc, at most this
 * far back (beyond it, only the faulting instruction). */
#define INSN_WINDOW_MAX (64 * 1024)
#define INSN_MAX_COUNT 16384
/* How many loads and copies an origin may chain through. */
#define INSN_ORIGIN_DEPTH 6
#define X86_MAX_INSN 15

const char *insn_access_name(enum insn_access a)
{
	static const char *const names[] = {
		[INSN_ACCESS_NONE] = "none", [INSN_ACCESS_READ] = "read", [INSN_ACCESS_WRITE] = "write",
		[INSN_ACCESS_RMW] = "read-write", [INSN_ACCESS_JUMP] = "jump", [INSN_ACCESS_CALL] = "call",
		[INSN_ACCESS_PUSH] = "push", [INSN_ACCESS_POP] = "pop", [INSN_ACCESS_STRING] = "string",
		[INSN_ACCESS_EXEC] = "execute",
	};
	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "none";
}

const char *insn_reg_name(int reg)
{
	switch (reg) {
	case CORE_REG_RAX: return "rax";
	case CORE_REG_RBX: return "rbx";
	case CORE_REG_RCX: return "rcx";
	case CORE_REG_RDX: return "rdx";
	case CORE_REG_RSI: return "rsi";
	case CORE_REG_RDI: return "rdi";
	case CORE_REG_RBP: return "rbp";
	case CORE_REG_RSP: return "rsp";
	case CORE_REG_R8: return "r8";
	case CORE_REG_R9: return "r9";
	case CORE_REG_R10: return "r10";
	case CORE_REG_R11: return "r11";
	case CORE_REG_R12: return "r12";
	case CORE_REG_R13: return "r13";
	case CORE_REG_R14: return "r14";
	case CORE_REG_R15: return "r15";
	case CORE_REG_RIP: return "rip";
	case CORE_REG_FS_BASE: return "fs";
	case CORE_REG_GS_BASE: return "gs";
	default: return NULL;
	}
}

bool insn_canonical(uint64_t addr)
{
	uint64_t top = addr >> 47;
	return top == 0 || top == 0x1ffff;
}

/* Capstone's register (any width) -> the 64-bit core register it is part of. */
static int insn_core_reg(unsigned r)
{
	switch (r) {
	case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: case X86_REG_AH: case X86_REG_AL:
		return CORE_REG_RAX;
	case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX: case X86_REG_BH: case X86_REG_BL:
		return CORE_REG_RBX;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CH: case X86_REG_CL:
		return CORE_REG_RCX;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DH: case X86_REG_DL:
		return CORE_REG_RDX;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL: return CORE_REG_RSI;
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL: return CORE_REG_RDI;
	case X86_REG_RBP: case X86_REG_EBP: case X86_REG_BP: case X86_REG_BPL: return CORE_REG_RBP;
	case X86_REG_RSP: case X86_REG_ESP: case X86_REG_SP: case X86_REG_SPL: return CORE_REG_RSP;
	case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B: return CORE_REG_R8;
	case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B: return CORE_REG_R9;
	case X86_REG_R10: case X86_REG_R10D: case X86_REG_R10W: case X86_REG_R10B: return CORE_REG_R10;
	case X86_REG_R11: case X86_REG_R11D: case X86_REG_R11W: case X86_REG_R11B: return CORE_REG_R11;
	case X86_REG_R12: case X86_REG_R12D: case X86_REG_R12W: case X86_REG_R12B: return CORE_REG_R12;
	case X86_REG_R13: case X86_REG_R13D: case X86_REG_R13W: case X86_REG_R13B: return CORE_REG_R13;
	case X86_REG_R14: case X86_REG_R14D: case X86_REG_R14W: case X86_REG_R14B: return CORE_REG_R14;
	case X86_REG_R15: case X86_REG_R15D: case X86_REG_R15W: case X86_REG_R15B: return CORE_REG_R15;
	case X86_REG_RIP: case X86_REG_EIP: return CORE_REG_RIP;
	case X86_REG_FS: return CORE_REG_FS_BASE;
	case X86_REG_GS: return CORE_REG_GS_BASE;
	default: return INSN_NO_REG;
	}
}

static bool insn_reg_is_64(unsigned r)
{
	return (r >= X86_REG_R8 && r <= X86_REG_R15) || r == X86_REG_RAX || r == X86_REG_RBX ||
	       r == X86_REG_RCX || r == X86_REG_RDX || r == X86_REG_RSI || r == X86_REG_RDI ||
	       r == X86_REG_RBP || r == X86_REG_RSP;
}

static bool insn_reg_is_32(unsigned r)
{
	return (r >= X86_REG_R8D && r <= X86_REG_R15D) || r == X86_REG_EAX || r == X86_REG_EBX ||
	       r == X86_REG_ECX || r == X86_REG_EDX || r == X86_REG_ESI || r == X86_REG_EDI ||
	       r == X86_REG_EBP || r == X86_REG_ESP;
}

/* ---- one function's instructions, summarized for the backward walk ---- */

enum insn_kind {
	INSN_KIND_OTHER, /* writes its registers with something we do not evaluate */
	INSN_KIND_LOAD,  /* mov r64/r32, [mem]; movzx */
	INSN_KIND_COPY,  /* mov r64, r64 */
	INSN_KIND_IMM,   /* mov r, imm; xor r, r */
	INSN_KIND_LEA,
	INSN_KIND_ADDIMM, /* add/sub r64, imm */
};

struct insn_step {
	uint64_t pc;
	uint8_t len;
	uint8_t kind;     /* enum insn_kind */
	uint8_t size;     /* LOAD: bytes loaded (zero-extended) */
	int8_t dst, src;  /* core registers */
	uint32_t written; /* bit per core register (< 32) */
	struct insn_mem mem;
	int64_t imm;
};

struct insn_ctx {
	struct target *t;
	const uint64_t *regs;   /* at steps[n] (the instruction being explained) */
	struct insn_step *steps;
	size_t n;               /* steps[0..n) ran before; steps[n] is the instruction */
	csh cs;
	uint64_t func_start;    /* given (insn_decode_fault_from), else 0: from the symbols */
};

static void insn_mem_of(const cs_x86_op *op, struct insn_mem *m)
{
	m->base = op->mem.base == X86_REG_INVALID ? INSN_NO_REG : insn_core_reg(op->mem.base);
	m->index = op->mem.index == X86_REG_INVALID ? INSN_NO_REG : insn_core_reg(op->mem.index);
	m->scale = op->mem.scale;
	m->disp = op->mem.disp;
	m->segment = op->mem.segment == X86_REG_FS ? CORE_REG_FS_BASE :
		     op->mem.segment == X86_REG_GS ? CORE_REG_GS_BASE : INSN_NO_REG;
	m->rip_relative = op->mem.base == X86_REG_RIP;
}

static void insn_summarize(csh cs, const cs_insn *ci, struct insn_step *s)
{
	memset(s, 0, sizeof(*s));
	s->pc = ci->address;
	s->len = (uint8_t)ci->size;
	s->dst = s->src = INSN_NO_REG;
	cs_regs rr, rw;
	uint8_t nr = 0, nw = 0;
	if (cs_regs_access(cs, ci, rr, &nr, rw, &nw) == CS_ERR_OK)
		for (uint8_t i = 0; i < nw; i++) {
			int c = insn_core_reg(rw[i]);
			if (c >= 0 && c < 32)
				s->written |= 1u << c;
		}
	const cs_x86 *x = &ci->detail->x86;
	if (cs_insn_group(cs, ci, CS_GRP_CALL)) {
		/* The callee may clobber every caller-saved register. */
		static const int clobbered[] = { CORE_REG_RAX, CORE_REG_RCX, CORE_REG_RDX, CORE_REG_RSI,
						 CORE_REG_RDI, CORE_REG_R8, CORE_REG_R9, CORE_REG_R10,
						 CORE_REG_R11 };
		for (size_t i = 0; i < sizeof(clobbered) / sizeof(clobbered[0]); i++)
			s->written |= 1u << clobbered[i];
		return;
	}
	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG)
		return;
	const cs_x86_op *d = &x->operands[0], *o = &x->operands[1];
	bool d64 = insn_reg_is_64(d->reg), d32 = insn_reg_is_32(d->reg);
	if (!d64 && !d32)
		return; /* a partial write keeps the upper bits: not evaluated */
	s->dst = (int8_t)insn_core_reg(d->reg);
	switch (ci->id) {
	case X86_INS_MOV:
	case X86_INS_MOVZX:
		if (o->type == X86_OP_MEM && o->size <= 8 && (o->size == 8 || !d64 || ci->id == X86_INS_MOVZX)) {
			s->kind = INSN_KIND_LOAD;
			s->size = o->size;
			insn_mem_of(o, &s->mem);
		} else if (o->type == X86_OP_REG && ci->id == X86_INS_MOV &&
			   (insn_reg_is_64(o->reg) || (d32 && insn_reg_is_32(o->reg)))) {
			s->kind = INSN_KIND_COPY;
			s->src = (int8_t)insn_core_reg(o->reg);
			s->size = d64 ? 8 : 4;
		} else if (o->type == X86_OP_IMM) {
			s->kind = INSN_KIND_IMM;
			s->imm = d64 ? o->imm : (int64_t)(uint32_t)o->imm;
		}
		break;
	case X86_INS_MOVABS:
		if (o->type == X86_OP_IMM) {
			s->kind = INSN_KIND_IMM;
			s->imm = o->imm;
		}
		break;
	case X86_INS_XOR:
	case X86_INS_SUB:
	case X86_INS_ADD:
		if (o->type == X86_OP_REG && o->reg == d->reg && ci->id != X86_INS_ADD) {
			s->kind = INSN_KIND_IMM;
			s->imm = 0;
		} else if (o->type == X86_OP_IMM && d64 && ci->id != X86_INS_XOR) {
			s->kind = INSN_KIND_ADDIMM;
			s->imm = ci->id == X86_INS_ADD ? o->imm : -o->imm;
		}
		break;
	case X86_INS_LEA:
		if (o->type == X86_OP_MEM && d64) {
			s->kind = INSN_KIND_LEA;
			insn_mem_of(o, &s->mem);
		}
		break;
	}
}

/* Decodes [start, pc] into ctx->steps; true if the linear decode lands on pc
 * (steps[n] is then the instruction at pc). */
static bool insn_decode_range(struct insn_ctx *c, uint64_t start, uint64_t pc,
			      const unsigned char *code, size_t len)
{
	size_t cap = 0;
	c->n = 0;
	cs_insn *ci = cs_malloc(c->cs);
	if (!ci)
		return false;
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = start;
	bool hit = false;
	while (addr <= pc && c->n < INSN_MAX_COUNT && cs_disasm_iter(c->cs, &p, &left, &addr, ci)) {
		if (c->n == cap) {
			size_t ncap = cap ? 2 * cap : 256;
			struct insn_step *ns = realloc(c->steps, ncap * sizeof(*ns));
			if (!ns)
				break;
			c->steps = ns;
			cap = ncap;
		}
		insn_summarize(c->cs, ci, &c->steps[c->n]);
		if (ci->address == pc) {
			hit = true;
			break;
		}
		c->n++;
	}
	cs_free(ci, 1);
	return hit;
}

/* ---- values of registers before a step, from the fault's registers ---- */

static bool insn_value_before(struct insn_ctx *c, int reg, size_t k, int depth, uint64_t *ret);

static bool insn_writes(const struct insn_step *s, int reg)
{
	return reg >= 0 && reg < 32 && (s->written & (1u << reg));
}

static bool insn_ea_at(struct insn_ctx *c, const struct insn_mem *m, size_t k, int depth, uint64_t *ret)
{
	uint64_t a = (uint64_t)m->disp, v;
	if (m->rip_relative) {
		a += c->steps[k].pc + c->steps[k].len;
	} else if (m->base != INSN_NO_REG) {
		if (!insn_value_before(c, m->base, k, depth, &v))
			return false;
		a += v;
	}
	if (m->index != INSN_NO_REG) {
		if (!insn_value_before(c, m->index, k, depth, &v))
			return false;
		a += v * (uint64_t)m->scale;
	}
	if (m->segment != INSN_NO_REG)
		a += c->regs[m->segment]; /* fs/gs bases do not change within a function */
	*ret = a;
	return true;
}

/* The value of step w's destination right after it ran. */
static bool insn_read_u64(const struct target *t, uint64_t a, uint64_t *ret)
{
	unsigned char b[8];
	if (mem_read(&t->mem, a, b, 8) != MEM_OK)
		return false;
	*ret = mem_load(b, 8);
	return true;
}

static bool insn_eval(struct insn_ctx *c, size_t w, int depth, uint64_t *ret)
{
	const struct insn_step *s = &c->steps[w];
	uint64_t a;
	unsigned char b[8];
	switch (s->kind) {
	case INSN_KIND_IMM:
		*ret = (uint64_t)s->imm;
		return true;
	case INSN_KIND_COPY:
		if (!insn_value_before(c, s->src, w, depth, ret))
			return false;
		if (s->size == 4)
			*ret &= 0xffffffffu;
		return true;
	case INSN_KIND_LEA:
		return insn_ea_at(c, &s->mem, w, depth, ret);
	case INSN_KIND_ADDIMM:
		if (!insn_value_before(c, s->dst, w, depth, ret))
			return false;
		*ret += (uint64_t)s->imm;
		return true;
	case INSN_KIND_LOAD:
		if (!insn_ea_at(c, &s->mem, w, depth, &a) || mem_read(&c->t->mem, a, b, s->size) != MEM_OK)
			return false;
		*ret = mem_load(b, s->size);
		return true;
	default:
		return false;
	}
}

static bool insn_value_before(struct insn_ctx *c, int reg, size_t k, int depth, uint64_t *ret)
{
	if (reg < 0 || reg >= CORE_NREGS || depth > INSN_ORIGIN_DEPTH)
		return false;
	if (reg == CORE_REG_RIP) {
		*ret = c->steps[k].pc;
		return true;
	}
	bool changed = false; /* written between step k and the instruction explained */
	for (size_t i = k; i < c->n && !changed; i++)
		changed = insn_writes(&c->steps[i], reg);
	if (!changed) {
		*ret = c->regs[reg];
		return true;
	}
	for (size_t w = k; w-- > 0;)
		if (insn_writes(&c->steps[w], reg))
			return c->steps[w].dst == reg && insn_eval(c, w, depth + 1, ret);
	return false;
}

/* The object a pointer register points into: through the `add r, imm` and
 * `lea r, [b + disp]` that made it from an earlier pointer (a field address
 * computed from the object's). *reg and *k are moved to that pointer. */
static bool insn_object_base(struct insn_ctx *c, int *reg, size_t *k, uint64_t *value)
{
	int r = *reg;
	size_t at = *k;
	bool moved = false;
	for (int depth = 0; depth < INSN_ORIGIN_DEPTH; depth++) {
		size_t w = at;
		while (w > 0 && !insn_writes(&c->steps[w - 1], r))
			w--;
		if (w == 0)
			break;
		const struct insn_step *s = &c->steps[w - 1];
		if (s->dst != r)
			break;
		if (s->kind == INSN_KIND_ADDIMM) {
			at = w - 1;
		} else if (s->kind == INSN_KIND_LEA && s->mem.base != INSN_NO_REG && s->mem.index == INSN_NO_REG &&
			   !s->mem.rip_relative && s->mem.base != CORE_REG_RSP && s->mem.base != CORE_REG_RBP) {
			r = s->mem.base;
			at = w - 1;
		} else {
			break;
		}
		moved = true;
	}
	if (!moved || !insn_value_before(c, r, at, 0, value))
		return false;
	*reg = r;
	*k = at;
	return true;
}

/* Where reg's value at steps[k] came from: the last load (through copies)
 * whose memory still holds that value. */
static void insn_origin_of(struct insn_ctx *c, int reg, size_t k, uint64_t value, struct insn_origin *o)
{
	for (int depth = 0; depth < INSN_ORIGIN_DEPTH && reg != INSN_NO_REG; depth++) {
		size_t w = k;
		while (w > 0 && !insn_writes(&c->steps[w - 1], reg))
			w--;
		if (w == 0)
			return;
		const struct insn_step *s = &c->steps[--w];
		if (s->dst != reg)
			return;
		if (s->kind == INSN_KIND_COPY) {
			reg = s->src;
			k = w;
			continue;
		}
		uint64_t a, v;
		unsigned char b[8];
		if (s->kind != INSN_KIND_LOAD || s->size != 8 || !insn_ea_at(c, &s->mem, w, 0, &a) ||
		    mem_read(&c->t->mem, a, b, 8) != MEM_OK || (v = mem_load(b, 8)) != value)
			return;
		o->known = true;
		o->insn_pc = s->pc;
		o->from = a;
		o->from_disp = s->mem.disp;
		o->from_base = s->mem.rip_relative ? CORE_REG_RIP : s->mem.base;
		if (o->from_base != INSN_NO_REG)
			insn_value_before(c, o->from_base, w, 0, &o->from_base_value);
		cs_insn *ci = NULL;
		unsigned char code[X86_MAX_INSN];
		if (mem_read(&c->t->mem, s->pc, code, s->len) == MEM_OK &&
		    cs_disasm(c->cs, code, s->len, s->pc, 1, &ci) == 1)
			snprintf(o->text, sizeof(o->text), "%s %s", ci->mnemonic, ci->op_str);
		if (ci)
			cs_free(ci, 1);
		return;
	}
}

/* ---- the instruction itself ---- */

static bool insn_is_string(unsigned id)
{
	switch (id) {
	case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD: case X86_INS_MOVSQ:
	case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
	case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD: case X86_INS_LODSQ:
	case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD: case X86_INS_CMPSQ:
	case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD: case X86_INS_SCASQ:
		return true;
	default:
		return false;
	}
}

static void insn_describe(struct insn_ctx *c, const cs_insn *ci, struct insn *r)
{
	const cs_x86 *x = &ci->detail->x86;
	const uint64_t *regs = c->regs;
	r->decoded = true;
	r->pc = ci->address;
	r->len = ci->size;
	snprintf(r->text, sizeof(r->text), "%s%s%s", ci->mnemonic, ci->op_str[0] ? " " : "", ci->op_str);
	r->ptr_reg = INSN_NO_REG;
	const cs_x86_op *mem = NULL;
	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM)
			mem = &x->operands[i];
	bool call = cs_insn_group(c->cs, ci, CS_GRP_CALL), jump = cs_insn_group(c->cs, ci, CS_GRP_JUMP);
	if (call || jump) {
		r->access = call ? INSN_ACCESS_CALL : INSN_ACCESS_JUMP;
		if (x->op_count == 1 && x->operands[0].type == X86_OP_REG) {
			r->ptr_reg = insn_core_reg(x->operands[0].reg);
			r->size = 8;
		} else if (!mem) {
			r->access = call ? INSN_ACCESS_PUSH : INSN_ACCESS_NONE; /* direct: only the return address */
		}
	} else if (ci->id == X86_INS_PUSH || ci->id == X86_INS_PUSHFQ) {
		r->access = INSN_ACCESS_PUSH;
	} else if (ci->id == X86_INS_POP || ci->id == X86_INS_POPFQ || cs_insn_group(c->cs, ci, CS_GRP_RET)) {
		r->access = INSN_ACCESS_POP;
	} else if (insn_is_string(ci->id)) {
		r->access = INSN_ACCESS_STRING;
	} else if (mem && ci->id != X86_INS_LEA && ci->id != X86_INS_NOP) {
		r->access = (mem->access & CS_AC_WRITE) ? ((mem->access & CS_AC_READ) ? INSN_ACCESS_RMW : INSN_ACCESS_WRITE)
							: INSN_ACCESS_READ;
	}
	if (mem && ci->id != X86_INS_LEA && ci->id != X86_INS_NOP && !insn_is_string(ci->id) &&
	    r->access != INSN_ACCESS_PUSH) {
		r->has_mem = true;
		insn_mem_of(mem, &r->mem);
		if (!r->size)
			r->size = mem->size;
		if (insn_ea_at(c, &r->mem, c->n, 0, &r->ea))
			r->has_ea = true;
		if (r->ptr_reg == INSN_NO_REG && !r->mem.rip_relative)
			r->ptr_reg = r->mem.base != INSN_NO_REG ? r->mem.base : r->mem.index;
	} else if (r->access == INSN_ACCESS_PUSH || r->access == INSN_ACCESS_POP) {
		r->size = 8;
		r->has_ea = true;
		r->ea = regs[CORE_REG_RSP] - (r->access == INSN_ACCESS_PUSH ? 8 : 0);
		r->ptr_reg = CORE_REG_RSP;
	} else if (r->access == INSN_ACCESS_STRING) {
		/* stos and scas touch [rdi]; lods [rsi]; movs and cmps both (the
		 * source is read first). */
		bool rdi = strncmp(ci->mnemonic, "stos", 4) == 0 || strncmp(ci->mnemonic, "scas", 4) == 0 ||
			   strstr(ci->mnemonic, "stos") || strstr(ci->mnemonic, "scas");
		r->ptr_reg = rdi ? CORE_REG_RDI : CORE_REG_RSI;
		r->has_ea = true;
		r->ea = regs[r->ptr_reg];
		for (uint8_t i = 0; i < x->op_count; i++)
			if (x->operands[i].size)
				r->size = x->operands[i].size;
	}
	if (r->ptr_reg != INSN_NO_REG)
		r->ptr_value = regs[r->ptr_reg];
	/* Provenance: of the function pointer for a call or jump through memory
	 * (the word at the effective address), else of the pointer register. */
	if ((r->access == INSN_ACCESS_CALL || r->access == INSN_ACCESS_JUMP) && r->has_mem && r->has_ea) {
		uint64_t v;
		if (insn_read_u64(c->t, r->ea, &v)) {
			r->origin.known = true;
			r->origin.insn_pc = r->pc;
			r->origin.from = r->ea;
			r->origin.from_base = r->mem.base;
			r->origin.from_base_value = r->mem.base != INSN_NO_REG ? regs[r->mem.base] : 0;
			r->origin.from_disp = r->mem.disp;
			snprintf(r->origin.text, sizeof(r->origin.text), "%s", r->text);
		}
	} else if (r->ptr_reg != INSN_NO_REG && r->ptr_reg != CORE_REG_RSP && r->ptr_reg != CORE_REG_RIP) {
		int reg = r->ptr_reg;
		size_t k = c->n;
		uint64_t obj;
		if (insn_object_base(c, &reg, &k, &obj)) {
			r->ptr_value = obj; /* the field's address was computed from it */
			r->ptr_derived = true;
		}
		insn_origin_of(c, reg, k, r->ptr_value, &r->origin);
	}
}

/* Decodes the instruction at pc, with the function around it for the backward
 * walk when its symbol is known and not too far. */
static bool insn_decode_at(struct insn_ctx *c, uint64_t pc, struct insn *r)
{
	uint64_t start = pc;
	const struct target_module *m = target_module_of(c->t, pc);
	uint64_t off = 0;
	if (c->func_start && c->func_start <= pc && pc - c->func_start <= INSN_WINDOW_MAX)
		start = c->func_start;
	else if (m && target_module_symbol(c->t, m, pc, &off) && off <= INSN_WINDOW_MAX)
		start = pc - off;
	size_t len = (size_t)(pc - start) + X86_MAX_INSN;
	unsigned char *code = malloc(len);
	if (!code) {
		snprintf(r->why, sizeof(r->why), "out of memory");
		return false;
	}
	/* The instruction may end near the end of the mapping: shorten the tail. */
	size_t got = len;
	while (got > (size_t)(pc - start) && mem_read(&c->t->mem, start, code, got) != MEM_OK)
		got--;
	if (got == (size_t)(pc - start) && start != pc) {
		start = pc; /* the function's bytes are not readable: the instruction alone */
		for (got = X86_MAX_INSN; got && mem_read(&c->t->mem, pc, code, got) != MEM_OK; got--)
			;
	}
	bool ok = got > (size_t)(pc - start) && insn_decode_range(c, start, pc, code, got);
	if (!ok && start != pc) /* data or padding in the way: the instruction alone */
		ok = insn_decode_range(c, pc, pc, code + (pc - start), got - (size_t)(pc - start));
	cs_insn *ci = NULL;
	if (ok && cs_disasm(c->cs, code + (pc - start), got - (size_t)(pc - start), pc, 1, &ci) == 1)
		insn_describe(c, ci, r);
	else if (!r->why[0])
		snprintf(r->why, sizeof(r->why), "no instruction could be decoded at 0x%" PRIx64, pc);
	if (ci)
		cs_free(ci, 1);
	free(code);
	return r->decoded;
}

static bool insn_fetchable(const struct target *t, uint64_t pc)
{
	const struct core_segment *s = t->core ? core_segment_of(t->core, pc) : NULL;
	unsigned char b;
	return s ? (s->flags & 1 /* PF_X */) && mem_read(&t->mem, pc, &b, 1) == MEM_OK
		 : !t->core && mem_read(&t->mem, pc, &b, 1) == MEM_OK;
}

void insn_decode_fault(struct target *t, uint64_t pc, const uint64_t regs[CORE_NREGS], struct insn *r)
{
	insn_decode_fault_from(t, 0, pc, regs, r);
}

void insn_decode_fault_from(struct target *t, uint64_t func_start, uint64_t pc, const uint64_t regs[CORE_NREGS],
			    struct insn *r)
{
	memset(r, 0, sizeof(*r));
	r->ptr_reg = INSN_NO_REG;
	r->origin.from_base = INSN_NO_REG;
	r->mem.base = r->mem.index = r->mem.segment = INSN_NO_REG;
	struct insn_ctx c = { .t = t, .regs = regs, .func_start = func_start };
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &c.cs) != CS_ERR_OK) {
		snprintf(r->why, sizeof(r->why), "Capstone could not be opened for x86-64");
		return;
	}
	cs_option(c.cs, CS_OPT_DETAIL, CS_OPT_ON);
	if (insn_fetchable(t, pc)) {
		insn_decode_at(&c, pc, r);
	} else {
		/* A bad jump, call or return: the pc came from somewhere. A call
		 * left its return address at rsp; the call site ends right there. */
		uint64_t ra, sp = regs[CORE_REG_RSP];
		struct insn site = { 0 };
		uint64_t at_call[CORE_NREGS];
		memcpy(at_call, regs, sizeof(at_call));
		at_call[CORE_REG_RSP] = sp + 8;
		c.regs = at_call;
		bool found = false;
		if (insn_read_u64(t, sp, &ra) && ra > X86_MAX_INSN && insn_fetchable(t, ra - 1)) {
			/* Calls are 2 to 7 bytes: try each length that ends at ra. */
			for (unsigned l = 2; l <= 7 && !found; l++) {
				memset(&site, 0, sizeof(site));
				at_call[CORE_REG_RIP] = ra - l;
				free(c.steps);
				c.steps = NULL;
				found = insn_decode_at(&c, ra - l, &site) && site.len == l &&
					site.access == INSN_ACCESS_CALL;
			}
		}
		if (found) {
			*r = site; /* access: the call */
		} else {
			r->access = INSN_ACCESS_EXEC;
			r->ptr_reg = INSN_NO_REG;
			snprintf(r->why, sizeof(r->why), "the pc 0x%" PRIx64 " cannot be fetched and no call site "
				 "was found at the return address", pc);
		}
		r->exec_fault = true;
		r->bad_pc = pc;
		r->has_ea = true;
		r->ea = pc;
		r->size = 1;
	}
	free(c.steps);
	cs_close(&c.cs);
}
