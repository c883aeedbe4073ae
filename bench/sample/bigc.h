#ifndef BIGC_H
#define BIGC_H
#include <stddef.h>
#include <stdint.h>

/* The C side of the bench sample: a large glibc heap that C keeps, and the crash. */
size_t bigc_alloc(size_t n, uint32_t seed, size_t free_every);
void *bigc_chunk(size_t i);
size_t bigc_req(size_t i);
int bigc_freed(size_t i);
void bigc_crash(void);

#endif
