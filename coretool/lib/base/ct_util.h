/* Small containers every layer uses: a binary search over sorted arrays of
 * structs, a growable array, one string hash. Written once here instead of
 * beside each array. */
#ifndef CT_UTIL_H
#define CT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The number of leading elements of a sorted array whose uint64_t key (at
 * byte offset key_off of each size-byte element) is <= x: the index of the
 * first element after x. */
static inline size_t ct_upper_bound_u64(const void *base, size_t n, size_t size, size_t key_off,
					uint64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k;
		memcpy(&k, (const char *)base + mid * size + key_off, sizeof(k));
		if (k <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
/* The same over an array of structs by a uint64_t member: CT_UPPER_BOUND(v, n, start, x). */
#define CT_UPPER_BOUND(arr, n, member, x)                                                      \
	((void)sizeof(char[sizeof((arr)->member) == sizeof(uint64_t) ? 1 : -1]),                  \
	 ct_upper_bound_u64((arr), (n), sizeof(*(arr)), offsetof(__typeof__(*(arr)), member), (x)))

/* Makes room for one more element of a growable array (*v with *n elements
 * and room for *cap), doubling it: false when out of memory (*v untouched). */
static inline int ct_grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 1;
	size_t nc = *cap ? *cap * 2 : 8;
	if (nc < *cap || nc > SIZE_MAX / size)
		return 0;
	void *p = realloc(*v, nc * size);
	if (!p)
		return 0;
	*v = p;
	*cap = nc;
	return 1;
}

/* Appends one zeroed element to a growable array: a pointer to it, or NULL
 * when out of memory (the array is then unchanged). */
#define CT_PUSH(arr, n, cap)                                                             \
	(ct_grow((void **)&(arr), &(cap), (n), sizeof(*(arr))) ?                         \
		 memset(&(arr)[(n)++], 0, sizeof(*(arr))) : NULL)

/* The slot of a 64-bit key in an open-addressing table of cap (a power of
 * two) slots: Fibonacci hashing, the high bits of key * 2^64/phi. */
static inline size_t ct_hash_slot(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 20) & (cap - 1);
}

/* FNV-1a over bytes, continuing from h. CT_HASH_INIT is the start this
 * project has always used (FNV's published basis is 14695981039346656037:
 * one digit more); it stays, because crash signatures and the DWARF index
 * cache's name hashes are made with it. */
#define CT_HASH_INIT 1469598103934665603ULL
static inline uint64_t ct_fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

#endif
