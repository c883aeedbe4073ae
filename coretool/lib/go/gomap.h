/* Go maps: find them (globals, fields of globals, what globals point to), read
 * their headers, walk their entries and their buckets/groups, and check their
 * health. Both implementations: classic hash maps (runtime.hmap, Go <= 1.23 and
 * 1.24/1.25 with GOEXPERIMENT=noswissmap) and Swiss tables
 * (internal/runtime/maps.Map, Go 1.24+).
 *
 * Every offset and size comes from the per-map DWARF types the compiler emits
 * (hash<K,V>/bucket<K,V>, map<K,V>/table<K,V>/groupReference<K,V>/
 * noalg.map.group[K]V); the runtime constants come from DWARF constants when Go
 * emits them, else from the one table in gomap.c. Every read goes through
 * struct mem and every loop is bounded: a damaged map gives a partial walk and
 * a health report that says what is wrong and where the walk stopped.
 *
 * Walks stream: entries are handed to a callback one by one, nothing is
 * collected, so a map of a million entries costs a few buffers. */
#ifndef CT_GOMAP_H
#define CT_GOMAP_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>

#include "ct_error.h"
#include "dw.h"
#include "goruntime.h"
#include "mem.h"

struct gomap_ctx;

/* Runtime constants of both implementations, from DWARF or the fallback table. */
struct gomap_consts {
	/* classic: runtime/map.go (1.22, 1.23), runtime/map_noswiss.go (1.24, 1.25) */
	unsigned empty_rest, empty_one, evacuated_x, evacuated_y, evacuated_empty, min_top_hash;
	unsigned flag_iterator, flag_old_iterator, flag_hash_writing, flag_same_size_grow;
	/* swiss: internal/runtime/maps/group.go, table.go (1.24-1.27) */
	unsigned ctrl_empty, ctrl_deleted;
	unsigned max_table_capacity, max_avg_group_load;
};

/* The layout of one map type map[K]V, read from DWARF. */
struct gomap_type {
	enum go_map_impl impl;
	Dwarf_Die map;       /* the typedef map[K]V (DW_AT_go_kind 21) */
	const char *name;    /* "map[string]int", owned by libdw */
	Dwarf_Die key, elem; /* K and V (DW_AT_go_key, DW_AT_go_elem) */
	const char *key_name, *elem_name;
	uint64_t key_size, elem_size;
	bool key_indirect, elem_indirect; /* > 128 bytes: the slot holds a pointer */
	unsigned slots;                   /* per bucket or group: 8 */
	uint64_t hdr_size;
	/* Header: -1 (UINT64_MAX) marks a field this version does not have. */
	uint64_t off_count;     /* hmap.count / Map.used */
	/* classic */
	uint64_t off_flags, off_B, off_noverflow, off_hash0, off_buckets, off_oldbuckets,
		off_nevacuate, off_extra, off_clear_seq;
	/* swiss */
	uint64_t off_seed, off_dir_ptr, off_dir_len, off_global_depth, off_global_shift,
		off_writing, off_tombstone_possible;
	uint64_t tab_size, tab_used, tab_capacity, tab_growth_left, tab_local_depth, tab_index,
		tab_groups_data, tab_groups_mask;
	/* A bucket (classic) or group (swiss): ctrl/tophash bytes, then slot i's key
	 * at key_base + i*key_stride and value at elem_base + i*elem_stride (this
	 * covers interleaved slots, split key/elem arrays, and classic buckets). */
	uint64_t group_size, ctrl_off, key_base, key_stride, elem_base, elem_stride;
	uint64_t overflow_off; /* classic: bucket.overflow */
	bool split_group;      /* swiss group with separate keys/elems arrays (1.27 mapsplitgroup) */
};

/* A map header as read from memory. */
struct gomap {
	struct gomap_type type;
	uint64_t addr;  /* the header; 0 = nil map */
	uint64_t count; /* hmap.count / Map.used */
	/* classic */
	uint8_t flags, B;
	uint16_t noverflow;
	uint32_t hash0;
	uint64_t buckets, oldbuckets, nevacuate, extra;
	/* swiss */
	uint64_t seed, dir_ptr;
	int64_t dir_len;
	uint8_t global_depth, global_shift, writing;
	bool tombstone_possible;
	/* both (clearSeq exists in swiss maps and 1.24/1.25 classic maps) */
	uint64_t clear_seq;
};

/* One live entry. */
struct gomap_entry {
	uint64_t key_addr, elem_addr;   /* where K and V are (indirection followed) */
	uint64_t group;                 /* bucket or group address */
	unsigned slot;
	uint8_t ctrl;                   /* tophash or ctrl byte (h2) */
	bool key_ok, elem_ok;           /* false: the indirect pointer could not be read */
};

/* A Swiss table, handed to the layout callbacks. */
struct gomap_table {
	uint64_t addr;
	uint64_t dir_index, dir_count; /* first directory slot and how many point at it */
	uint16_t used, capacity, growth_left;
	uint8_t local_depth;
	int64_t index;
	uint64_t groups, ngroups;
	/* Filled when the table has been walked (table_end). */
	uint64_t full, deleted, empty;
};

enum gomap_group_kind {
	GOMAP_BUCKET,    /* classic: buckets[index] or one of its overflow buckets */
	GOMAP_OLDBUCKET, /* classic, growing: oldbuckets[index] (or its overflow) */
	GOMAP_GROUP,     /* swiss: group of a table, or the one group of a small map */
};

/* One bucket (classic) or group (swiss). */
struct gomap_group {
	enum gomap_group_kind kind;
	uint64_t index;       /* bucket index, or group index within its table */
	unsigned chain;       /* classic: 0 = the bucket, n = n-th overflow bucket */
	uint64_t addr;
	uint8_t ctrl[8];      /* tophash or ctrl bytes */
	uint64_t overflow;    /* classic: next bucket of the chain */
	bool evacuated;       /* classic old bucket: moved to the new array */
	const struct gomap_table *table; /* swiss: its table; NULL for a small map */
};

/* What the walk hands out; any callback may be NULL. Returning false stops the
 * walk (the health then says it was stopped, not damaged). */
struct gomap_visitor {
	bool (*entry)(void *arg, const struct gomap *m, const struct gomap_entry *e);
	bool (*group)(void *arg, const struct gomap *m, const struct gomap_group *g);
	bool (*table)(void *arg, const struct gomap *m, const struct gomap_table *t);
	bool (*table_end)(void *arg, const struct gomap *m, const struct gomap_table *t);
	void *arg;
};

enum { GOMAP_MAX_ISSUES = 16, GOMAP_MSG = 200 };

/* What a walk found out about a map. */
struct gomap_health {
	bool complete;    /* every bucket/group was read */
	bool stopped_by_caller;
	char stopped[GOMAP_MSG]; /* where and why the walk stopped early, "" if it did not */
	uint64_t live;          /* live slots found (each entry once) */
	uint64_t empty, deleted; /* swiss: empty / tombstone slots; classic: empty slots */
	uint64_t evacuated;     /* classic: slots of old buckets marked evacuated */
	uint64_t buckets, overflow_buckets, old_buckets, old_unevacuated; /* classic */
	uint64_t tables, groups;                                           /* swiss */
	bool growing, same_size_grow, writing, iterating;
	/* Problems, worst first is not promised: in the order found. */
	unsigned nissues, issues_dropped;
	char issues[GOMAP_MAX_ISSUES][GOMAP_MSG];
};

/* The context: constants and DWARF types the walks share. One per target. */
struct ct_error *gomap_ctx_create(const struct go_rt *rt, struct gomap_ctx **ret);
void gomap_ctx_destroy(struct gomap_ctx *ctx); /* NULL allowed */
const struct gomap_consts *gomap_ctx_consts(const struct gomap_ctx *ctx);
/* The map constants used where DWARF lacks them, under each of their names (for tests). */
void gomap_fallbacks(ct_fallback_fn fn, void *arg);

/* The layout of map type `type` (a DIE with DW_AT_go_kind 21, typically the
 * typedef map[K]V). CT_ERR_UNSUPPORTED if its DWARF does not have the shape
 * described in docs/go-runtime.md. */
struct ct_error *gomap_type_from_die(const struct gomap_ctx *ctx, Dwarf_Die *type,
				     struct gomap_type *ret);
/* The same by name, e.g. "map[string]int". */
struct ct_error *gomap_type_by_name(const struct gomap_ctx *ctx, const char *name,
				    struct gomap_type *ret);

/* Reads the header at addr (0: a nil map, nothing read). */
struct ct_error *gomap_read(const struct gomap_ctx *ctx, const struct gomap_type *type,
			    uint64_t addr, struct gomap *ret);

/* Walks a map: each live entry exactly once, as the runtime's iterator would
 * see it (mid-growth classic maps included), buckets/groups and tables for the
 * layout view. Damage never makes it fail: it fills *health and returns NULL;
 * errors are for out-of-memory only. health may be NULL. */
struct ct_error *gomap_walk(const struct gomap_ctx *ctx, const struct gomap *m,
			    const struct gomap_visitor *v, struct gomap_health *health);

/* Header-only checks (no walk): the absurd values that would make a walk
 * meaningless. Adds issues to *health; returns false if the map cannot be walked. */
bool gomap_check_header(const struct gomap_ctx *ctx, const struct gomap *m,
			struct gomap_health *health);

/* What a tophash (classic) or ctrl (Swiss) byte says of its slot: classic
 * "emptyRest", "emptyOne", "evacuatedX", "evacuatedY", "evacuatedEmpty",
 * "live"; Swiss "empty", "deleted", "full"; "impossible" for bytes no runtime
 * writes. */
const char *gomap_slot_state(const struct gomap_ctx *ctx, enum go_map_impl impl, unsigned b);

/* The layout view's legend: for each slot state of an implementation (the
 * names gomap_slot_state gives), its two-character mark (NULL: the byte in
 * hex, a slot holding an entry) and what it means. */
struct gomap_mark {
	enum go_map_impl impl;
	const char *state, *mark, *meaning;
};
const struct gomap_mark *gomap_marks_of(enum go_map_impl impl, size_t *n);
/* The mark of a state (NULL: write the byte in hex; "!!" for a name not in the table). */
const char *gomap_state_mark(enum go_map_impl impl, const char *state);
/* The legend as one line, as the layout view prints it under the header. */
const char *gomap_legend_line(enum go_map_impl impl);

/* A health summary for people: "ok", or the first issue. */
const char *gomap_health_summary(const struct gomap_health *h);
/* True if the walk found a problem (issues, or incomplete for a reason other than the caller). */
bool gomap_health_bad(const struct gomap_health *h);

/* Growth state in words: "not growing", "growing (2x), 12/64 old buckets evacuated",
 * "same-size grow ..."; swiss maps never grow incrementally: "n/a". */
void gomap_growth_str(const struct gomap_ctx *ctx, const struct gomap *m, char *buf, size_t cap);
/* Flag bits in words ("iterator|hashWriting"), "" if none. */
void gomap_flags_str(const struct gomap_ctx *ctx, const struct gomap *m, char *buf, size_t cap);

/* ---- finding maps ---- */

/* A map found from a global: its path (Go syntax: main.cfg.byName, main.arr[3],
 * main.p.m with pointers followed), the address of the map pointer, the map
 * header address (0 for a nil map) and its type. */
struct gomap_found {
	const char *path;
	uint64_t slot;      /* where the map pointer is stored */
	uint64_t addr;      /* the header (0: nil map) */
	Dwarf_Die *type;    /* the map[K]V type */
	unsigned ptr_depth; /* pointers followed from the global */
	bool unreadable;    /* the map pointer itself could not be read (addr is 0) */
};

struct gomap_find_opts {
	unsigned max_ptr_depth;   /* pointers (and slices) followed from a global; 0 = none */
	uint64_t max_objects;     /* objects reached through pointers in total (0: 100000) */
	uint64_t max_elems;       /* array/slice elements looked at per array (0: 4096) */
	const char *var_prefix;   /* only globals whose name is a prefix of this path (NULL: all) */
};
#define GOMAP_FIND_DEFAULTS { 3, 100000, 4096, NULL }

struct gomap_find_stats {
	uint64_t globals, objects;
	uint64_t unreadable;          /* pointers on the way that could not be read (wild
				       * or unsaved; a map pointer among them is also
				       * handed to the callback as unreadable) */
	char first_unreadable[256];   /* the first of them: "path at 0x..." */
	bool truncated; /* a bound was hit: there may be more maps */
};

typedef bool (*gomap_found_fn)(void *arg, const struct gomap_found *f);

/* Calls fn for every map reachable from a global variable, globals in name
 * order. fn returning false stops the search. opts (NULL: GOMAP_FIND_DEFAULTS)
 * and stats may be NULL. */
struct ct_error *gomap_foreach_global_map(const struct gomap_ctx *ctx,
					  const struct gomap_find_opts *opts, gomap_found_fn fn,
					  void *arg, struct gomap_find_stats *stats);

/* Resolves a path as gomap_foreach_global_map prints it to the map's slot,
 * header and type. CT_ERR_NOTFOUND if no map has that path. */
struct ct_error *gomap_find_path(const struct gomap_ctx *ctx, const char *path,
				 struct gomap *ret, uint64_t *slot);

#endif
