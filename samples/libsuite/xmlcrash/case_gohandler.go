package main

/*
#include <stdlib.h>
#include <string.h>
#include "shim.h"
extern int xmlcrashLegacyInput(unsigned char *out, int *outlen, unsigned char *in, int *inlen);
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// handlerElemSize: sizeof(xmlCharEncodingHandler) is 56 on x86_64 (name, input, output,
// iconv_in, iconv_out, uconv_in, uconv_out: Debian builds with iconv and ICU), a scan object
// (pointer fields) of Go's size class 64, no allocation header (<= 512 bytes).
const handlerElemSize = 64

// spareHandlers keeps the victim's neighbours alive, and with them its span: a span left
// empty goes back to the heap and its pages get reused.
var spareHandlers []*C.xmlCharEncodingHandler

const legacyName = "X-LEGACY-1"

// clobber is what GODEBUG=clobberfree=1 makes the garbage collector write over every word
// of an object it frees.
const clobber = 0xdeadbeefdeadbeef

// go-handler-uaf: registerLegacyEncoding builds the handler of a custom encoding in Go memory
// and gives it to xmlRegisterCharEncodingHandler, which keeps the pointer in libxml2's global
// handler table (C memory: invisible to the Go GC). Nothing in Go references the handler
// any more: runtime.GC() frees it (clobberfree fills it with 0xdeadbeef). Parsing a document
// in that encoding makes xmlFindCharEncodingHandler compare the name against
// handlers[i]->name, read from the freed Go object: strcmp dereferences 0xdeadbeefdeadbeef,
// a non-canonical address (general protection fault: SIGSEGV with si_addr 0).
func caseGoHandlerUAF(outdir string) {
	if unsafe.Sizeof(C.xmlCharEncodingHandler{}) != 56 {
		die("go-handler-uaf: sizeof(xmlCharEncodingHandler) = %d, not 56", unsafe.Sizeof(C.xmlCharEncodingHandler{}))
	}
	data := xstr(`<?xml version="1.0"?><legacy><item>caf` + "\xe9" + `</item></legacy>`)
	dataLen := C.int(C.strlen((*C.char)(unsafePtr(data))))
	url := C.CString("legacy.xml")
	enc := C.CString(legacyName)

	victim := registerLegacyEncoding()

	t := newTruth("go-handler-uaf")
	t.add(Addr{Addr: hexp(victim), What: "xmlCharEncodingHandler of " + legacyName + " in Go memory, kept by libxml2's handler table, freed by the GC", Region: "go-heap", State: "free",
		Detail: map[string]any{"elemsize": handlerElemSize, "base": hexp(victim), "offset": 0, "noscan": false}})
	var prev, next uintptr
	for _, h := range spareHandlers {
		switch ptr(h) {
		case victim - handlerElemSize:
			prev = ptr(h)
		case victim + handlerElemSize:
			next = ptr(h)
		}
	}
	for _, a := range []uintptr{prev, next} {
		t.add(Addr{Addr: hexp(a), What: "neighbour handler in the same span (live, main.spareHandlers)", Region: "go-heap", State: "allocated",
			Detail: map[string]any{"elemsize": handlerElemSize, "base": hexp(a), "offset": 0, "noscan": false}})
	}
	t.Crash = map[string]any{
		"class":          "go-use-after-free",
		"signal":         "SIGSEGV",
		"core_signal":    "SIGABRT",
		"access":         "read",
		"fault_addr":     "0x0",
		"si_code":        "SI_KERNEL",
		"pointer":        hexp(victim),
		"loaded_value":   hexp(clobber),
		"object_region":  "go-heap",
		"object_state":   "free",
		"holder":         map[string]any{"c_static": "handlers", "object": "libxml2.so.2", "what": "encoding.c's static handler table (a malloc'd array of xmlCharEncodingHandlerPtr): no symbol in the stripped library"},
		"lib_call":       "xmlReadMemory",
		"lib_function":   "xmlFindCharEncodingHandler",
		"fault_object":   "libc.so.6",
		"fault_function": "strcmp",
		"go_caller":      "main.parseLegacy",
		"godebug":        "clobberfree=1",
	}
	t.note("the fault is in glibc's strcmp (an ifunc: __strcmp_avx2/__strcmp_evex/__strcmp_sse2_unaligned, by CPU), called by xmlFindCharEncodingHandler (its out-of-line part, which follows the exported symbol in the library) from xmlReadMemory's internal xmlDoRead")
	t.note("loaded_value is handler->name as read from the freed Go object (GODEBUG=clobberfree=1: the GC wrote 0xdeadbeef over it); it is non-canonical, so the CPU raises a general protection fault: the kernel reports SIGSEGV with si_code SI_KERNEL and si_addr 0 (fault_addr 0x0 although this is no NULL dereference)")
	t.write(outdir)

	// after the truth: writing it allocates, and would reuse the freed slot
	runtime.GC()
	runtime.GC()
	if w := word(victim, 0); w != clobber {
		warn("go-handler-uaf: the handler at %#x holds %#x, not the clobber pattern: not freed, or reused", victim, w)
	}
	fmt.Println(parseLegacy(data, dataLen, url, enc))
}

// registerLegacyEncoding registers the legacy encoding. The bug: the handler is Go memory,
// and libxml2 keeps the pointer after the call returns.
//
//go:noinline
func registerLegacyEncoding() (victim uintptr) {
	const n = 48
	all := make([]*C.xmlCharEncodingHandler, n)
	for i := range all {
		all[i] = new(C.xmlCharEncodingHandler)
	}
	v := -1
	for i := n / 2; i < n-1 && v < 0; i++ {
		if ptr(all[i])-ptr(all[i-1]) == handlerElemSize && ptr(all[i+1])-ptr(all[i]) == handlerElemSize {
			v = i
		}
	}
	if v < 0 {
		die("go-handler-uaf: no handler with both neighbours in its span")
	}
	h := all[v]
	h.name = C.CString(legacyName)
	h.input = C.xmlCharEncodingInputFunc(C.xmlcrashLegacyInput)
	if C.xmlRegisterCharEncodingHandler(h); C.xmlFindCharEncodingHandler(h.name) != h {
		die("go-handler-uaf: the handler did not register")
	}
	victim = ptr(h)
	spareHandlers = make([]*C.xmlCharEncodingHandler, 0, n-1)
	for i, x := range all {
		if i != v {
			spareHandlers = append(spareHandlers, x)
		}
	}
	for i := range all {
		all[i] = nil
	}
	return victim
}

//go:noinline
func parseLegacy(data *C.xmlChar, n C.int, url, enc *C.char) int {
	doc := C.xmlReadMemory((*C.char)(unsafePtr(data)), n, url, enc, 0)
	if doc == nil {
		return -1
	}
	defer C.xmlFreeDoc(doc)
	return int(C.xmlChildElementCount(C.xmlDocGetRootElement(doc)))
}
