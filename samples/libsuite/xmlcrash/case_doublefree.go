package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
)

// tokenLen: the token's text, one malloc of tokenLen+1 bytes (chunk 0x270), a size class
// the rest of the program does not use: its tcache bin has room when the text is freed.
const tokenLen = 600

const tokenChunk = (tokenLen + 1 + 8 + 15) &^ 15 // 0x270

var session *C.xmlDoc

// node-double-free: revokeToken frees the <token> element with xmlFreeNode but does not
// unlink it first (xmlUnlinkNode), so <session> still points to it. closeSession's
// xmlFreeDoc walks the tree, reaches the freed token and its freed text node, and frees the
// text's content a second time: glibc aborts ("free(): double free detected in tcache 2").
func caseNodeDoubleFree(outdir string) {
	session = mustParse("session.xml", fmt.Sprintf(`<session><token>%s</token><user>ann</user><expires>3600</expires></session>`, blob(tokenLen)))
	root := C.xmlDocGetRootElement(session)
	tok := child(root, "token")
	if tok == nil || root.children != tok || tok.children == nil || tok.children._type != xmlTextNode || tok.children.next != nil {
		die("node-double-free: unexpected session tree")
	}
	text := tok.children
	content := text.content
	cc := chunkOf(unsafePtr(content))
	if cc.mmapped || cc.size != tokenChunk || C.xmlStrlen(content) != tokenLen {
		die("node-double-free: token content %#x: chunk size %#x mmapped %v (want one %#x chunk)", ptr(content), cc.size, cc.mmapped, tokenChunk)
	}
	key := tcacheKey()

	const abortMsg = "free(): double free detected in tcache 2"
	t := newTruth("node-double-free")
	d := cc.detail()
	d["bin"] = "tcache"
	d["user_size"] = tokenLen + 1
	t.add(Addr{Addr: hexp(ptr(content)), What: "content of the token's text node: freed by xmlFreeNode, then again by xmlFreeDoc", Region: "c-heap", State: "free", Detail: d})
	t.add(Addr{Addr: hexp(ptr(tok)), What: "<token> element, freed by xmlFreeNode while still linked", Region: "c-heap", State: "free", Detail: chunkOf(unsafePtr(tok)).detail()})
	t.add(Addr{Addr: hexp(ptr(text)), What: "the token's text node, freed by xmlFreeNode", Region: "c-heap", State: "free", Detail: chunkOf(unsafePtr(text)).detail()})
	sd := chunkOf(unsafePtr(session)).detail()
	sd["holder"] = map[string]any{"global": "main.session"}
	t.add(Addr{Addr: hexp(ptr(session)), What: "the session xmlDoc (being freed at the abort)", Region: "c-heap", State: "allocated", Detail: sd})
	t.Crash = map[string]any{
		"class":         "double-free",
		"signal":        "SIGABRT",
		"core_signal":   "SIGABRT",
		"abort_msg":     abortMsg,
		"freed_ptr":     hexp(ptr(content)),
		"pointer":       hexp(ptr(content)),
		"object_region": "c-heap",
		"object_state":  "free",
		"lib_call":      "xmlFreeDoc",
		"lib_function":  "xmlFreeNodeList",
		"fault_object":  "libc.so.6",
		"go_caller":     "main.closeSession",
		"first_free":    map[string]any{"lib_call": "xmlFreeNode", "go_caller": "main.revokeToken"},
	}
	t.note("the second free() is called by xmlFreeNodeList (exported), which xmlFreeDoc calls on the document's children; glibc's tcache double-free check finds the chunk in its bin and aborts: free -> _int_free -> malloc_printerr -> abort (Go's handler catches the SIGABRT and re-raises it)")
	t.note("the token element and its text node are freed chunks too; xmlFreeNodeList reads their children/content fields, which free() does not overwrite (only the first two words)")
	t.write(outdir)

	revokeToken(session)

	if k := word(ptr(content), 8); k != key {
		warn("node-double-free: the token content %#x is not in a tcache bin after the first free (key %#x, tcache key %#x): glibc will report another message than %q", ptr(content), k, key, abortMsg)
	}
	if tok.children != text || text.content != content {
		warn("node-double-free: the freed token/text nodes changed")
	}
	closeSession()
}

// revokeToken drops the session token. The bug: xmlFreeNode without xmlUnlinkNode.
//
//go:noinline
func revokeToken(doc *C.xmlDoc) {
	root := C.xmlDocGetRootElement(doc)
	tok := child(root, "token")
	C.xmlFreeNode(tok)
}

//go:noinline
func closeSession() {
	C.xmlFreeDoc(session)
	session = nil
}
