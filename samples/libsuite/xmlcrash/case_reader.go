package main

/*
#include <stdlib.h>
#include "shim.h"
extern void xmlcrashReaderError(void *arg, char *msg, int severity, void *locator);
*/
import "C"

import (
	"unsafe"
)

// readerCtxtOffset is offsetof(struct _xmlTextReader, ctxt) on x86_64 (xmlreader.c, private:
// int mode; xmlDocPtr doc; int validate; int allocs; int state; xmlParserCtxtPtr ctxt), the
// first load xmlTextReaderSetErrorHandler makes through its reader argument
// ("mov 0x20(%rdi),%rax" in Debian's libxml2 2.9.14).
const readerCtxtOffset = 0x20

// reader-null: openFeed does not check xmlReaderForFile's result; the file does not exist,
// the reader is NULL, and xmlTextReaderSetErrorHandler reads reader->ctxt without a NULL
// check: SIGSEGV at 0x20 inside libxml2.
func caseReaderNull(outdir string) {
	path := "/nonexistent/feeds/news.xml"
	t := newTruth("reader-null")
	t.add(Addr{Addr: hexp(readerCtxtOffset), What: "NULL xmlTextReader + offsetof(ctxt)", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "null-page"}})
	t.Crash = map[string]any{
		"class":         "null-deref",
		"signal":        "SIGSEGV",
		"core_signal":   "SIGABRT",
		"access":        "read",
		"fault_addr":    hexp(readerCtxtOffset),
		"pointer":       "0x0",
		"field_offset":  readerCtxtOffset,
		"object_region": "unmapped",
		"object_state":  "unmapped",
		"lib_call":      "xmlTextReaderSetErrorHandler",
		"lib_function":  "xmlTextReaderSetErrorHandler",
		"fault_object":  "libxml2.so.2",
		"go_caller":     "main.openFeed",
		"file":          path,
	}
	t.note("xmlReaderForFile(%q) returns NULL (no such file); xmlTextReaderSetErrorHandler(NULL, ...) loads reader->ctxt (offset 0x20) as its first access, with no NULL check", path)
	t.write(outdir)
	openFeed(path)
}

//go:noinline
func openFeed(path string) int {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	r := C.xmlReaderForFile(p, nil, 0)
	// the bug: r is not checked
	C.xmlTextReaderSetErrorHandler(r, C.xmlTextReaderErrorFunc(C.xmlcrashReaderError), nil)
	n := 0
	for C.xmlTextReaderRead(r) == 1 {
		n++
	}
	C.xmlFreeTextReader(r)
	return n
}
