/* Walking Swiss-table Go maps (internal/runtime/maps.Map, Go 1.24+): a small
 * map is one group; a large one a directory of dirLen table pointers, where a
 * table of localDepth d fills 2^(globalDepth-d) consecutive entries starting at
 * its `index`. Each group: a ctrl word (byte i for slot i: empty, deleted, or
 * full with 7 bits of hash) and 8 slots. Growth replaces or splits a table at
 * once, so there is no incremental state to follow.
 * Rules from go1.24-go1.27 src/internal/runtime/maps/{map.go,table.go,group.go}. */
#include "gomap.h"
#include "gomap_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Directory entries read per mem_read. */
enum { SWISS_DIR_CHUNK = 512, SWISS_MAX_ORPHANS = 64 };

struct swiss_walk {
	const struct gomap_ctx *ctx;
	const struct gomap *m;
	const struct gomap_visitor *v;
	struct gomap_health *h;
	unsigned char *buf;
	struct ct_u64set seen; /* tables walked */
	bool halt;
	struct ct_error *err;
};

static const char *swiss_status_word(enum mem_status st)
{
	return st == MEM_NOT_SAVED ? "not saved in the core" : "unmapped (wild pointer)";
}

static bool swiss_caller_stop(struct swiss_walk *w)
{
	w->halt = true;
	w->h->stopped_by_caller = true;
	gomap_stop(w->h, "stopped by the caller");
	return false;
}

/* Walks one group at addr; tab is NULL for a small map. Returns false if the
 * walk must end (caller stop). Counts go to *tab when there is one. */
static bool swiss_group(struct swiss_walk *w, struct gomap_table *tab, uint64_t gi, uint64_t addr)
{
	const struct gomap_type *t = &w->m->type;
	const struct gomap_consts *c = &w->ctx->consts;
	struct gomap_health *h = w->h;
	char where[96];
	if (tab)
		snprintf(where, sizeof(where), "table 0x%" PRIx64 " group %" PRIu64, tab->addr, gi);
	else
		snprintf(where, sizeof(where), "small-map group");
	enum mem_status st = mem_read(w->ctx->mem, addr, w->buf, t->group_size);
	if (st != MEM_OK) {
		gomap_issue(h, "%s at 0x%" PRIx64 " is %s", where, addr, swiss_status_word(st));
		gomap_stop(h, "stopped at %s (0x%" PRIx64 "): %s", where, addr, swiss_status_word(st));
		return true;
	}
	h->groups++;
	const uint8_t *ctrl = w->buf + t->ctrl_off;
	if (w->v->group) {
		struct gomap_group g = { .kind = GOMAP_GROUP, .index = gi, .addr = addr, .table = tab };
		memcpy(g.ctrl, ctrl, t->slots);
		if (!w->v->group(w->v->arg, w->m, &g))
			return swiss_caller_stop(w);
	}
	for (unsigned i = 0; i < t->slots; i++) {
		unsigned b = ctrl[i];
		if (b == c->ctrl_empty) {
			h->empty++;
			if (tab)
				tab->empty++;
			continue;
		}
		if (b == c->ctrl_deleted) {
			h->deleted++;
			if (tab)
				tab->deleted++;
			else
				gomap_issue(h, "%s slot %u: tombstone in a small map (deletes there "
					       "empty the slot)",
					    where, i);
			continue;
		}
		if (b & 0x80) { /* neither empty nor deleted, yet not full (high bit set) */
			gomap_issue(h, "%s slot %u (0x%" PRIx64 "): ctrl byte 0x%02x is impossible",
				    where, i, addr, b);
			continue;
		}
		h->live++;
		if (tab)
			tab->full++;
		if (w->v->entry) {
			struct gomap_entry e;
			gomap_slot_entry(w->ctx, t, addr, w->buf, i, &e);
			e.ctrl = b;
			if (!e.key_ok || !e.elem_ok)
				gomap_issue(h, "%s slot %u: nil indirect %s pointer", where, i,
					    e.key_ok ? "value" : "key");
			if (!w->v->entry(w->v->arg, w->m, &e))
				return swiss_caller_stop(w);
		}
	}
	return true;
}

/* Directory entries a table of this localDepth fills: 2^(globalDepth-localDepth),
 * 0 when that cannot be (the header check has said why). */
static uint64_t swiss_span(const struct gomap *m, unsigned local_depth)
{
	if (local_depth > m->global_depth || m->global_depth - local_depth > GOMAP_MAX_DIRLEN_BITS)
		return 0;
	return (uint64_t)1 << (m->global_depth - local_depth);
}

/* maxGrowthLeft of a table (go1.24+ table.go): capacity-1 for one group, else 7/8. */
static uint64_t swiss_max_growth(const struct gomap_ctx *ctx, const struct gomap_type *t,
				 uint64_t capacity)
{
	if (capacity <= t->slots)
		return capacity ? capacity - 1 : 0;
	return capacity * ctx->consts.max_avg_group_load / t->slots;
}

/* Walks the table at tp, reached at directory index di. */
static void swiss_table(struct swiss_walk *w, uint64_t di, uint64_t tp)
{
	const struct gomap_type *t = &w->m->type;
	const struct gomap_consts *c = &w->ctx->consts;
	const struct gomap *m = w->m;
	struct gomap_health *h = w->h;
	unsigned char tb[128];
	bool seen;
	if ((w->err = ct_u64set_add(&w->seen, tp, &seen))) {
		w->halt = true;
		return;
	}
	if (seen) {
		gomap_issue(h, "directory entry %" PRIu64 " points at table 0x%" PRIx64
			       " already walked from another entry",
			    di, tp);
		return;
	}
	if (t->tab_size > sizeof(tb)) {
		gomap_issue(h, "table type larger than %zu bytes", sizeof(tb));
		w->halt = true;
		return;
	}
	enum mem_status st = mem_read(w->ctx->mem, tp, tb, t->tab_size);
	if (st != MEM_OK) {
		gomap_issue(h, "table at 0x%" PRIx64 " (directory entry %" PRIu64 ") is %s", tp, di,
			    swiss_status_word(st));
		gomap_stop(h, "stopped at table 0x%" PRIx64 " (directory entry %" PRIu64 "): %s", tp,
			   di, swiss_status_word(st));
		return;
	}
	struct gomap_table tab = {
		.addr = tp,
		.dir_index = di,
		.used = mem_load(tb + t->tab_used, 2),
		.capacity = mem_load(tb + t->tab_capacity, 2),
		.growth_left = mem_load(tb + t->tab_growth_left, 2),
		.local_depth = mem_load(tb + t->tab_local_depth, 1),
		.index = (int64_t)mem_load(tb + t->tab_index, 8),
		.groups = mem_load(tb + t->tab_groups_data, 8),
	};
	uint64_t mask = mem_load(tb + t->tab_groups_mask, 8);
	h->tables++;
	if (tab.local_depth > m->global_depth)
		gomap_issue(h, "table 0x%" PRIx64 ": localDepth %u > globalDepth %u", tp,
			    tab.local_depth, m->global_depth);
	else
		tab.dir_count = swiss_span(m, tab.local_depth);
	uint64_t maxgroups = c->max_table_capacity / t->slots;
	if (mask >= maxgroups || tab.capacity == 0 || tab.capacity > c->max_table_capacity ||
	    (tab.capacity & (tab.capacity - 1)) != 0 || (uint64_t)tab.capacity != (mask + 1) * t->slots) {
		gomap_issue(h, "table 0x%" PRIx64 ": capacity %u with lengthMask %" PRIu64
			       " is impossible (max capacity %u, %u slots per group)",
			    tp, tab.capacity, mask, c->max_table_capacity, t->slots);
		gomap_stop(h, "stopped at table 0x%" PRIx64 " (directory entry %" PRIu64
			      "): impossible capacity",
			   tp, di);
		return;
	}
	tab.ngroups = mask + 1;
	if (tab.groups == 0) {
		gomap_issue(h, "table 0x%" PRIx64 ": groups pointer is nil", tp);
		gomap_stop(h, "stopped at table 0x%" PRIx64 ": no groups", tp);
		return;
	}
	if (w->v->table && !w->v->table(w->v->arg, m, &tab)) {
		swiss_caller_stop(w);
		return;
	}
	for (uint64_t g = 0; g < tab.ngroups && !w->halt; g++)
		if (!swiss_group(w, &tab, g, tab.groups + g * t->group_size))
			return;
	if (w->halt)
		return;
	if (tab.full + tab.deleted + tab.empty == (uint64_t)tab.capacity) {
		if (tab.full != tab.used)
			gomap_issue(h, "table 0x%" PRIx64 ": used %u but %" PRIu64 " full slots", tp,
				    tab.used, tab.full);
		/* table.tombstones(): maxGrowthLeft - used - growthLeft */
		uint64_t mg = swiss_max_growth(w->ctx, t, tab.capacity);
		if (tab.used + (uint64_t)tab.growth_left <= mg &&
		    mg - tab.used - tab.growth_left != tab.deleted)
			gomap_issue(h, "table 0x%" PRIx64 ": %" PRIu64 " tombstones found but "
				       "capacity/used/growthLeft imply %" PRIu64,
				    tp, tab.deleted, mg - tab.used - tab.growth_left);
		else if (tab.used + (uint64_t)tab.growth_left > mg)
			gomap_issue(h, "table 0x%" PRIx64 ": used %u + growthLeft %u exceed the "
				       "table's load limit %" PRIu64,
				    tp, tab.used, tab.growth_left, mg);
		if (tab.deleted && t->off_tombstone_possible != GOMAP_NONE && !m->tombstone_possible)
			gomap_issue(h, "table 0x%" PRIx64 ": %" PRIu64 " tombstones but the map's "
				       "tombstonePossible is false",
				    tp, tab.deleted);
	}
	if (w->v->table_end && !w->v->table_end(w->v->arg, m, &tab))
		swiss_caller_stop(w);
}

static struct ct_error *swiss_walk_dir(struct swiss_walk *w)
{
	const struct gomap *m = w->m;
	struct gomap_health *h = w->h;
	uint64_t dir[SWISS_DIR_CHUNK];
	uint64_t orphans[SWISS_MAX_ORPHANS];
	size_t norphans = 0;
	/* The table last walked and the directory range it covers, to accept the
	 * entries that share it. */
	uint64_t cur = 0, cur_end = 0;
	uint64_t n = (uint64_t)m->dir_len;
	for (uint64_t base = 0; base < n && !w->halt; base += SWISS_DIR_CHUNK) {
		uint64_t k = n - base < SWISS_DIR_CHUNK ? n - base : SWISS_DIR_CHUNK;
		enum mem_status st = mem_read(w->ctx->mem, m->dir_ptr + base * 8, dir, k * 8);
		if (st != MEM_OK) {
			gomap_issue(h, "directory entries %" PRIu64 "..%" PRIu64 " at 0x%" PRIx64
				       " are %s",
				    base, base + k - 1, m->dir_ptr + base * 8, swiss_status_word(st));
			gomap_stop(h, "stopped at directory entry %" PRIu64 ": %s", base,
				   swiss_status_word(st));
			return NULL;
		}
		for (uint64_t j = 0; j < k && !w->halt; j++) {
			uint64_t di = base + j, tp = dir[j];
			if (tp == 0) {
				gomap_issue(h, "directory entry %" PRIu64 " is nil", di);
				continue;
			}
			if (tp == cur && di < cur_end)
				continue; /* shared entry of the table just walked */
			int64_t index;
			unsigned char ib[8];
			st = mem_read(w->ctx->mem, tp + m->type.tab_index, ib, 8);
			if (st != MEM_OK) {
				gomap_issue(h, "table at 0x%" PRIx64 " (directory entry %" PRIu64
					       ") is %s",
					    tp, di, swiss_status_word(st));
				gomap_stop(h, "stopped at directory entry %" PRIu64 " (table 0x%" PRIx64
					      "): %s",
					   di, tp, swiss_status_word(st));
				continue;
			}
			index = (int64_t)mem_load(ib, 8);
			if (index == (int64_t)di) {
				swiss_table(w, di, tp);
				cur = tp;
				unsigned char ld;
				uint64_t span = 1;
				if (mem_read(w->ctx->mem, tp + m->type.tab_local_depth, &ld, 1) == MEM_OK &&
				    swiss_span(m, ld))
					span = swiss_span(m, ld);
				cur_end = di + span;
				continue;
			}
			/* Entry di does not own this table. Legit only as a shared entry, which
			 * the test above accepted; anything else is damage. A table not walked
			 * from its own index is kept to walk at the end, so that its entries
			 * are not lost. */
			gomap_issue(h, "directory entry %" PRIu64 " points at table 0x%" PRIx64
				       " whose index is %" PRId64,
				    di, tp, index);
			if (norphans < SWISS_MAX_ORPHANS)
				orphans[norphans++] = tp;
		}
	}
	for (size_t i = 0; i < norphans && !w->halt; i++)
		if (!ct_u64set_has(&w->seen, orphans[i]))
			swiss_table(w, UINT64_MAX, orphans[i]);
	return NULL;
}

struct ct_error *gomap_walk_swiss(const struct gomap_ctx *ctx, const struct gomap *m,
				  const struct gomap_visitor *v, struct gomap_health *h)
{
	const struct gomap_type *t = &m->type;
	if (!m->dir_ptr)
		return NULL;
	struct swiss_walk w = { .ctx = ctx, .m = m, .v = v, .h = h };
	h->writing = m->writing != 0;
	w.buf = malloc(t->group_size);
	if (!w.buf)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory walking a map");
	if (m->dir_len == 0)
		swiss_group(&w, NULL, 0, m->dir_ptr);
	else
		w.err = swiss_walk_dir(&w);
	ct_u64set_free(&w.seen);
	free(w.buf);
	return w.err;
}
