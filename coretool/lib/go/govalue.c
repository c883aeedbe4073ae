/* Rendering Go values from memory by their DWARF types. */
#define _GNU_SOURCE
#include "govalue.h"
#include "ct_util.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap.h"
#include "mem.h"

struct govalue {
	const struct go_rt *rt;
	const struct gomap_ctx *mctx;
	struct govalue_opts opts;
	uint64_t unreadable;
	/* runtime type descriptor address -> DWARF DIE offset (DW_AT_go_runtime_type) */
	bool rtypes_built;
	uint64_t *rt_keys;
	Dwarf_Off *rt_vals;
	size_t rt_cap;
	/* reading a runtime type's name: moduledata.types and abi.Type.{Str,TFlag} */
	bool names_init, names_ok;
	uint64_t types_base, str_off, tflag_off;
	unsigned extra_star;
	/* the last nested map type, to avoid redoing its layout per entry */
	Dwarf_Off map_off;
	struct gomap_type map_type;
	bool map_type_ok;
	char *buf; /* string bytes, max_string */
	/* What a type DIE resolves to (kind, peeled DIE, size), by DIE offset: a
	 * map dump renders the same two types a million times. */
	struct gv_type_cache {
		Dwarf_Off off;
		int kind;
		Dwarf_Die under;
		uint64_t size;
		bool valid;
	} tcache[64];
};

/* govalue_kind() and dw_size() of a type, remembered. */
static int gv_type(struct govalue *gv, Dwarf_Die *type, Dwarf_Die *under, uint64_t *size)
{
	Dwarf_Off off = dwarf_dieoffset(type);
	struct gv_type_cache *c = &gv->tcache[(off ^ (off >> 6)) & 63];
	if (!c->valid || c->off != off) {
		c->off = off;
		c->kind = govalue_kind(type, &c->under);
		c->size = 0;
		dw_size(&c->under, &c->size);
		c->valid = true;
	}
	*under = c->under;
	*size = c->size;
	return c->kind;
}

struct ct_error *govalue_create(const struct go_rt *rt, const struct gomap_ctx *map_ctx,
				const struct govalue_opts *opts, struct govalue **ret)
{
	struct govalue *gv = calloc(1, sizeof(*gv));
	if (!gv)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	gv->rt = rt;
	gv->mctx = map_ctx;
	gv->opts = (struct govalue_opts){ 8, 1 << 20, 1024 };
	if (opts) {
		if (opts->max_depth)
			gv->opts.max_depth = opts->max_depth;
		if (opts->max_string)
			gv->opts.max_string = opts->max_string;
		if (opts->max_elems)
			gv->opts.max_elems = opts->max_elems;
	}
	gv->buf = malloc(gv->opts.max_string);
	if (!gv->buf) {
		free(gv);
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	}
	*ret = gv;
	return NULL;
}

void govalue_destroy(struct govalue *gv)
{
	if (!gv)
		return;
	free(gv->rt_keys);
	free(gv->rt_vals);
	free(gv->buf);
	free(gv);
}

/* ---- runtime type index ---- */

static void rt_insert(struct govalue *gv, uint64_t addr, Dwarf_Off off)
{
	size_t j = ct_hash_slot(addr, gv->rt_cap);
	while (gv->rt_keys[j] && gv->rt_keys[j] != addr)
		j = (j + 1) & (gv->rt_cap - 1);
	if (gv->rt_keys[j])
		return; /* first DIE wins: a typedef with the kind comes before its aliases */
	gv->rt_keys[j] = addr;
	gv->rt_vals[j] = off;
}

struct rt_build {
	struct govalue *gv;
	size_t n;
	bool count_only, nomem;
};

static bool rt_visit(const struct dw_entry *e, void *arg)
{
	struct rt_build *b = arg;
	Dwarf_Die d;
	Dwarf_Attribute a;
	Dwarf_Addr addr;
	switch (e->tag) {
	case DW_TAG_structure_type: case DW_TAG_base_type: case DW_TAG_typedef:
	case DW_TAG_pointer_type: case DW_TAG_array_type: case DW_TAG_subroutine_type:
		break;
	default:
		return true;
	}
	if (!dwarf_offdie(b->gv->rt->dw->dbg, e->off, &d) ||
	    !dwarf_attr(&d, DW_AT_go_runtime_type, &a) || dwarf_formaddr(&a, &addr) != 0 || !addr)
		return true;
	/* Go's linker writes DW_AT_go_runtime_type as an offset into the type
	 * data (cmd/link/internal/ld/dwarf.go, DW_CLS_GO_TYPEREF: a section
	 * offset), i.e. relative to moduledata.types. */
	if (b->count_only)
		b->n++;
	else
		rt_insert(b->gv, addr + b->gv->types_base, e->off);
	return true;
}

/* moduledata.types and the abi.Type fields that name a type (go1.21+
 * src/internal/abi/type.go; runtime._type before). */
static void rt_names_init(struct govalue *gv)
{
	const struct dw *dw = gv->rt->dw;
	Dwarf_Die t;
	uint64_t md, off;
	int64_t v;
	struct ct_error *err;
	gv->names_init = true;
	gv->extra_star = 2; /* internal/abi.TFlagExtraStar, go1.21-go1.27 src/internal/abi/type.go */
	if (!(err = dw_const(dw, "internal/abi.TFlagExtraStar", &v)))
		gv->extra_star = (unsigned)v;
	ct_error_destroy(err);
	if ((err = go_var_addr(gv->rt, "runtime.firstmoduledata", &md))) {
		ct_error_destroy(err);
		return;
	}
	if ((err = dw_member_offset(dw, "runtime.moduledata", "types", &off)) ||
	    (err = mem_read_u64(gv->rt->mem, md + off, &gv->types_base, NULL))) {
		ct_error_destroy(err);
		return;
	}
	if (dw_type(dw, "internal/abi.Type", &t))
		gv->names_ok = dw_member(&t, "Str", &gv->str_off, NULL) &&
			       dw_member(&t, "TFlag", &gv->tflag_off, NULL);
	else if (dw_type(dw, "runtime._type", &t))
		gv->names_ok = dw_member(&t, "str", &gv->str_off, NULL) &&
			       dw_member(&t, "tflag", &gv->tflag_off, NULL);
}

/* The name the runtime gives the type at rtype ("int", "main.Key", "*main.T"):
 * abi.Type.Str is a nameOff from moduledata.types to an abi.Name (a flags byte,
 * a uvarint length, the bytes). */
static bool rt_name(struct govalue *gv, uint64_t rtype, char *buf, size_t cap)
{
	unsigned char hdr[16], tf;
	unsigned char s4[4];
	if (!gv->names_init)
		rt_names_init(gv);
	if (!gv->names_ok || cap < 2)
		return false;
	if (mem_read(gv->rt->mem, rtype + gv->str_off, s4, 4) != MEM_OK ||
	    mem_read(gv->rt->mem, rtype + gv->tflag_off, &tf, 1) != MEM_OK)
		return false;
	int32_t off = (int32_t)mem_load(s4, 4);
	uint64_t name = gv->types_base + (int64_t)off;
	if (mem_read(gv->rt->mem, name, hdr, sizeof(hdr)) != MEM_OK &&
	    mem_read(gv->rt->mem, name, hdr, 4) != MEM_OK)
		return false;
	uint64_t len = 0;
	unsigned i = 1, shift = 0;
	for (; i < 11; i++, shift += 7) {
		len |= (uint64_t)(hdr[i] & 0x7f) << shift;
		if (!(hdr[i] & 0x80))
			break;
	}
	if (i >= 11 || len == 0 || len >= cap)
		return false;
	if (mem_read(gv->rt->mem, name + i + 1, buf, len) != MEM_OK)
		return false;
	buf[len] = 0;
	if ((tf & gv->extra_star) && buf[0] == '*')
		memmove(buf, buf + 1, len);
	return true;
}

static void rt_build(struct govalue *gv)
{
	gv->rtypes_built = true;
	if (!gv->names_init)
		rt_names_init(gv);
	struct rt_build b = { gv, 0, true, false };
	dw_foreach(gv->rt->dw, 0, rt_visit, &b);
	size_t cap = 64;
	while (cap < 2 * b.n + 2)
		cap *= 2;
	gv->rt_keys = calloc(cap, sizeof(*gv->rt_keys));
	gv->rt_vals = calloc(cap, sizeof(*gv->rt_vals));
	if (!gv->rt_keys || !gv->rt_vals) {
		free(gv->rt_keys);
		free(gv->rt_vals);
		gv->rt_keys = NULL;
		gv->rt_vals = NULL;
		return;
	}
	gv->rt_cap = cap;
	b.count_only = false;
	dw_foreach(gv->rt->dw, 0, rt_visit, &b);
}

bool govalue_type_of_rtype(struct govalue *gv, uint64_t rtype, Dwarf_Die *ret)
{
	char name[256];
	if (!gv->rtypes_built)
		rt_build(gv);
	if (!rtype)
		return false;
	if (gv->rt_cap) {
		size_t j = ct_hash_slot(rtype, gv->rt_cap);
		for (; gv->rt_keys[j]; j = (j + 1) & (gv->rt_cap - 1))
			if (gv->rt_keys[j] == rtype)
				return dwarf_offdie(gv->rt->dw->dbg, gv->rt_vals[j], ret) != NULL;
	}
	/* Base types carry no DW_AT_go_runtime_type: look them up by the runtime's
	 * own name for the type (which for named types of packages outside main may
	 * be the short package name, and then not match). */
	return rt_name(gv, rtype, name, sizeof(name)) && dw_type(gv->rt->dw, name, ret);
}

/* ---- kinds ---- */

/* The Go kind of a type: the first DW_AT_go_kind along its typedef chain (Go
 * puts the kind on the named typedef: "interface {}" -> runtime.eface is a
 * struct underneath), else guessed from the DWARF tag. *under gets the type
 * with typedefs peeled. */
int govalue_kind(Dwarf_Die *type, Dwarf_Die *under)
{
	Dwarf_Die cur = *type;
	int kind = -1;
	*under = cur;
	for (int i = 0; i < 16; i++) {
		int k = dw_go_kind(&cur);
		if (k > 0 && kind < 0)
			kind = k;
		int tag = dwarf_tag(&cur);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type)
			break;
		if (!dw_type_of(&cur, &cur))
			return -1; /* a typedef of nothing (Go's unsafe.Pointer alias, damage) */
	}
	*under = cur;
	if (kind > 0)
		return kind;
	switch (dwarf_tag(&cur)) {
	case DW_TAG_pointer_type: return GO_KIND_POINTER;
	case DW_TAG_structure_type: return GO_KIND_STRUCT;
	case DW_TAG_array_type: return GO_KIND_ARRAY;
	case DW_TAG_subroutine_type: return GO_KIND_FUNC;
	case DW_TAG_base_type: {
		Dwarf_Attribute a;
		Dwarf_Word enc = 0;
		uint64_t size = 0;
		if (dwarf_attr(&cur, DW_AT_encoding, &a) && dwarf_formudata(&a, &enc) != 0)
			enc = 0;
		dw_size(&cur, &size);
		switch (enc) {
		case DW_ATE_boolean: return GO_KIND_BOOL;
		case DW_ATE_float: return size == 4 ? GO_KIND_FLOAT32 : GO_KIND_FLOAT64;
		case DW_ATE_complex_float: return size == 8 ? GO_KIND_COMPLEX64 : GO_KIND_COMPLEX128;
		case DW_ATE_signed: return size == 1 ? GO_KIND_INT8 : size == 2 ? GO_KIND_INT16 :
				     size == 4 ? GO_KIND_INT32 : GO_KIND_INT64;
		case DW_ATE_unsigned: return size == 1 ? GO_KIND_UINT8 : size == 2 ? GO_KIND_UINT16 :
				       size == 4 ? GO_KIND_UINT32 : GO_KIND_UINT64;
		}
		return -1;
	}
	}
	return -1;
}

const char *govalue_type_name(Dwarf_Die *type)
{
	const char *n = dwarf_diename(type);
	return n ? n : "?";
}


/* cmd/compile/internal/types.IsDirectIface: an interface holds values of these
 * types in its data word itself rather than a pointer to them. */
static bool gv_direct_iface(Dwarf_Die *type, int depth)
{
	Dwarf_Die u, sub, child;
	if (depth > 8)
		return false;
	int kind = govalue_kind(type, &u);
	switch (kind) {
	case GO_KIND_POINTER: case GO_KIND_CHAN: case GO_KIND_MAP: case GO_KIND_FUNC:
	case GO_KIND_UNSAFE_POINTER:
		return true;
	case GO_KIND_ARRAY: {
		uint64_t es, n;
		return dw_array(&u, &sub, &es, &n) && n == 1 && gv_direct_iface(&sub, depth + 1);
	}
	case GO_KIND_STRUCT: {
		int n = 0;
		bool direct = false;
		if (dwarf_child(&u, &child) != 0)
			return false;
		do {
			if (dwarf_tag(&child) != DW_TAG_member)
				continue;
			n++;
			direct = dw_type_of(&child, &sub) && gv_direct_iface(&sub, depth + 1);
		} while (dwarf_siblingof(&child, &child) == 0);
		return n == 1 && direct;
	}
	}
	return false;
}

/* ---- output helpers: JSON through struct out, text straight to the FILE ---- */

struct gv_frame {
	bool first;
};

static void gv_sep(struct out *o, struct gv_frame *fr, const char *sep)
{
	if (!o->json && !fr->first)
		fputs(sep, o->f);
	fr->first = false;
}

static void gv_key(struct out *o, struct gv_frame *fr, const char *key)
{
	if (o->json) {
		out_key(o, key);
		return;
	}
	gv_sep(o, fr, ", ");
	fprintf(o->f, "%s: ", key);
}

static void gv_hex(struct out *o, uint64_t v)
{
	if (o->json)
		out_hex(o, v);
	else
		fprintf(o->f, "0x%" PRIx64, v);
}

static void gv_err(struct govalue *gv, struct out *o, enum mem_status st, uint64_t addr)
{
	const char *why = st == MEM_NOT_SAVED ? "not saved in core" : "unmapped";
	gv->unreadable++;
	if (o->json) {
		char msg[80];
		snprintf(msg, sizeof(msg), "%s at 0x%" PRIx64, why, addr);
		out_obj_begin(o);
		out_kstr(o, "error", msg);
		out_obj_end(o);
	} else {
		fprintf(o->f, "<%s 0x%" PRIx64 ">", why, addr);
	}
}

static void gv_note(struct out *o, const char *s)
{
	if (o->json)
		out_str(o, s);
	else
		fprintf(o->f, "<%s>", s);
}

/* The shortest decimal that reads back as the same float32 (Go's
 * strconv.FormatFloat(f, 'g', -1, 32)), as a double for out_double. */
static double gv_float32(float f)
{
	char b[32];
	for (int p = 1; p <= 9; p++) {
		snprintf(b, sizeof(b), "%.*g", p, (double)f);
		if (strtof(b, NULL) == f)
			return strtod(b, NULL);
	}
	return f;
}

static void gv_double(struct out *o, double d, bool is32)
{
	if (o->json) {
		out_double(o, d);
		return;
	}
	char b[40];
	for (int p = 1; p <= 17; p++) {
		snprintf(b, sizeof(b), "%.*g", p, d);
		if (is32 ? strtof(b, NULL) == (float)d : strtod(b, NULL) == d)
			break;
	}
	fputs(b, o->f);
}

static void gv_value(struct govalue *gv, struct out *o, Dwarf_Die *type, uint64_t addr,
		     unsigned depth);

static void gv_string(struct govalue *gv, struct out *o, uint64_t addr)
{
	unsigned char hdr[16];
	enum mem_status st = mem_read(gv->rt->mem, addr, hdr, 16);
	if (st != MEM_OK) {
		gv_err(gv, o, st, addr);
		return;
	}
	uint64_t p = mem_load(hdr + gv->rt->string_ptr_off, 8);
	uint64_t n = mem_load(hdr + gv->rt->string_len_off, 8);
	uint64_t want = n < gv->opts.max_string ? n : gv->opts.max_string;
	if (want && (st = mem_read(gv->rt->mem, p, gv->buf, want)) != MEM_OK) {
		gv_err(gv, o, st, p);
		return;
	}
	if (o->json)
		out_strn(o, gv->buf, want);
	else
		out_text_quoted(o->f, gv->buf, want);
	if (want < n && !o->json)
		fprintf(o->f, "...(%" PRIu64 " bytes)", n);
}

static void gv_struct(struct govalue *gv, struct out *o, Dwarf_Die *st, uint64_t addr,
		      unsigned depth)
{
	Dwarf_Die child, sub;
	struct gv_frame fr = { true };
	if (o->json)
		out_obj_begin(o);
	else
		fputc('{', o->f);
	struct dw_members it;
	const char *name;
	uint64_t off;
	dw_members_begin(st, &it);
	while (dw_members_next(&it, &child, &name, &off)) {
		if (!dw_type_of(&child, &sub))
			continue;
		gv_key(o, &fr, name);
		gv_value(gv, o, &sub, addr + off, depth + 1);
	}
	if (o->json)
		out_obj_end(o);
	else
		fputc('}', o->f);
}

static void gv_array_value(struct govalue *gv, struct out *o, Dwarf_Die *arr, uint64_t addr,
			   unsigned depth)
{
	Dwarf_Die elem;
	uint64_t esize, n;
	struct gv_frame fr = { true };
	if (!dw_array(arr, &elem, &esize, &n)) {
		gv_note(o, "array of unknown layout");
		return;
	}
	if (o->json)
		out_arr_begin(o);
	else
		fputc('[', o->f);
	uint64_t shown = n < gv->opts.max_elems ? n : gv->opts.max_elems;
	for (uint64_t i = 0; i < shown; i++) {
		gv_sep(o, &fr, " ");
		gv_value(gv, o, &elem, addr + i * esize, depth + 1);
	}
	if (shown < n) {
		char b[64];
		snprintf(b, sizeof(b), "... %" PRIu64 " more", n - shown);
		gv_sep(o, &fr, " ");
		gv_note(o, b);
	}
	if (o->json)
		out_arr_end(o);
	else
		fputc(']', o->f);
}

static void gv_slice(struct govalue *gv, struct out *o, Dwarf_Die *st, uint64_t addr)
{
	uint64_t aoff = 0, loff = 8, coff = 16;
	unsigned char b[24];
	dw_member(st, "array", &aoff, NULL);
	dw_member(st, "len", &loff, NULL);
	dw_member(st, "cap", &coff, NULL);
	if (aoff > 16 || loff > 16 || coff > 16) {
		gv_note(o, "slice of unknown layout");
		return;
	}
	enum mem_status s = mem_read(gv->rt->mem, addr, b, 24);
	if (s != MEM_OK) {
		gv_err(gv, o, s, addr);
		return;
	}
	uint64_t p = mem_load(b + aoff, 8), len = mem_load(b + loff, 8), cap = mem_load(b + coff, 8);
	if (o->json) {
		out_obj_begin(o);
		out_kuint(o, "len", len);
		out_kuint(o, "cap", cap);
		out_khex(o, "ptr", p);
		out_obj_end(o);
	} else {
		fprintf(o->f, "[]{len %" PRIu64 ", cap %" PRIu64 ", ptr 0x%" PRIx64 "}", len, cap, p);
	}
}

static void gv_map(struct govalue *gv, struct out *o, Dwarf_Die *type, uint64_t addr)
{
	uint64_t p;
	enum mem_status s;
	unsigned char b[8];
	if ((s = mem_read(gv->rt->mem, addr, b, 8)) != MEM_OK) {
		gv_err(gv, o, s, addr);
		return;
	}
	p = mem_load(b, 8);
	uint64_t count = 0;
	bool count_ok = p == 0;
	if (p && gv->mctx) {
		Dwarf_Off off = dwarf_dieoffset(type);
		if (!gv->map_type_ok || gv->map_off != off) {
			struct ct_error *err = gomap_type_from_die(gv->mctx, type, &gv->map_type);
			gv->map_type_ok = !err;
			gv->map_off = off;
			ct_error_destroy(err);
		}
		struct gomap m;
		struct ct_error *err = gv->map_type_ok ? gomap_read(gv->mctx, &gv->map_type, p, &m) : NULL;
		if (gv->map_type_ok && !err) {
			count = m.count;
			count_ok = true;
		}
		if (err)
			gv->unreadable++;
		ct_error_destroy(err);
	}
	if (o->json) {
		out_obj_begin(o);
		out_khex(o, "map", p);
		out_key(o, "count");
		count_ok ? out_uint(o, count) : out_null(o);
		out_obj_end(o);
	} else if (count_ok) {
		fprintf(o->f, "map[0x%" PRIx64 "] len %" PRIu64, p, count);
	} else {
		fprintf(o->f, "map[0x%" PRIx64 "] len ?", p);
	}
}

static void gv_iface_words(struct govalue *gv, Dwarf_Die *st, bool eface, uint64_t tword,
			   uint64_t data, struct govalue_iface *ret);

enum mem_status govalue_iface(struct govalue *gv, Dwarf_Die *st, uint64_t addr,
			      struct govalue_iface *ret)
{
	uint64_t toff, doff;
	memset(ret, 0, sizeof(*ret));
	bool eface = dw_member(st, "_type", &toff, NULL);
	if (!eface && !dw_member(st, "tab", &toff, NULL))
		return MEM_UNMAPPED;
	if (!dw_member(st, "data", &doff, NULL))
		doff = 8;
	if (toff > 8 || doff > 8)
		return MEM_UNMAPPED;
	unsigned char b[16];
	enum mem_status s = mem_read(gv->rt->mem, addr, b, 16);
	if (s != MEM_OK)
		return s;
	gv_iface_words(gv, st, eface, mem_load(b + toff, 8), mem_load(b + doff, 8), ret);
	/* A pointer-shaped dynamic value is the data word itself; others are behind it. */
	ret->value_addr = ret->known && gv_direct_iface(&ret->type, 0) ? addr + doff : ret->data;
	return MEM_OK;
}

/* The dynamic type of an interface from its two words (the type or itab
 * word and the data word). */
static void gv_iface_words(struct govalue *gv, Dwarf_Die *st, bool eface, uint64_t tword,
			   uint64_t data, struct govalue_iface *ret)
{
	ret->data = data;
	ret->nil = tword == 0;
	if (ret->nil)
		return;
	ret->rtype = tword;
	if (!eface) {
		/* iface: tab is an *itab whose type field (runtime.itab._type up to 1.21,
		 * internal/abi.ITab.Type since) is the dynamic type. */
		Dwarf_Die tm, tp, it;
		uint64_t off;
		unsigned char tb[8];
		if (!dw_member(st, "tab", NULL, &tm) || !dw_type_of(&tm, &tp) || !dw_peel(&tp, &tp) ||
		    !dw_type_of(&tp, &it) ||
		    (!dw_member(&it, "Type", &off, NULL) && !dw_member(&it, "_type", &off, NULL)) ||
		    mem_read(gv->rt->mem, tword + off, tb, 8) != MEM_OK) /* no error object to leak */
			ret->rtype = 0;
		else
			ret->rtype = mem_load(tb, 8);
	}
	ret->known = ret->rtype && govalue_type_of_rtype(gv, ret->rtype, &ret->type);
}

bool govalue_iface_words(struct govalue *gv, Dwarf_Die *st, uint64_t tword, uint64_t data,
			 struct govalue_iface *ret, bool *direct)
{
	memset(ret, 0, sizeof(*ret));
	bool eface = dw_member(st, "_type", NULL, NULL);
	if (!eface && !dw_member(st, "tab", NULL, NULL))
		return false;
	gv_iface_words(gv, st, eface, tword, data, ret);
	*direct = ret->known && gv_direct_iface(&ret->type, 0);
	ret->value_addr = *direct ? 0 : ret->data;
	return true;
}

bool govalue_rtype_name(struct govalue *gv, uint64_t rtype, char *buf, size_t cap)
{
	return rtype && rt_name(gv, rtype, buf, cap);
}

static void gv_interface(struct govalue *gv, struct out *o, Dwarf_Die *st, uint64_t addr,
			 unsigned depth)
{
	struct govalue_iface fi;
	enum mem_status s = govalue_iface(gv, st, addr, &fi);
	if (s != MEM_OK) {
		if (!dw_member(st, "_type", NULL, NULL) && !dw_member(st, "tab", NULL, NULL))
			gv_note(o, "interface of unknown layout");
		else
			gv_err(gv, o, s, addr);
		return;
	}
	if (fi.nil) {
		if (o->json)
			out_null(o);
		else
			fputs("nil", o->f);
		return;
	}
	struct gv_frame fr = { true };
	if (o->json)
		out_obj_begin(o);
	else
		fputc('{', o->f);
	char rname[256];
	const char *tname = fi.known ? govalue_type_name(&fi.type) :
			    rt_name(gv, fi.rtype, rname, sizeof(rname)) ? rname : NULL;
	gv_key(o, &fr, "type");
	if (tname) {
		if (o->json)
			out_str(o, tname);
		else
			fputs(tname, o->f);
	} else {
		gv_hex(o, fi.rtype);
	}
	gv_key(o, &fr, "data");
	gv_hex(o, fi.data);
	if (fi.known && depth < gv->opts.max_depth) {
		gv_key(o, &fr, "value");
		gv_value(gv, o, &fi.type, fi.value_addr, depth + 1);
	}
	if (o->json)
		out_obj_end(o);
	else
		fputc('}', o->f);
}

static void gv_value(struct govalue *gv, struct out *o, Dwarf_Die *type, uint64_t addr,
		     unsigned depth)
{
	Dwarf_Die u;
	unsigned char b[16];
	enum mem_status s;
	uint64_t size = 0;
	if (depth > gv->opts.max_depth) {
		gv_note(o, "...");
		return;
	}
	int kind = gv_type(gv, type, &u, &size);
	switch (kind) {
	case GO_KIND_BOOL:
	case GO_KIND_INT: case GO_KIND_INT8: case GO_KIND_INT16: case GO_KIND_INT32: case GO_KIND_INT64:
	case GO_KIND_UINT: case GO_KIND_UINT8: case GO_KIND_UINT16: case GO_KIND_UINT32:
	case GO_KIND_UINT64: case GO_KIND_UINTPTR:
	case GO_KIND_FLOAT32: case GO_KIND_FLOAT64:
	case GO_KIND_COMPLEX64: case GO_KIND_COMPLEX128:
	case GO_KIND_POINTER: case GO_KIND_UNSAFE_POINTER: case GO_KIND_CHAN: case GO_KIND_FUNC:
		if (size == 0 || size > 16 || (size & (size - 1))) {
			if (kind == GO_KIND_POINTER || kind == GO_KIND_CHAN || kind == GO_KIND_FUNC ||
			    kind == GO_KIND_UNSAFE_POINTER)
				size = 8;
			else {
				gv_note(o, "scalar of unknown size");
				return;
			}
		}
		if ((s = mem_read(gv->rt->mem, addr, b, size)) != MEM_OK) {
			gv_err(gv, o, s, addr);
			return;
		}
		break;
	}
	switch (kind) {
	case GO_KIND_BOOL:
		if (o->json)
			out_bool(o, b[0] != 0);
		else
			fputs(b[0] ? "true" : "false", o->f);
		return;
	case GO_KIND_INT: case GO_KIND_INT8: case GO_KIND_INT16: case GO_KIND_INT32:
	case GO_KIND_INT64: {
		uint64_t v = mem_load(b, size);
		if (size < 8 && (v >> (size * 8 - 1)) & 1)
			v |= ~(uint64_t)0 << (size * 8);
		if (o->json)
			out_int(o, (int64_t)v);
		else
			fprintf(o->f, "%" PRId64, (int64_t)v);
		return;
	}
	case GO_KIND_UINT: case GO_KIND_UINT8: case GO_KIND_UINT16: case GO_KIND_UINT32:
	case GO_KIND_UINT64:
		if (o->json)
			out_uint(o, mem_load(b, size));
		else
			fprintf(o->f, "%" PRIu64, mem_load(b, size));
		return;
	case GO_KIND_UINTPTR:
		/* An integer to Go (reflect's Uint), and a number in the canonical JSON
		 * the samples record; people read it as the address it usually is. */
		if (o->json)
			out_uint(o, mem_load(b, 8));
		else
			fprintf(o->f, "0x%" PRIx64, mem_load(b, 8));
		return;
	case GO_KIND_POINTER: case GO_KIND_UNSAFE_POINTER:
	case GO_KIND_CHAN: case GO_KIND_FUNC:
		gv_hex(o, mem_load(b, 8));
		return;
	case GO_KIND_FLOAT32: case GO_KIND_FLOAT64:
	case GO_KIND_COMPLEX64: case GO_KIND_COMPLEX128: {
		double re, im = 0;
		bool is32 = kind == GO_KIND_FLOAT32 || kind == GO_KIND_COMPLEX64;
		if (is32) {
			float f[2];
			memcpy(f, b, size);
			re = gv_float32(f[0]);
			if (kind == GO_KIND_COMPLEX64)
				im = gv_float32(f[1]);
		} else {
			double d[2];
			memcpy(d, b, size);
			re = d[0];
			if (kind == GO_KIND_COMPLEX128)
				im = d[1];
		}
		if (kind == GO_KIND_FLOAT32 || kind == GO_KIND_FLOAT64) {
			gv_double(o, re, is32);
		} else if (o->json) {
			out_obj_begin(o);
			out_key(o, "real");
			out_double(o, re);
			out_key(o, "imag");
			out_double(o, im);
			out_obj_end(o);
		} else {
			fputc('(', o->f);
			gv_double(o, re, is32);
			if (im >= 0)
				fputc('+', o->f);
			gv_double(o, im, is32);
			fputs("i)", o->f);
		}
		return;
	}
	case GO_KIND_STRING:
		gv_string(gv, o, addr);
		return;
	case GO_KIND_ARRAY:
		if (dwarf_tag(&u) == DW_TAG_array_type) {
			gv_array_value(gv, o, &u, addr, depth);
			return;
		}
		break;
	case GO_KIND_STRUCT:
		if (dwarf_tag(&u) == DW_TAG_structure_type) {
			gv_struct(gv, o, &u, addr, depth);
			return;
		}
		break;
	case GO_KIND_SLICE:
		gv_slice(gv, o, &u, addr);
		return;
	case GO_KIND_INTERFACE:
		gv_interface(gv, o, &u, addr, depth);
		return;
	case GO_KIND_MAP:
		/* the kind sits on the typedef map[K]V: walk back to it for the layout */
		{
			Dwarf_Die cur = *type;
			for (int i = 0; i < 16 && dw_go_kind(&cur) != GO_KIND_MAP; i++)
				if (!dw_type_of(&cur, &cur))
					break;
			gv_map(gv, o, &cur, addr);
		}
		return;
	}
	gv_note(o, "value of unknown type");
}

struct ct_error *govalue_render(struct govalue *gv, struct out *o, Dwarf_Die *type, uint64_t addr,
				uint64_t *unreadable)
{
	gv->unreadable = 0;
	gv_value(gv, o, type, addr, 0);
	if (unreadable)
		*unreadable = gv->unreadable;
	return NULL;
}

char *govalue_text(struct govalue *gv, Dwarf_Die *type, uint64_t addr)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	struct out o;
	out_init(&o, f, false);
	ct_error_destroy(govalue_render(gv, &o, type, addr, NULL));
	fclose(f);
	return text;
}
