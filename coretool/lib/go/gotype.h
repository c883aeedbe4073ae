/* What a Go type is, by its DWARF name: its reflect kind (DW_AT_go_kind), size,
 * whether it is a defined (named) type and what its underlying type is, and
 * for maps, slices, arrays, channels and pointers the types it is made of.
 * Front ends (the gdb printers) ask this instead of guessing from the name:
 * `type Header map[string][]string` is a map though its name is main.Header. */
#ifndef CT_GOTYPE_H
#define CT_GOTYPE_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>

#include "ct_error.h"
#include "gomap.h"

struct gotype_info {
	int kind;              /* reflect.Kind (GO_KIND_*); -1: the DIE has no Go kind (C) */
	const char *kind_name; /* reflect's name ("map", "slice", "ptr", ...); interfaces:
				* "iface" (with methods) or "eface" (interface {}) */
	const char *name;      /* as DWARF names it; owned by libdw */
	bool named;            /* a defined type: main.Header, time.Duration, int */
	char underlying[256];  /* the underlying type's name ("map[string][]string");
				* "" when DWARF cannot say (a named struct's fields) */
	uint64_t size;         /* of a value (a map or pointer: 8) */
	const char *key, *elem; /* map K and V; slice/array/chan/pointer element; or NULL */
	uint64_t len;          /* arrays: the element count */
	/* maps: the layout's implementation and slot facts (gomap_type) */
	enum go_map_impl map_impl;
	uint64_t key_size, elem_size;
	bool key_indirect, elem_indirect;
	char map_error[160];   /* the map's layout could not be read: why (map_impl unknown) */
};

/* The type named `name` in the DWARF (typedefs without a Go kind are followed
 * to the type they name). CT_ERR_NOTFOUND if the DWARF has no such type. */
struct ct_error *gotype_info_by_name(const struct gomap_ctx *ctx, const struct dw *dw,
				     const char *name, struct gotype_info *ret);
/* The same for a type DIE. */
struct ct_error *gotype_info_from_die(const struct gomap_ctx *ctx, Dwarf_Die *type,
				      struct gotype_info *ret);
/* reflect.Kind.String() of a kind ("map"); "invalid" when out of range. */
const char *gotype_kind_name(int kind);

#endif
