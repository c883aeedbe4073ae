#define _GNU_SOURCE
#include "coredumpctl.h"

#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A journal entry of systemd-coredump carries /proc/PID/maps, environ and
 * more (some 100 KB); a list of thousands stays far below this. */
#define CDCTL_OUTPUT_MAX (256u << 20)
#define CDCTL_ENTRIES_MAX 100000
#define CDCTL_MATCH_WORDS 32
#define CDCTL_SECONDS 120
/* systemd-coredump's journal entries (systemd's SD_MESSAGE_COREDUMP) */
#define CDCTL_MESSAGE_ID "fc2e22bc6ee647b6b90729ab34a250b1"

/* Journal field (journalctl -o json) or coredumpctl --json=short key, and
 * the origin key it becomes: one table for both shapes of input. The keys of
 * the stored file's xattrs (origin.c) are the same words. */
static const char *const cdctl_fields[][2] = {
	{ "COREDUMP_PID", "pid" },         { "pid", "pid" },
	{ "COREDUMP_UID", "uid" },         { "uid", "uid" },
	{ "COREDUMP_GID", "gid" },         { "gid", "gid" },
	{ "COREDUMP_SIGNAL", "signal" },   { "sig", "signal" },
	{ "COREDUMP_SIGNAL_NAME", "signal_name" },
	{ "COREDUMP_EXE", "exe" },         { "exe", "exe" },
	{ "COREDUMP_COMM", "comm" },       { "COREDUMP_CMDLINE", "cmdline" },
	{ "COREDUMP_UNIT", "unit" },       { "COREDUMP_USER_UNIT", "user_unit" },
	{ "COREDUMP_SLICE", "slice" },     { "COREDUMP_CGROUP", "cgroup" },
	{ "COREDUMP_OWNER_UID", "owner_uid" },
	{ "COREDUMP_CONTAINER_CMDLINE", "container_cmdline" },
	{ "COREDUMP_HOSTNAME", "hostname" }, { "COREDUMP_TIMESTAMP", "timestamp" },
	{ "COREDUMP_RLIMIT", "rlimit" },
	{ "_BOOT_ID", "boot_id" },         { "_MACHINE_ID", "machine_id" },
	{ "__REALTIME_TIMESTAMP", "journal_time" }, { "time", "journal_time" },
};

/* A field's value as a string: journal values are strings (or byte arrays
 * for binary ones, left out), coredumpctl's are numbers and strings. */
static const char *cdctl_str(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	if (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int))
		return NULL;
	return json_object_get_string(v);
}

static unsigned long long cdctl_ull(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = s ? strtoull(s, &end, 10) : 0;
	return s && !errno && end != s && !*end ? v : 0;
}

static struct ct_error *cdctl_add(struct cdctl_list *l, json_object *o, const char *what)
{
	if (!json_object_is_type(o, json_type_object))
		return ct_error_fmt(CT_ERR_FORMAT, "%s: entry %zu is not a JSON object", what, l->n + 1);
	if (l->n >= CDCTL_ENTRIES_MAX)
		return ct_error_fmt(CT_ERR_FORMAT, "%s: more than %d entries", what, CDCTL_ENTRIES_MAX);
	struct cdctl_entry *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return ct_error_fmt(CT_ERR_NOMEM, "%s: out of memory", what);
	l->v = nv;
	struct cdctl_entry *e = &nv[l->n++];
	memset(e, 0, sizeof(*e));
	e->meta.collector = "systemd-coredump";
	for (size_t i = 0; i < sizeof(cdctl_fields) / sizeof(cdctl_fields[0]); i++)
		origin_set(&e->meta, cdctl_fields[i][1], cdctl_str(o, cdctl_fields[i][0]));
	/* coredumpctl's list has no file name (systemd 252); later ones may */
	const char *path = cdctl_str(o, "COREDUMP_FILENAME");
	if (!path)
		path = cdctl_str(o, "filename");
	const char *state = cdctl_str(o, "corefile");
	e->path = path ? strdup(path) : NULL;
	e->state = state ? strdup(state) : NULL;
	e->pid = cdctl_ull(origin_get(&e->meta, "pid"));
	e->time = cdctl_ull(origin_get(&e->meta, "journal_time"));
	/* The crash's own time (COREDUMP_TIMESTAMP, usec), as origin.c says it */
	unsigned long long ts = cdctl_ull(origin_get(&e->meta, "timestamp"));
	time_t s = (time_t)((ts ? ts : e->time) / 1000000);
	struct tm tm;
	char buf[40];
	if (s > 0 && gmtime_r(&s, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		origin_set(&e->meta, "time", buf);
	if (!e->pid)
		return ct_error_fmt(CT_ERR_FORMAT, "%s: entry %zu has no PID (COREDUMP_PID or pid)", what, l->n);
	return NULL;
}

struct ct_error *cdctl_parse(struct cdctl_list *l, const char *buf, size_t len, const char *what)
{
	json_tokener *tok = json_tokener_new_ex(64);
	if (!tok)
		return ct_error_fmt(CT_ERR_NOMEM, "%s: out of memory", what);
	struct ct_error *err = NULL;
	size_t off = 0;
	/* One array (coredumpctl), or objects one after the other (journalctl). */
	while (!err && off < len) {
		while (off < len && strchr(" \t\r\n", buf[off]))
			off++;
		if (off >= len)
			break;
		size_t chunk = len - off > 1u << 30 ? 1u << 30 : len - off;
		json_object *root = json_tokener_parse_ex(tok, buf + off, (int)chunk);
		enum json_tokener_error je = json_tokener_get_error(tok);
		if (!root || je != json_tokener_success) {
			err = ct_error_fmt(CT_ERR_FORMAT, "%s: not JSON at byte %zu: %s", what, off,
					   je == json_tokener_continue ? "cut short" : json_tokener_error_desc(je));
			json_object_put(root);
			break;
		}
		off += json_tokener_get_parse_end(tok);
		json_tokener_reset(tok);
		if (json_object_is_type(root, json_type_array)) {
			size_t n = json_object_array_length(root);
			for (size_t i = 0; !err && i < n; i++)
				err = cdctl_add(l, json_object_array_get_idx(root, i), what);
		} else {
			err = cdctl_add(l, root, what);
		}
		json_object_put(root);
	}
	json_tokener_free(tok);
	return err;
}

struct ct_error *cdctl_read(struct cdctl_list *l, const char *path)
{
	bool in = !strcmp(path, "-");
	FILE *f = in ? stdin : fopen(path, "r");
	if (!f)
		return ct_error_fmt(CT_ERR_IO, "%s: %s", path, strerror(errno));
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct ct_error *err = NULL;
	for (;;) {
		if (cap - len < 65536) {
			size_t nc = cap ? cap * 2 : 1 << 20;
			char *nb = nc <= CDCTL_OUTPUT_MAX + 1 ? realloc(buf, nc) : NULL;
			if (!nb) {
				err = ct_error_fmt(CT_ERR_IO, "%s: larger than %u MiB", path, CDCTL_OUTPUT_MAX >> 20);
				break;
			}
			buf = nb;
			cap = nc;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				err = ct_error_fmt(CT_ERR_IO, "%s: %s", path, strerror(errno));
			break;
		}
	}
	if (!in)
		fclose(f);
	if (!err)
		err = cdctl_parse(l, buf, len, in ? "standard input" : path);
	if (!err && !l->n)
		err = ct_error_fmt(CT_ERR_NOTFOUND, "%s: no coredumps in it", in ? "standard input" : path);
	free(buf);
	return err;
}

/* Runs argv (found on PATH), its standard output into *out (at most
 * CDCTL_OUTPUT_MAX bytes), the head of its standard error into errbuf, under
 * CDCTL_SECONDS; its exit status into *status (-1: killed by a signal). */
static struct ct_error *cdctl_run(char *const argv[], char **out, size_t *outlen, char *errbuf,
				  size_t errmax, int *status)
{
	int po[2], pe[2];
	*out = NULL;
	*outlen = 0;
	errbuf[0] = 0;
	if (pipe2(po, O_CLOEXEC) < 0)
		return ct_error_fmt(CT_ERR_IO, "%s: pipe: %s", argv[0], strerror(errno));
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return ct_error_fmt(CT_ERR_IO, "%s: pipe: %s", argv[0], strerror(errno));
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	if (pid < 0) {
		close(po[0]);
		close(pe[0]);
		return ct_error_fmt(CT_ERR_IO, "%s: fork: %s", argv[0], strerror(errno));
	}
	struct ct_error *err = NULL;
	size_t cap = 0, elen = 0;
	struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	time_t deadline = time(NULL) + CDCTL_SECONDS;
	while (!err && (fds[0].fd >= 0 || fds[1].fd >= 0)) {
		int left = (int)(deadline - time(NULL));
		int r = left > 0 ? poll(fds, 2, left * 1000) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = ct_error_fmt(CT_ERR_IO, "%s: no answer in %d s", argv[0], CDCTL_SECONDS);
			break;
		}
		if (fds[0].fd >= 0 && fds[0].revents) {
			if (cap - *outlen < 65536) {
				size_t nc = cap ? cap * 2 : 1 << 20;
				char *nb = nc <= CDCTL_OUTPUT_MAX + 1 ? realloc(*out, nc) : NULL;
				if (!nb) {
					err = ct_error_fmt(CT_ERR_IO, "%s: output larger than %u MiB", argv[0],
							   CDCTL_OUTPUT_MAX >> 20);
					break;
				}
				*out = nb;
				cap = nc;
			}
			ssize_t n = read(fds[0].fd, *out + *outlen, cap - *outlen - 1);
			if (n > 0)
				*outlen += (size_t)n;
			else if (n == 0 || errno != EINTR) {
				close(fds[0].fd);
				fds[0].fd = -1;
			}
		}
		if (fds[1].fd >= 0 && fds[1].revents) {
			char tmp[4096];
			ssize_t n = read(fds[1].fd, tmp, sizeof(tmp));
			if (n > 0) {
				size_t k = (size_t)n < errmax - 1 - elen ? (size_t)n : errmax - 1 - elen;
				memcpy(errbuf + elen, tmp, k);
				elen += k;
				errbuf[elen] = 0;
			} else if (n == 0 || errno != EINTR) {
				close(fds[1].fd);
				fds[1].fd = -1;
			}
		}
	}
	if (fds[0].fd >= 0)
		close(fds[0].fd);
	if (fds[1].fd >= 0)
		close(fds[1].fd);
	if (err)
		kill(pid, SIGKILL);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	/* one line for messages */
	for (char *p = errbuf; *p; p++)
		if (*p == '\n')
			*p = p[1] ? ' ' : 0;
	if (err) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return err;
}

struct ct_error *cdctl_list_matches(struct cdctl_list *l, const char *match)
{
	char *words = strdup(match ? match : "");
	char *argv[CDCTL_MATCH_WORDS + 6] = { "coredumpctl", "--no-pager", "--json=short", "list" };
	int argc = 4;
	if (!words)
		return ct_error_fmt(CT_ERR_NOMEM, "coredumpctl: out of memory");
	char *save = NULL;
	for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (argc >= CDCTL_MATCH_WORDS + 4) {
			free(words);
			return ct_error_fmt(CT_ERR_USAGE, "--coredumpctl: more than %d matches", CDCTL_MATCH_WORDS);
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	char *out, errbuf[512];
	size_t len;
	int status;
	struct ct_error *err = cdctl_run(argv, &out, &len, errbuf, sizeof(errbuf), &status);
	if (!err && status != 0)
		/* coredumpctl says "No coredumps found." and exits 1 when nothing matches */
		err = ct_error_fmt(status == 127 ? CT_ERR_IO : CT_ERR_NOTFOUND, "coredumpctl list %s: %s", match,
				   *errbuf ? errbuf : "failed");
	if (!err)
		err = cdctl_parse(l, out, len, "coredumpctl --json=short list");
	if (!err && !l->n)
		err = ct_error_fmt(CT_ERR_NOTFOUND, "coredumpctl list %s: no coredumps found", match);
	free(out);
	free(words);
	return err;
}

/* The journal fields cdctl_fields reads, for journalctl --output-fields
 * (the entries also hold /proc/PID/maps, environ, ...: not read). */
static const char cdctl_output_fields[] =
	"--output-fields=COREDUMP_FILENAME,COREDUMP_PID,COREDUMP_UID,COREDUMP_GID,COREDUMP_SIGNAL,"
	"COREDUMP_SIGNAL_NAME,COREDUMP_EXE,COREDUMP_COMM,COREDUMP_CMDLINE,COREDUMP_UNIT,"
	"COREDUMP_USER_UNIT,COREDUMP_SLICE,COREDUMP_CGROUP,COREDUMP_OWNER_UID,"
	"COREDUMP_CONTAINER_CMDLINE,COREDUMP_HOSTNAME,COREDUMP_TIMESTAMP,COREDUMP_RLIMIT,"
	"_BOOT_ID,_MACHINE_ID";

/* One journalctl for up to CDCTL_PIDS_PER_RUN entries without a file from
 * l->v[*from] on (same-field matches are ORed); *from moves past them. */
#define CDCTL_PIDS_PER_RUN 256
static struct ct_error *cdctl_resolve_some(struct cdctl_list *l, size_t *from)
{
	char *argv[CDCTL_PIDS_PER_RUN + 8] = { "journalctl", "--no-pager", "-o", "json",
					       (char *)cdctl_output_fields, "MESSAGE_ID=" CDCTL_MESSAGE_ID };
	char pids[CDCTL_PIDS_PER_RUN][40];
	size_t argc = 6, np = 0, i = *from;
	for (; i < l->n && np < CDCTL_PIDS_PER_RUN; i++) {
		if (l->v[i].path)
			continue;
		snprintf(pids[np], sizeof(pids[np]), "COREDUMP_PID=%llu", l->v[i].pid);
		argv[argc++] = pids[np++];
	}
	size_t to = i;
	*from = to;
	if (!np)
		return NULL;
	char *out = NULL, errbuf[512];
	size_t len = 0;
	int status = 0;
	struct ct_error *err = cdctl_run(argv, &out, &len, errbuf, sizeof(errbuf), &status);
	if (!err && status != 0)
		err = ct_error_fmt(CT_ERR_IO, "journalctl (the stored files of coredumpctl's list): %s",
				   *errbuf ? errbuf : "failed");
	struct cdctl_list j = { 0 };
	if (!err)
		err = cdctl_parse(&j, out, len, "journalctl -o json");
	/* The entry coredumpctl listed is the one with its PID and time. */
	for (size_t e_i = 0; !err && e_i < to; e_i++) {
		struct cdctl_entry *e = &l->v[e_i];
		for (size_t k = 0; !e->path && k < j.n; k++) {
			struct cdctl_entry *f = &j.v[k];
			if (f->pid != e->pid || f->time != e->time || !f->path)
				continue;
			e->path = f->path;
			f->path = NULL;
			for (size_t m = 0; m < f->meta.n; m++)
				origin_set(&e->meta, f->meta.fields[m].key, f->meta.fields[m].value);
		}
	}
	cdctl_release(&j);
	free(out);
	return err;
}

struct ct_error *cdctl_resolve(struct cdctl_list *l)
{
	struct ct_error *err = NULL;
	for (size_t from = 0; !err && from < l->n;)
		err = cdctl_resolve_some(l, &from);
	return err;
}

const char *cdctl_missing(const struct cdctl_entry *e, char *buf, size_t n)
{
	struct stat st = { 0 };
	const char *exe = origin_get(&e->meta, "exe");
	const char *when = origin_get(&e->meta, "time");
	int k = snprintf(buf, n, "coredump of pid %llu (%s, %s): ", e->pid, exe ? exe : "?", when ? when : "?");
	size_t off = k > 0 && (size_t)k < n ? (size_t)k : 0;
	if (!e->path) {
		snprintf(buf + off, n - off, "no stored file in the journal%s%s%s",
			 e->state ? " (coredumpctl: " : "", e->state ? e->state : "", e->state ? ")" : "");
		return buf;
	}
	/* systemd-coredump stores regular files (a directory would be searched
	 * by triage: not what the journal names) */
	int r = stat(e->path, &st);
	if (r == 0 && S_ISREG(st.st_mode))
		return NULL;
	snprintf(buf + off, n - off, "stored file %s: %s%s%s%s", e->path,
		 r ? strerror(errno) : "not a regular file",
		 e->state ? " (coredumpctl: " : "", e->state ? e->state : "", e->state ? ")" : "");
	return buf;
}

void cdctl_release(struct cdctl_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].state);
		origin_release(&l->v[i].meta);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}
