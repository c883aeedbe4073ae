/* Go maps: the context, the per-type layout from DWARF, headers and health.
 * The walks are in gomap_classic.c and gomap_swiss.c, the search for maps in
 * gomap_find.c. */
#define _GNU_SOURCE
#include "gomap.h"
#include "gomap_int.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one table of map constants, used only when the executable's DWARF does not
 * carry them (Go emits typed constants it uses; the names it used moved between
 * versions, so each value has several names to look for).
 *   classic: go1.22/go1.23 src/runtime/map.go, go1.24/go1.25 src/runtime/map_noswiss.go
 *            (emptyRest .. minTopHash, iterator .. sameSizeGrow)
 *   swiss:   go1.24-go1.27 src/internal/runtime/maps/group.go (ctrlEmpty, ctrlDeleted),
 *            table.go (maxTableCapacity), map.go (maxAvgGroupLoad) */
static const struct gomap_const_def {
	const char *names[3];
	unsigned fallback;
	size_t field;
} gomap_const_defs[] = {
	{ { "runtime.emptyRest" }, 0, offsetof(struct gomap_consts, empty_rest) },
	{ { "runtime.emptyOne" }, 1, offsetof(struct gomap_consts, empty_one) },
	{ { "runtime.evacuatedX" }, 2, offsetof(struct gomap_consts, evacuated_x) },
	{ { "runtime.evacuatedY" }, 3, offsetof(struct gomap_consts, evacuated_y) },
	{ { "runtime.evacuatedEmpty" }, 4, offsetof(struct gomap_consts, evacuated_empty) },
	{ { "runtime.minTopHash" }, 5, offsetof(struct gomap_consts, min_top_hash) },
	{ { "runtime.iterator" }, 1, offsetof(struct gomap_consts, flag_iterator) },
	{ { "runtime.oldIterator" }, 2, offsetof(struct gomap_consts, flag_old_iterator) },
	{ { "runtime.hashWriting" }, 4, offsetof(struct gomap_consts, flag_hash_writing) },
	{ { "runtime.sameSizeGrow" }, 8, offsetof(struct gomap_consts, flag_same_size_grow) },
	{ { "internal/runtime/maps.ctrlEmpty", "internal/abi.ctrlEmpty" }, 0x80,
	  offsetof(struct gomap_consts, ctrl_empty) },
	{ { "internal/runtime/maps.ctrlDeleted" }, 0xFE, offsetof(struct gomap_consts, ctrl_deleted) },
	{ { "internal/runtime/maps.maxTableCapacity" }, 1024,
	  offsetof(struct gomap_consts, max_table_capacity) },
	{ { "internal/runtime/maps.maxAvgGroupLoad" }, 7,
	  offsetof(struct gomap_consts, max_avg_group_load) },
};

void gomap_fallbacks(ct_fallback_fn fn, void *arg)
{
	for (size_t i = 0; i < sizeof(gomap_const_defs) / sizeof(gomap_const_defs[0]); i++)
		for (int j = 0; j < 3 && gomap_const_defs[i].names[j]; j++)
			fn(arg, gomap_const_defs[i].names[j], gomap_const_defs[i].fallback);
}

struct ct_error *gomap_ctx_create(const struct go_rt *rt, struct gomap_ctx **ret)
{
	struct gomap_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	ctx->rt = rt;
	ctx->dw = rt->dw;
	ctx->mem = rt->mem;
	for (size_t i = 0; i < sizeof(gomap_const_defs) / sizeof(gomap_const_defs[0]); i++) {
		const struct gomap_const_def *d = &gomap_const_defs[i];
		unsigned *field = (unsigned *)((char *)&ctx->consts + d->field);
		*field = d->fallback;
		for (int j = 0; j < 3 && d->names[j]; j++) {
			int64_t v;
			struct ct_error *err = dw_const(rt->dw, d->names[j], &v);
			if (!err) {
				/* ctrl constants are typed uint8 but some emitters sign them */
				*field = (unsigned)(v & 0xffffffffu);
				break;
			}
			ct_error_destroy(err);
		}
	}
	*ret = ctx;
	return NULL;
}

void gomap_ctx_destroy(struct gomap_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx);
}

const struct gomap_consts *gomap_ctx_consts(const struct gomap_ctx *ctx)
{
	return &ctx->consts;
}

/* ---- layout from DWARF ---- */

static bool gomap_attr_die(Dwarf_Die *die, unsigned name, Dwarf_Die *ret)
{
	Dwarf_Attribute a;
	return dwarf_attr(die, name, &a) && dwarf_formref_die(&a, ret);
}

/* A member's offset, or GOMAP_NONE when the struct does not have it. */
static uint64_t gomap_off(Dwarf_Die *st, const char *name)
{
	uint64_t off;
	return dw_member(st, name, &off, NULL) ? off : GOMAP_NONE;
}

/* The struct a pointer-typed member points at (typedefs peeled). */
static bool gomap_member_target(Dwarf_Die *st, const char *name, Dwarf_Die *ret)
{
	Dwarf_Die m, t, p;
	if (!dw_member(st, name, NULL, &m) || !dw_type_of(&m, &t) || !dw_peel(&t, &p) ||
	    dwarf_tag(&p) != DW_TAG_pointer_type || !dw_type_of(&p, &t))
		return false;
	return dw_peel(&t, ret);
}


static bool gomap_same_die(Dwarf_Die *a, Dwarf_Die *b)
{
	return dwarf_dieoffset(a) == dwarf_dieoffset(b);
}

/* Whether a slot element of DWARF type `slot` holds K directly or a pointer to
 * it: the runtime stores keys and values over 128 bytes (MapMaxKeyBytes,
 * MapMaxElemBytes; go1.22 src/runtime/map.go maxKeySize, go1.24+
 * src/internal/abi/map_swiss.go) as pointers, which the DWARF slot type shows. */
static bool gomap_indirect(Dwarf_Die *slot, Dwarf_Die *k, uint64_t ksize)
{
	Dwarf_Die p, t, kp;
	if (gomap_same_die(slot, k))
		return false;
	if (!dw_peel(slot, &p) || dwarf_tag(&p) != DW_TAG_pointer_type)
		return false;
	if (!dw_peel(k, &kp))
		return false;
	if (dwarf_tag(&kp) == DW_TAG_pointer_type && gomap_same_die(&p, &kp))
		return false; /* K is itself this pointer type */
	if (dw_type_of(&p, &t) && dw_peel(&t, &t) && gomap_same_die(&t, &kp))
		return true;
	return ksize > 8;
}

static struct ct_error *gomap_unsupported(const char *name, const char *what)
{
	return ct_error_fmt(CT_ERR_UNSUPPORTED,
			    "map type %s: unsupported DWARF layout (%s); see docs/go-runtime.md", name,
			    what);
}

static struct ct_error *gomap_type_classic(Dwarf_Die *hdr, struct gomap_type *t)
{
	Dwarf_Die bucket, tophash_m, tophash_t, keys_m, keys_t, vals_m, vals_t, kel, vel, u8;
	uint64_t u8size, nslots, ksz, vsz, nk, nv;
	t->off_count = gomap_off(hdr, "count");
	t->off_flags = gomap_off(hdr, "flags");
	t->off_B = gomap_off(hdr, "B");
	t->off_noverflow = gomap_off(hdr, "noverflow");
	t->off_hash0 = gomap_off(hdr, "hash0");
	t->off_buckets = gomap_off(hdr, "buckets");
	t->off_oldbuckets = gomap_off(hdr, "oldbuckets");
	t->off_nevacuate = gomap_off(hdr, "nevacuate");
	t->off_extra = gomap_off(hdr, "extra");
	t->off_clear_seq = gomap_off(hdr, "clearSeq");
	if (t->off_count == GOMAP_NONE || t->off_flags == GOMAP_NONE || t->off_B == GOMAP_NONE ||
	    t->off_buckets == GOMAP_NONE || t->off_oldbuckets == GOMAP_NONE ||
	    t->off_nevacuate == GOMAP_NONE)
		return gomap_unsupported(t->name, "hmap without count/flags/B/buckets/oldbuckets/nevacuate");
	if (!gomap_member_target(hdr, "buckets", &bucket))
		return gomap_unsupported(t->name, "hmap.buckets is not a typed bucket pointer");
	if (!dw_size(&bucket, &t->group_size) ||
	    !dw_member(&bucket, "tophash", &t->ctrl_off, &tophash_m) ||
	    !dw_type_of(&tophash_m, &tophash_t) || !dw_array(&tophash_t, &u8, &u8size, &nslots) ||
	    u8size != 1 || nslots == 0 || nslots > 8)
		return gomap_unsupported(t->name, "bucket without tophash [8]uint8");
	t->slots = (unsigned)nslots;
	if (!dw_member(&bucket, "keys", &t->key_base, &keys_m) || !dw_type_of(&keys_m, &keys_t) ||
	    !dw_array(&keys_t, &kel, &ksz, &nk) || nk != nslots ||
	    !dw_member(&bucket, "values", &t->elem_base, &vals_m) || !dw_type_of(&vals_m, &vals_t) ||
	    !dw_array(&vals_t, &vel, &vsz, &nv) || nv != nslots)
		return gomap_unsupported(t->name, "bucket without keys/values arrays");
	t->overflow_off = gomap_off(&bucket, "overflow");
	if (t->overflow_off == GOMAP_NONE)
		return gomap_unsupported(t->name, "bucket without overflow");
	t->key_stride = ksz;
	t->elem_stride = vsz;
	t->key_indirect = gomap_indirect(&kel, &t->key, t->key_size);
	t->elem_indirect = gomap_indirect(&vel, &t->elem, t->elem_size);
	return NULL;
}

static struct ct_error *gomap_type_swiss(Dwarf_Die *hdr, struct gomap_type *t)
{
	Dwarf_Die tabp, tab, groups_m, groups_t, group, m, mt, sel, kel, vel;
	uint64_t sz, n, slot_key, slot_elem, ksz, vsz, nk, nv;
	t->off_count = gomap_off(hdr, "used");
	t->off_seed = gomap_off(hdr, "seed");
	t->off_dir_ptr = gomap_off(hdr, "dirPtr");
	t->off_dir_len = gomap_off(hdr, "dirLen");
	t->off_global_depth = gomap_off(hdr, "globalDepth");
	t->off_global_shift = gomap_off(hdr, "globalShift");
	t->off_writing = gomap_off(hdr, "writing");
	t->off_tombstone_possible = gomap_off(hdr, "tombstonePossible");
	t->off_clear_seq = gomap_off(hdr, "clearSeq");
	if (t->off_count == GOMAP_NONE || t->off_dir_ptr == GOMAP_NONE ||
	    t->off_dir_len == GOMAP_NONE || t->off_global_depth == GOMAP_NONE)
		return gomap_unsupported(t->name, "Map without used/dirPtr/dirLen/globalDepth");
	/* dirPtr is **table<K,V>: the directory of table pointers. */
	if (!gomap_member_target(hdr, "dirPtr", &tabp) || dwarf_tag(&tabp) != DW_TAG_pointer_type ||
	    !dw_type_of(&tabp, &tab) || !dw_peel(&tab, &tab))
		return gomap_unsupported(t->name, "Map.dirPtr is not **table<K,V>");
	if (!dw_size(&tab, &t->tab_size))
		return gomap_unsupported(t->name, "table without size");
	t->tab_used = gomap_off(&tab, "used");
	t->tab_capacity = gomap_off(&tab, "capacity");
	t->tab_growth_left = gomap_off(&tab, "growthLeft");
	t->tab_local_depth = gomap_off(&tab, "localDepth");
	t->tab_index = gomap_off(&tab, "index");
	uint64_t groups_off, data_off, mask_off;
	if (t->tab_used == GOMAP_NONE || t->tab_capacity == GOMAP_NONE ||
	    t->tab_growth_left == GOMAP_NONE || t->tab_local_depth == GOMAP_NONE ||
	    t->tab_index == GOMAP_NONE || !dw_member(&tab, "groups", &groups_off, &groups_m) ||
	    !dw_type_of(&groups_m, &groups_t))
		return gomap_unsupported(t->name, "table without used/capacity/growthLeft/localDepth/index/groups");
	data_off = gomap_off(&groups_t, "data");
	mask_off = gomap_off(&groups_t, "lengthMask");
	if (data_off == GOMAP_NONE || mask_off == GOMAP_NONE ||
	    !gomap_member_target(&groups_t, "data", &group))
		return gomap_unsupported(t->name, "groupReference without typed data/lengthMask");
	t->tab_groups_data = groups_off + data_off;
	t->tab_groups_mask = groups_off + mask_off;
	if (!dw_size(&group, &t->group_size) || !dw_member(&group, "ctrl", &t->ctrl_off, &m) ||
	    !dw_type_of(&m, &mt) || !dw_size(&mt, &sz) || sz != 8)
		return gomap_unsupported(t->name, "group without an 8-byte ctrl word");
	if (dw_member(&group, "slots", &t->key_base, &m)) {
		/* slots [8]struct{key K; elem V} */
		if (!dw_type_of(&m, &mt) || !dw_array(&mt, &sel, &sz, &n) || n == 0 || n > 8 ||
		    !dw_member(&sel, "key", &slot_key, &m) || !dw_type_of(&m, &kel) ||
		    !dw_member(&sel, "elem", &slot_elem, &m) || !dw_type_of(&m, &vel))
			return gomap_unsupported(t->name, "group slots are not [8]struct{key; elem}");
		t->slots = (unsigned)n;
		t->elem_base = t->key_base + slot_elem;
		t->key_base += slot_key;
		t->key_stride = t->elem_stride = sz;
	} else if (dw_member(&group, "keys", &t->key_base, &m)) {
		/* Go 1.27 GOEXPERIMENT=mapsplitgroup: keys [8]K, elems [8]V
		 * (go1.27 src/internal/runtime/maps/group.go) */
		if (!dw_type_of(&m, &mt) || !dw_array(&mt, &kel, &ksz, &nk) || nk == 0 || nk > 8 ||
		    !dw_member(&group, "elems", &t->elem_base, &m) || !dw_type_of(&m, &mt) ||
		    !dw_array(&mt, &vel, &vsz, &nv) || nv != nk)
			return gomap_unsupported(t->name, "split group without keys/elems arrays");
		t->slots = (unsigned)nk;
		t->key_stride = ksz;
		t->elem_stride = vsz;
		t->split_group = true;
	} else {
		return gomap_unsupported(t->name, "group has neither slots nor keys/elems");
	}
	t->key_indirect = gomap_indirect(&kel, &t->key, t->key_size);
	t->elem_indirect = gomap_indirect(&vel, &t->elem, t->elem_size);
	return NULL;
}

struct ct_error *gomap_type_from_die(const struct gomap_ctx *ctx, Dwarf_Die *type,
				     struct gomap_type *ret)
{
	(void)ctx;
	struct gomap_type t;
	Dwarf_Die p, hdr;
	memset(&t, 0, sizeof(t));
	t.off_count = t.off_flags = t.off_B = t.off_noverflow = t.off_hash0 = t.off_buckets =
		t.off_oldbuckets = t.off_nevacuate = t.off_extra = t.off_clear_seq = t.off_seed =
		t.off_dir_ptr = t.off_dir_len = t.off_global_depth = t.off_global_shift =
		t.off_writing = t.off_tombstone_possible = GOMAP_NONE;
	t.overflow_off = GOMAP_NONE;
	t.map = *type;
	t.name = dwarf_diename(type);
	if (!t.name)
		t.name = "map[?]?";
	if (dw_go_kind(type) != GO_KIND_MAP)
		return ct_error_fmt(CT_ERR_USAGE, "type %s is not a Go map", t.name);
	if (!gomap_attr_die(type, DW_AT_go_key, &t.key) ||
	    !gomap_attr_die(type, DW_AT_go_elem, &t.elem) || !dw_size(&t.key, &t.key_size) ||
	    !dw_size(&t.elem, &t.elem_size))
		return gomap_unsupported(t.name, "no DW_AT_go_key/DW_AT_go_elem with sizes");
	t.key_name = dwarf_diename(&t.key) ? dwarf_diename(&t.key) : "?";
	t.elem_name = dwarf_diename(&t.elem) ? dwarf_diename(&t.elem) : "?";
	if (!dw_type_of(type, &p) || !dw_peel(&p, &p) || dwarf_tag(&p) != DW_TAG_pointer_type ||
	    !dw_type_of(&p, &hdr) || !dw_peel(&hdr, &hdr) ||
	    dwarf_tag(&hdr) != DW_TAG_structure_type)
		return gomap_unsupported(t.name, "not a pointer to a header struct");
	if (!dw_size(&hdr, &t.hdr_size))
		return gomap_unsupported(t.name, "header without size");
	struct ct_error *err;
	if (dw_member(&hdr, "buckets", NULL, NULL)) {
		t.impl = GO_MAP_CLASSIC;
		err = gomap_type_classic(&hdr, &t);
	} else if (dw_member(&hdr, "dirPtr", NULL, NULL)) {
		t.impl = GO_MAP_SWISS;
		err = gomap_type_swiss(&hdr, &t);
	} else {
		err = gomap_unsupported(t.name, "header is neither hmap nor maps.Map");
	}
	if (err)
		return err;
	if (t.key_stride == 0 || t.elem_stride > t.group_size || t.slots == 0)
		return gomap_unsupported(t.name, "zero-sized slots");
	*ret = t;
	return NULL;
}

struct ct_error *gomap_type_by_name(const struct gomap_ctx *ctx, const char *name,
				    struct gomap_type *ret)
{
	Dwarf_Die d;
	if (!dw_type(ctx->dw, name, &d))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF has no type %s", name);
	return gomap_type_from_die(ctx, &d, ret);
}

/* ---- headers ---- */

static uint64_t gomap_field(const unsigned char *buf, uint64_t bufsz, uint64_t off, size_t size)
{
	if (off == GOMAP_NONE || off + size > bufsz)
		return 0;
	return mem_load(buf + off, size);
}

struct ct_error *gomap_read(const struct gomap_ctx *ctx, const struct gomap_type *type,
			    uint64_t addr, struct gomap *ret)
{
	struct gomap m;
	unsigned char buf[256];
	memset(&m, 0, sizeof(m));
	m.type = *type;
	m.addr = addr;
	if (addr == 0) {
		*ret = m;
		return NULL;
	}
	uint64_t n = type->hdr_size;
	if (n > sizeof(buf))
		return gomap_unsupported(type->name, "header larger than 256 bytes");
	struct ct_error *err = mem_read_err(ctx->mem, addr, buf, n, "map header");
	if (err)
		return ct_error_wrap(err, "map %s at 0x%" PRIx64, type->name, addr);
	const struct gomap_type *t = type;
	m.count = gomap_field(buf, n, t->off_count, 8);
	m.clear_seq = gomap_field(buf, n, t->off_clear_seq, 8);
	if (t->impl == GO_MAP_CLASSIC) {
		m.flags = gomap_field(buf, n, t->off_flags, 1);
		m.B = gomap_field(buf, n, t->off_B, 1);
		m.noverflow = gomap_field(buf, n, t->off_noverflow, 2);
		m.hash0 = gomap_field(buf, n, t->off_hash0, 4);
		m.buckets = gomap_field(buf, n, t->off_buckets, 8);
		m.oldbuckets = gomap_field(buf, n, t->off_oldbuckets, 8);
		m.nevacuate = gomap_field(buf, n, t->off_nevacuate, 8);
		m.extra = gomap_field(buf, n, t->off_extra, 8);
	} else {
		m.seed = gomap_field(buf, n, t->off_seed, 8);
		m.dir_ptr = gomap_field(buf, n, t->off_dir_ptr, 8);
		m.dir_len = (int64_t)gomap_field(buf, n, t->off_dir_len, 8);
		m.global_depth = gomap_field(buf, n, t->off_global_depth, 1);
		m.global_shift = gomap_field(buf, n, t->off_global_shift, 1);
		m.writing = gomap_field(buf, n, t->off_writing, 1);
		m.tombstone_possible = gomap_field(buf, n, t->off_tombstone_possible, 1) != 0;
	}
	*ret = m;
	return NULL;
}

/* ---- health ---- */

void gomap_issue(struct gomap_health *h, const char *fmt, ...)
{
	if (!h)
		return;
	if (h->nissues >= GOMAP_MAX_ISSUES) {
		h->issues_dropped++;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->issues[h->nissues++], GOMAP_MSG, fmt, ap);
	va_end(ap);
}

void gomap_stop(struct gomap_health *h, const char *fmt, ...)
{
	if (!h)
		return;
	h->complete = false;
	if (h->stopped[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->stopped, GOMAP_MSG, fmt, ap);
	va_end(ap);
}

const char *gomap_health_summary(const struct gomap_health *h)
{
	if (h->nissues)
		return h->issues[0];
	if (h->stopped[0] && !h->stopped_by_caller)
		return h->stopped;
	return "ok";
}

bool gomap_health_bad(const struct gomap_health *h)
{
	return h->nissues > 0 || (!h->complete && !h->stopped_by_caller);
}

uint64_t gomap_nold(const struct gomap_ctx *ctx, const struct gomap *m)
{
	if (m->type.impl != GO_MAP_CLASSIC || !m->oldbuckets || m->B > GOMAP_MAX_B)
		return 0;
	/* go1.22 src/runtime/map.go noldbuckets: same-size grows keep 2^B buckets */
	if (m->flags & ctx->consts.flag_same_size_grow)
		return (uint64_t)1 << m->B;
	return ((uint64_t)1 << m->B) >> 1;
}

void gomap_slot_entry(const struct gomap_ctx *ctx, const struct gomap_type *t, uint64_t addr,
		      const unsigned char *buf, unsigned i, struct gomap_entry *e)
{
	uint64_t koff = t->key_base + i * t->key_stride;
	uint64_t eoff = t->elem_base + i * t->elem_stride;
	e->group = addr;
	e->slot = i;
	e->key_addr = addr + koff;
	e->elem_addr = addr + eoff;
	e->key_ok = e->elem_ok = true;
	(void)ctx;
	if (t->key_indirect) {
		e->key_addr = mem_load(buf + koff, 8);
		e->key_ok = e->key_addr != 0;
	}
	if (t->elem_indirect) {
		e->elem_addr = mem_load(buf + eoff, 8);
		e->elem_ok = e->elem_addr != 0;
	}
}

/* Whether [addr, addr+len) is readable at both ends: a cheap test that a
 * header's sizes fit mapped memory before a walk loops over them. */
bool gomap_probe(const struct gomap_ctx *ctx, uint64_t addr, uint64_t len, enum mem_status *st)
{
	unsigned char b;
	if (len == 0)
		return true;
	if (addr + len < addr)
		return false;
	enum mem_status s1 = mem_read(ctx->mem, addr, &b, 1);
	enum mem_status s2 = mem_read(ctx->mem, addr + len - 1, &b, 1);
	if (st)
		*st = s1 != MEM_OK ? s1 : s2;
	/* Not saved but mapped is still the process's memory: the size is plausible. */
	return s1 != MEM_UNMAPPED && s2 != MEM_UNMAPPED;
}

bool gomap_check_header(const struct gomap_ctx *ctx, const struct gomap *m,
			struct gomap_health *h)
{
	const struct gomap_type *t = &m->type;
	const struct gomap_consts *c = &ctx->consts;
	if (m->addr == 0)
		return true;
	if (t->impl == GO_MAP_CLASSIC) {
		if ((int64_t)m->count < 0)
			gomap_issue(h, "count %" PRId64 " is negative", (int64_t)m->count);
		if (m->flags & c->flag_hash_writing)
			gomap_issue(h, "hashWriting flag set: a goroutine was writing to the map "
				       "(concurrent map write, or a crash inside a map write)");
		if (m->B > GOMAP_MAX_B) {
			gomap_issue(h, "B = %u is impossible (2^%u buckets exceed the address space)",
				    m->B, m->B);
			return false;
		}
		uint64_t nb = (uint64_t)1 << m->B;
		if (m->buckets == 0) {
			/* The runtime allocates buckets lazily: a map made without a hint has none
			 * until the first write. */
			if (m->count != 0)
				gomap_issue(h, "count %" PRIu64 " but buckets is nil", m->count);
			if (m->oldbuckets) {
				gomap_issue(h, "oldbuckets set but buckets is nil");
				return false;
			}
			return true;
		}
		enum mem_status st;
		if (!gomap_probe(ctx, m->buckets, nb * t->group_size, &st)) {
			gomap_issue(h, "bucket array of 2^%u x %" PRIu64 " bytes at 0x%" PRIx64
				       " runs into unmapped memory (B or buckets is wrong)",
				    m->B, t->group_size, m->buckets);
			return false;
		}
		if (m->oldbuckets) {
			if (!(m->flags & c->flag_same_size_grow) && m->B == 0) {
				gomap_issue(h, "oldbuckets set with B = 0 and no same-size grow");
				return false;
			}
			uint64_t nold = gomap_nold(ctx, m);
			if (!gomap_probe(ctx, m->oldbuckets, nold * t->group_size, &st)) {
				gomap_issue(h, "old bucket array of %" PRIu64 " buckets at 0x%" PRIx64
					       " runs into unmapped memory",
					    nold, m->oldbuckets);
				return false;
			}
			if (m->nevacuate > nold)
				gomap_issue(h, "nevacuate %" PRIu64 " beyond the %" PRIu64 " old buckets",
					    m->nevacuate, nold);
		}
		return true;
	}
	/* swiss */
	if ((int64_t)m->count < 0)
		gomap_issue(h, "used %" PRId64 " is negative", (int64_t)m->count);
	if (m->writing)
		gomap_issue(h, "writing = %u: a goroutine was writing to the map "
			       "(concurrent map write, or a crash inside a map write)",
			    m->writing);
	if (m->dir_ptr == 0) {
		if (m->count != 0)
			gomap_issue(h, "used %" PRIu64 " but dirPtr is nil", m->count);
		return true;
	}
	if (m->dir_len == 0) {
		if (m->count > t->slots)
			gomap_issue(h, "small map (dirLen 0) with used %" PRIu64 " > %u slots", m->count,
				    t->slots);
		return true;
	}
	if (m->dir_len < 0 || m->dir_len > GOMAP_MAX_DIRLEN ||
	    (m->dir_len & (m->dir_len - 1)) != 0) {
		gomap_issue(h, "dirLen %" PRId64 " is impossible (must be a power of 2 <= 2^%d)",
			    m->dir_len, GOMAP_MAX_DIRLEN_BITS);
		return false;
	}
	if (m->global_depth >= 63 || ((uint64_t)1 << m->global_depth) != (uint64_t)m->dir_len)
		gomap_issue(h, "dirLen %" PRId64 " != 1 << globalDepth (%u)", m->dir_len,
			    m->global_depth);
	if (m->global_shift != 64 - m->global_depth)
		gomap_issue(h, "globalShift %u != 64 - globalDepth (%u)", m->global_shift,
			    m->global_depth);
	if (!gomap_probe(ctx, m->dir_ptr, (uint64_t)m->dir_len * 8, NULL)) {
		gomap_issue(h, "directory of %" PRId64 " table pointers at 0x%" PRIx64
			       " runs into unmapped memory (dirLen or dirPtr is wrong)",
			    m->dir_len, m->dir_ptr);
		return false;
	}
	return true;
}

void gomap_growth_str(const struct gomap_ctx *ctx, const struct gomap *m, char *buf, size_t cap)
{
	if (m->type.impl == GO_MAP_SWISS) {
		snprintf(buf, cap, "n/a");
		return;
	}
	if (m->addr == 0 || !m->oldbuckets) {
		snprintf(buf, cap, "not growing");
		return;
	}
	bool same = m->flags & ctx->consts.flag_same_size_grow;
	uint64_t nold = gomap_nold(ctx, m);
	snprintf(buf, cap, "%s, %" PRIu64 "/%" PRIu64 " old buckets evacuated",
		 same ? "same-size grow" : "growing (2x)", m->nevacuate, nold);
}

void gomap_flags_str(const struct gomap_ctx *ctx, const struct gomap *m, char *buf, size_t cap)
{
	const struct gomap_consts *c = &ctx->consts;
	buf[0] = 0;
	if (m->addr == 0 || cap == 0)
		return;
	if (m->type.impl == GO_MAP_SWISS) {
		if (m->writing)
			snprintf(buf, cap, "writing");
		return;
	}
	static const char *const names[] = { "iterator", "oldIterator", "hashWriting", "sameSizeGrow" };
	unsigned bits[] = { c->flag_iterator, c->flag_old_iterator, c->flag_hash_writing,
			    c->flag_same_size_grow };
	size_t len = 0;
	unsigned rest = m->flags;
	for (int i = 0; i < 4; i++) {
		if (!(m->flags & bits[i]))
			continue;
		rest &= ~bits[i];
		len += snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", len ? "|" : "", names[i]);
	}
	if (rest)
		len += snprintf(buf + len, len < cap ? cap - len : 0, "%s0x%x", len ? "|" : "", rest);
}

struct ct_error *gomap_walk(const struct gomap_ctx *ctx, const struct gomap *m,
			    const struct gomap_visitor *v, struct gomap_health *health)
{
	struct gomap_health local;
	struct gomap_health *h = health ? health : &local;
	static const struct gomap_visitor none;
	if (!v)
		v = &none;
	memset(h, 0, sizeof(*h));
	h->complete = true;
	if (m->addr == 0)
		return NULL;
	if (!gomap_check_header(ctx, m, h)) {
		gomap_stop(h, "header is unusable: %s", h->nissues ? h->issues[0] : "?");
		return NULL;
	}
	if (m->count > 4096)
		mem_advise(ctx->mem, MEM_ALL, MEM_ACCESS_MANY);
	struct ct_error *err = m->type.impl == GO_MAP_CLASSIC ? gomap_walk_classic(ctx, m, v, h)
							      : gomap_walk_swiss(ctx, m, v, h);
	if (err)
		return err;
	if (h->complete && !h->stopped_by_caller && h->live != m->count)
		gomap_issue(h, "%s %" PRIu64 " but %" PRIu64 " live slots found",
			    m->type.impl == GO_MAP_CLASSIC ? "count" : "used", m->count, h->live);
	return NULL;
}

const char *gomap_slot_state(const struct gomap_ctx *ctx, enum go_map_impl impl, unsigned b)
{
	const struct gomap_consts *c = gomap_ctx_consts(ctx);
	if (impl == GO_MAP_CLASSIC) {
		if (b == c->empty_rest) return "emptyRest";
		if (b == c->empty_one) return "emptyOne";
		if (b == c->evacuated_x) return "evacuatedX";
		if (b == c->evacuated_y) return "evacuatedY";
		if (b == c->evacuated_empty) return "evacuatedEmpty";
		if (b < c->min_top_hash) return "impossible";
		return "live";
	}
	if (b == c->ctrl_empty) return "empty";
	if (b == c->ctrl_deleted) return "deleted";
	if (b & 0x80) return "impossible";
	return "full";
}

/* ---- the layout view's legend ----
 * The one table of how a slot's state is written in the layout view (coretool
 * map --layout, the gdb printers' layout children): a two-character mark, or
 * the ctrl/tophash byte itself in hex (mark NULL) for a slot that holds an
 * entry. The states are gomap_slot_state()'s names. */
static const struct gomap_mark gomap_marks[] = {
	{ GO_MAP_CLASSIC, "live", NULL, "holds an entry: its tophash byte, in hex" },
	{ GO_MAP_CLASSIC, "emptyRest", "__", "empty, and so is every later slot of the chain" },
	{ GO_MAP_CLASSIC, "emptyOne", "..", "empty (never used, or its entry was deleted)" },
	{ GO_MAP_CLASSIC, "evacuatedX", "eX",
	  "moved by a growth to the same index of the new bucket array" },
	{ GO_MAP_CLASSIC, "evacuatedY", "eY",
	  "moved by a growth to index + old bucket count of the new array" },
	{ GO_MAP_CLASSIC, "evacuatedEmpty", "e_", "empty when its bucket was evacuated" },
	{ GO_MAP_CLASSIC, "impossible", "!!", "a tophash below minTopHash that no state uses" },
	{ GO_MAP_SWISS, "full", NULL, "holds an entry: its ctrl byte (h2, the hash's low 7 bits), in hex" },
	{ GO_MAP_SWISS, "empty", "--", "empty (never used since the table was made or cleared)" },
	{ GO_MAP_SWISS, "deleted", "DD", "a tombstone: its entry was deleted" },
	{ GO_MAP_SWISS, "impossible", "!!", "a ctrl byte with the high bit set that is neither empty nor deleted" },
};

const struct gomap_mark *gomap_marks_of(enum go_map_impl impl, size_t *n)
{
	size_t first = 0, cnt = 0;
	for (size_t i = 0; i < sizeof(gomap_marks) / sizeof(gomap_marks[0]); i++) {
		if (gomap_marks[i].impl != impl)
			continue;
		if (!cnt)
			first = i;
		cnt++;
	}
	*n = cnt;
	return cnt ? &gomap_marks[first] : NULL;
}

const char *gomap_state_mark(enum go_map_impl impl, const char *state)
{
	size_t n;
	const struct gomap_mark *m = gomap_marks_of(impl, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].state, state))
			return m[i].mark;
	return "!!";
}

const char *gomap_legend_line(enum go_map_impl impl)
{
	/* As the layout view has always printed it: the marks of the table above,
	 * the two evacuated halves written together. */
	return impl == GO_MAP_CLASSIC
		       ? "tophash: hex live, __ emptyRest, .. emptyOne, eX/eY evacuated, e_ evacuatedEmpty"
		       : "ctrl: hex full (h2), -- empty, DD deleted, !! impossible";
}
