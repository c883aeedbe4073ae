/* A source of process memory: an ELF core (core.c) or a callback (the gdb
 * front end reads the inferior). Everything that models the Go runtime or the
 * C heap reads through this, so it works on cores and live processes alike. */
#ifndef CT_MEM_H
#define CT_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ct_error.h"

/* Results of a read. Bytes that the core did not save are an error, never zeros:
 * a zero that was not in memory would be presented as fact. */
enum mem_status {
	MEM_OK = 0,
	MEM_UNMAPPED = 1,  /* no mapping at the address */
	MEM_NOT_SAVED = 2, /* mapped, but not in the core (filtered or truncated) */
};

/* How a range is about to be read, for sources that can tell the kernel. */
enum mem_access {
	MEM_ACCESS_WALK, /* read soon, most of it, in order: fetch it ahead */
	MEM_ACCESS_MANY, /* many scattered reads all over it: the kernel's usual read-ahead */
	MEM_ACCESS_DONE, /* read through: its pages need not stay resident */
};

struct mem {
	/* Reads len bytes at addr into buf, all or nothing. */
	enum mem_status (*read)(void *arg, uint64_t addr, void *buf, size_t len);
	void *arg;
	/* Optional hint (NULL: none). A core is mapped for random access, so a
	 * lookup reads a page rather than megabytes around it; a walker over a
	 * large range says so first, and says when it is done. */
	void (*advise)(void *arg, uint64_t addr, uint64_t len, enum mem_access how);
	/* Optional (NULL: a one-byte read answers): whether addr is mapped,
	 * without reading it — MEM_OK or MEM_NOT_SAVED for mapped, MEM_UNMAPPED.
	 * A check of a range's ends then touches no page of a core. */
	enum mem_status (*probe)(void *arg, uint64_t addr);
	/* Optional (NULL: none): the len bytes at addr where the source holds
	 * them in memory already (a core's mapping), else NULL. Valid as long as
	 * the source is; what it points at is never written. */
	const void *(*view)(void *arg, uint64_t addr, size_t len);
};

static inline enum mem_status mem_read(const struct mem *m, uint64_t addr, void *buf, size_t len)
{
	return m->read(m->arg, addr, buf, len);
}

static inline enum mem_status mem_probe(const struct mem *m, uint64_t addr)
{
	unsigned char b;
	return m->probe ? m->probe(m->arg, addr) : m->read(m->arg, addr, &b, 1);
}

/* The len bytes at addr: in place where the source has them (no copy), else
 * read into buf (len bytes); NULL when they cannot be read (mem_read says why). */
static inline const void *mem_view(const struct mem *m, uint64_t addr, size_t len, void *buf)
{
	const void *p = m->view ? m->view(m->arg, addr, len) : NULL;
	if (p)
		return p;
	return m->read(m->arg, addr, buf, len) == MEM_OK ? buf : NULL;
}

/* Many reads all over the source follow (a census, a big map, a batch of
 * addresses): read ahead as usual. */
#define MEM_ALL 0, UINT64_MAX

static inline void mem_advise(const struct mem *m, uint64_t addr, uint64_t len, enum mem_access how)
{
	if (m->advise)
		m->advise(m->arg, addr, len, how);
}

/* Turn a failed read into an error that says what was read and where. */
struct ct_error *mem_error(enum mem_status st, uint64_t addr, size_t len, const char *what);

/* Reads with an error object on failure; `what` names the datum for the message. */
struct ct_error *mem_read_err(const struct mem *m, uint64_t addr, void *buf, size_t len,
			      const char *what);
struct ct_error *mem_read_u64(const struct mem *m, uint64_t addr, uint64_t *ret, const char *what);

/* Little-endian unsigned load of size 1, 2, 4 or 8 from a buffer. */
static inline uint64_t mem_load(const void *p, size_t size)
{
	const unsigned char *b = p;
	uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		memcpy(&v, p, size); /* one load: a map dump does millions */
		return v;
	}
#endif
	for (size_t i = size; i-- > 0;)
		v = (v << 8) | b[i];
	return v;
}

#endif
