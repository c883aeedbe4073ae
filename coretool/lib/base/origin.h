/* Where a core came from, as its collector recorded it beside the core:
 * systemd-coredump (the stored file's user.coredump.* extended attributes and
 * its name; the journal's fields are added by the front end from coredumpctl),
 * or a Kubernetes core collector's zip (IBM core-dump-handler: its
 * *-dump-info.json, *-pod-info.json, *-ps-info.json, *-image-info.json).
 * Key/value strings in the order found, for the reports. */
#ifndef CT_ORIGIN_H
#define CT_ORIGIN_H

#include <stddef.h>

#include "unpack.h"

struct origin_field {
	char *key, *value;
};

struct origin {
	const char *collector; /* "systemd-coredump", "core-dump-handler", or NULL: none known */
	struct origin_field *fields;
	size_t n;
};

/* Reads what the file given (path, open as fd) and what it was unpacked
 * with (u: a zip's JSON members) say. Nothing known: o->collector NULL. */
void origin_read(struct origin *o, const char *path, int fd, const struct unpack *u);
/* Sets key to value (replacing an earlier value); values are cut at 1 KiB. */
void origin_set(struct origin *o, const char *key, const char *value);
const char *origin_get(const struct origin *o, const char *key);
void origin_release(struct origin *o);

#endif
