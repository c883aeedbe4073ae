package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"strings"
	"unsafe"
)

// libxml2 node types (tree.h)
const (
	xmlElementNode   = 1
	xmlAttributeNode = 2
	xmlTextNode      = 3
)

// parseXML parses text with xmlReadMemory (a copy: the library keeps nothing of ours).
func parseXML(url, text string, options C.int) *C.xmlDoc {
	buf := C.CString(text)
	defer C.free(unsafe.Pointer(buf))
	u := C.CString(url)
	defer C.free(unsafe.Pointer(u))
	return C.xmlReadMemory(buf, C.int(len(text)), u, nil, options)
}

func mustParse(url, text string) *C.xmlDoc {
	d := parseXML(url, text, 0)
	if d == nil {
		die("cannot parse %s", url)
	}
	return d
}

// xstr is a C copy of s as an xmlChar string (never freed: the cases allocate the strings
// they pass to libxml2 before they free anything).
func xstr(s string) *C.xmlChar { return (*C.xmlChar)(unsafe.Pointer(C.CString(s))) }

func gostr(s *C.xmlChar) string { return C.GoString((*C.char)(unsafe.Pointer(s))) }

func ptr[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

// child returns the first child element of n called name.
func child(n *C.xmlNode, name string) *C.xmlNode {
	for c := n.children; c != nil; c = c.next {
		if c._type == xmlElementNode && gostr(c.name) == name {
			return c
		}
	}
	return nil
}

// blob is n characters of base64-looking text, in lines-free form (the parser hands long runs
// of plain characters to SAX2 in one piece).
func blob(n int) string {
	const a = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk"
	var b strings.Builder
	b.Grow(n)
	for b.Len() < n {
		b.WriteString(a)
	}
	return b.String()[:n]
}

// ---- glibc chunks, as the program sees them from their user pointer ----

type chunk struct {
	user    uintptr
	size    uint64 // chunk size (header included), flags masked
	mmapped bool   // IS_MMAPPED: its own mapping, which free() munmaps
}

func chunkOf(p unsafe.Pointer) chunk {
	h := *(*uint64)(unsafe.Add(p, -8))
	return chunk{user: uintptr(p), size: h &^ 7, mmapped: h&2 != 0}
}

// detail for a c-heap address of truth.json
func (c chunk) detail() map[string]any {
	d := map[string]any{"arena": "main", "chunk": hexp(c.user - 16), "chunk_size": c.size, "mmapped": c.mmapped}
	return d
}

// mapped reports whether the page of addr is mapped (mincore).
func mapped(addr uintptr) bool { return C.xc_mapped(C.uintptr_t(addr)) == 1 }

// word reads the 8 bytes at p (freed C memory that is still mapped, or a freed Go object).
func word(p uintptr, off uintptr) uint64 { return *(*uint64)(unsafe.Pointer(p + off)) }

// tcacheKey is glibc's tcache_key (2.34+: random per process; tcache_put stores it in the
// second word of every chunk it puts in a tcache bin). Read from a chunk of a size class
// nothing else in the program uses, just freed: it sits in its (empty) tcache bin.
func tcacheKey() uint64 {
	p := C.malloc(0x3c8) // chunk 0x3d0
	C.free(p)
	return *(*uint64)(unsafe.Add(p, 8))
}

func unsafePtr[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }
