/* The executable's DWARF: a name index over the top-level DIEs of every unit
 * (types, variables, constants, functions), built once on open, and lookups of
 * the layout facts the models need (sizes, member offsets, constants, variable
 * addresses). Go emits its runtime types and typed constants, so every layout
 * fact is read from here at run time rather than written down in the code. */
#ifndef CT_DW_H
#define CT_DW_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "ct_error.h"

struct dw_entry {
	const char *name; /* points into libdw's data, valid while the Dwarf is open */
	Dwarf_Off off;
	int tag;
};

/* The address range of one compilation unit, for pc → line lookups. */
struct dw_cu_range {
	uint64_t lo, hi;
	Dwarf_Off cu;
	bool go;
};

struct dw {
	char *path;
	int fd;
	Elf *elf;
	Dwarf *dbg;           /* NULL: the executable has no DWARF */
	bool is_go;           /* has .go.buildinfo or a Go build ID note */
	struct dw_entry *tab; /* open-addressing hash table, size tabsz (power of 2) */
	size_t tabsz, nentries;
	int version;          /* DWARF version of the first unit */
	bool compressed;      /* .debug_info is SHF_COMPRESSED or .zdebug */
	unsigned char build_id[64];
	size_t build_id_len;
	uint64_t entry; /* e_entry, to compute the load bias of a PIE */
	struct dw_cu_range *cus; /* sorted by lo; built on first dw_line() */
	size_t ncus;
	bool cus_done;
	/* libdw reads an image of the sections it needs (dw.c: dw_image_sections),
	 * built from the file or taken whole from the cache with the index. */
	Elf *img_elf;
	unsigned char *img;   /* owned when built here; else inside cache_blob */
	size_t img_len;
	struct cache_blob blob;
	enum dw_cache_state { DW_CACHE_OFF, DW_CACHE_HIT, DW_CACHE_STORED, DW_CACHE_FAILED,
			      DW_CACHE_UNKEYED } cache_state;
	char cache_note[160]; /* the cache file, or why it was not used */
	/* dw_scopes: dwarf_getscopes by (unit, pc), direct-mapped; NULL until used */
	struct dw_scope_ent *scopes;
};

const char *dw_cache_state_name(enum dw_cache_state st);

/* Opens an executable and indexes its DWARF. An executable without DWARF opens
 * with dbg == NULL (every lookup then fails); see dw_require(). */
struct ct_error *dw_open(const char *path, struct dw **ret);
void dw_close(struct dw *dw); /* NULL allowed */
/* CT_ERR_NODWARF, saying how the binary lost it, when dbg is NULL. */
struct ct_error *dw_require(const struct dw *dw);

/* Finds a top-level DIE by name; tag 0 takes any tag. */
bool dw_lookup(const struct dw *dw, const char *name, int tag, Dwarf_Die *ret);
/* A type by name: struct, base, typedef, pointer, ... whatever tag. */
bool dw_type(const struct dw *dw, const char *name, Dwarf_Die *ret);

/* Follows typedefs and qualifiers to the underlying type. */
bool dw_peel(Dwarf_Die *type, Dwarf_Die *ret);
/* The DW_AT_type of a DIE. */
bool dw_type_of(Dwarf_Die *die, Dwarf_Die *ret);
bool dw_size(Dwarf_Die *type, uint64_t *ret);
/* A member of a struct type (typedefs peeled) by name, its offset and DIE. */
bool dw_member(Dwarf_Die *type, const char *name, uint64_t *offset, Dwarf_Die *ret);
/* The data members of a struct type in order, for walks over all of them:
 *   struct dw_members it; dw_members_begin(type, &it);
 *   while (dw_members_next(&it, &member, &name, &off)) ...
 * Members without a name, or whose offset cannot be read, are skipped. */
struct dw_members {
	Dwarf_Die child;
	bool more;
};
void dw_members_begin(Dwarf_Die *type, struct dw_members *it);
bool dw_members_next(struct dw_members *it, Dwarf_Die *member, const char **name, uint64_t *offset);
/* An array type (typedefs peeled): its element type (unpeeled), element size
 * and element count (DW_AT_count, or DW_AT_upper_bound + 1). */
bool dw_array(Dwarf_Die *type, Dwarf_Die *elem, uint64_t *esize, uint64_t *count);

/* A struct member's place: offset and size, from DWARF. */
struct dw_field {
	uint64_t off, size;
};

/* Layout lookups that fail with an error naming the missing fact. */
struct ct_error *dw_field(const struct dw *dw, const char *type, const char *member,
			  struct dw_field *ret);
struct ct_error *dw_struct_size(const struct dw *dw, const char *type, uint64_t *ret);
struct ct_error *dw_member_offset(const struct dw *dw, const char *type, const char *member,
				  uint64_t *ret);
struct ct_error *dw_const(const struct dw *dw, const char *name, int64_t *ret);
struct ct_error *dw_var_addr(const struct dw *dw, const char *name, uint64_t *ret);
/* The static address (DW_OP_addr location, file address) of a variable DIE. */
bool dw_static_addr(Dwarf_Die *var, uint64_t *ret);

/* Source file and line of a pc (an address in the file, no bias). Go binaries
 * have no .debug_aranges, and with external linking libdw's lookup lands in a
 * C unit: we index the units' own ranges, Go units first. */
bool dw_line(struct dw *dw, uint64_t pc, const char **file, int *line, bool *go);
/* The compilation unit holding pc (an address in the file), by our index. */
bool dw_unit_die(struct dw *dw, uint64_t pc, Dwarf_Die *cu);
/* dwarf_getscopes(cu, pc), remembered: the same pcs recur on every goroutine
 * parked the same way, and each search walks the unit's tree. Same contract
 * (a malloc'd array the caller frees when the result is > 0). */
int dw_scopes(struct dw *dw, Dwarf_Die *cu, uint64_t pc, Dwarf_Die **ret);
/* The functions inlined at pc, innermost first (DW_TAG_inlined_subroutine
 * scopes, Go's and C's alike): each one's name and the call site in the
 * function around it. Returns how many (at most max). */
struct dw_inlined {
	const char *func;
	const char *call_file;
	int call_line;
};
size_t dw_inlined_at(struct dw *dw, uint64_t pc, struct dw_inlined *ret, size_t max);

/* Go's DWARF extensions (cmd/link/internal/dwarf: DW_AT_go_kind = 0x2900, ...). */
enum { DW_AT_go_kind = 0x2900, DW_AT_go_key = 0x2901, DW_AT_go_elem = 0x2902,
       DW_AT_go_runtime_type = 0x2904 };
/* reflect.Kind of a Go type DIE, or -1. */
int dw_go_kind(Dwarf_Die *type);

/* Calls fn for every index entry with the given tag (0 = all); stops when fn returns false. */
void dw_foreach(const struct dw *dw, int tag, bool (*fn)(const struct dw_entry *e, void *arg),
		void *arg);

#endif
