package main

// #include "crasher.h"
import "C"

import "unsafe"

// planChunk is one chunk of the C heap plan (samples/c/heapplan.h).
type planChunk struct {
	p       unsafe.Pointer
	req     int
	expect  int
	mmapped bool
	key     string
}

var expectName = [...]string{"live", "tcache", "fastbin", "unsorted", "small", "large", "top", "munmapped", "reused", "guard"}

func planChunks() []planChunk {
	n := int(C.c_plan.n)
	out := make([]planChunk, n)
	for i := 0; i < n; i++ {
		c := &C.c_plan.c[i]
		out[i] = planChunk{
			p:       c.p,
			req:     int(c.req),
			expect:  int(c.expect),
			mmapped: c.mmapped != 0,
			key:     C.GoString(&c.key[0]),
		}
	}
	return out
}

func (c planChunk) name() string { return expectName[c.expect] }

// addr is the expected classification of the chunk's user pointer once the plan has been
// released (C.plan_release / hp_release), i.e. at the crash.
func (c planChunk) addr(holder map[string]any) Addr {
	p := uintptr(c.p)
	csize := (*(*uintptr)(unsafe.Pointer(p - 8))) &^ 7
	d := map[string]any{"arena": "main", "chunk": hexp(p - 16), "chunk_size": csize, "user_size": c.req, "mmapped": c.mmapped}
	a := Addr{Addr: hexp(p), What: "C chunk " + c.key, Region: "c-heap", Detail: d}
	switch c.expect {
	case C.HP_LIVE, C.HP_GUARD:
		a.State = "allocated"
	case C.HP_REUSED:
		a.State = "allocated"
		d["reused"] = true
	case C.HP_MUNMAPPED:
		a.Region, a.State = "unmapped", "unmapped"
		a.Detail = map[string]any{"reason": "plain", "mmapped": true, "munmapped_chunk": true, "chunk": hexp(p - 16), "user_size": c.req}
	default:
		a.State = "free"
		d["bin"] = c.name()
	}
	if holder != nil {
		a.Detail["holder"] = holder
	}
	return a
}
