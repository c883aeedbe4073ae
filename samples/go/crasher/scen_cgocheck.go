package main

// #include "crasher.h"
import "C"

import (
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// cgoObj is a scan object of 1000 bytes (1008 with its allocation header: size class
// 1024), which nothing else in the program allocates.
type cgoObj struct {
	tag  uint64
	next *cgoObj
	pad  [123]uint64
}

var (
	cgoLive      *cgoObj   // keeps the unpinned object alive from Go: only the pinning is missing
	cgoNeighbour []*cgoObj // keeps the dead object's span in use
	cgoPinned    *cgoObj
	cgoPinner    runtime.Pinner
	cgoHandled   *cgoObj
	cgoHandle    cgo.Handle
	// freedC holds C pointers after C freed them: the map entries cgocheck must name.
	freedC map[string]unsafe.Pointer
)

//go:noinline
func cgocheckDead() uintptr {
	all := make([]*cgoObj, 12)
	for i := range all {
		all[i] = &cgoObj{tag: uint64(i)}
	}
	victim := all[6]
	C.cg_keep(1, unsafe.Pointer(victim))
	cgoNeighbour = append(append([]*cgoObj{}, all[:6]...), all[7:]...)
	p := uintptr(unsafe.Pointer(victim))
	for i := range all {
		all[i] = nil
	}
	victim = nil
	return p
}

// cgocheck: C keeps one live unpinned, one freed and one pinned Go pointer in static
// globals, a cgo.Handle (an integer), and a chunk of pointer-looking integers; a Go map
// keeps C pointers that C freed. Then C crashes on a NULL pointer.
func scenarioCgocheck(outdir string) {
	t := newTruth("cgocheck")
	cgoLive = &cgoObj{tag: 100}
	C.cg_keep(0, unsafe.Pointer(cgoLive))
	cgoPinned = &cgoObj{tag: 200}
	cgoPinner.Pin(cgoPinned)
	C.cg_keep(2, unsafe.Pointer(cgoPinned))
	cgoHandled = &cgoObj{tag: 300}
	cgoHandle = cgo.NewHandle(cgoHandled)
	C.cg_keep_handle(C.uintptr_t(cgoHandle))
	dead := cgocheckDead()
	runtime.GC()
	runtime.GC()

	freedC = map[string]unsafe.Pointer{}
	sizes := map[string]C.size_t{"freed-64": 64, "freed-3000": 3000}
	var freedAddrs = map[string]uintptr{}
	for k, n := range sizes {
		p := C.cg_malloc_guarded(n)
		freedC[k] = p
		freedAddrs[k] = uintptr(p)
	}
	live := C.cg_malloc_guarded(48)
	freedC["still-live"] = live
	for k := range sizes {
		C.cg_free(freedC[k])
	}
	const noiseWords = 20000
	noise := C.cg_noise_chunk(noiseWords, C.uintptr_t(uintptr(unsafe.Pointer(cgoLive))))

	kept := func(which C.int) string { return hexp(uintptr(C.cg_kept_addr(which))) }
	t.add(Addr{Addr: hexp(uintptr(unsafe.Pointer(cgoLive))), What: "live Go object C keeps (unpinned)",
		Region: "go-heap", State: "allocated", Detail: map[string]any{"elemsize": 1024}})
	t.add(Addr{Addr: hexp(dead), What: "Go object C keeps after the GC freed it",
		Region: "go-heap", State: "free", Detail: map[string]any{"elemsize": 1024}})
	t.add(Addr{Addr: hexp(uintptr(unsafe.Pointer(cgoPinned))), What: "pinned Go object C keeps",
		Region: "go-heap", State: "allocated", Detail: map[string]any{"elemsize": 1024}})
	// By construction: 64 bytes fit a tcache bin; the 3000-byte chunk goes to the unsorted
	// bin on free() and is sorted into a large bin by the next malloc that walks the
	// unsorted list (the noise chunk's malloc, served by mmap only after that walk).
	bins := map[string]string{"freed-64": "tcache", "freed-3000": "large"}
	for k, a := range freedAddrs {
		t.add(Addr{Addr: hexp(a), What: "C chunk " + k + " freed, still in main.freedC", Region: "c-heap", State: "free",
			Detail: map[string]any{"bin": bins[k], "mmapped": false}})
	}
	t.add(Addr{Addr: hexp(uintptr(live)), What: "C chunk still live, in main.freedC", Region: "c-heap", State: "allocated"})
	t.Maps = append(t.Maps, mapTruth("main.freedC", freedC))
	goHolds := []map[string]any{}
	for k, a := range freedAddrs {
		goHolds = append(goHolds, map[string]any{"map": "main.freedC", "key": k, "target": hexp(a)})
	}
	t.Crash = map[string]any{
		"class":       "null-deref",
		"signal":      "SIGSEGV",
		"core_signal": "SIGABRT",
		"fault_addr":  "0x10",
		"c_function":  "record_count",
		"go_caller":   "main.cgocheckCrash",
	}
	t.Extra = map[string]any{
		"cgocheck": map[string]any{
			"c_holds_go": []map[string]any{
				{"holder": "c_kept_live", "holder_addr": kept(0), "verdict": "unpinned", "target": hexp(uintptr(unsafe.Pointer(cgoLive)))},
				{"holder": "c_kept_dead", "holder_addr": kept(1), "verdict": "dangling", "target": hexp(dead)},
				{"holder": "c_kept_pinned", "holder_addr": kept(2), "verdict": "ok", "target": hexp(uintptr(unsafe.Pointer(cgoPinned)))},
			},
			"go_holds_freed_c": goHolds,
			"handle":           map[string]any{"holder": "c_handle", "holder_addr": kept(3), "object": hexp(uintptr(unsafe.Pointer(cgoHandled)))},
			"noise_chunk":      hexp(uintptr(unsafe.Pointer(noise))),
			"noise_bytes":      noiseWords * 8,
		},
	}
	t.write(outdir)
	cgocheckCrash()
	runtime.KeepAlive(cgoLive)
}

//go:noinline
func cgocheckCrash() { C.record_count(nil) }
