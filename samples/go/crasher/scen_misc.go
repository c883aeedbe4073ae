package main

// #include "crasher.h"
import "C"

import (
	"runtime"
	"time"
)

// shared is written by several goroutines without a lock.
var shared map[int]int

const sharedKeys = 100

// concurrent-map-writes: the keys exist before the writers start and every writer stores
// shared[k] = k, so the map never grows and its contents are known; only the runtime's
// concurrent-write check fires.
func scenarioConcurrentMapWrites(outdir string) {
	shared = make(map[int]int)
	for k := 0; k < sharedKeys; k++ {
		shared[k] = k
	}
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	t := newTruth("concurrent-map-writes")
	t.Maps = append(t.Maps, mapTruth("main.shared", shared))
	t.Crash = map[string]any{
		"class":       "concurrent-map-write",
		"signal":      "SIGABRT",
		"core_signal": "SIGABRT",
		"fatal_msg":   "concurrent map writes",
		"map":         "main.shared",
		"map_addr":    hexp(reflectMapPointer(shared)),
		"go_function": "main.racyWriter",
	}
	t.write(outdir)
	for i := 0; i < 4; i++ {
		go racyWriter(i)
	}
	time.Sleep(20 * time.Second)
}

//go:noinline
func racyWriter(id int) {
	for i := id; ; i++ {
		k := i % sharedKeys
		shared[k] = k
	}
}

// c-stack-overflow: a goroutine (on its own locked thread: a pthread with a guard page) calls
// C that recurses without bound.
func scenarioCStackOverflow(outdir string) {
	go overflowWorker(outdir)
	time.Sleep(20 * time.Second)
}

//go:noinline
func overflowWorker(outdir string) {
	runtime.LockOSThread()
	var lo, hi, guard C.uintptr_t
	C.thread_stack_bounds(&lo, &hi, &guard)
	if lo == 0 || guard == 0 {
		warn("c-stack-overflow: no stack bounds or guard for this thread (lo=%#x guard=%#x)", uintptr(lo), uintptr(guard))
	}
	goid := curGoid()
	t := newTruth("c-stack-overflow")
	mid := uintptr(lo) + uintptr(hi-lo)/2
	t.add(Addr{Addr: hexp(mid), What: "middle of the overflowing thread's stack", Region: "thread-stack", State: "allocated",
		Detail: map[string]any{"stack_lo": hexp(uintptr(lo)), "stack_hi": hexp(uintptr(hi))}})
	if guard != 0 {
		t.add(Addr{Addr: hexp(uintptr(lo) - uintptr(guard)/2), What: "the thread's guard page (glibc: PROT_NONE, right below the stack)", Region: "unmapped", State: "unmapped",
			Detail: map[string]any{"reason": "stack-guard", "guard_lo": hexp(uintptr(lo) - uintptr(guard)), "guard_hi": hexp(uintptr(lo))}})
	}
	t.Crash = map[string]any{
		"class":        "stack-overflow",
		"signal":       "SIGSEGV",
		"core_signal":  "SIGABRT",
		"c_function":   "recurse_deep",
		"go_caller":    "main.overflowWorker",
		"goid":         goid,
		"thread_stack": map[string]any{"lo": hexp(uintptr(lo)), "hi": hexp(uintptr(hi)), "guard_size": uint64(guard)},
		"fault_range":  []string{hexp(uintptr(lo) - uintptr(guard)), hexp(uintptr(lo))},
	}
	t.Notes = append(t.Notes, "fault_range is [guard_lo, stack_lo): the exact fault address is wherever the recursion first touched the guard page")
	t.write(outdir)
	C.recurse_deep(0)
}

// c-stack-overflow-main: the main goroutine (locked to the main thread) calls C that recurses
// without bound: C runs on the main thread's own stack, which the kernel grows on demand
// down to RLIMIT_STACK below its top; the first access beyond that limit faults.
func scenarioCStackOverflowMain(outdir string) {
	var lo, hi C.uintptr_t
	C.main_stack_bounds(&lo, &hi)
	rlim := uint64(C.stack_rlimit())
	if lo == 0 || hi == 0 {
		warn("c-stack-overflow-main: no [stack] line in /proc/self/maps")
	}
	t := newTruth("c-stack-overflow-main")
	t.Crash = map[string]any{
		"class":       "stack-overflow",
		"signal":      "SIGSEGV",
		"core_signal": "SIGABRT",
		"c_function":  "recurse_deep",
		"go_caller":   "main.overflowMainStack",
		"goid":        curGoid(),
		"stack_lo":    hexp(uintptr(lo)),
		"stack_hi":    hexp(uintptr(hi)),
	}
	const pageSize = 4096
	if rlim == 0 || rlim >= 1<<53 || rlim%pageSize != 0 || rlim > uint64(hi) {
		warn("c-stack-overflow-main: RLIMIT_STACK is %#x (unlimited or odd): no fault range", rlim)
		t.Crash["rlimit_stack"] = "unlimited"
	} else {
		limit := uintptr(hi) - uintptr(rlim)
		t.Crash["rlimit_stack"] = rlim
		t.Crash["fault_range"] = []string{hexp(limit - pageSize), hexp(limit)}
		t.Notes = append(t.Notes, "stack_lo/stack_hi: the [stack] line of /proc/self/maps when the truth was written (the kernel grows stack_lo on demand); fault_range is the page below stack_hi - rlimit_stack: the stack may grow to rlimit_stack bytes below stack_hi, and the recursion (frames of about 1 KiB) first touches the page under that limit")
	}
	t.write(outdir)
	overflowMainStack()
}

//go:noinline
func overflowMainStack() { C.recurse_deep(0) }
