package main

// #include "crasher.h"
import "C"

import "unsafe"

// cache holds C.malloc results; C frees most of them while the map still holds them.
var cache map[string]unsafe.Pointer

// c-uaf-map: see samples/README.md.
func scenarioCUAFMap(outdir string) {
	if C.plan_alloc(C.HP_WITH_MMAP_FREE) != 0 {
		warn("c-uaf-map: heap plan allocation did not go as designed")
	}
	chunks := planChunks()
	cache = make(map[string]unsafe.Pointer, len(chunks))
	var fault planChunk
	for _, c := range chunks {
		cache[c.key] = c.p
		if c.expect == C.HP_MUNMAPPED {
			fault = c
		}
	}
	t := newTruth("c-uaf-map")
	for _, c := range chunks {
		t.add(c.addr(map[string]any{"map": "main.cache", "key": c.key}))
	}
	t.Maps = append(t.Maps, mapTruth("main.cache", cache))
	t.Crash = map[string]any{
		"class":       "c-use-after-free",
		"signal":      "SIGSEGV",
		"core_signal": "SIGABRT",
		"fault_addr":  hexp(uintptr(fault.p)),
		"c_function":  "cache_release_and_probe",
		"go_caller":   "main.probeCache",
		"holder":      map[string]any{"map": "main.cache", "key": fault.key},
	}
	t.Notes = append(t.Notes, "C chunk states are predictions made before the frees; the program checks them after the frees and prints TRUTH-WARNING lines to stderr if glibc disagreed")
	t.write(outdir)
	probeCache(fault.key)
}

//go:noinline
func probeCache(key string) {
	C.cache_release_and_probe(cache[key])
}

// c-double-free: C frees one malloc'd pointer twice; glibc aborts.
func scenarioCDoubleFree(outdir string) {
	p := C.df_alloc()
	t := newTruth("c-double-free")
	csize := (*(*uintptr)(unsafe.Add(p, -8))) &^ 7
	t.add(Addr{Addr: hexp(uintptr(p)), What: "chunk freed twice (in tcache after the first free)", Region: "c-heap", State: "free",
		Detail: map[string]any{"arena": "main", "bin": "tcache", "chunk": hexp(uintptr(p) - 16), "chunk_size": csize, "user_size": 152, "mmapped": false}})
	t.Crash = map[string]any{
		"class":       "double-free",
		"signal":      "SIGABRT",
		"core_signal": "SIGABRT",
		"abort_msg":   "free(): double free detected in tcache 2",
		"c_function":  "release_twice",
		"go_caller":   "main.doubleRelease",
		"ptr":         hexp(uintptr(p)),
		"freed_ptr":   hexp(uintptr(p)), // the user pointer passed to free() both times
	}
	t.write(outdir)
	doubleRelease(p)
}

//go:noinline
func doubleRelease(p unsafe.Pointer) { C.release_twice(p) }

// c-null-deref: C reads p->count (offset 16) through a NULL struct pointer.
func scenarioCNullDeref(outdir string) {
	t := newTruth("c-null-deref")
	t.add(Addr{Addr: "0x10", What: "fault address: &((struct record *)NULL)->count", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "null-page"}})
	t.Crash = map[string]any{
		"class":       "null-deref",
		"signal":      "SIGSEGV",
		"core_signal": "SIGABRT",
		"fault_addr":  "0x10",
		"c_function":  "record_count",
		"go_caller":   "main.readRecordCount",
	}
	t.write(outdir)
	readRecordCount(nil)
}

//go:noinline
func readRecordCount(r *C.struct_record) int {
	return int(C.record_count(r))
}
