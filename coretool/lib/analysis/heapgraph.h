/* The typed heap: every Go heap object reachable from the roots, given the Go
 * type the pointer that reached it says (through DWARF types: structs,
 * arrays, slices, strings, maps of both implementations, interfaces by their
 * dynamic type, channels' buffers, closures), or the type its allocation
 * header or span names (Go 1.22+: scan objects over 512 bytes, large
 * objects). Words whose type is not known (unsafe.Pointer, untyped objects,
 * running frames, C memory) are scanned conservatively: any word that
 * points into an allocated slot reaches it, and the object stays untyped
 * unless a typed pointer reaches it too.
 *
 * Roots, in the order they are marked (so that an object's first path is
 * the most telling one): Go globals (typed by DWARF), goroutine stacks
 * (frame by frame by the runtime's stack maps and stack objects' pointer
 * masks; as words where no map describes a frame), and, when asked, C
 * memory (C globals of the executable, writable data of the libraries, live
 * glibc chunks, thread stacks). The Go GC does not scan C memory: an object
 * only C reaches is counted apart.
 *
 * Bounded: one byte and one type index per object (plus one word per object
 * when paths are asked for), a worklist that holds each object at most twice
 * (untyped, then typed), reads in 64 KiB chunks. */
#ifndef CT_HEAPGRAPH_H
#define CT_HEAPGRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "goroutine.h"
#include "target.h"

struct hg;

enum hg_root_kind {
	HG_ROOT_GLOBAL,       /* a Go global variable (typed) */
	HG_ROOT_GOROUTINE,    /* a goroutine's stack, from its sp (conservative) */
	HG_ROOT_FINALIZER,    /* a finalizer's or cleanup's record (mspan.specials) */
	HG_ROOT_C_GLOBAL,     /* a C variable of the executable (conservative) */
	HG_ROOT_C_DATA,       /* a library's writable data (conservative) */
	HG_ROOT_C_HEAP,       /* a live glibc chunk (conservative) */
	HG_ROOT_THREAD_STACK, /* a thread stack that is not a goroutine's (conservative) */
	HG_ROOT_NKINDS
};
const char *hg_root_kind_name(enum hg_root_kind k);

struct hg_root {
	enum hg_root_kind kind;
	uint64_t lo, hi;     /* the memory it covers */
	const char *name;    /* the variable, library or "" (owned by the graph) */
	uint64_t goid;       /* goroutine roots */
	const struct go_g *g;
	/* hg_path, goroutine roots: the frame holding the word, and the local
	 * variable of that frame whose value is the pointer ("" if none says) */
	char func[128], var[64];
};

typedef void (*hg_progress_fn)(void *arg, const char *phase, uint64_t done, uint64_t total);

struct cheap_sizes;

struct hg_options {
	bool parents;        /* remember how each object was reached (for hg_path) */
	/* when set (zeroed), glibc's live chunks are counted by size on the
	 * typed heap's own walk of them (cheap_sizes_add), and what stopped the
	 * walk is warned; finish it with cheap_sizes_finish */
	struct cheap_sizes *c_sizes;
	hg_progress_fn progress;
	void *progress_arg;
};

/* The object index over every in-use heap span, nothing reached yet. */
struct ct_error *hg_create(struct target *t, const struct hg_options *opt, struct hg **ret);
void hg_destroy(struct hg *g); /* NULL allowed */

/* Adding roots queues their memory; hg_mark then follows everything queued.
 * Roots may be added after a mark (the leak analysis adds the stacks of the
 * goroutines it finds live): marking goes on from what is already reached. */
struct ct_error *hg_add_globals(struct hg *g);
/* One goroutine's stack, from sp (0: its whole stack) to its top. */
struct ct_error *hg_add_goroutine(struct hg *g, const struct go_g *gr, uint64_t sp);
/* One goroutine from where gview says its frames start (the thread's sp
 * for a running one), its typed locals (DWARF) as typed roots too. */
struct ct_error *hg_add_goroutine_live(struct hg *g, const struct go_g *gr);
/* Every goroutine not dead, so. */
struct ct_error *hg_add_goroutines(struct hg *g);
/* The finalizers and cleanups of every span (mspan.specials): a finalizer
 * keeps its function and its object (the GC marks what the object points to,
 * and the object lives until the finalizer has run); a cleanup its function. */
struct ct_error *hg_add_specials(struct hg *g);
struct ct_error *hg_add_c_roots(struct hg *g);
struct ct_error *hg_mark(struct hg *g);

/* hg_create, then every root marked in order: Go globals, goroutine stacks,
 * C memory. What fails on the way (but memory) becomes a warning of t and a
 * partial graph; only out of memory fails. */
struct ct_error *hg_build(struct target *t, const struct hg_options *opt, struct hg **ret);

/* Types that are not followed (the leak analysis: the runtime's own
 * bookkeeping of blocked goroutines, runtime.sudog and runtime.g, must not
 * make their primitives reachable). Call before adding roots. */
void hg_skip_type(struct hg *g, const char *type_name);

/* Marks the object at addr reached and done without following it (the
 * leak analysis: the runtime's g structures). */
void hg_hide(struct hg *g, uint64_t addr);

/* Is the object holding addr reached? false also when addr is in no object. */
bool hg_reached(const struct hg *g, uint64_t addr);

/* The census: per type, after hg_mark. */
struct hg_type_count {
	const char *type;    /* Go's name; "[]T" for an object of several T */
	uint64_t objects, bytes;
};
struct hg_census {
	struct hg_type_count *types; /* by bytes, largest first */
	size_t ntypes;
	uint64_t objects, bytes;                  /* every allocated object */
	uint64_t typed_objects, typed_bytes;
	uint64_t untyped_objects, untyped_bytes;  /* reached, type unknown */
	/* why untyped: reached only through words of unknown type; a tiny-allocator
	 * block (several objects share it); an interior pointer only */
	uint64_t untyped_conservative, untyped_tiny, untyped_header_unknown;
	uint64_t unreached_objects, unreached_bytes;
	uint64_t c_only_objects, c_only_bytes;    /* reached only from C memory */
	uint64_t roots[HG_ROOT_NKINDS];
	uint64_t unreadable;                      /* reads that failed (partial) */
	/* goroutine frames scanned by the runtime's stack maps, and as words */
	uint64_t frames_precise, frames_words;
	uint64_t spans, skipped_spans;
};
/* Fills *ret (free with hg_census_free). */
struct ct_error *hg_census(const struct hg *g, struct hg_census *ret);
void hg_census_free(struct hg_census *c);

/* The object holding addr: its start (user pointer), size, type (or NULL). */
struct hg_object {
	uint64_t addr, size;
	const char *type;
	bool reached, allocated;
	bool noscan; /* in a span of objects without pointers: no word of it is one */
	enum hg_root_kind first_root; /* how it was first reached (valid if reached) */
};
bool hg_object_of(const struct hg *g, uint64_t addr, struct hg_object *ret);

/* The path by which the object holding addr was first reached, from the
 * object back to its root (needs opt.parents): steps[0] is the object
 * itself, each next step the object holding the pointer, and *root the
 * root. via[i] is where in steps[i+1] (or the root) the pointer was: a field
 * path (".next", "[3]", ".buf") when the holder's type says, else "+0x18".
 * Returns the number of steps (at most max), 0 if the object is not reached. */
struct hg_step {
	struct hg_object obj;
	uint64_t from;       /* the address of the word that pointed at it */
	char via[96];
};
size_t hg_path(struct hg *g, uint64_t addr, struct hg_step *steps, size_t max,
	       struct hg_root *root, char *root_via, size_t root_via_cap);

/* The same through the word at `from` (another holder of the object than
 * the one that first reached it), then as the holder was reached. */
size_t hg_path_from(struct hg *g, uint64_t addr, uint64_t from, struct hg_step *steps, size_t max,
		    struct hg_root *root, char *root_via, size_t root_via_cap);

/* Where addr is inside the object holding it, as its type names it
 * (".next", "[3].buf", a map slot's `m["k"] (value)`), "+0x18" when the
 * object is untyped. false if addr is in no object. */
bool hg_field_at(struct hg *g, uint64_t addr, char *buf, size_t cap);

/* The retained size of the object holding addr: it and the objects only it
 * keeps alive (those the dominator tree puts under it), found by a second
 * mark from every root with the object not followed: what the first mark
 * reached and the second did not. Costs one more mark of the heap. */
struct ct_error *hg_retained(struct hg *g, uint64_t addr, uint64_t *objects, uint64_t *bytes);

/* A path as a person reads it, root first: `main.cache → map internals
 * @0x.. → *main.Session @0x.. .buf → []uint8 @0x..` (malloc'd; NULL when
 * out of memory). */
char *hg_path_text(const struct hg_step *steps, size_t n, const struct hg_root *root,
		   const char *root_via);

/* For the pprof profile: the chain of type names from each reached object up
 * to its root (the object's type, its holder's, ..., the root's name), with
 * how many objects and slot bytes share it; one call per distinct chain
 * (names leaf first). A chain longer than max_depth (at most HG_CHAIN_MAX)
 * keeps its object, "(more holders)", and the max_depth - 2 names nearest the
 * root. Each object's chain is its holder's plus one name, so the whole heap
 * costs one step per object. */
#define HG_CHAIN_MAX 64
typedef bool (*hg_chain_fn)(void *arg, const char *const *names, size_t n, uint64_t objects,
			    uint64_t bytes);
struct ct_error *hg_foreach_chain(struct hg *g, size_t max_depth, hg_chain_fn fn, void *arg);

#endif
