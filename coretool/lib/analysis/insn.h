/* The faulting instruction, decoded by Capstone (x86-64, detail mode) at the
 * pc of the recovered signal frame with that frame's registers: what kind of
 * access it made, of what size, through which memory operand, and the
 * effective address computed from the registers. Then the provenance of the
 * operand's base register: the loads in the same function that produced its
 * value, re-evaluated from memory and checked against the register's value at
 * the fault. Capstone is opened only here, for one function's bytes. */
#ifndef CT_INSN_H
#define CT_INSN_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "target.h"

enum insn_access {
	INSN_ACCESS_NONE,   /* no memory operand (or it could not be decoded) */
	INSN_ACCESS_READ,
	INSN_ACCESS_WRITE,
	INSN_ACCESS_RMW,    /* read-modify-write: add [m], r; inc [m]; xchg */
	INSN_ACCESS_JUMP,   /* jmp through a register or memory */
	INSN_ACCESS_CALL,   /* call through a register or memory */
	INSN_ACCESS_PUSH,
	INSN_ACCESS_POP,
	INSN_ACCESS_STRING, /* movs, stos, lods, cmps, scas: rsi/rdi */
	INSN_ACCESS_EXEC,   /* the pc could not be fetched, and no call site explains it */
};

#define INSN_NO_REG (-1)

struct insn_mem {
	int base, index;    /* enum core_reg, or INSN_NO_REG */
	int scale;
	int64_t disp;
	int segment;        /* CORE_REG_FS_BASE / CORE_REG_GS_BASE, or INSN_NO_REG */
	bool rip_relative;
};

/* Where a register's value came from: loaded from memory by an earlier
 * instruction of the same function, verified by reading that memory again. */
struct insn_origin {
	bool known;
	uint64_t insn_pc;   /* the load */
	uint64_t from;      /* the address loaded from */
	int from_base;      /* the load's base register, or INSN_NO_REG */
	uint64_t from_base_value; /* its value at the load: the object the word is in */
	int64_t from_disp;  /* the load's displacement */
	char text[96];      /* the load, as Capstone prints it */
};

struct insn {
	bool decoded;
	uint64_t pc;        /* the decoded instruction (a bad pc: the call site, if found) */
	unsigned len;
	char text[96];      /* "mov rax, qword ptr [rbx + 8]" */
	enum insn_access access;
	unsigned size;      /* bytes accessed */
	bool has_mem;
	struct insn_mem mem;
	bool has_ea;
	uint64_t ea;        /* effective address of the memory access */
	/* The register that holds the object pointer: the memory operand's base
	 * (or index without base), or the register a call/jmp went through. */
	int ptr_reg;        /* enum core_reg, or INSN_NO_REG */
	uint64_t ptr_value;   /* the object pointer (see ptr_derived) */
	bool ptr_derived;     /* ptr_reg held ptr_value + an offset added before (add, lea) */
	struct insn_origin origin; /* of ptr_reg, or of the call/jmp's memory operand */
	bool exec_fault;    /* the pc could not be fetched: decoded is the call site, if found */
	uint64_t bad_pc;    /* then: the pc that could not be fetched (ea too) */
	char why[160];      /* what could not be decoded, when !decoded */
};

/* Decodes the instruction at pc with the registers of that moment. A pc that
 * cannot be fetched (unmapped, not executable) is a bad jump or call: the
 * call site is found from the return address at rsp, decoded with the same
 * registers (a call changes none but rsp). Never fails: why says what was
 * missing. */
void insn_decode_fault(struct target *t, uint64_t pc, const uint64_t regs[CORE_NREGS],
		       struct insn *ret);
/* The same with the function's start given (0: from the symbols), for the
 * fuzz harness and for callers that know it. */
void insn_decode_fault_from(struct target *t, uint64_t func_start, uint64_t pc,
			    const uint64_t regs[CORE_NREGS], struct insn *ret);

const char *insn_access_name(enum insn_access a);
/* Lower-case name of a core register ("rax"), or NULL. */
const char *insn_reg_name(int reg);
/* x86-64 user space: bits 63..47 all equal (4-level paging). */
bool insn_canonical(uint64_t addr);

#endif
