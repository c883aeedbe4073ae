#include "mem.h"

#include <inttypes.h>

struct ct_error *mem_error(enum mem_status st, uint64_t addr, size_t len, const char *what)
{
	const char *why = st == MEM_NOT_SAVED ? "not saved in the core" : "not mapped";
	return ct_error_fmt(st == MEM_NOT_SAVED ? CT_ERR_NOT_SAVED : CT_ERR_FAULT,
			    "%s at 0x%" PRIx64 " (%zu bytes): %s", what ? what : "memory", addr, len,
			    why);
}

struct ct_error *mem_read_err(const struct mem *m, uint64_t addr, void *buf, size_t len,
			      const char *what)
{
	enum mem_status st = mem_read(m, addr, buf, len);
	return st == MEM_OK ? NULL : mem_error(st, addr, len, what);
}

struct ct_error *mem_read_u64(const struct mem *m, uint64_t addr, uint64_t *ret, const char *what)
{
	unsigned char b[8];
	struct ct_error *err = mem_read_err(m, addr, b, 8, what);
	if (!err)
		*ret = mem_load(b, 8);
	return err;
}
