/* Placeholder until the map model provides entry addresses. */
#include "gomap_holders.h"

bool gomap_holder_describe(struct target *t, uint64_t at, char *buf, size_t n)
{
	(void)t; (void)at; (void)buf; (void)n;
	return false;
}
