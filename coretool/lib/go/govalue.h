/* Rendering a Go value of a DWARF type from memory into struct out (text or
 * JSON), by its reflect kind (DW_AT_go_kind): integers, floats, bool, strings
 * (bounded, invalid UTF-8 escaped), pointers/unsafe.Pointer/chan/func as
 * "0x..." strings (uintptr too in text; a number in JSON, as Go's reflect and
 * the samples' ground truth see it), structs as objects keyed by field name, arrays as
 * arrays, slices as {len, cap, ptr}, interfaces as {type, data}, maps as
 * {map, count}. Recursion depth and element counts are bounded.
 *
 * JSON is the canonical form the samples' ground truth uses; text is Go-like
 * (`{A: 1, B: "x"}`, `[1 2 3]`, `map[0x...] len 3`), on one line. */
#ifndef CT_GOVALUE_H
#define CT_GOVALUE_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>

#include "ct_error.h"
#include "goruntime.h"
#include "mem.h"
#include "out.h"

struct gomap_ctx;
struct govalue;

struct govalue_opts {
	unsigned max_depth;   /* nesting of structs/arrays/interfaces (default 8) */
	uint64_t max_string;  /* bytes of a string shown (default 1 MiB) */
	uint64_t max_elems;   /* array elements shown (default 1024) */
};

/* A renderer: the runtime model, the map context (for nested maps' counts)
 * and a lazily built index from runtime type descriptors to DWARF types (for
 * the dynamic types of interfaces). map_ctx may be NULL. */
struct ct_error *govalue_create(const struct go_rt *rt, const struct gomap_ctx *map_ctx,
				const struct govalue_opts *opts, struct govalue **ret);
void govalue_destroy(struct govalue *gv); /* NULL allowed */

/* Renders the value of `type` at addr as one JSON value or one text item.
 * Memory that cannot be read is rendered in place ({"error": ...} in JSON,
 * <not saved in core> in text) and counted; the function itself fails only
 * for out-of-memory. *unreadable (may be NULL) gets how many reads failed. */
struct ct_error *govalue_render(struct govalue *gv, struct out *o, Dwarf_Die *type, uint64_t addr,
				uint64_t *unreadable);
/* The same as one text item in a string of its own (free it), as Go writes
 * the value: "big", 42, main.K{...}. NULL when out of memory. */
char *govalue_text(struct govalue *gv, Dwarf_Die *type, uint64_t addr);

/* The Go kind of a type: the first DW_AT_go_kind along its typedef chain (Go
 * puts it on the named typedef: "interface {}" is a runtime.eface struct
 * underneath), else guessed from the DWARF tag; -1 if unknown. *under gets the
 * type with typedefs peeled. */
int govalue_kind(Dwarf_Die *type, Dwarf_Die *under);

/* The Go type name of a DWARF type ("main.Key", "map[string]int", "*int"). */
const char *govalue_type_name(Dwarf_Die *type);

/* The DWARF type whose runtime type descriptor is at addr (load bias applied),
 * as interfaces hold them; false if none. */
bool govalue_type_of_rtype(struct govalue *gv, uint64_t rtype, Dwarf_Die *ret);
/* An interface value (eface or iface) at addr, st its DWARF struct (typedefs
 * peeled): the dynamic type and where the dynamic value is (the data word
 * itself for pointer-shaped types, else what it points at). MEM_UNMAPPED also
 * for a struct that is not an interface. */
struct govalue_iface {
	bool nil;
	uint64_t rtype, data;
	bool known;          /* type is valid */
	Dwarf_Die type;
	uint64_t value_addr;
};
enum mem_status govalue_iface(struct govalue *gv, Dwarf_Die *st, uint64_t addr,
			      struct govalue_iface *ret);
/* The same from the interface's two words (a value gdb has in registers):
 * *direct says the data word is the value (value_addr is then 0). False if
 * st is not an interface. */
bool govalue_iface_words(struct govalue *gv, Dwarf_Die *st, uint64_t tword, uint64_t data,
			 struct govalue_iface *ret, bool *direct);
/* The runtime's own name of the type descriptor at rtype ("*main.T"); false
 * if unreadable. */
bool govalue_rtype_name(struct govalue *gv, uint64_t rtype, char *buf, size_t cap);


#endif
