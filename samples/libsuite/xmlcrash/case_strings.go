package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
)

// titleLen: the book title text. xmlNodeGetContent returns a fresh string from an xmlBuf
// grown to >= titleLen+1 bytes in one step: an mmapped chunk, which xmlFree munmaps.
const titleLen = 192 * 1024

// cachedTitle is the last title read, kept to tell whether it changed.
var cachedTitle *C.xmlChar

var book *C.xmlDoc

// freed-string-global: loadTitle keeps the xmlChar* of xmlNodeGetContent in the global
// cachedTitle, but also frees it (defer xmlFree) when it returns. titleIs later compares the
// cached title with xmlStrcmp, which reads the first byte of the munmapped string.
func caseFreedStringGlobal(outdir string) {
	book = mustParse("book.xml", fmt.Sprintf(`<book><title>%s</title><author>A. Writer</author></book>`, blob(titleLen)))
	want := xstr("Dune") // allocated before anything is freed
	var title *C.xmlChar
	var tc chunk

	loadTitle(book, func(s *C.xmlChar) {
		// called by loadTitle right before its deferred xmlFree
		title, tc = s, chunkOf(unsafePtr(s))
		if !tc.mmapped || C.xmlStrlen(s) != titleLen {
			die("freed-string-global: the title string %#x is not one mmapped chunk (size %#x)", ptr(s), tc.size)
		}
		t := newTruth("freed-string-global")
		holder := map[string]any{"global": "main.cachedTitle"}
		t.add(Addr{Addr: hexp(ptr(s)), What: "title string from xmlNodeGetContent, xmlFree'd by loadTitle, still in main.cachedTitle", Region: "unmapped", State: "unmapped",
			Detail: map[string]any{"reason": "plain", "munmapped_chunk": true, "chunk": hexp(tc.user - 16), "chunk_size": tc.size, "holder": holder}})
		wc := chunkOf(unsafePtr(want))
		t.add(Addr{Addr: hexp(ptr(want)), What: "the string compared with (live)", Region: "c-heap", State: "allocated", Detail: wc.detail()})
		t.add(Addr{Addr: hexp(ptr(book)), What: "the book xmlDoc (live)", Region: "c-heap", State: "allocated", Detail: chunkOf(unsafePtr(book)).detail()})
		t.Crash = map[string]any{
			"class":         "c-use-after-free",
			"signal":        "SIGSEGV",
			"core_signal":   "SIGABRT",
			"access":        "read",
			"fault_addr":    hexp(ptr(s)),
			"pointer":       hexp(ptr(s)),
			"object_region": "unmapped",
			"object_state":  "unmapped",
			"object_was":    "c-heap mmapped chunk, munmapped by free()",
			"holder":        holder,
			"lib_call":      "xmlStrcmp",
			"lib_function":  "xmlStrcmp",
			"fault_object":  "libxml2.so.2",
			"go_caller":     "main.titleIs",
		}
		t.note("the string was an mmapped chunk: free() unmapped it, so the pointer in main.cachedTitle points to no mapping; xmlStrcmp(cachedTitle, \"Dune\") reads the second string's first byte, then faults on the first string's")
		t.write(outdir)
	})

	if cachedTitle != title {
		die("freed-string-global: cachedTitle changed")
	}
	if mapped(ptr(title)) {
		warn("freed-string-global: the title %#x is mapped again", ptr(title))
	}
	fmt.Println(titleIs(want))
}

// loadTitle reads the book's title. The bug: the string is freed when loadTitle returns,
// but the global keeps it.
//
//go:noinline
func loadTitle(doc *C.xmlDoc, observe func(*C.xmlChar)) {
	s := C.xmlNodeGetContent(child(C.xmlDocGetRootElement(doc), "title"))
	defer C.xc_xmlFree(unsafePtr(s))
	cachedTitle = s
	observe(s)
}

//go:noinline
func titleIs(want *C.xmlChar) bool {
	return C.xmlStrcmp(cachedTitle, want) == 0
}
