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

// docs holds the program's parsed documents by name.
var docs map[string]*C.xmlDoc

// signatureLen: the catalog's signature attribute value. Its text node's content is one
// malloc of signatureLen+1 bytes: > 128 KiB, an mmapped chunk that free() munmaps.
const signatureLen = 256 * 1024

// entries before the root's attribute is freed: xmlFreeDoc frees, in document order, every
// entry's attribute (its text node, 0x80 chunk, then the xmlAttr, 0x70) and the entry
// (0x80). 8 entries are 8 frees of 0x70 and 16 of 0x80 chunks: whatever the state of the
// main thread's tcache before, its 0x70 and 0x80 bins are full (7) afterwards, so the root's
// attribute, its text node and the root go to fastbins, which only overwrite a chunk's
// first word (_private): the node type in the second word survives the free.
const catalogEntries = 8

var cSignature = xstr("signature") // allocated before anything is freed

func catalogXML(sigLen int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<catalog signature="%s">`, blob(sigLen))
	for i := 0; i < catalogEntries; i++ {
		fmt.Fprintf(&b, `<entry id="e%02d"/>`, i)
	}
	b.WriteString(`</catalog>`)
	return b.String()
}

// doc-map-uaf: reloadCatalog frees the old document before it knows whether the new one
// parsed; the new one is malformed, and the map keeps the freed document. Later
// catalogSignature reads the catalog's signature attribute through the map: xmlGetProp walks
// the freed root element and its freed attribute to the attribute's text, whose content
// free() unmapped: xmlStrdup reads its first byte and faults.
func caseDocMapUAF(outdir string) {
	docs = map[string]*C.xmlDoc{}
	docs["settings"] = mustParse("settings.xml", `<settings><log level="info"/><cache size="64"/></settings>`)
	docs["catalog"] = mustParse("catalog.xml", catalogXML(signatureLen))
	docs["users"] = mustParse("users.xml", `<users><user name="ann"/><user name="bob"/></users>`)

	doc := docs["catalog"]
	root := doc.children
	if root == nil || root._type != xmlElementNode || gostr(root.name) != "catalog" || root.next != nil {
		die("doc-map-uaf: unexpected catalog tree")
	}
	attr := root.properties
	if attr == nil || gostr(attr.name) != "signature" || attr.next != nil {
		die("doc-map-uaf: unexpected catalog attributes")
	}
	text := attr.children
	if text == nil || text._type != xmlTextNode || text.next != nil {
		die("doc-map-uaf: unexpected signature value node")
	}
	content := text.content
	cc := chunkOf(unsafePtr(content))
	if !cc.mmapped || C.xmlStrlen(content) != signatureLen {
		die("doc-map-uaf: signature content %#x is not one mmapped chunk of %d bytes (size %#x, mmapped %v)", ptr(content), signatureLen, cc.size, cc.mmapped)
	}
	broken := "<catalog><entry id=\"e00\"></catalog>" // the "new" catalog: malformed

	t := newTruth("doc-map-uaf")
	t.Maps = append(t.Maps, mapTruth("main.docs", docs))
	holder := map[string]any{"map": "main.docs", "key": "catalog"}
	dd := chunkOf(unsafePtr(doc)).detail()
	dd["holder"] = holder
	t.add(Addr{Addr: hexp(ptr(doc)), What: "the catalog xmlDoc (freed by reloadCatalog, still in main.docs)", Region: "c-heap", State: "free", Detail: dd})
	rd := chunkOf(unsafePtr(root)).detail()
	rd["bin"] = "fastbin"
	t.add(Addr{Addr: hexp(ptr(root)), What: "root element <catalog> (freed)", Region: "c-heap", State: "free", Detail: rd})
	ad := chunkOf(unsafePtr(attr)).detail()
	ad["bin"] = "fastbin"
	t.add(Addr{Addr: hexp(ptr(attr)), What: "attribute signature of <catalog> (freed xmlAttr)", Region: "c-heap", State: "free", Detail: ad})
	td := chunkOf(unsafePtr(text)).detail()
	td["bin"] = "fastbin"
	t.add(Addr{Addr: hexp(ptr(text)), What: "text node of the signature value (freed)", Region: "c-heap", State: "free", Detail: td})
	t.add(Addr{Addr: hexp(ptr(content)), What: "signature value: the text node's content, 256 KiB, munmapped by xmlFreeDoc", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "plain", "munmapped_chunk": true, "chunk": hexp(cc.user - 16), "chunk_size": cc.size}})
	for _, k := range []string{"settings", "users"} {
		d := chunkOf(unsafePtr(docs[k])).detail()
		d["holder"] = map[string]any{"map": "main.docs", "key": k}
		t.add(Addr{Addr: hexp(ptr(docs[k])), What: "xmlDoc " + k + " (live)", Region: "c-heap", State: "allocated", Detail: d})
	}
	t.Crash = map[string]any{
		"class":         "c-use-after-free",
		"signal":        "SIGSEGV",
		"core_signal":   "SIGABRT",
		"access":        "read",
		"fault_addr":    hexp(ptr(content)),
		"pointer":       hexp(ptr(doc)),
		"object_region": "c-heap",
		"object_state":  "free",
		"holder":        holder,
		"lib_call":      "xmlGetProp",
		"lib_function":  "xmlStrdup",
		"fault_object":  "libxml2.so.2",
		"go_caller":     "main.catalogSignature",
		"stale_chain":   []string{"doc->children", "root->properties", "attr->children", "text->content"},
	}
	t.note("pointer is the xmlDoc the map still holds; xmlGetProp follows doc->children (xmlDocGetRootElement) -> root->properties -> attr->children -> text->content, all freed; the read of the content's first byte (xmlStrdup, called by xmlGetProp's internal xmlGetPropNodeValueInternal) faults at fault_addr")
	t.note("root, attribute and text node are freed into fastbins (the entries fill the 0x70/0x80 tcache bins first), so their type fields survive and libxml2 takes the same path as on the live tree; the attribute's name lives in the freed document's dictionary pool, whose string bytes free() does not touch")
	t.write(outdir)

	reloadCatalog(broken)

	// what the program can see of the freed tree (still mapped, except the content)
	if doc.children != root || root._type != xmlElementNode || root.properties != attr ||
		attr._type != xmlAttributeNode || attr.children != text || gostr(attr.name) != "signature" ||
		text._type != xmlTextNode || text.next != nil || text.content != content {
		warn("doc-map-uaf: the freed tree changed (root type %d, attr type %d, text type %d)", root._type, attr._type, text._type)
	}
	if mapped(ptr(content)) {
		warn("doc-map-uaf: the signature content %#x is mapped again", ptr(content))
	}
	fmt.Println("signature:", catalogSignature("catalog"))
}

// reloadCatalog replaces the catalog document. The bug: the old one is freed before the new
// one is known to be good, and on a parse error the map keeps the freed one.
//
//go:noinline
func reloadCatalog(text string) {
	fresh := parseXML("catalog.xml", text, C.XML_PARSE_NOERROR|C.XML_PARSE_NOWARNING)
	C.xmlFreeDoc(docs["catalog"])
	if fresh == nil {
		return
	}
	docs["catalog"] = fresh
}

//go:noinline
func catalogSignature(name string) int {
	doc := docs[name]
	root := C.xmlDocGetRootElement(doc)
	v := C.xmlGetProp(root, cSignature)
	n := int(C.xmlStrlen(v))
	C.xc_xmlFree(unsafePtr(v))
	return n
}
