/* Classification of an address: which region of the process it lies in, the
 * allocation state there, and the evidence (DESIGN.md "Classification of an
 * address"). The rules run over the models: Go heap, goroutines, glibc heap,
 * modules, the core's mappings. */
#ifndef CT_CLASSIFY_H
#define CT_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "cheap.h"
#include "goheap.h"
#include "target.h"

enum region {
	REGION_GO_HEAP,
	REGION_GO_STACK,
	REGION_GO_RUNTIME,
	REGION_C_HEAP,
	REGION_IMAGE,
	REGION_THREAD_STACK,
	REGION_MAPPED,
	REGION_UNMAPPED,
};

enum vstate {
	VSTATE_ALLOCATED,
	VSTATE_FREE,
	VSTATE_GARBAGE,
	VSTATE_UNKNOWN,
	VSTATE_NA, /* the region has no allocation state (image, mapping, unmapped) */
};

/* Below this nothing is ever mapped (Linux's vm.mmap_min_addr is 64 KiB by
 * default): an address here is a NULL pointer plus an offset, and a word
 * here is no pointer. */
#define CLASSIFY_NULL_PAGE_END 0x10000ULL
/* Linux keeps a gap of stack_guard_gap (256 pages) below a growing stack. */
#define CLASSIFY_STACK_GUARD_GAP (256 * 4096ULL)

enum unmapped_kind { UNMAPPED_PLAIN, UNMAPPED_NULL_PAGE, UNMAPPED_NON_CANONICAL, UNMAPPED_STACK_GUARD };

struct verdict {
	uint64_t addr;
	enum region region;
	enum vstate state;
	char note[200]; /* what is missing (state unknown), or a remark */
	union {
		struct verdict_heap {
			enum go_span_kind kind;
			struct go_span span;
			struct go_slot slot;
		} heap;
		struct verdict_stack {
			uint64_t goid, g, lo, hi, sp;
			uint32_t status;
			const char *status_name;
			int live; /* 1 at or above sp, 0 below, -1 unknown */
		} stack;
		struct verdict_rt {
			const char *what;
			int64_t m_id, tid;
			uint64_t lo, hi;
		} rt;
		struct cheap_chunk chunk;
		struct verdict_image {
			const char *module, *section, *symbol;
			uint64_t sym_offset, module_start;
		} image;
		struct verdict_tstack {
			int64_t tid, m_id; /* m_id -1: not an M's */
			uint64_t lo, hi, sp;
			const char *kind; /* "g0" (an M's system stack), "thread" */
			int live;
		} tstack;
		struct verdict_mapping {
			uint64_t start, end;
			uint32_t flags;
			const char *file;
			bool saved;
		} mapping;
		struct verdict_unmapped {
			enum unmapped_kind kind;
			int64_t tid; /* stack-guard: the thread whose stack is above, or -1 */
			uint64_t stack_lo;
		} unmapped;
	} d;
};

/* Classifies one address. Never fails: missing memory gives state unknown
 * with a note. Uses the target's models (opened on first use). */
void classify_addr(struct target *t, uint64_t addr, struct verdict *v);

const char *classify_region_name(enum region r);
const char *classify_state_name(enum vstate s);

/* One line on what the verdict found: "a C chunk of 24 bytes at 0x... (free,
 * tcache)", "a Go object of 2688 bytes at 0x... (free)", "main.x+0x8 (exe)". */
void classify_brief(const struct verdict *v, char *buf, size_t n);

#endif
