//go:build !go1.24 || (!go1.26 && !goexperiment.swissmap)

package main

// Classic maps: runtime.hmap (Go 1.22/1.23 src/runtime/map.go; 1.24/1.25 with
// GOEXPERIMENT=noswissmap, src/runtime/map_noswiss.go, where only fields after nevacuate move):
//	count int @0, flags uint8 @8, B uint8 @9, noverflow uint16 @10, hash0 uint32 @12,
//	buckets @16, oldbuckets @24, nevacuate uintptr @32.
// A bucket is tophash [8]uint8, keys [8]K, elems [8]V, overflow pointer; tophash >= 5 marks a
// full slot.

import (
	"reflect"
	"unsafe"
)

const mapImpl = "classic"

func hmapField[T any](h unsafe.Pointer, off uintptr) T { return *(*T)(unsafe.Add(h, off)) }

func mapGrowing(h unsafe.Pointer) *bool {
	g := hmapField[unsafe.Pointer](h, 24) != nil
	return &g
}

func mapInternals(h unsafe.Pointer) map[string]any {
	return map[string]any{
		"flags":      hmapField[uint8](h, 8),
		"B":          hmapField[uint8](h, 9),
		"noverflow":  hmapField[uint16](h, 10),
		"buckets":    hexp(uintptr(hmapField[unsafe.Pointer](h, 16))),
		"oldbuckets": hexp(uintptr(hmapField[unsafe.Pointer](h, 24))),
		"nevacuate":  hmapField[uintptr](h, 32),
	}
}

// staleSlot finds the elem slot of key k in a map[int64]uintptr that still has a single
// bucket (B == 0). Returns the slot address and the bucket's base.
func staleSlot(h unsafe.Pointer, k int64) (slot, base uintptr, what string) {
	if b := hmapField[uint8](h, 9); b != 0 {
		die("staleSlot: map already has B=%d", b)
	}
	bucket := hmapField[unsafe.Pointer](h, 16)
	for i := uintptr(0); i < 8; i++ {
		top := *(*uint8)(unsafe.Add(bucket, i))
		if top < 5 || *(*int64)(unsafe.Add(bucket, 8+8*i)) != k {
			continue
		}
		return uintptr(bucket) + 8 + 64 + 8*i, uintptr(bucket), "elem slot in the map's first bucket (B=0)"
	}
	die("staleSlot: key %d not found in bucket", k)
	return 0, 0, ""
}

// mapGrowthTruth records, for a map mid-growth, how many old buckets the runtime has
// evacuated, from the buckets themselves: Go's evacuated(b) is tophash[0] in
// (emptyOne, minTopHash), i.e. 2, 3 or 4 (evacuatedX, evacuatedY, evacuatedEmpty).
// nevacuate only says up to where evacuation went in order; a write to a key also
// evacuates that key's old bucket (growWork), so buckets past nevacuate can be evacuated.
// A bucket is 16 + 8*keyslot + 8*elemslot bytes on amd64 (tophash [8]uint8, keys, elems,
// overflow pointer; a slot holds a pointer when its type is over 128 bytes).
func mapGrowthTruth(h unsafe.Pointer, t reflect.Type, in map[string]any) {
	old := hmapField[unsafe.Pointer](h, 24)
	if old == nil {
		return
	}
	slot := func(size uintptr) uintptr {
		if size > 128 {
			return 8
		}
		return size
	}
	bsize := 16 + 8*slot(t.Key().Size()) + 8*slot(t.Elem().Size())
	nold := uintptr(1) << hmapField[uint8](h, 9)
	if hmapField[uint8](h, 8)&8 == 0 { // not sameSizeGrow: the old array is half
		nold >>= 1
	}
	n := 0
	for i := uintptr(0); i < nold; i++ {
		if top := *(*uint8)(unsafe.Add(old, i*bsize)); top > 1 && top < 5 {
			n++
		}
	}
	in["old_buckets"] = nold
	in["old_evacuated"] = n
}
