package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
)

// reportLen: the report's text; xmlNodeDump of the report into out needs > 128 KiB: the
// buffer's content is an mmapped chunk, which xmlFree munmaps.
const reportLen = 192 * 1024

// out is the output buffer render reuses for every response.
var out *C.xmlBuffer

var report *C.xmlDoc

// buffer-write-uaf: render serializes into the global xmlBuffer out and frees what
// xmlBufferContent returned, as if it were a copy (it is the buffer's own storage; only
// xmlBufferDetach hands it over). The next render empties the buffer first: xmlBufferEmpty
// writes a 0 to content[0], in the munmapped storage.
func caseBufferWriteUAF(outdir string) {
	report = mustParse("report.xml", fmt.Sprintf(`<report id="7"><body>%s</body></report>`, blob(reportLen)))
	out = C.xmlBufferCreate()
	var content *C.xmlChar
	var use, size C.uint
	var cc chunk

	resp := render(report, func() {
		// called by render right before its deferred xmlFree of the content
		content, use, size = out.content, out.use, out.size
		cc = chunkOf(unsafePtr(content))
		if !cc.mmapped || int(use) <= reportLen || out.alloc == C.XML_BUFFER_ALLOC_IO {
			die("buffer-write-uaf: buffer content %#x (use %d, size %d, alloc %d) is not one mmapped chunk (chunk size %#x)", ptr(content), use, size, out.alloc, cc.size)
		}
		t := newTruth("buffer-write-uaf")
		holder := map[string]any{"global": "main.out", "field": "content"}
		t.add(Addr{Addr: hexp(ptr(content)), What: "content of the xmlBuffer main.out, xmlFree'd by render, still the buffer's storage", Region: "unmapped", State: "unmapped",
			Detail: map[string]any{"reason": "plain", "munmapped_chunk": true, "chunk": hexp(cc.user - 16), "chunk_size": cc.size, "holder": holder}})
		bd := chunkOf(unsafePtr(out)).detail()
		bd["holder"] = map[string]any{"global": "main.out"}
		t.add(Addr{Addr: hexp(ptr(out)), What: "the xmlBuffer main.out (live; its content field is stale)", Region: "c-heap", State: "allocated", Detail: bd})
		t.Crash = map[string]any{
			"class":         "c-use-after-free",
			"signal":        "SIGSEGV",
			"core_signal":   "SIGABRT",
			"access":        "write",
			"fault_addr":    hexp(ptr(content)),
			"pointer":       hexp(ptr(content)),
			"object_region": "c-heap",
			"object_state":  "unmapped",
			"holder":        holder,
			"buffer":        map[string]any{"addr": hexp(ptr(out)), "content": hexp(ptr(content)), "use": uint64(use), "size": uint64(size)},
			"lib_call":      "xmlBufferEmpty",
			"lib_function":  "xmlBufferEmpty",
			"fault_object":  "libxml2.so.2",
			"go_caller":     "main.render",
		}
		t.note("xmlBufferEmpty(out) sets out->use = 0 (in the live xmlBuffer) and stores 0 at out->content[0], the first byte of the munmapped storage: a write fault")
		t.write(outdir)
	})
	if mapped(ptr(content)) {
		warn("buffer-write-uaf: the buffer content %#x is mapped again", ptr(content))
	}
	if out.content != content {
		warn("buffer-write-uaf: out->content changed")
	}
	fmt.Println(len(resp))
	fmt.Println(len(render(report, func() {})))
}

// render serializes doc into out. The bug: xmlBufferContent's result belongs to the buffer.
//
//go:noinline
func render(doc *C.xmlDoc, observe func()) string {
	C.xmlBufferEmpty(out)
	C.xmlNodeDump(out, doc, C.xmlDocGetRootElement(doc), 0, 0)
	s := C.xmlBufferContent(out)
	defer C.xc_xmlFree(unsafePtr(s))
	observe()
	return C.GoStringN((*C.char)(unsafePtr(s)), C.xmlBufferLength(out))
}
