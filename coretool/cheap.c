/* Placeholder until the glibc heap model lands: reports "not implemented". */
#include "cheap.h"

#include <stddef.h>

struct ct_error *cheap_open(struct target *t, struct cheap **ret)
{
	(void)t;
	*ret = NULL;
	return ct_error_fmt(CT_ERR_UNSUPPORTED, "the glibc heap model is not implemented yet");
}

void cheap_close(struct cheap *c) { (void)c; }

struct ct_error *cheap_lookup(struct cheap *c, uint64_t addr, bool *found, struct cheap_chunk *ret)
{
	(void)c; (void)addr; (void)ret;
	*found = false;
	return NULL;
}

struct ct_error *cheap_foreach_chunk(struct cheap *c,
				     bool (*fn)(const struct cheap_chunk *ch, void *arg), void *arg)
{
	(void)c; (void)fn; (void)arg;
	return NULL;
}

const char *cheap_bin_name(enum cheap_bin bin)
{
	static const char *const names[] = { "none", "tcache", "fastbin", "unsorted", "small", "large", "top" };
	return (unsigned)bin < sizeof(names) / sizeof(names[0]) ? names[bin] : "?";
}

const char *cheap_state_name(enum cheap_state st)
{
	return st == CHEAP_ALLOCATED ? "allocated" : st == CHEAP_FREE ? "free" : "unknown";
}
