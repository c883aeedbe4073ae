#define _GNU_SOURCE
#include "cache.h"
#include "ct_file.h"
#include "ct_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* The file: this header, then the payload at CACHE_HDR_SIZE. */
#define CACHE_MAGIC "CTCACHE1"
#define CACHE_HDR_SIZE 64
#define CACHE_MAX_PAYLOAD (1ULL << 32) /* far above any DWARF index */
/* The directory is kept under this many bytes (CORETOOL_CACHE_MAX_MB), the
 * least recently used entries going first: a fleet has many builds. */
#define CACHE_DEFAULT_MAX_MB 1024
#define CACHE_MAX_FILES 100000 /* bound on the directory scan */

struct cache_hdr {
	char magic[8];
	char kind[16];     /* NUL-padded */
	uint64_t fp;       /* the binary's fingerprint */
	uint64_t len;      /* payload bytes */
	uint64_t sum;      /* cache_sum of the payload */
	unsigned char pad[CACHE_HDR_SIZE - 48];
};
_Static_assert(sizeof(struct cache_hdr) == CACHE_HDR_SIZE, "cache header size");

uint64_t cache_hash(uint64_t h, const void *data, size_t len)
{
	return ct_fnv1a(h, data, len);
}

/* A checksum over megabytes that costs well under a millisecond: four
 * independent multiply-xor lanes over 8-byte words, folded at the end. It
 * catches truncation and damage, not an adversary (the file is the user's). */
static uint64_t cache_sum(const unsigned char *p, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	uint64_t h[4] = { 1, 2, 3, (uint64_t)len };
	size_t i = 0;
	for (; i + 32 <= len; i += 32)
		for (int l = 0; l < 4; l++) {
			uint64_t w;
			memcpy(&w, p + i + 8 * l, 8);
			h[l] = (h[l] ^ w) * k;
			h[l] ^= h[l] >> 29;
		}
	uint64_t r = cache_hash(CACHE_HASH_INIT, p + i, len - i);
	for (int l = 0; l < 4; l++)
		r = (r ^ h[l]) * k;
	return r ^ (r >> 31);
}

const char *cache_dir(void)
{
	static char buf[4096];
	static int state; /* 0 unknown, 1 on, 2 off */
	if (state)
		return state == 1 ? buf : NULL;
	const char *e = getenv(CACHE_ENV_DIR);
	int n = -1;
	if (e)
		n = *e && strcmp(e, "off") != 0 ? snprintf(buf, sizeof(buf), "%s", e) : -1;
	else if ((e = getenv("XDG_CACHE_HOME")) && *e == '/')
		n = snprintf(buf, sizeof(buf), "%s/coretool", e);
	else if ((e = getenv("HOME")) && *e == '/')
		n = snprintf(buf, sizeof(buf), "%s/.cache/coretool", e);
	state = n > 0 && (size_t)n < sizeof(buf) ? 1 : 2;
	return state == 1 ? buf : NULL;
}

static bool cache_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

char *cache_path(const char *key, const char *kind)
{
	const char *dir = cache_dir();
	char *p = NULL;
	if (!dir || !cache_name_ok(key) || !cache_name_ok(kind) || strlen(kind) >= 16)
		return NULL;
	if (asprintf(&p, "%s/%s.%s", dir, key, kind) < 0)
		return NULL;
	return p;
}

void cache_release(struct cache_blob *b)
{
	if (b->map)
		munmap(b->map, b->maplen);
	memset(b, 0, sizeof(*b));
}

bool cache_load(const char *key, const char *kind, uint64_t fp, struct cache_blob *ret,
		char *why, size_t whylen)
{
	memset(ret, 0, sizeof(*ret));
	if (why && whylen)
		why[0] = 0;
	char *path = cache_path(key, kind);
	if (!path)
		return false;
	int fd = ct_open_regular(path);
	if (fd >= 0)
		utimensat(AT_FDCWD, path, NULL, 0); /* used now: last to be evicted */
	free(path);
	if (fd < 0)
		return false; /* a miss */
	struct stat sb;
	const char *bad = NULL;
	void *map = MAP_FAILED;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size < CACHE_HDR_SIZE ||
	    (uint64_t)sb.st_size > CACHE_HDR_SIZE + CACHE_MAX_PAYLOAD)
		bad = "not a cache file of a usable size";
	else if ((map = mmap(NULL, sb.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		bad = "cannot map it";
	close(fd);
	if (!bad) {
		struct cache_hdr h;
		memcpy(&h, map, sizeof(h));
		const unsigned char *payload = (const unsigned char *)map + CACHE_HDR_SIZE;
		if (memcmp(h.magic, CACHE_MAGIC, 8) != 0 || strncmp(h.kind, kind, sizeof(h.kind)) != 0)
			bad = "not a cache file of this kind or format version";
		else if (h.len != (uint64_t)sb.st_size - CACHE_HDR_SIZE)
			bad = "truncated or extended";
		else if (h.fp != fp)
			bad = "made for another build of the binary";
		else if (cache_sum(payload, h.len) != h.sum)
			bad = "checksum mismatch (damaged)";
	}
	if (bad) {
		if (why && whylen)
			snprintf(why, whylen, "%s", bad);
		if (map != MAP_FAILED)
			munmap(map, sb.st_size);
		return false;
	}
	madvise(map, sb.st_size, MADV_WILLNEED);
	ret->map = map;
	ret->maplen = sb.st_size;
	ret->data = (unsigned char *)map + CACHE_HDR_SIZE;
	ret->len = sb.st_size - CACHE_HDR_SIZE;
	return true;
}

bool cache_mkdirs(const char *dir)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return false;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return false;
		*p = '/';
	}
	return mkdir(buf, 0700) == 0 || errno == EEXIST;
}

static bool cache_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

struct cache_ent {
	char name[256];
	off_t size;
	struct timespec mtime; /* to the nanosecond: two entries stored in one second are ordered */
};

static int cache_ent_cmp(const void *a, const void *b)
{
	const struct cache_ent *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return (x->mtime.tv_sec > y->mtime.tv_sec) - (x->mtime.tv_sec < y->mtime.tv_sec);
	return (x->mtime.tv_nsec > y->mtime.tv_nsec) - (x->mtime.tv_nsec < y->mtime.tv_nsec);
}

/* Deletes the least recently used entries until the directory holds at most
 * max_bytes, and at most half of the space it could have (what it holds plus
 * what the filesystem has free for us): a cache of unpacked cores on a small
 * disk must not fill it. Only files that look like ours (KEY.KIND, no dot in
 * the key) are counted or deleted; a sparse file counts what it holds on disk. */
void cache_trim_dir(const char *dir, uint64_t max_bytes)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct cache_ent *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < CACHE_MAX_FILES) {
		const char *dot = strchr(de->d_name, '.');
		struct stat sb;
		if (!dot || dot == de->d_name || strchr(dot + 1, '.') || !cache_name_ok(dot + 1) ||
		    strlen(de->d_name) >= sizeof(v->name) || fstatat(dirfd(d), de->d_name, &sb, 0) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct cache_ent *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
			cap = ncap;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		uint64_t disk = (uint64_t)sb.st_blocks * 512;
		v[n].size = disk < (uint64_t)sb.st_size ? (off_t)disk : sb.st_size;
		v[n].mtime = sb.st_mtim;
		total += (uint64_t)v[n].size;
		n++;
	}
	struct statvfs fs;
	if (fstatvfs(dirfd(d), &fs) == 0 && fs.f_frsize) {
		uint64_t avail = (uint64_t)fs.f_bavail * fs.f_frsize, half = (total + avail) / 2;
		if (half < max_bytes)
			max_bytes = half;
	}
	if (n && total > max_bytes) {
		qsort(v, n, sizeof(*v), cache_ent_cmp);
		for (size_t i = 0; i < n && total > max_bytes; i++)
			if (unlinkat(dirfd(d), v[i].name, 0) == 0)
				total -= (uint64_t)v[i].size;
	}
	closedir(d);
	free(v);
}

static void cache_trim(const char *dir)
{
	const char *e = getenv("CORETOOL_CACHE_MAX_MB");
	long long max_mb = e && *e ? atoll(e) : CACHE_DEFAULT_MAX_MB;
	if (max_mb > 0)
		cache_trim_dir(dir, (uint64_t)max_mb * 1024 * 1024);
}

bool cache_store(const char *key, const char *kind, uint64_t fp, const struct cache_part *parts,
		 size_t nparts, char *why, size_t whylen)
{
	const char *dir = cache_dir();
	char *path = cache_path(key, kind), *tmp = NULL;
	const char *bad = NULL;
	int fd = -1, eno = 0;
	if (why && whylen)
		why[0] = 0;
	size_t len = 0;
	for (size_t i = 0; i < nparts; i++)
		len += parts[i].len;
	/* The checksum runs over the payload as it will be in the file. */
	unsigned char *payload = NULL;
	if (!path)
		bad = "caching is off";
	else if (len > CACHE_MAX_PAYLOAD || !(payload = malloc(len ? len : 1)))
		bad = "too large";
	else if (!cache_mkdirs(dir))
		bad = "cannot create the cache directory", eno = errno;
	else if (asprintf(&tmp, "%s.%ld.tmp", path, (long)getpid()) < 0)
		tmp = NULL, bad = "out of memory";
	else if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		bad = "cannot create the file", eno = errno;
	if (!bad) {
		size_t off = 0;
		for (size_t i = 0; i < nparts; i++) {
			memcpy(payload + off, parts[i].data, parts[i].len);
			off += parts[i].len;
		}
		struct cache_hdr h;
		memset(&h, 0, sizeof(h));
		memcpy(h.magic, CACHE_MAGIC, 8);
		strncpy(h.kind, kind, sizeof(h.kind) - 1);
		h.fp = fp;
		h.len = len;
		h.sum = cache_sum(payload, len);
		if (!cache_write_all(fd, &h, sizeof(h)) || !cache_write_all(fd, payload, len))
			bad = "write failed", eno = errno;
	}
	if (fd >= 0 && close(fd) != 0 && !bad)
		bad = "write failed", eno = errno;
	if (!bad && rename(tmp, path) != 0)
		bad = "cannot rename the file into place", eno = errno;
	if (!bad)
		cache_trim(dir);
	if (bad && fd >= 0)
		unlink(tmp);
	if (bad && why && whylen)
		snprintf(why, whylen, "%s%s%s", bad, eno ? ": " : "", eno ? strerror(eno) : "");
	free(payload);
	free(tmp);
	free(path);
	return !bad;
}
