//go:build go1.24 && (go1.26 || goexperiment.swissmap)

package main

// Swiss maps: internal/runtime/maps.Map (Go 1.24-1.27 src/internal/runtime/maps/map.go):
//	used uint64 @0, seed uintptr @8, dirPtr @16, dirLen int @24, globalDepth uint8 @32.
// dirLen == 0: small map, dirPtr points at one group. Otherwise dirPtr -> [dirLen]*table;
// table (table.go): used uint16 @0, capacity uint16 @2, growthLeft uint16 @4,
// localDepth uint8 @6, index int @8, groups.data @16, groups.lengthMask @24.
// A group (group.go) is ctrl uint64 then 8 slots {key, elem} (or, with
// GOEXPERIMENT=mapsplitgroup, keys [8]K then elems [8]V); ctrl byte i with the high bit
// clear marks slot i full.

import (
	"reflect"
	"unsafe"
)

const mapImpl = "swiss"

func mapField[T any](h unsafe.Pointer, off uintptr) T { return *(*T)(unsafe.Add(h, off)) }

func mapGrowing(h unsafe.Pointer) *bool { return nil }

func mapInternals(h unsafe.Pointer) map[string]any {
	dirLen := mapField[int](h, 24)
	in := map[string]any{
		"used":         mapField[uint64](h, 0),
		"dir_ptr":      hexp(uintptr(mapField[unsafe.Pointer](h, 16))),
		"dir_len":      dirLen,
		"global_depth": mapField[uint8](h, 32),
	}
	if dirLen > 0 {
		dir := mapField[unsafe.Pointer](h, 16)
		seen := map[uintptr]bool{}
		var tables []map[string]any
		for i := 0; i < dirLen; i++ {
			t := *(*unsafe.Pointer)(unsafe.Add(dir, 8*i))
			if seen[uintptr(t)] {
				continue
			}
			seen[uintptr(t)] = true
			tables = append(tables, map[string]any{
				"addr":        hexp(uintptr(t)),
				"used":        mapField[uint16](t, 0),
				"capacity":    mapField[uint16](t, 2),
				"local_depth": mapField[uint8](t, 6),
				"index":       mapField[int](t, 8),
			})
		}
		in["tables"] = tables
	}
	return in
}

// staleSlot finds the elem slot of key k in a small map[int64]uintptr (dirLen == 0): the
// slot address and the group's base.
func staleSlot(h unsafe.Pointer, k int64) (slot, base uintptr, what string) {
	if n := mapField[int](h, 24); n != 0 {
		die("staleSlot: map is no longer small (dirLen=%d)", n)
	}
	g := mapField[unsafe.Pointer](h, 16)
	ctrl := *(*uint64)(g)
	for i := uintptr(0); i < 8; i++ {
		if byte(ctrl>>(8*i))&0x80 != 0 {
			continue
		}
		keyOff, elemOff := 8+16*i, 16+16*i
		if splitGroup {
			keyOff, elemOff = 8+8*i, 8+64+8*i
		}
		if *(*int64)(unsafe.Add(g, keyOff)) != k {
			continue
		}
		return uintptr(g) + elemOff, uintptr(g), "elem slot in the small map's only group"
	}
	die("staleSlot: key %d not found in group", k)
	return 0, 0, ""
}

// mapGrowthTruth: Swiss tables grow in place (a table splits or is rebuilt within one
// write), so there is no growth in progress to record.
func mapGrowthTruth(h unsafe.Pointer, t reflect.Type, in map[string]any) {}
