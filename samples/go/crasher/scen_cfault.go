package main

// #include "crasher.h"
import "C"

import "unsafe"

// c-null-field-far: C reads e->refs (offset 0x493e0, far beyond the first 64 KiB) through a
// NULL struct pointer: SIGSEGV at 0x493e0, not in the null page.
func scenarioCNullFieldFar(outdir string) {
	off := uintptr(unsafe.Offsetof(C.struct_entry{}.refs))
	if off != 0x493e0 {
		die("c-null-field-far: offsetof(struct entry, refs) = %#x", off)
	}
	if C.addr_mapped(C.uintptr_t(off)) != 0 {
		warn("c-null-field-far: %s is mapped", hexp(off))
	}
	t := newTruth("c-null-field-far")
	t.add(Addr{Addr: hexp(off), What: "fault address: &((struct entry *)NULL)->refs", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "plain"}})
	t.Crash = map[string]any{
		"class":        "null-deref",
		"signal":       "SIGSEGV",
		"core_signal":  "SIGABRT",
		"fault_addr":   hexp(off),
		"pointer":      "0x0",
		"field_offset": off,
		"access":       "read",
		"c_function":   "entry_refs",
		"go_caller":    "main.readEntryRefs",
	}
	t.write(outdir)
	readEntryRefs(nil)
}

//go:noinline
func readEntryRefs(e *C.struct_entry) int64 { return int64(C.entry_refs(e)) }

// c-noncanonical: Go keeps a tagged handle to a live C object (the pointer with 0xdead in its
// top 16 bits) and C dereferences the handle as a pointer. The effective address is
// non-canonical: the CPU raises #GP, which the kernel reports as SIGSEGV with si_code
// SI_KERNEL and si_addr 0: the fault address comes from the instruction and its registers.
func scenarioCNonCanonical(outdir string) {
	p := C.obj_alloc()
	if uintptr(p)>>47 != 0 {
		warn("c-noncanonical: %s is not a low user address", hexp(uintptr(p)))
	}
	h := uintptr(p) | uintptr(C.HANDLE_TAG)
	off := uintptr(unsafe.Offsetof(C.struct_obj{}.val))
	csize := (*(*uintptr)(unsafe.Add(p, -8))) &^ 7
	t := newTruth("c-noncanonical")
	t.add(Addr{Addr: hexp(uintptr(p)), What: "the live C object behind the handle", Region: "c-heap", State: "allocated",
		Detail: map[string]any{"arena": "main", "chunk": hexp(uintptr(p) - 16), "chunk_size": csize, "user_size": 64, "mmapped": false}})
	t.add(Addr{Addr: hexp(h), What: "the tagged handle (pointer | 0xdead << 48)", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "non-canonical"}})
	t.add(Addr{Addr: hexp(h + off), What: "effective address: &((struct obj *)handle)->val", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "non-canonical"}})
	t.Crash = map[string]any{
		"class":         "wild-pointer",
		"signal":        "SIGSEGV",
		"core_signal":   "SIGABRT",
		"fault_addr":    hexp(h + off),
		"addr_source":   "instruction",
		"non_canonical": true,
		"pointer":       hexp(h),
		"field_offset":  off,
		"access":        "read",
		"c_function":    "handle_read",
		"go_caller":     "main.readHandle",
	}
	t.Notes = append(t.Notes, "a non-canonical access raises #GP: the kernel's siginfo has si_code SI_KERNEL (0x80) and si_addr 0; fault_addr is the instruction's effective address")
	t.write(outdir)
	readHandle(h)
}

//go:noinline
func readHandle(h uintptr) int64 { return int64(C.handle_read(C.uintptr_t(h))) }
