/* A core as users keep it: compressed (systemd-coredump's zstd, or lz4, xz,
 * gzip by hand: told by the bytes, not by the name) or inside a zip beside its
 * metadata (Kubernetes core collectors). It is unpacked once, streaming with
 * bounded memory, into a sparse file (runs of zero pages become holes: most of
 * a Go process's core is zeros) that is then read like any core: in the cache
 * directory (cache.h, subdirectory cores/, keyed by the packed file's identity:
 * the next run reuses it), or, with the cache off, into an unnamed temporary
 * file that disappears with the process. */
#ifndef CT_UNPACK_H
#define CT_UNPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_error.h"

enum unpack_format { UNPACK_RAW, UNPACK_ZSTD, UNPACK_LZ4, UNPACK_XZ, UNPACK_GZIP, UNPACK_ZIP,
		     UNPACK_UNKNOWN };
/* "raw", "zstd", "lz4", "xz", "gzip", "zip", "unknown". */
const char *unpack_format_name(enum unpack_format f);
/* The format the first bytes of a file say (at least 8 of them; fewer: what
 * they allow). UNPACK_RAW is an ELF file; UNPACK_UNKNOWN anything else. */
enum unpack_format unpack_sniff(const unsigned char *head, size_t n);

/* Is path a core, raw or packed? Reads its first bytes (a packed file: just
 * enough of it decoded for the ELF header; a zip: its directory and the
 * heads of its members). For finding the cores in a directory. */
bool unpack_is_core(const char *path);

/* A small member of a zip beside the core (its JSON metadata). */
struct unpack_extra {
	char *name;
	char *data; /* NUL-terminated */
	size_t len;
};

struct unpack {
	enum unpack_format format; /* of the file given */
	enum unpack_format inner;  /* a zip's core member's own format */
	char *member;              /* a zip's core member's name */
	bool cached;               /* unpacked by an earlier run: reused */
	bool kept;                 /* in the cache directory (else a temporary file) */
	char *kept_path;           /* then its path there */
	double seconds;            /* spent unpacking (0 when cached) */
	uint64_t packed_size;      /* the file given */
	uint64_t size;             /* the core unpacked */
	uint64_t disk_size;        /* what it holds on disk (holes are free) */
	char *warning;             /* the packed data ended early or was corrupt: the
				    * core is what came before (then not cached) */
	struct unpack_extra *extras;
	size_t nextras;
};

/* Progress of long unpacking, for a front end's progress line: bytes read
 * of the packed file, of total (0: unknown, a zip member). Called every few
 * tens of MiB, and once at the end with done UINT64_MAX if it was called
 * before; NULL: none. */
typedef void (*unpack_progress_fn)(void *arg, const char *path, uint64_t done, uint64_t total);
void unpack_set_progress(unpack_progress_fn fn, void *arg);

/* fd is the file given (path for messages), whose first bytes sniffed as
 * format (not UNPACK_RAW). On success *out_fd is a descriptor of the
 * unpacked core (the caller closes it) and *u describes what was done. */
struct ct_error *unpack_core(int fd, const char *path, enum unpack_format format,
			     struct unpack *u, int *out_fd);
void unpack_release(struct unpack *u);

/* The largest core unpacked (CORETOOL_UNPACK_MAX_GB, default 1024), against
 * a compressed bomb; the cache keeps at most CORETOOL_UNPACK_CACHE_MB
 * (default 32768) of unpacked cores on disk. */
#define UNPACK_DEFAULT_MAX_GB 1024
#define UNPACK_DEFAULT_CACHE_MB 32768

#endif
