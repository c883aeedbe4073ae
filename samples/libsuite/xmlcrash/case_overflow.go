package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"time"
)

// levelBytes: stack bytes per tree level of xmlSetTreeDoc's recursion. In Debian's 2.9.14
// xmlSetListDoc is inlined into xmlSetTreeDoc, which calls itself once per level: 4 pushes,
// sub $8 and the return address, 48 bytes.
const levelBytes = 48

// deep-tree-overflow: a goroutine (locked to its thread, a pthread with a 512 KiB stack and a
// guard page below it) builds a chain of nested elements iteratively, then moves it into a
// new document with xmlDocSetRootElement: xmlSetTreeDoc recurses once per level (its
// xmlSetListDoc loop is inlined) with no depth limit, and runs off the thread's stack into
// the guard page.
func caseDeepTreeOverflow(outdir string) {
	go exportWorker(outdir)
	time.Sleep(20 * time.Second)
}

//go:noinline
func exportWorker(outdir string) {
	runtime.LockOSThread()
	var lo, hi, guard C.uintptr_t
	C.xc_thread_stack(&lo, &hi, &guard)
	if lo == 0 || guard == 0 {
		die("deep-tree-overflow: no stack bounds or guard for this thread (lo=%#x guard=%#x)", uintptr(lo), uintptr(guard))
	}
	stack := uintptr(hi - lo)
	depth := int(stack/levelBytes) * 5 / 4 // 25% more levels than the stack holds

	// a parsed document has a dictionary: xmlNewChild takes the name from it (one 0x80
	// chunk per level, no name copies)
	src := mustParse("tree.xml", "<node/>")
	name := xstr("node")
	root := C.xmlDocGetRootElement(src)
	cur := root
	for i := 0; i < depth; i++ {
		cur = C.xmlNewChild(cur, nil, name, nil)
	}
	dst := C.xmlNewDoc(xstr("1.0"))

	t := newTruth("deep-tree-overflow")
	mid := uintptr(lo) + stack/2
	t.add(Addr{Addr: hexp(mid), What: "middle of the overflowing thread's stack", Region: "thread-stack", State: "allocated",
		Detail: map[string]any{"stack_lo": hexp(uintptr(lo)), "stack_hi": hexp(uintptr(hi))}})
	t.add(Addr{Addr: hexp(uintptr(lo) - uintptr(guard)/2), What: "the thread's guard page (glibc: PROT_NONE, right below the stack)", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "stack-guard", "guard_lo": hexp(uintptr(lo) - uintptr(guard)), "guard_hi": hexp(uintptr(lo))}})
	t.add(Addr{Addr: hexp(ptr(root)), What: "root of the nested chain (live, thread arena)", Region: "c-heap", State: "allocated",
		Detail: map[string]any{"arena": "thread"}})
	t.Crash = map[string]any{
		"class":         "stack-overflow",
		"signal":        "SIGSEGV",
		"core_signal":   "SIGABRT",
		"access":        "write",
		"object_region": "thread-stack",
		"object_state":  "allocated",
		"lib_call":      "xmlDocSetRootElement",
		"lib_function":  "xmlSetTreeDoc",
		"fault_object":  "libxml2.so.2",
		"go_caller":     "main.exportSubtree",
		"goid":          curGoid(),
		"depth":         depth + 1,
		"thread_stack":  map[string]any{"lo": hexp(uintptr(lo)), "hi": hexp(uintptr(hi)), "guard_size": uint64(guard)},
		"fault_range":   []string{hexp(uintptr(lo) - uintptr(guard)), hexp(uintptr(lo))},
	}
	t.note("the tree is %d levels deep; xmlSetTreeDoc calls itself once per level (%d stack bytes per frame; the source's xmlSetListDoc is inlined), so the recursion needs about %d KiB and the thread has %d KiB: the fault is at whichever push or call of xmlSetTreeDoc first touches the guard page", depth+1, levelBytes, (depth+1)*levelBytes/1024, stack/1024)
	t.note("fault_range is [guard_lo, stack_lo): the exact fault address is wherever the recursion first touched the guard page; the thread's stack is 512 KiB because the program sets glibc's default thread stack size before the Go runtime starts (pthread_setattr_default_np, this case only)")
	t.write(outdir)
	exportSubtree(dst, root)
}

// exportSubtree moves the tree into dst. No bug in Go here but the unbounded depth of the
// data: libxml2's recursion has no limit.
//
//go:noinline
func exportSubtree(dst *C.xmlDoc, root *C.xmlNode) {
	C.xmlDocSetRootElement(dst, root)
}
