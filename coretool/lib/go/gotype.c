/* Go type facts from DWARF for front ends: see gotype.h. */
#define _GNU_SOURCE
#include "gotype.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dw.h"
#include "goruntime.h"

/* reflect.Kind.String(), go1.22-go1.27 src/reflect/type.go kindNames. */
static const char *const gotype_kinds[] = {
	"invalid", "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16",
	"uint32", "uint64", "uintptr", "float32", "float64", "complex64", "complex128", "array",
	"chan", "func", "interface", "map", "ptr", "slice", "string", "struct", "unsafe.Pointer",
};

const char *gotype_kind_name(int kind)
{
	if (kind < 0 || (size_t)kind >= sizeof(gotype_kinds) / sizeof(gotype_kinds[0]))
		return "invalid";
	return gotype_kinds[kind];
}

static bool gotype_attr_die(Dwarf_Die *die, unsigned name, Dwarf_Die *ret)
{
	Dwarf_Attribute a;
	return dwarf_attr(die, name, &a) && dwarf_formref_die(&a, ret);
}

static const char *gotype_name(Dwarf_Die *d)
{
	const char *n = dwarf_diename(d);
	return n ? n : "?";
}

/* Whether a Go type name is a defined type's (main.Header, int, error,
 * pkg.List[int]) rather than a type literal (map[...]..., []T, *T, [N]T,
 * struct {...}, func(...), chan T, interface {...}). */
static bool gotype_is_named(const char *n)
{
	static const char *const literals[] = { "map[", "[", "*", "struct {", "struct{", "func(",
						"chan ", "chan<-", "<-chan", "interface {",
						"interface{" };
	for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++)
		if (!strncmp(n, literals[i], strlen(literals[i])))
			return false;
	return n[0] != 0 && n[0] != '?';
}

struct ct_error *gotype_info_from_die(const struct gomap_ctx *ctx, Dwarf_Die *type,
				      struct gotype_info *ret)
{
	Dwarf_Die d = *type, t;
	memset(ret, 0, sizeof(*ret));
	/* Go emits a second typedef for some types ("error" -> "error") that has
	 * no Go kind: follow those to the DIE that has one. Bounded. */
	for (int i = 0; i < 8 && dw_go_kind(&d) < 0 && dwarf_tag(&d) == DW_TAG_typedef; i++)
		if (!dw_type_of(&d, &d))
			break;
	ret->name = gotype_name(type);
	ret->kind = dw_go_kind(&d);
	/* Go's unsafe.Pointer is a pointer type to nothing, without a Go kind
	 * (a universe type: the compiler writes it by hand). */
	if (ret->kind < 0 && dwarf_tag(&d) == DW_TAG_pointer_type && !dwarf_hasattr(&d, DW_AT_type))
		ret->kind = GO_KIND_UNSAFE_POINTER;
	ret->kind_name = ret->kind < 0 ? "" : gotype_kind_name(ret->kind);
	ret->named = ret->kind >= 0 && gotype_is_named(ret->name);
	ret->map_impl = GO_MAP_UNKNOWN;
	if (!dw_size(&d, &ret->size))
		ret->size = 0;
	char *u = ret->underlying;
	size_t ucap = sizeof(ret->underlying);
	Dwarf_Die k, e;
	switch (ret->kind) {
	case GO_KIND_MAP: {
		if (gotype_attr_die(&d, DW_AT_go_key, &k) && gotype_attr_die(&d, DW_AT_go_elem, &e)) {
			ret->key = gotype_name(&k);
			ret->elem = gotype_name(&e);
			snprintf(u, ucap, "map[%s]%s", ret->key, ret->elem);
		}
		struct gomap_type mt;
		struct ct_error *err = ctx ? gomap_type_from_die(ctx, &d, &mt) : NULL;
		if (err) {
			snprintf(ret->map_error, sizeof(ret->map_error), "%s", err->msg ? err->msg : "?");
			ct_error_destroy(err);
		} else if (ctx) {
			ret->map_impl = mt.impl;
			ret->key_size = mt.key_size;
			ret->elem_size = mt.elem_size;
			ret->key_indirect = mt.key_indirect;
			ret->elem_indirect = mt.elem_indirect;
		}
		break;
	}
	case GO_KIND_SLICE:
		if (gotype_attr_die(&d, DW_AT_go_elem, &e)) {
			ret->elem = gotype_name(&e);
			snprintf(u, ucap, "[]%s", ret->elem);
		}
		break;
	case GO_KIND_CHAN:
		/* DWARF does not record a channel's direction: the literal name does. */
		if (gotype_attr_die(&d, DW_AT_go_elem, &e)) {
			ret->elem = gotype_name(&e);
			snprintf(u, ucap, "chan %s", ret->elem);
		}
		break;
	case GO_KIND_ARRAY: {
		uint64_t esize;
		if (dw_array(&d, &e, &esize, &ret->len)) {
			ret->elem = gotype_name(&e);
			snprintf(u, ucap, "[%" PRIu64 "]%s", ret->len, ret->elem);
		}
		break;
	}
	case GO_KIND_POINTER:
		if (dw_peel(&d, &t) && dwarf_tag(&t) == DW_TAG_pointer_type && dw_type_of(&t, &e)) {
			ret->elem = gotype_name(&e);
			snprintf(u, ucap, "*%s", ret->elem);
		}
		break;
	case GO_KIND_INTERFACE:
		/* cmd/link/internal/ld/dwarf.go: an interface is a typedef of
		 * runtime.eface (no methods) or runtime.iface. */
		if (dw_type_of(&d, &t) && !strcmp(gotype_name(&t), "runtime.eface")) {
			ret->kind_name = "eface";
			snprintf(u, ucap, "interface {}");
		} else {
			ret->kind_name = "iface";
		}
		break;
	case GO_KIND_STRUCT:
	case GO_KIND_FUNC:
		break; /* the fields or signature are not spelled out here */
	default:
		if (ret->kind > 0)
			snprintf(u, ucap, "%s", gotype_kind_name(ret->kind));
		break;
	}
	/* A type literal is its own underlying type. */
	if (ret->kind >= 0 && !ret->named)
		snprintf(u, ucap, "%s", ret->name);
	return NULL;
}

struct ct_error *gotype_info_by_name(const struct gomap_ctx *ctx, const struct dw *dw,
				     const char *name, struct gotype_info *ret)
{
	Dwarf_Die d;
	if (!name || !dw_type(dw, name, &d))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF has no type %s", name ? name : "(null)");
	return gotype_info_from_die(ctx, &d, ret);
}
