package main

// #include "crasher.h"
import "C"

import (
	"runtime"
	"runtime/debug"
	"unsafe"
)

// staleMap maps ids to C buffers (as uintptr). Its key/elem types hold no Go pointers, so its
// buckets/groups are noscan and Go never clears old ones when it moves entries.
var staleMap map[int64]uintptr

const staleEntries = 2000

// staleNeighbours are live 144-byte noscan objects allocated right before and after the map's
// first bucket/group (same size class, same span): they keep that span in use after the
// bucket is freed, so its pages are not handed back to the heap and reused (e.g. for GC work
// buffers) and the freed slot keeps its old contents.
var staleNeighbours []*[144]byte

// firstBucket makes staleMap with one entry, 1 -> buf, whose bucket/group sits between two
// live neighbours, and returns the address of that entry's elem slot and the bucket's base.
//
//go:noinline
func firstBucket(buf unsafe.Pointer) (slot, base uintptr, what string) {
	for try := 0; try < 32; try++ {
		m := make(map[int64]uintptr)
		before := new([144]byte)
		m[1] = uintptr(buf) // allocates the map's first bucket (classic) / group (Swiss)
		after := new([144]byte)
		slot, base, what = staleSlot(unsafe.Pointer(reflectMapPointer(m)), 1)
		if uintptr(unsafe.Pointer(before))+144 == base && base+144 == uintptr(unsafe.Pointer(after)) {
			staleMap = m
			staleNeighbours = append(staleNeighbours, before, after)
			return slot, base, what
		}
	}
	die("map-grow-stale: could not place the first bucket between two neighbours")
	return 0, 0, ""
}

// map-grow-stale: see samples/README.md.
func scenarioMapGrowStale(outdir string) {
	debug.SetGCPercent(-1) // no GC but the explicit ones below
	oldbuf := C.cbuf_alloc(300000) // mmapped chunk
	slot, base, what := firstBucket(oldbuf)
	C.stale_remember(C.uintptr_t(slot)) // C keeps a pointer into the map's bucket/group memory

	for i := int64(2); i <= staleEntries; i++ { // grow it a lot: the first bucket/group is dropped
		staleMap[i] = uintptr(i * 3)
	}
	newbuf := C.cbuf_alloc(300000)
	staleMap[1] = uintptr(newbuf) // replace the buffer (the old one is freed below)

	t := newTruth("map-grow-stale")
	t.add(Addr{Addr: hexp(slot), What: "stale pointer held by C (stale_slot): " + what + ", taken before the map grew", Region: "go-heap", State: "free",
		Detail: map[string]any{"elemsize": 144, "base": hexp(base), "offset": slot - base, "header": false, "noscan": true, "c_global": "stale_slot", "map": "main.staleMap"}})
	t.add(Addr{Addr: hexp(uintptr(oldbuf)), What: "old C buffer (staleMap[1] before the replacement), free()d: munmapped", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "plain", "mmapped": true, "munmapped_chunk": true, "user_size": 300000}})
	t.add(Addr{Addr: hexp(uintptr(newbuf)), What: "new C buffer, staleMap[1]", Region: "c-heap", State: "allocated",
		Detail: map[string]any{"arena": "main", "mmapped": true, "user_size": 300000, "holder": map[string]any{"map": "main.staleMap", "key": 1}}})
	t.add(Addr{Addr: hexp(uintptr(unsafe.Pointer(&C.stale_slot))), What: "C global stale_slot", Region: "image", State: "allocated",
		Detail: map[string]any{"symbol": "stale_slot"}})
	t.Maps = append(t.Maps, mapTruth("main.staleMap", staleMap))
	t.Crash = map[string]any{
		"class":       "go-use-after-free",
		"signal":      "SIGSEGV",
		"core_signal": "SIGABRT",
		"fault_addr":  hexp(uintptr(oldbuf)),
		"stale_ptr":   hexp(slot),
		"map":         "main.staleMap",
		"c_function":  "stale_read_deref",
		"go_caller":   "main.readStaleSlot",
		"c_global":    "stale_slot",
	}
	t.Notes = append(t.Notes, "the stale slot's bucket/group was dropped when the map grew and freed by the explicit runtime.GC() (which sweeps before returning); live neighbours keep its span in use; nothing allocates in its size class (144, noscan) afterwards; C checks that the slot still holds the old buffer pointer")
	pending := t.prepare(outdir)
	runtime.GC()
	runtime.GC()
	// Free (munmap) the old buffer only now: the GC mmaps memory of its own (e.g. 64 KiB
	// mark-bit chunks), and the kernel would happily place it in the fresh hole.
	C.cbuf_free(oldbuf)
	pending.commit()
	readStaleSlot(uintptr(oldbuf))
}

//go:noinline
func readStaleSlot(expect uintptr) { C.stale_read_deref(C.uintptr_t(expect)) }
