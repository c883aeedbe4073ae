package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"strings"
)

// bioLen: the <bio> text, one malloc of bioLen+1 bytes: an mmapped chunk, munmapped at free.
const bioLen = 192 * 1024

// fieldRef is one entry of the profile index: a path and the text node that holds its value.
type fieldRef struct {
	path string
	node *C.xmlNode
}

// fieldIndex caches the text nodes of the open profile, for fast lookups.
var fieldIndex []fieldRef

var profile *C.xmlDoc

// scratch is the reusable buffer fieldValue reads node contents into.
var scratch *C.xmlBuffer

// profile fields before <bio>: each is an element and its text node (two 0x80 chunks) that
// xmlFreeDoc frees before bio's text node; 5 fields are 10 frees, so the 0x80 tcache bin is
// full when the bio text node is freed: it goes to a fastbin and keeps its type field.
var profileFields = []struct{ name, value string }{
	{"name", "Ann Example"}, {"email", "ann@example.org"}, {"phone", "+1 555 0100"},
	{"city", "Springfield"}, {"country", "Freedonia"},
}

// stale-node-slice: the global slice fieldIndex keeps *C.xmlNode pointers to the text nodes
// of a profile document; closeProfile frees the document but not the index. fieldValue
// later reads the bio through the stale text node: xmlNodeBufGetContent appends its content,
// which free() unmapped, and xmlStrlen faults on its first byte.
func caseStaleNodeSlice(outdir string) {
	var b strings.Builder
	b.WriteString("<profile>")
	for _, f := range profileFields {
		fmt.Fprintf(&b, "<%s>%s</%s>", f.name, f.value, f.name)
	}
	fmt.Fprintf(&b, "<bio>%s</bio></profile>", blob(bioLen))
	profile = mustParse("profile.xml", b.String())
	scratch = C.xmlBufferCreate()
	root := C.xmlDocGetRootElement(profile)
	for c := root.children; c != nil; c = c.next {
		if c._type == xmlElementNode && c.children != nil && c.children._type == xmlTextNode {
			fieldIndex = append(fieldIndex, fieldRef{"/profile/" + gostr(c.name), c.children})
		}
	}
	bioIdx := len(fieldIndex) - 1
	if len(fieldIndex) != len(profileFields)+1 || fieldIndex[bioIdx].path != "/profile/bio" {
		die("stale-node-slice: unexpected profile tree")
	}
	bio := fieldIndex[bioIdx].node
	content := bio.content
	cc := chunkOf(unsafePtr(content))
	if !cc.mmapped || C.xmlStrlen(content) != bioLen {
		die("stale-node-slice: bio content %#x is not one mmapped chunk (size %#x)", ptr(content), cc.size)
	}

	t := newTruth("stale-node-slice")
	holder := map[string]any{"global": "main.fieldIndex", "index": bioIdx, "field": "node", "path": "/profile/bio"}
	d := chunkOf(unsafePtr(bio)).detail()
	d["bin"] = "fastbin"
	d["holder"] = holder
	t.add(Addr{Addr: hexp(ptr(bio)), What: "text node of <bio> (freed with the document, still in main.fieldIndex)", Region: "c-heap", State: "free", Detail: d})
	t.add(Addr{Addr: hexp(ptr(content)), What: "content of the bio text node, 192 KiB, munmapped by xmlFreeDoc", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "plain", "munmapped_chunk": true, "chunk": hexp(cc.user - 16), "chunk_size": cc.size}})
	for i, f := range fieldIndex[:bioIdx] {
		fd := chunkOf(unsafePtr(f.node)).detail()
		fd["holder"] = map[string]any{"global": "main.fieldIndex", "index": i, "field": "node", "path": f.path}
		t.add(Addr{Addr: hexp(ptr(f.node)), What: "text node of " + f.path + " (freed)", Region: "c-heap", State: "free", Detail: fd})
	}
	t.add(Addr{Addr: hexp(ptr(profile)), What: "the profile xmlDoc (freed)", Region: "c-heap", State: "free", Detail: chunkOf(unsafePtr(profile)).detail()})
	t.add(Addr{Addr: hexp(ptr(scratch)), What: "main.scratch, the xmlBuffer read into (live)", Region: "c-heap", State: "allocated",
		Detail: map[string]any{"arena": "main", "holder": map[string]any{"global": "main.scratch"}}})
	t.Crash = map[string]any{
		"class":         "c-use-after-free",
		"signal":        "SIGSEGV",
		"core_signal":   "SIGABRT",
		"access":        "read",
		"fault_addr":    hexp(ptr(content)),
		"pointer":       hexp(ptr(bio)),
		"object_region": "c-heap",
		"object_state":  "free",
		"holder":        holder,
		"lib_call":      "xmlNodeBufGetContent",
		"lib_function":  "xmlStrlen",
		"fault_object":  "libxml2.so.2",
		"go_caller":     "main.fieldValue",
	}
	t.note("pointer is the freed text node main.fieldIndex[%d].node; xmlNodeBufGetContent -> xmlBufGetNodeContent -> xmlBufCat -> xmlBufAdd -> xmlStrlen(node->content) reads the first byte of the munmapped content", bioIdx)
	t.write(outdir)

	closeProfile()

	if bio._type != xmlTextNode || bio.content != content {
		warn("stale-node-slice: the freed bio node changed (type %d)", bio._type)
	}
	if mapped(ptr(content)) {
		warn("stale-node-slice: the bio content %#x is mapped again", ptr(content))
	}
	fmt.Println(len(fieldValue("/profile/bio")))
}

// closeProfile frees the profile. The bug: fieldIndex still holds its nodes.
//
//go:noinline
func closeProfile() {
	C.xmlFreeDoc(profile)
	profile = nil
}

//go:noinline
func fieldValue(path string) string {
	for _, f := range fieldIndex {
		if f.path == path {
			C.xmlBufferEmpty(scratch)
			C.xmlNodeBufGetContent(scratch, f.node)
			return C.GoStringN((*C.char)(unsafePtr(C.xmlBufferContent(scratch))), C.xmlBufferLength(scratch))
		}
	}
	return ""
}
