package main

// #include "crasher.h"
import "C"

import "unsafe"

// freedChunk: a C chunk of the main arena that free() put into the (empty) tcache bin of
// its size at the crash.
func freedChunk(p unsafe.Pointer, req int, what string) Addr {
	csize := (*(*uintptr)(unsafe.Add(p, -8))) &^ 7
	return Addr{Addr: hexp(uintptr(p)), What: what, Region: "c-heap", State: "free",
		Detail: map[string]any{"arena": "main", "bin": "tcache", "chunk": hexp(uintptr(p) - 16), "chunk_size": csize, "user_size": req, "mmapped": false}}
}

// safeLink is what glibc (2.32+) stores at offset 0 of a chunk freed into an empty tcache
// bin: PROTECT_PTR(&e->next, NULL) = &e->next >> 12, e being the user pointer.
func safeLink(p unsafe.Pointer) uintptr { return uintptr(p) >> 12 }

// lowReason: the unmapped reason of an address below the non-PIE image (0x400000), where
// nothing is mapped: null-page below 64 KiB, plain above. The brk heap starts after the
// image's bss at a random offset of up to 32 MiB (x86_64 kernels before 6.9) or 1 GiB (6.9
// and later), so p >> 12 is below 0x10000 only when the heap is below 256 MiB.
func lowReason(a uintptr) string {
	if a < 0x10000 {
		return "null-page"
	}
	return "plain"
}

// c-freelist-small: C frees a node, then reads n->next->val through the stale n. The next
// field now holds tcache's link, n >> 12 (a small number, below the non-PIE image at
// 0x400000: the brk heap is below 16 GiB): SIGSEGV at (n >> 12) + 8.
func scenarioCFreelistSmall(outdir string) {
	n := C.node_alloc()
	np := unsafe.Pointer(n)
	link := safeLink(np)
	off := uintptr(unsafe.Offsetof(C.struct_node{}.val))
	t := newTruth("c-freelist-small")
	t.add(freedChunk(np, C.NODE_REQ, "the freed node (tcache), read through a stale pointer"))
	t.add(Addr{Addr: hexp(link + off), What: "fault address: &((struct node *)(n >> 12))->val", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": lowReason(link + off)}})
	t.Crash = map[string]any{
		"class":        "c-use-after-free",
		"signal":       "SIGSEGV",
		"core_signal":  "SIGABRT",
		"fault_addr":   hexp(link + off),
		"pointer":      hexp(link),
		"loaded_from":  hexp(uintptr(np)),
		"object":       hexp(uintptr(np)),
		"field_offset": off,
		"access":       "read",
		"c_function":   "node_next_val",
		"go_caller":    "main.readFreedNode",
	}
	t.Notes = append(t.Notes, "pointer is the safe-linked tcache next pointer free() wrote at offset 0 of the node: PROTECT_PTR(n, NULL) = n >> 12 (the bin was empty; C checks the word after the free)")
	t.write(outdir)
	readFreedNode(n)
}

//go:noinline
func readFreedNode(n *C.struct_node) { C.node_release_and_read(n) }

// c-freelist-key: C frees a node2, then reads n->peer->val through the stale n. peer (offset
// 8) now holds glibc's random tcache_key, non-canonical: #GP, si_code SI_KERNEL, si_addr 0.
// The key is not knowable before the free: the truth has no fault_addr or pointer.
func scenarioCFreelistKey(outdir string) {
	n := C.node2_alloc()
	np := unsafe.Pointer(n)
	peerOff := uintptr(unsafe.Offsetof(C.struct_node2{}.peer))
	valOff := uintptr(unsafe.Offsetof(C.struct_node2{}.val))
	t := newTruth("c-freelist-key")
	t.add(freedChunk(np, C.NODE2_REQ, "the freed node2 (tcache), read through a stale pointer"))
	t.Crash = map[string]any{
		"class":         "c-use-after-free",
		"signal":        "SIGSEGV",
		"core_signal":   "SIGABRT",
		"addr_source":   "instruction",
		"non_canonical": true,
		"loaded_from":   hexp(uintptr(np) + peerOff),
		"object":        hexp(uintptr(np)),
		"field_offset":  valOff,
		"access":        "read",
		"c_function":    "node2_peer_val",
		"go_caller":     "main.readFreedPeer",
	}
	t.Notes = append(t.Notes, "the pointer used is glibc's tcache_key, which free() wrote at offset 8 of the node (loaded_from); it is random and unknown before the free (C prints it to stderr afterwards), so fault_addr is not recorded: the kernel's si_addr is 0 (#GP)")
	t.write(outdir)
	readFreedPeer(n)
}

//go:noinline
func readFreedPeer(n *C.struct_node2) { C.node2_release_and_read(n) }

// c-call-freed-fnptr: C frees a handler, then calls h->fn() through the stale h. fn (offset
// 0) now holds tcache's link h >> 12 (below the image, unmapped): the CPU jumps there and
// faults fetching the instruction: SIGSEGV with si_addr = pc = h >> 12.
func scenarioCCallFreedFnptr(outdir string) {
	h := C.handler_alloc()
	hp := unsafe.Pointer(h)
	link := safeLink(hp)
	t := newTruth("c-call-freed-fnptr")
	t.add(freedChunk(hp, C.HANDLER_REQ, "the freed handler (tcache), called through a stale pointer"))
	t.add(Addr{Addr: hexp(link), What: "fault address = pc: the handler's fn after free (h >> 12)", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": lowReason(link)}})
	t.Crash = map[string]any{
		"class":       "c-use-after-free",
		"signal":      "SIGSEGV",
		"core_signal": "SIGABRT",
		"fault_addr":  hexp(link),
		"pointer":     hexp(link),
		"loaded_from": hexp(uintptr(hp)),
		"object":      hexp(uintptr(hp)),
		"access":      "call",
		"c_function":  "handler_invoke",
		"go_caller":   "main.callFreedHandler",
	}
	t.Notes = append(t.Notes, "fault_addr is also the pc; c_function is the caller of the bad function pointer (its return address is on top of the stack)")
	t.write(outdir)
	callFreedHandler(h)
}

//go:noinline
func callFreedHandler(h *C.struct_handler) { C.handler_release_and_call(h) }
