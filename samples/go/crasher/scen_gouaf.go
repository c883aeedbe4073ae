package main

// #include "crasher.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// session is a scan object (it holds pointers) of 2600 bytes: with its 8-byte allocation
// header (Go >= 1.22: scan objects > 512 bytes) it takes 2608 bytes and lands in size class
// 2688 (one 8 KiB page, 3 slots per span), which nothing else in the program uses.
type session struct {
	magic uint64         // C.SESSION_MAGIC; C checks it is still there when it reads the slot
	buf   unsafe.Pointer // a C buffer (malloc(1 MiB): an mmapped chunk)
	id    int64
	pad   [322]uint64
}

const sessionElemSize = 2688

// sessions keeps the victim's neighbours alive (and with them the victim's span).
var sessions []*session

// makeSessions allocates n sessions, hands one whose two neighbours sit in the same span
// (addresses exactly one slot before and after) to C, and keeps all the others.
//
//go:noinline
func makeSessions(n int, buf unsafe.Pointer) (victim uintptr) {
	all := make([]*session, n)
	for i := range all {
		all[i] = &session{magic: C.SESSION_MAGIC, id: int64(i)}
	}
	v := -1
	for i := n / 2; i < n-1 && v < 0; i++ {
		a, b, c := uintptr(unsafe.Pointer(all[i-1])), uintptr(unsafe.Pointer(all[i])), uintptr(unsafe.Pointer(all[i+1]))
		if b-a == sessionElemSize && c-b == sessionElemSize {
			v = i
		}
	}
	if v < 0 {
		die("go-uaf: no session with both neighbours in its span")
	}
	all[v].buf = buf
	C.session_remember(unsafe.Pointer(all[v]))
	victim = uintptr(unsafe.Pointer(all[v]))
	sessions = make([]*session, 0, n-1)
	for i, s := range all {
		if i != v {
			sessions = append(sessions, s)
		}
	}
	for i := range all {
		all[i] = nil
	}
	return victim
}

// goHeapSlot describes an object of a small size class in a one-page span with an 8-byte
// allocation header: slot base = user pointer - 8, checked against the page.
func goHeapSlot(p uintptr, elemsize uintptr, header bool) map[string]any {
	base := p
	if header {
		base = p - 8
	}
	d := map[string]any{"elemsize": elemsize, "base": hexp(base), "offset": p - base, "header": header}
	if page := p &^ 8191; (base-page)%elemsize != 0 {
		warn("%s: slot base %s is not a multiple of %d from its page", hexp(p), hexp(base), elemsize)
	}
	return d
}

// go-uaf: see samples/README.md.
func scenarioGoUAF(outdir string) {
	const bufSize = 1 << 20
	buf := C.session_buf_alloc(bufSize)
	victim := makeSessions(24, buf)

	t := newTruth("go-uaf")
	vd := goHeapSlot(victim, sessionElemSize, true)
	vd["c_global"] = "cached_session"
	t.add(Addr{Addr: hexp(victim), What: "victim session: freed by the GC, still held by C's cached_session", Region: "go-heap", State: "free", Detail: vd})
	for _, s := range sessions {
		p := uintptr(unsafe.Pointer(s))
		t.add(Addr{Addr: hexp(p), What: "live session (main.sessions)", Region: "go-heap", State: "allocated", Detail: goHeapSlot(p, sessionElemSize, true)})
	}
	t.add(Addr{Addr: hexp(uintptr(buf)), What: "the victim's C buffer, malloc(1 MiB) then free()d: munmapped", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "plain", "mmapped": true, "munmapped_chunk": true, "user_size": bufSize}})
	t.add(Addr{Addr: hexp(uintptr(unsafe.Pointer(&C.cached_session))), What: "C global cached_session", Region: "image", State: "allocated",
		Detail: map[string]any{"symbol": "cached_session"}})
	t.Crash = map[string]any{
		"class":       "go-use-after-free",
		"signal":      "SIGSEGV",
		"core_signal": "SIGABRT",
		"fault_addr":  hexp(uintptr(buf)),
		"c_function":  "session_read_buf",
		"go_caller":   "main.touchSession",
		"c_global":    "cached_session",
		"victim":      hexp(victim),
		"holder":      map[string]any{"global": "cached_session"},
	}
	pending := t.prepare(outdir)

	runtime.GC() // the victim is unreachable from Go: freed; runtime.GC sweeps before returning
	runtime.GC()
	// Free (munmap) the buffer only now: the GC mmaps memory of its own (e.g. 64 KiB mark-bit
	// chunks), and the kernel would happily place it in a fresh hole.
	C.cbuf_free(buf)
	pending.commit()
	touchSession()
}

//go:noinline
func touchSession() { C.session_read_buf() }
