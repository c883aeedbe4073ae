/* The Go runtime's function table (pclntab, through runtime.firstmoduledata)
 * and what the GC reads from it to scan a goroutine's frame precisely: the
 * frame size at a pc (pcsp), the stack map index (PCDATA_StackMapIndex), the
 * locals and args pointer maps (FUNCDATA_LocalsPointerMaps,
 * FUNCDATA_ArgsPointerMaps) and whether the frame has stack objects
 * (FUNCDATA_StackObjects). Layouts from DWARF (runtime.moduledata,
 * runtime._func, runtime.functab); the table formats of Go 1.20+ (pcHeader
 * magic 0xfffffff1; funcdata offsets from moduledata.gofunc).
 * docs/go-runtime.md "Stack maps" has the facts and their sources. */
#ifndef CT_GOFUNC_H
#define CT_GOFUNC_H

#include <stdbool.h>
#include <stdint.h>

#include "ct_error.h"
#include "goruntime.h"

struct go_funcs;

/* CT_ERR_UNSUPPORTED when the layouts are not in DWARF or the table is not
 * readable (a scan then stays conservative). */
struct ct_error *go_funcs_open(const struct go_rt *rt, struct go_funcs **ret);
void go_funcs_close(struct go_funcs *f); /* NULL allowed */

/* Pointer bitmaps are returned up to this many words (a frame with more
 * is not described: scanned conservatively). */
#define GO_FRAME_MAX_WORDS 8192
#define GO_FRAME_MAX_OBJECTS 64

/* What the GC knows of one frame. The frame is the function holding pc;
 * pc is a return address (continuation) unless `activation`. */
struct go_frame_map {
	uint64_t entry;       /* the function's first pc */
	uint64_t fp;          /* the caller's sp: sp + frame size + return address */
	uint64_t varp;        /* locals end here (below the return address, saved bp) */
	uint64_t argp;        /* args start here (= fp on amd64) */
	uint32_t nlocals;     /* locals bitmap: words [varp - 8*nlocals, varp) */
	uint32_t nargs;       /* args bitmap: words [argp, argp + 8*nargs) */
	uint8_t locals[GO_FRAME_MAX_WORDS / 8], args[GO_FRAME_MAX_WORDS / 8];
	/* Stack objects (address-taken locals and args): not in the bitmaps; the
	 * GC scans the ones a live pointer reaches, by their type. Here: where
	 * each is, how many of its first bytes may hold pointers, and which of
	 * those words do (its type's mask: ptr_bytes / 8 bits at mask +
	 * mask_off, when `masked`; else every word may). */
	struct go_stack_object {
		uint64_t addr;
		uint32_t size, ptr_bytes, mask_off;
		bool masked;
	} objs[GO_FRAME_MAX_OBJECTS];
	uint32_t nobjs, nmask;
	uint8_t mask[GO_FRAME_MAX_WORDS / 8];
	bool stack_objects;   /* the frame has stack objects (listed in objs) */
};

/* false when pc is in no Go function of the table, or the maps are missing
 * or unreadable: the frame must then be scanned conservatively. */
bool go_frame_map_at(struct go_funcs *f, uint64_t pc, uint64_t sp, struct go_frame_map *ret);

#endif
