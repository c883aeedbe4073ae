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

var trailer = C.CString("\n") // allocated before anything is freed

// buffer-write-uaf: render serializes into the global xmlBuffer out and frees what
// xmlBufferContent returned, as if it were a copy (it is the buffer's own storage; only
// xmlBufferDetach hands it over). The next render empties the buffer first: xmlBufferEmpty
// writes a 0 to content[0], in the munmapped storage.
func caseBufferWriteUAF(outdir string) {
	bufferCase(outdir, "buffer-write-uaf")
	fmt.Println(len(render(report, func() {})))
}

// buffer-append-uaf: the same mistake in render; then appendTrailer adds a newline to the
// response: xmlBufferCCat copies one byte to content[use] with memmove, in the munmapped
// storage, past its start.
func caseBufferAppendUAF(outdir string) {
	bufferCase(outdir, "buffer-append-uaf")
	appendTrailer()
}

// bufferCase renders the report once (the buggy render), writing the truth of case name
// right before render's deferred xmlFree.
func bufferCase(outdir, name string) {
	report = mustParse("report.xml", fmt.Sprintf(`<report id="7"><body>%s</body></report>`, blob(reportLen)))
	out = C.xmlBufferCreate()
	var content *C.xmlChar
	var use, size C.uint

	resp := render(report, func() {
		// called by render right before its deferred xmlFree of the content
		content, use, size = out.content, out.use, out.size
		cc := chunkOf(unsafePtr(content))
		if !cc.mmapped || int(use) <= reportLen || out.alloc == C.XML_BUFFER_ALLOC_IO || size-use < 2 {
			die("%s: buffer content %#x (use %d, size %d, alloc %d) is not one mmapped chunk with room (chunk size %#x)", name, ptr(content), use, size, out.alloc, cc.size)
		}
		t := newTruth(name)
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
			"pointer":       hexp(ptr(content)),
			"object_region": "unmapped",
			"object_state":  "unmapped",
			"object_was":    "c-heap mmapped chunk, munmapped by free()",
			"holder":        holder,
			"buffer":        map[string]any{"addr": hexp(ptr(out)), "content": hexp(ptr(content)), "use": uint64(use), "size": uint64(size)},
			"fault_object":  "libxml2.so.2",
		}
		if name == "buffer-write-uaf" {
			t.Crash["fault_addr"] = hexp(ptr(content))
			t.Crash["lib_call"] = "xmlBufferEmpty"
			t.Crash["lib_function"] = "xmlBufferEmpty"
			t.Crash["go_caller"] = "main.render"
			t.note("xmlBufferEmpty(out) sets out->use = 0 (in the live xmlBuffer) and stores 0 at out->content[0], the first byte of the munmapped storage: a write fault")
		} else {
			fa := ptr(content) + uintptr(use)
			t.add(Addr{Addr: hexp(fa), What: "content + use: where the append writes, inside the munmapped storage", Region: "unmapped", State: "unmapped",
				Detail: map[string]any{"reason": "plain", "munmapped_chunk": true, "chunk": hexp(cc.user - 16), "offset": uint64(use) + 16}})
			t.Crash["fault_addr"] = hexp(fa)
			t.Crash["fault_offset"] = uint64(use)
			t.Crash["lib_call"] = "xmlBufferCCat"
			t.Crash["lib_function"] = "xmlBufferCCat"
			t.Crash["fault_object"] = "libc.so.6"
			t.Crash["fault_function"] = "memmove"
			t.Crash["go_caller"] = "main.appendTrailer"
			t.note("xmlBufferCCat(out, \"\\n\") (xmlBufferCat and xmlBufferAdd are inlined into it in Debian's build) finds room (size - use >= 2), then memmove(content + use, \"\\n\", 1): glibc's memmove (an ifunc variant, by CPU; its code is shared with memcpy's, so a debugger may name it __memcpy_*_unaligned_erms) stores one byte at fault_addr = pointer + use, %d bytes into the munmapped storage", use)
		}
		t.write(outdir)
	})
	if mapped(ptr(content)) {
		warn("%s: the buffer content %#x is mapped again", name, ptr(content))
	}
	if out.content != content || out.use != use {
		warn("%s: out->content/use changed", name)
	}
	fmt.Println(len(resp))
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

//go:noinline
func appendTrailer() {
	C.xmlBufferCCat(out, trailer)
}
