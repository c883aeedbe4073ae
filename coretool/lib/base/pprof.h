/* A pprof profile (github.com/google/pprof proto/profile.proto) built in
 * memory and written gzipped, as `go tool pprof` reads it. Samples are
 * stacks of frame names (one function and one location per distinct name)
 * with one value per sample type; equal stacks are merged, so memory grows
 * with the distinct stacks, not with the samples. The encoder is our own: a
 * profile needs five message types of the protobuf wire format, and the
 * tests check the file with `go tool pprof`. */
#ifndef CT_PPROF_H
#define CT_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "ct_error.h"

#define PPROF_MAX_VALUES 4
#define PPROF_MAX_DEPTH 128

struct pprof;

/* The sample types, in order (e.g. "inuse_objects"/"count",
 * "inuse_space"/"bytes"); the last is the default one pprof shows. */
struct ct_error *pprof_new(const char *const *types, const char *const *units, size_t ntypes,
			   struct pprof **ret);
void pprof_free(struct pprof *p); /* NULL allowed */

/* A comment line, shown by `pprof -comments`. */
struct ct_error *pprof_comment(struct pprof *p, const char *text);

/* One sample: frames leaf first (at most PPROF_MAX_DEPTH are kept), one
 * value per sample type. A stack seen before adds to its values. */
struct ct_error *pprof_add(struct pprof *p, const char *const *frames, size_t nframes,
			   const int64_t *values);

size_t pprof_nsamples(const struct pprof *p); /* distinct stacks so far */

/* The profile.proto, gzip-compressed, to path. */
struct ct_error *pprof_write(const struct pprof *p, const char *path);

#endif
