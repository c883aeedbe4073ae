/* Harness (f): the faulting-instruction decoder (insn.c) on hostile code and
 * memory: Capstone over whatever bytes the image holds at the pc and the
 * function before it, the backward walk over loads and copies, the call-site
 * search for a pc that cannot be fetched. It must not crash or hang, and what
 * it reports must be true of the input: the effective address is the operand's
 * registers and displacement, and a load it names as the pointer's origin
 * holds the pointer's value in the image.
 *
 * Input: u64 function start, u64 registers (the 16 general registers, rip,
 * fs base), then a memory image (fuzz_common.h). */
#include "fuzz_common.h"

#include "insn.h"

static const int fz_regs[18] = {
	CORE_REG_RAX, CORE_REG_RBX, CORE_REG_RCX, CORE_REG_RDX, CORE_REG_RSI, CORE_REG_RDI,
	CORE_REG_RBP, CORE_REG_RSP, CORE_REG_R8, CORE_REG_R9, CORE_REG_R10, CORE_REG_R11,
	CORE_REG_R12, CORE_REG_R13, CORE_REG_R14, CORE_REG_R15, CORE_REG_RIP, CORE_REG_FS_BASE,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint64_t start = fz_u64(&in);
	uint64_t regs[CORE_NREGS] = { 0 };
	for (size_t i = 0; i < 18; i++)
		regs[fz_regs[i]] = fz_u64(&in);
	struct fz_image img;
	fz_image_parse(&in, &img);
	/* A target of memory only: no core, no modules (the function start is given). */
	struct target *t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	t->mem = fz_image_mem(&img);
	struct insn r;
	insn_decode_fault_from(t, start, regs[CORE_REG_RIP], regs, &r);
	if (r.decoded && (r.len < 1 || r.len > 15))
		abort();
	if (r.decoded && !r.exec_fault && r.has_mem && r.has_ea && !r.mem.rip_relative) {
		uint64_t ea = (uint64_t)r.mem.disp;
		if (r.mem.base != INSN_NO_REG)
			ea += regs[r.mem.base];
		if (r.mem.index != INSN_NO_REG)
			ea += regs[r.mem.index] * (uint64_t)r.mem.scale;
		if (r.mem.segment != INSN_NO_REG)
			ea += regs[r.mem.segment];
		if (ea != r.ea) {
			fprintf(stderr, "insn: %s: ea 0x%lx, registers say 0x%lx\n", r.text,
				(unsigned long)r.ea, (unsigned long)ea);
			abort();
		}
	}
	if (r.origin.known && !r.exec_fault && r.access != INSN_ACCESS_CALL && r.access != INSN_ACCESS_JUMP) {
		unsigned char b[8];
		if (mem_read(&t->mem, r.origin.from, b, 8) != MEM_OK || mem_load(b, 8) != r.ptr_value) {
			fprintf(stderr, "insn: origin 0x%lx does not hold the pointer\n", (unsigned long)r.origin.from);
			abort();
		}
	}
	free(t);
	fz_image_free(&img);
	return 0;
}
