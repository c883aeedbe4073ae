package main

// #include "crasher.h"
import "C"

import "unsafe"

// bigObjs holds C objects too large for the heap (malloc: mmapped chunks).
var bigObjs map[string]unsafe.Pointer

// bigObjAddrs: the freed (munmapped) object and the field's address, both unmapped.
func bigObjAddrs(t *Truth, p unsafe.Pointer, holder map[string]any) {
	a := uintptr(p)
	t.add(Addr{Addr: hexp(a), What: "C object malloc(300000) (mmapped chunk), free()d: munmapped", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "plain", "mmapped": true, "munmapped_chunk": true, "chunk": hexp(a - 16), "user_size": C.BIGOBJ_SIZE, "holder": holder}})
	t.add(Addr{Addr: hexp(a + C.BIGOBJ_FIELD), What: "fault address: the field at offset 0x2000 of the freed object", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "plain", "munmapped_chunk": true}})
}

// c-uaf-mmap-field: C frees (munmaps) a big object the Go map still holds, then reads a
// field 0x2000 bytes into it through the map's pointer: SIGSEGV at p + 0x2000.
func scenarioCUAFMmapField(outdir string) {
	const key = "big-300000"
	p := C.bigobj_alloc(C.BIGOBJ_SIZE)
	bigObjs = map[string]unsafe.Pointer{key: p}
	holder := map[string]any{"map": "main.bigObjs", "key": key}
	t := newTruth("c-uaf-mmap-field")
	bigObjAddrs(t, p, holder)
	t.Maps = append(t.Maps, mapTruth("main.bigObjs", bigObjs))
	t.Crash = map[string]any{
		"class":        "c-use-after-free",
		"signal":       "SIGSEGV",
		"core_signal":  "SIGABRT",
		"fault_addr":   hexp(uintptr(p) + C.BIGOBJ_FIELD),
		"pointer":      hexp(uintptr(p)),
		"field_offset": C.BIGOBJ_FIELD,
		"access":       "read",
		"holder":       holder,
		"c_function":   "bigobj_field",
		"go_caller":    "main.readBigField",
	}
	t.write(outdir)
	readBigField(key)
}

//go:noinline
func readBigField(key string) {
	C.bigobj_release(bigObjs[key])
	C.bigobj_field(bigObjs[key])
}

// c-uaf-mmap-write: the same object, held by the Go map and by the C global c_big_holder;
// C frees it, then writes the field through c_big_holder: SIGSEGV at p + 0x2000.
func scenarioCUAFMmapWrite(outdir string) {
	const key = "big-write"
	p := C.bigobj_alloc(C.BIGOBJ_SIZE)
	bigObjs = map[string]unsafe.Pointer{key: p}
	C.bigobj_hold(p)
	holder := map[string]any{"map": "main.bigObjs", "key": key}
	t := newTruth("c-uaf-mmap-write")
	bigObjAddrs(t, p, holder)
	t.add(Addr{Addr: hexp(uintptr(unsafe.Pointer(&C.c_big_holder))), What: "the C global c_big_holder (holds the freed pointer)", Region: "image", State: "allocated",
		Detail: map[string]any{"symbol": "c_big_holder"}})
	t.Maps = append(t.Maps, mapTruth("main.bigObjs", bigObjs))
	t.Crash = map[string]any{
		"class":        "c-use-after-free",
		"signal":       "SIGSEGV",
		"core_signal":  "SIGABRT",
		"fault_addr":   hexp(uintptr(p) + C.BIGOBJ_FIELD),
		"pointer":      hexp(uintptr(p)),
		"field_offset": C.BIGOBJ_FIELD,
		"access":       "write",
		"holder":       holder,
		"c_global":     "c_big_holder",
		"c_function":   "bigobj_write_field",
		"go_caller":    "main.writeBigField",
	}
	t.write(outdir)
	writeBigField()
}

//go:noinline
func writeBigField() {
	C.bigobj_release(C.c_big_holder)
	C.bigobj_write_field()
}
