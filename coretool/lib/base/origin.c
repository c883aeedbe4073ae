#define _GNU_SOURCE
#include "origin.h"

#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>

#define ORIGIN_VALUE_MAX 1024
#define ORIGIN_MAX_FIELDS 64

const char *origin_get(const struct origin *o, const char *key)
{
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->fields[i].key, key))
			return o->fields[i].value;
	return NULL;
}

void origin_set(struct origin *o, const char *key, const char *value)
{
	if (!value || !*value)
		return;
	char *v = strndup(value, ORIGIN_VALUE_MAX);
	if (!v)
		return;
	for (char *p = v; *p; p++) /* one line each in text reports */
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->fields[i].key, key)) {
			free(o->fields[i].value);
			o->fields[i].value = v;
			return;
		}
	char *k = o->n < ORIGIN_MAX_FIELDS ? strdup(key) : NULL;
	struct origin_field *nf = k ? realloc(o->fields, (o->n + 1) * sizeof(*nf)) : NULL;
	if (!nf) {
		free(k);
		free(v);
		return;
	}
	o->fields = nf;
	nf[o->n++] = (struct origin_field){ k, v };
}

void origin_release(struct origin *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->fields[i].key);
		free(o->fields[i].value);
	}
	free(o->fields);
	memset(o, 0, sizeof(*o));
}

/* A time in seconds (or microseconds, as systemd keeps it) since the epoch,
 * as UTC ISO 8601. */
static void origin_set_time(struct origin *o, const char *key, const char *epoch, int usec)
{
	char *end;
	long long v = epoch ? strtoll(epoch, &end, 10) : 0;
	if (!epoch || *end || v <= 0)
		return;
	time_t s = (time_t)(usec ? v / 1000000 : v);
	struct tm tm;
	char buf[40];
	if (gmtime_r(&s, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		origin_set(o, key, buf);
}

/* systemd-coredump's attributes on the file it stored (coredump.c: one per
 * field of the kernel's core_pattern arguments), and its file name:
 * core.COMM.UID.BOOT_ID.PID.USEC[.zst|.lz4|.xz]. */
static void origin_systemd(struct origin *o, const char *path, int fd)
{
	static const char *const attrs[][2] = {
		{ "user.coredump.pid", "pid" },           { "user.coredump.uid", "uid" },
		{ "user.coredump.gid", "gid" },           { "user.coredump.signal", "signal" },
		{ "user.coredump.timestamp", "timestamp" }, { "user.coredump.rlimit", "rlimit" },
		{ "user.coredump.hostname", "hostname" }, { "user.coredump.comm", "comm" },
		{ "user.coredump.exe", "exe" },
	};
	char buf[ORIGIN_VALUE_MAX + 1];
	bool any = false;
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		ssize_t n = fgetxattr(fd, attrs[i][0], buf, ORIGIN_VALUE_MAX);
		if (n <= 0)
			continue;
		buf[n] = 0;
		origin_set(o, attrs[i][1], buf);
		any = true;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	/* The boot ID is only in the name: 32 hex digits between dots. */
	if (!strncmp(base, "core.", 5)) {
		/* COMM may hold dots: the boot ID is found by its shape. */
		for (const char *q = base + 5; (q = strchr(q, '.')); q++) {
			size_t len = strspn(q + 1, "0123456789abcdef");
			if (len == 32 && q[33] == '.') {
				char id[33];
				memcpy(id, q + 1, 32);
				id[32] = 0;
				origin_set(o, "boot_id", id);
				any = any || origin_get(o, "pid");
				break;
			}
		}
	}
	if (any) {
		o->collector = "systemd-coredump";
		origin_set_time(o, "time", origin_get(o, "timestamp"), 1);
	}
}

/* A value inside a JSON document by a dotted path ("containers.0.image.image"). */
static const char *origin_jpath(json_object *root, const char *path)
{
	char key[64];
	json_object *cur = root;
	while (cur && *path) {
		size_t len = strcspn(path, ".");
		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = 0;
		path += len + (path[len] == '.');
		if (json_object_is_type(cur, json_type_array)) {
			char *end;
			long i = strtol(key, &end, 10);
			if (*end || i < 0 || (size_t)i >= json_object_array_length(cur))
				return NULL;
			cur = json_object_array_get_idx(cur, (size_t)i);
		} else if (!json_object_is_type(cur, json_type_object) ||
			   !json_object_object_get_ex(cur, key, &cur)) {
			return NULL;
		}
	}
	return cur && (json_object_is_type(cur, json_type_string) || json_object_is_type(cur, json_type_int))
		       ? json_object_get_string(cur) : NULL;
}

static bool origin_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* IBM core-dump-handler's zip: NAME.core beside NAME-dump-info.json (the
 * kernel's core_pattern fields), NAME-pod-info.json (crictl's pod),
 * NAME-ps-info.json (its containers), NAME-N-image-info.json (their images). */
static void origin_k8s(struct origin *o, const struct unpack *u)
{
	static const struct {
		const char *suffix, *path, *key;
	} fields[] = {
		{ "-dump-info.json", "uuid", "uuid" },
		{ "-dump-info.json", "exe", "comm" },
		{ "-dump-info.json", "path", "exe" },
		{ "-dump-info.json", "real_pid", "pid" },
		{ "-dump-info.json", "signal", "signal" },
		{ "-dump-info.json", "timestamp", "timestamp" },
		{ "-dump-info.json", "hostname", "hostname" },
		{ "-dump-info.json", "node_hostname", "node" },
		{ "-pod-info.json", "metadata.name", "pod" },
		{ "-pod-info.json", "metadata.namespace", "namespace" },
		{ "-pod-info.json", "metadata.uid", "pod_uid" },
		{ "-ps-info.json", "containers.0.metadata.name", "container" },
		{ "-ps-info.json", "containers.0.image.image", "image" },
		{ "-ps-info.json", "containers.0.imageRef", "image_ref" },
		{ "-image-info.json", "status.repoTags.0", "image" },
		{ "-image-info.json", "status.repoDigests.0", "image_digest" },
	};
	bool any = false;
	for (size_t e = 0; e < u->nextras; e++) {
		const struct unpack_extra *x = &u->extras[e];
		json_tokener *tok = json_tokener_new_ex(32);
		json_object *root = tok ? json_tokener_parse_ex(tok, x->data, (int)x->len) : NULL;
		json_tokener_free(tok);
		if (!root)
			continue;
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if (!origin_ends(x->name, fields[i].suffix))
				continue;
			/* The image file's repo tag is more precise than ps's image name,
			 * but ps's comes first for the first container. */
			if (!strcmp(fields[i].key, "image") && origin_get(o, "image") &&
			    strcmp(fields[i].suffix, "-ps-info.json") != 0)
				continue;
			const char *v = origin_jpath(root, fields[i].path);
			if (v && *v) {
				origin_set(o, fields[i].key, v);
				any = true;
			}
		}
		json_object_put(root);
	}
	if (any) {
		o->collector = "core-dump-handler";
		origin_set_time(o, "time", origin_get(o, "timestamp"), 0);
	}
}

void origin_read(struct origin *o, const char *path, int fd, const struct unpack *u)
{
	memset(o, 0, sizeof(*o));
	if (u && u->format == UNPACK_ZIP)
		origin_k8s(o, u);
	if (!o->collector)
		origin_systemd(o, path, fd);
}
