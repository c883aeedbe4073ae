#define _GNU_SOURCE
#include "unpack.h"
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lz4frame.h>
#include <lzma.h>
#include <zip.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#define UNPACK_IN_BUF (1u << 20)
#define UNPACK_OUT_BUF (4u << 20)
#define UNPACK_BLOCK 4096                 /* zero runs of whole pages become holes */
#define UNPACK_PROGRESS_EVERY (32u << 20) /* packed bytes between progress calls */
#define UNPACK_XZ_MEMLIMIT (256u << 20)   /* xz -9 needs 65 MiB */
#define UNPACK_ZIP_MAX_ENTRIES 10000
#define UNPACK_EXTRA_MAX (1u << 20)
#define UNPACK_MAX_EXTRAS 64

const char *unpack_format_name(enum unpack_format f)
{
	static const char *const names[] = { "raw", "zstd", "lz4", "xz", "gzip", "zip", "unknown" };
	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "unknown";
}

enum unpack_format unpack_sniff(const unsigned char *h, size_t n)
{
	static const struct {
		enum unpack_format f;
		unsigned char magic[6];
		size_t len;
	} magics[] = {
		{ UNPACK_RAW, { 0x7f, 'E', 'L', 'F' }, 4 },
		{ UNPACK_ZSTD, { 0x28, 0xb5, 0x2f, 0xfd }, 4 },
		{ UNPACK_LZ4, { 0x04, 0x22, 0x4d, 0x18 }, 4 },
		{ UNPACK_XZ, { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6 },
		{ UNPACK_GZIP, { 0x1f, 0x8b }, 2 },
		{ UNPACK_ZIP, { 'P', 'K', 0x03, 0x04 }, 4 },
	};
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (n >= magics[i].len && !memcmp(h, magics[i].magic, magics[i].len))
			return magics[i].f;
	return UNPACK_UNKNOWN;
}

static unpack_progress_fn unpack_progress;
static void *unpack_progress_arg;

void unpack_set_progress(unpack_progress_fn fn, void *arg)
{
	unpack_progress = fn;
	unpack_progress_arg = arg;
}

/* Where packed bytes come from: the file, or a zip member. */
struct unpack_src {
	int fd;          /* the file, or -1 */
	zip_file_t *zf;  /* a zip member, or NULL */
	uint64_t done, total, next_progress;
	const char *path;
	char err[256];
};

static ssize_t src_read(struct unpack_src *s, void *buf, size_t n)
{
	ssize_t r;
	if (s->zf) {
		r = (ssize_t)zip_fread(s->zf, buf, n);
		if (r < 0)
			snprintf(s->err, sizeof(s->err), "%s", zip_file_strerror(s->zf));
	} else {
		do
			r = read(s->fd, buf, n);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			snprintf(s->err, sizeof(s->err), "read: %s", strerror(errno));
	}
	if (r > 0) {
		s->done += (uint64_t)r;
		if (unpack_progress && s->done >= s->next_progress) {
			s->next_progress = s->done + UNPACK_PROGRESS_EVERY;
			unpack_progress(unpack_progress_arg, s->path, s->done, s->total);
		}
	}
	return r;
}

/* Where unpacked bytes go: a sparse file, written at increasing offsets; or,
 * to peek at the first bytes only, a buffer (then the sink "fails" when full
 * and the decoder stops there). */
struct unpack_sink {
	int fd;
	uint64_t off, max;
	unsigned char *peek;
	size_t peek_cap;
	char err[256];
};

static bool unpack_zero(const unsigned char *p, size_t n)
{
	return p[0] == 0 && (n == 1 || memcmp(p, p + 1, n - 1) == 0);
}

static bool sink_pwrite(struct unpack_sink *k, const unsigned char *p, size_t n, uint64_t at)
{
	while (n) {
		ssize_t w = pwrite(k->fd, p, n, (off_t)at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(k->err, sizeof(k->err), "writing the unpacked core at offset %" PRIu64 ": %s",
				 at, w < 0 ? strerror(errno) : "short write");
			return false;
		}
		p += w;
		n -= (size_t)w;
		at += (uint64_t)w;
	}
	return true;
}

/* Writes the non-zero pages of p (at the sink's offset) in runs; zero pages
 * are skipped and stay holes. */
static bool sink_write(struct unpack_sink *k, const unsigned char *p, size_t n)
{
	if (k->peek) {
		size_t take = k->peek_cap - k->off < n ? k->peek_cap - k->off : n;
		memcpy(k->peek + k->off, p, take);
		k->off += take;
		snprintf(k->err, sizeof(k->err), "peeked");
		return k->off < k->peek_cap;
	}
	if (n > k->max - k->off) {
		snprintf(k->err, sizeof(k->err), "the unpacked core would exceed %" PRIu64 " GiB "
			 "(CORETOOL_UNPACK_MAX_GB)", k->max >> 30);
		return false;
	}
	uint64_t pos = k->off;
	size_t j = 0, run = 0;
	bool in_run = false;
	while (j < n) {
		size_t c = UNPACK_BLOCK - (size_t)((pos + j) % UNPACK_BLOCK);
		if (c > n - j)
			c = n - j;
		bool zero = unpack_zero(p + j, c);
		if (!zero && !in_run) {
			run = j;
			in_run = true;
		} else if (zero && in_run) {
			if (!sink_pwrite(k, p + run, j - run, pos + run))
				return false;
			in_run = false;
		}
		j += c;
	}
	if (in_run && !sink_pwrite(k, p + run, n - run, pos + run))
		return false;
	k->off += n;
	return true;
}

/* How a decoder ended: the whole stream; cut short (input ended early or is
 * corrupt: msg says where; what came before is kept); or failed (the sink). */
enum unpack_end { UNPACK_DONE, UNPACK_CUT, UNPACK_FAILED };

struct unpack_job {
	struct unpack_src *in;
	struct unpack_sink *out;
	unsigned char *ib, *ob;
	char msg[400];
};

static enum unpack_end job_cut(struct unpack_job *j, const char *fmt, const char *what)
{
	snprintf(j->msg, sizeof(j->msg), fmt, what);
	return UNPACK_CUT;
}

static enum unpack_end job_sink_failed(struct unpack_job *j)
{
	snprintf(j->msg, sizeof(j->msg), "%s", j->out->err);
	return UNPACK_FAILED;
}

static enum unpack_end unpack_copy(struct unpack_job *j)
{
	for (;;) {
		ssize_t n = src_read(j->in, j->ib, UNPACK_IN_BUF);
		if (n < 0)
			return job_cut(j, "%s", j->in->err);
		if (n == 0)
			return UNPACK_DONE;
		if (!sink_write(j->out, j->ib, (size_t)n))
			return job_sink_failed(j);
	}
}

static enum unpack_end unpack_zstd(struct unpack_job *j)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	if (!z || ZSTD_isError(ZSTD_initDStream(z))) {
		ZSTD_freeDStream(z);
		snprintf(j->msg, sizeof(j->msg), "zstd: cannot create a decoder");
		return UNPACK_FAILED;
	}
	enum unpack_end end = UNPACK_DONE;
	size_t last = 0; /* 0: at a frame's end */
	for (;;) {
		ssize_t n = src_read(j->in, j->ib, UNPACK_IN_BUF);
		if (n < 0) {
			end = job_cut(j, "%s", j->in->err);
			break;
		}
		if (n == 0) {
			if (last != 0)
				end = job_cut(j, "zstd: the data ends in the middle of a frame%s",
					      " (the file was cut short)");
			break;
		}
		ZSTD_inBuffer zi = { j->ib, (size_t)n, 0 };
		ZSTD_outBuffer zo;
		do {
			zo = (ZSTD_outBuffer){ j->ob, UNPACK_OUT_BUF, 0 };
			size_t in_before = zi.pos;
			size_t r = ZSTD_decompressStream(z, &zo, &zi);
			if (ZSTD_isError(r)) {
				const char *hint = ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge
							   ? " (made with zstd --long: decompress it with "
							     "zstd -d --long=31 first)" : "";
				snprintf(j->msg, sizeof(j->msg), "zstd: %s near byte %" PRIu64 " of the packed "
					 "data%s", ZSTD_getErrorName(r), j->in->done, hint);
				end = UNPACK_CUT;
				goto out;
			}
			if (!sink_write(j->out, j->ob, zo.pos)) {
				end = job_sink_failed(j);
				goto out;
			}
			/* A frame that ended exactly as the output filled is asked
			 * again (it may have had more to flush): that call, with
			 * nothing to read or write, answers for the next frame's
			 * header, and says nothing about this one. */
			if (zi.pos != in_before || zo.pos != 0)
				last = r;
		} while (zi.pos < zi.size || zo.pos == zo.size);
	}
out:
	ZSTD_freeDStream(z);
	return end;
}

static enum unpack_end unpack_lz4(struct unpack_job *j)
{
	LZ4F_dctx *d = NULL;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
		snprintf(j->msg, sizeof(j->msg), "lz4: cannot create a decoder");
		return UNPACK_FAILED;
	}
	enum unpack_end end = UNPACK_DONE;
	size_t hint = 1; /* 0: at a frame's end */
	for (;;) {
		ssize_t n = src_read(j->in, j->ib, UNPACK_IN_BUF);
		if (n < 0) {
			end = job_cut(j, "%s", j->in->err);
			break;
		}
		size_t pos = 0;
		bool eof = n == 0;
		/* At the end of the input, drain what the decoder still holds
		 * (nothing when the last frame ended). */
		if (eof && hint == 0)
			break;
		do {
			size_t isz = (size_t)n - pos, osz = UNPACK_OUT_BUF;
			size_t r = LZ4F_decompress(d, j->ob, &osz, j->ib + pos, &isz, NULL);
			if (LZ4F_isError(r)) {
				snprintf(j->msg, sizeof(j->msg), "lz4: %s near byte %" PRIu64 " of the packed data",
					 LZ4F_getErrorName(r), j->in->done);
				end = UNPACK_CUT;
				goto out;
			}
			if (!sink_write(j->out, j->ob, osz)) {
				end = job_sink_failed(j);
				goto out;
			}
			pos += isz;
			if (eof && osz == 0)
				break;
			hint = r;
		} while (pos < (size_t)n || eof);
		if (eof) {
			if (hint != 0)
				end = job_cut(j, "lz4: the data ends in the middle of a frame%s",
					      " (the file was cut short)");
			break;
		}
	}
out:
	LZ4F_freeDecompressionContext(d);
	return end;
}

static const char *unpack_lzma_msg(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "needs more than 256 MiB of memory to decompress";
	case LZMA_FORMAT_ERROR: return "not in the .xz format";
	case LZMA_OPTIONS_ERROR: return "unsupported compression options";
	case LZMA_DATA_ERROR: return "corrupt data";
	case LZMA_BUF_ERROR: return "the data ends early (the file was cut short)";
	default: return "decoder error";
	}
}

static enum unpack_end unpack_xz(struct unpack_job *j)
{
	lzma_stream s = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&s, UNPACK_XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK) {
		snprintf(j->msg, sizeof(j->msg), "xz: cannot create a decoder");
		return UNPACK_FAILED;
	}
	enum unpack_end end = UNPACK_DONE;
	lzma_action action = LZMA_RUN;
	for (;;) {
		if (s.avail_in == 0 && action == LZMA_RUN) {
			ssize_t n = src_read(j->in, j->ib, UNPACK_IN_BUF);
			if (n < 0) {
				end = job_cut(j, "%s", j->in->err);
				break;
			}
			if (n == 0)
				action = LZMA_FINISH;
			s.next_in = j->ib;
			s.avail_in = (size_t)n;
		}
		s.next_out = j->ob;
		s.avail_out = UNPACK_OUT_BUF;
		lzma_ret r = lzma_code(&s, action);
		if (!sink_write(j->out, j->ob, UNPACK_OUT_BUF - s.avail_out)) {
			end = job_sink_failed(j);
			break;
		}
		if (r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK) {
			snprintf(j->msg, sizeof(j->msg), "xz: %s near byte %" PRIu64 " of the packed data",
				 unpack_lzma_msg(r), j->in->done);
			end = r == LZMA_MEM_ERROR ? UNPACK_FAILED : UNPACK_CUT;
			break;
		}
	}
	lzma_end(&s);
	return end;
}

/* gzip, with the members of a concatenated file one after the other; bytes
 * after the last member that do not start another are ignored (as gzip -d). */
static enum unpack_end unpack_gzip(struct unpack_job *j)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK) {
		snprintf(j->msg, sizeof(j->msg), "gzip: cannot create a decoder");
		return UNPACK_FAILED;
	}
	enum unpack_end end = UNPACK_DONE;
	bool in_member = true;
	for (;;) {
		if (zs.avail_in == 0) {
			ssize_t n = src_read(j->in, j->ib, UNPACK_IN_BUF);
			if (n < 0) {
				end = job_cut(j, "%s", j->in->err);
				break;
			}
			if (n == 0) {
				if (in_member)
					end = job_cut(j, "gzip: the data ends in the middle of a member%s",
						      " (the file was cut short)");
				break;
			}
			zs.next_in = j->ib;
			zs.avail_in = (uInt)n;
		}
		if (!in_member) {
			if (zs.next_in[0] != 0x1f || (zs.avail_in > 1 && zs.next_in[1] != 0x8b))
				break; /* trailing bytes */
			inflateReset(&zs);
			in_member = true;
		}
		zs.next_out = j->ob;
		zs.avail_out = UNPACK_OUT_BUF;
		int r = inflate(&zs, Z_NO_FLUSH);
		if (!sink_write(j->out, j->ob, UNPACK_OUT_BUF - zs.avail_out)) {
			end = job_sink_failed(j);
			break;
		}
		if (r == Z_STREAM_END) {
			in_member = false;
		} else if (r != Z_OK && r != Z_BUF_ERROR) {
			snprintf(j->msg, sizeof(j->msg), "gzip: %s near byte %" PRIu64 " of the packed data",
				 zs.msg ? zs.msg : "corrupt data", j->in->done);
			end = r == Z_MEM_ERROR ? UNPACK_FAILED : UNPACK_CUT;
			break;
		}
	}
	inflateEnd(&zs);
	return end;
}

static enum unpack_end unpack_stream(struct unpack_job *j, enum unpack_format f)
{
	switch (f) {
	case UNPACK_ZSTD: return unpack_zstd(j);
	case UNPACK_LZ4: return unpack_lz4(j);
	case UNPACK_XZ: return unpack_xz(j);
	case UNPACK_GZIP: return unpack_gzip(j);
	default: return unpack_copy(j);
	}
}

static double unpack_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t unpack_env(const char *name, uint64_t dflt)
{
	const char *e = getenv(name);
	if (!e || !*e)
		return dflt;
	char *end;
	unsigned long long v = strtoull(e, &end, 10);
	return *end || !v ? dflt : (uint64_t)v;
}

/* An unnamed file in dir (O_TMPFILE), or a named one deleted at once: either
 * way nothing is left behind if the process dies mid-way. *named: the name
 * the file has until it is linked (O_TMPFILE unsupported), else "". */
static int unpack_tmpfile(const char *dir, char *named, size_t cap)
{
	named[0] = 0;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	snprintf(named, cap, "%s/unpack.%ld.XXXXXX", dir, (long)getpid());
	fd = mkostemp(named, O_CLOEXEC);
	if (fd < 0)
		named[0] = 0;
	return fd;
}

/* Gives the finished file fd its name in the cache: atomically, a reader
 * sees no file or the whole one. */
static bool unpack_link(int fd, const char *named, const char *final)
{
	if (named[0])
		return rename(named, final) == 0;
	char proc[64], tmp[4200];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", final, (long)getpid());
	unlink(tmp);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) != 0)
		return false;
	if (rename(tmp, final) != 0) {
		unlink(tmp);
		return false;
	}
	return true;
}

/* The zip's members: its small JSON files into u->extras, and the member
 * that holds the core (an ELF core, or a compressed file: the largest such),
 * returned as its index with its format, or -1. */
static zip_int64_t unpack_zip_scan(zip_t *za, struct unpack *u, enum unpack_format *inner)
{
	zip_int64_t n = zip_get_num_entries(za, 0), best = -1;
	zip_uint64_t best_size = 0;
	if (n > UNPACK_ZIP_MAX_ENTRIES)
		n = UNPACK_ZIP_MAX_ENTRIES;
	for (zip_int64_t i = 0; i < n; i++) {
		zip_stat_t st;
		if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
		    !(st.valid & ZIP_STAT_SIZE))
			continue;
		size_t len = strlen(st.name);
		zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)i, 0);
		if (!zf)
			continue;
		if (len > 5 && !strcmp(st.name + len - 5, ".json") && st.size <= UNPACK_EXTRA_MAX &&
		    u->nextras < UNPACK_MAX_EXTRAS) {
			char *data = malloc(st.size + 1);
			struct unpack_extra *ne = data ? realloc(u->extras, (u->nextras + 1) * sizeof(*ne)) : NULL;
			zip_int64_t got = ne ? zip_fread(zf, data, st.size) : -1;
			if (ne)
				u->extras = ne;
			if (got >= 0 && (zip_uint64_t)got == st.size && (ne[u->nextras].name = strdup(st.name))) {
				data[got] = 0;
				ne[u->nextras].data = data;
				ne[u->nextras].len = (size_t)got;
				u->nextras++;
			} else {
				free(data);
			}
		} else {
			unsigned char head[18];
			zip_int64_t got = zip_fread(zf, head, sizeof(head));
			enum unpack_format f = got > 0 ? unpack_sniff(head, (size_t)got) : UNPACK_UNKNOWN;
			bool core = f == UNPACK_RAW ? got >= 18 && head[16] == 4 && head[17] == 0 /* ET_CORE */
						   : f != UNPACK_UNKNOWN && f != UNPACK_ZIP;
			if (core && (best < 0 || st.size > best_size)) {
				best = i;
				best_size = st.size;
				*inner = f;
			}
		}
		zip_fclose(zf);
	}
	return best;
}

void unpack_release(struct unpack *u)
{
	if (!u)
		return;
	free(u->member);
	free(u->warning);
	free(u->kept_path);
	for (size_t i = 0; i < u->nextras; i++) {
		free(u->extras[i].name);
		free(u->extras[i].data);
	}
	free(u->extras);
	memset(u, 0, sizeof(*u));
}

struct ct_error *unpack_core(int fd, const char *path, enum unpack_format format,
			     struct unpack *u, int *out_fd)
{
	memset(u, 0, sizeof(*u));
	*out_fd = -1;
	u->format = format;
	u->inner = format;
	struct stat sb;
	if (fstat(fd, &sb) != 0)
		return ct_error_fmt(CT_ERR_IO, "%s: %s", path, strerror(errno));
	u->packed_size = (uint64_t)sb.st_size;
	if (format == UNPACK_RAW || format == UNPACK_UNKNOWN)
		return ct_error_fmt(CT_ERR_FORMAT, "%s: not a packed core", path);

	struct ct_error *err = NULL;
	zip_t *za = NULL;
	zip_file_t *zf = NULL;
	int rfd = -1;
	unsigned char *ib = NULL, *ob = NULL;
	if (format == UNPACK_ZIP) {
		int zfd = dup(fd), zerr = 0;
		if (zfd < 0 || lseek(zfd, 0, SEEK_SET) < 0 || !(za = zip_fdopen(zfd, 0, &zerr))) {
			zip_error_t ze;
			zip_error_init_with_code(&ze, zerr);
			err = ct_error_fmt(CT_ERR_FORMAT, "%s: not a readable zip: %s", path,
					   zfd < 0 ? strerror(errno) : zip_error_strerror(&ze));
			zip_error_fini(&ze);
			if (zfd >= 0 && !za)
				close(zfd);
			return err;
		}
		zip_int64_t m = unpack_zip_scan(za, u, &u->inner);
		if (m < 0) {
			err = ct_error_fmt(CT_ERR_FORMAT, "%s: the zip holds no core (no member is an ELF "
					   "core or a compressed file)", path);
			goto out;
		}
		zip_stat_t st;
		if (zip_stat_index(za, (zip_uint64_t)m, 0, &st) == 0 && (st.valid & ZIP_STAT_NAME))
			u->member = strdup(st.name);
		if (!(zf = zip_fopen_index(za, (zip_uint64_t)m, 0))) {
			err = ct_error_fmt(CT_ERR_FORMAT, "%s: member %s: %s", path, u->member ? u->member : "?",
					   zip_strerror(za));
			goto out;
		}
	} else if (lseek(fd, 0, SEEK_SET) < 0) {
		return ct_error_fmt(CT_ERR_IO, "%s: seek: %s", path, strerror(errno));
	}

	/* The cache entry: the packed file's identity (device, inode, size,
	 * modification time). */
	char dir[4200] = "", final[4300] = "", named[4300];
	const char *cdir = cache_dir();
	uint64_t key = CACHE_HASH_INIT;
	key = cache_hash(key, &sb.st_dev, sizeof(sb.st_dev));
	key = cache_hash(key, &sb.st_ino, sizeof(sb.st_ino));
	key = cache_hash(key, &sb.st_size, sizeof(sb.st_size));
	key = cache_hash(key, &sb.st_mtim, sizeof(sb.st_mtim));
	if (cdir) {
		snprintf(dir, sizeof(dir), "%s/cores", cdir);
		snprintf(final, sizeof(final), "%s/%016" PRIx64 ".core", dir, key);
		rfd = open(final, O_RDONLY | O_CLOEXEC);
		struct stat cs;
		if (rfd >= 0 && fstat(rfd, &cs) == 0 && S_ISREG(cs.st_mode) && cs.st_size > 0) {
			futimens(rfd, NULL); /* recently used */
			u->cached = u->kept = true;
			u->kept_path = strdup(final);
			u->size = (uint64_t)cs.st_size;
			u->disk_size = (uint64_t)cs.st_blocks * 512;
			goto out;
		}
		if (rfd >= 0)
			close(rfd);
		rfd = -1;
		if (!cache_mkdirs(dir))
			dir[0] = 0; /* not writable: a temporary file */
	}
	if (!dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s", t && *t == '/' ? t : "/tmp");
		final[0] = 0;
	}
	rfd = unpack_tmpfile(dir, named, sizeof(named));
	if (rfd < 0) {
		err = ct_error_fmt(CT_ERR_IO, "%s: cannot create a file in %s to unpack into: %s", path,
				   dir, strerror(errno));
		goto out;
	}
	if (!final[0] && named[0])
		unlink(named), named[0] = 0; /* temporary: nameless from the start */
	ib = malloc(UNPACK_IN_BUF);
	ob = malloc(UNPACK_OUT_BUF);
	if (!ib || !ob) {
		err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		goto out;
	}
	struct unpack_src in = { .fd = zf ? -1 : fd, .zf = zf, .path = path,
				 .total = zf ? 0 : u->packed_size, .next_progress = UNPACK_PROGRESS_EVERY };
	struct unpack_sink sink = { .fd = rfd,
				    .max = unpack_env("CORETOOL_UNPACK_MAX_GB", UNPACK_DEFAULT_MAX_GB) << 30 };
	struct unpack_job job = { &in, &sink, ib, ob, "" };
	double t0 = unpack_now();
	enum unpack_end end = unpack_stream(&job, u->inner);
	if (end == UNPACK_DONE && ftruncate(rfd, (off_t)sink.off) != 0)
		end = UNPACK_FAILED, snprintf(job.msg, sizeof(job.msg), "ftruncate: %s", strerror(errno));
	u->seconds = unpack_now() - t0;
	if (end == UNPACK_FAILED || (end == UNPACK_CUT && sink.off == 0)) {
		err = ct_error_fmt(end == UNPACK_FAILED ? CT_ERR_IO : CT_ERR_FORMAT, "%s: unpacking (%s): %s",
				   path, unpack_format_name(u->inner), job.msg);
		if (named[0])
			unlink(named);
		goto out;
	}
	if (end == UNPACK_CUT) {
		if (ftruncate(rfd, (off_t)sink.off) != 0) { /* the holes at the end are the core's too */
		}
		if (asprintf(&u->warning, "%s: %s: the core is the %" PRIu64 " bytes unpacked before that",
			     path, job.msg, sink.off) < 0)
			u->warning = NULL;
		if (named[0])
			unlink(named), named[0] = 0; /* a cut core is not kept */
	} else if (final[0] && unpack_link(rfd, named, final)) {
		u->kept = true;
		u->kept_path = strdup(final);
		named[0] = 0;
		cache_trim_dir(dir, unpack_env("CORETOOL_UNPACK_CACHE_MB", UNPACK_DEFAULT_CACHE_MB) << 20);
		if (access(final, F_OK) != 0) { /* over the budget by itself: not kept */
			u->kept = false;
			free(u->kept_path);
			u->kept_path = NULL;
		}
	}
	if (named[0])
		unlink(named);
	struct stat rs;
	u->size = sink.off;
	u->disk_size = fstat(rfd, &rs) == 0 ? (uint64_t)rs.st_blocks * 512 : 0;
	if (unpack_progress && in.next_progress > UNPACK_PROGRESS_EVERY)
		unpack_progress(unpack_progress_arg, path, UINT64_MAX, in.total); /* finished */
out:
	free(ib);
	free(ob);
	if (zf)
		zip_fclose(zf);
	if (za)
		zip_discard(za);
	if (err) {
		if (rfd >= 0)
			close(rfd);
		unpack_release(u);
		return err;
	}
	*out_fd = rfd;
	return NULL;
}

/* The first bytes of an ELF core: magic, and e_type ET_CORE at offset 16. */
static bool unpack_head_is_core(const unsigned char *h, size_t n)
{
	return n >= 18 && unpack_sniff(h, n) == UNPACK_RAW && h[16] == 4 && h[17] == 0;
}

bool unpack_is_core(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat sb;
	if (fd < 0)
		return false;
	unsigned char h[18];
	ssize_t got = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? pread(fd, h, sizeof(h), 0) : -1;
	enum unpack_format f = got > 0 ? unpack_sniff(h, (size_t)got) : UNPACK_UNKNOWN;
	bool yes = false;
	if (f == UNPACK_RAW) {
		yes = unpack_head_is_core(h, (size_t)got);
	} else if (f == UNPACK_ZIP) {
		int zfd = dup(fd), zerr;
		zip_t *za = zfd >= 0 ? zip_fdopen(zfd, 0, &zerr) : NULL;
		if (!za && zfd >= 0)
			close(zfd);
		struct unpack u;
		memset(&u, 0, sizeof(u));
		enum unpack_format inner;
		yes = za && unpack_zip_scan(za, &u, &inner) >= 0;
		unpack_release(&u);
		if (za)
			zip_discard(za);
	} else if (f != UNPACK_UNKNOWN) {
		/* Decode just enough for the ELF header. */
		unsigned char *ib = malloc(UNPACK_IN_BUF), *ob = malloc(UNPACK_OUT_BUF), peek[18];
		struct unpack_src in = { .fd = fd, .path = path, .next_progress = UINT64_MAX };
		struct unpack_sink sink = { .fd = -1, .max = sizeof(peek), .peek = peek, .peek_cap = sizeof(peek) };
		struct unpack_job job = { &in, &sink, ib, ob, "" };
		if (ib && ob && lseek(fd, 0, SEEK_SET) == 0) {
			unpack_stream(&job, f);
			yes = unpack_head_is_core(peek, (size_t)sink.off);
		}
		free(ib);
		free(ob);
	}
	close(fd);
	return yes;
}
