/* A set of non-zero 64-bit values (addresses, DIE offsets), and a map of them
 * to 32-bit values: open addressing, grown at half full. The walks use it to visit each bucket, table or object
 * once, so that cycles in damaged memory end. */
#ifndef CT_SET_H
#define CT_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_error.h"

struct ct_u64set {
	uint64_t *tab; /* 0 marks a free slot */
	size_t cap, n;
};

/* Adds v (non-zero); *seen tells whether it was there already. Fails only
 * when out of memory (the set is then unchanged). */
struct ct_error *ct_u64set_add(struct ct_u64set *s, uint64_t v, bool *seen);
bool ct_u64set_has(const struct ct_u64set *s, uint64_t v);
void ct_u64set_free(struct ct_u64set *s); /* leaves an empty set */

/* A map of non-zero 64-bit keys to 32-bit values, the same way (a zeroed
 * struct is an empty map). */
struct ct_u64map {
	uint64_t *keys; /* 0 marks a free slot */
	uint32_t *vals;
	size_t cap, n;
};
bool ct_u64map_get(const struct ct_u64map *m, uint64_t k, uint32_t *v);
/* Sets k (a key of 0 is ignored); false only when out of memory (the map is
 * then unchanged). */
bool ct_u64map_put(struct ct_u64map *m, uint64_t k, uint32_t v);
void ct_u64map_free(struct ct_u64map *m); /* leaves an empty map */

#endif
