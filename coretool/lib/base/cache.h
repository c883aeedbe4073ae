/* coretool's on-disk cache of what it derives from a binary (the executable's
 * DWARF index, ...), one file per binary and kind, keyed by the binary's build
 * ID. Every core of the same build — the usual case when a fleet's cores are
 * triaged — then skips the work. A cache file is checked before use (format,
 * the binary's fingerprint, a checksum of every byte); anything wrong makes it
 * a miss, never an error. Where: $CORETOOL_CACHE_DIR, else
 * $XDG_CACHE_HOME/coretool, else ~/.cache/coretool; CORETOOL_CACHE_DIR=off
 * (or empty) turns it off. The directory is kept under CORETOOL_CACHE_MAX_MB
 * (1024) by deleting the least recently used entries when one is stored. */
#ifndef CT_CACHE_H
#define CT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_ENV_DIR "CORETOOL_CACHE_DIR"

/* A loaded cache entry: payload bytes, mapped private and writable (copy on
 * write: the file is never changed), 16-byte aligned. */
struct cache_blob {
	unsigned char *data;
	size_t len;
	void *map;
	size_t maplen;
};

/* The cache directory, or NULL when caching is off. Not created here. */
const char *cache_dir(void);

/* Loads the entry of (key, kind) whose fingerprint is fp. false: none, or not
 * valid (then why, if not NULL, says what; "" for a plain miss). The checks
 * prove the file intact and made for this binary, not its contents sane: the
 * caller checks every field it takes as if it had just derived it (cheap.c
 * cheap_cached_take, dw.c dw_cache_take), and a field that fails is a miss. */
bool cache_load(const char *key, const char *kind, uint64_t fp, struct cache_blob *ret,
		char *why, size_t whylen);
/* Writes an entry from parts laid end to end, atomically (a reader sees the
 * old file or the new one). Failures are not errors: false, and why says. */
struct cache_part {
	const void *data;
	size_t len;
};
bool cache_store(const char *key, const char *kind, uint64_t fp, const struct cache_part *parts,
		 size_t nparts, char *why, size_t whylen);
void cache_release(struct cache_blob *b); /* zeroed or loaded blobs */

/* The file path of an entry (for messages), or NULL when caching is off. */
char *cache_path(const char *key, const char *kind);

/* Creates dir and its parents (mode 0700). */
bool cache_mkdirs(const char *dir);
/* Deletes the least recently used KEY.KIND files of dir until it holds at
 * most max_bytes on disk and at most half of what it holds plus the
 * filesystem's free space (the cache's own trim; unpack.c's for its cores). */
void cache_trim_dir(const char *dir, uint64_t max_bytes);

/* 64-bit FNV-1a, for fingerprints. */
uint64_t cache_hash(uint64_t h, const void *data, size_t len);
#define CACHE_HASH_INIT 1469598103934665603ULL

#endif
