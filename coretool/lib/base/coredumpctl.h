/* Cores picked from systemd's journal, as coredumpctl picks them: the
 * entries systemd-coredump logged (coredumpctl --json=short list MATCH, or
 * journalctl -o json's full entries), each with its stored file and the
 * journal's metadata (unit, boot ID, time, executable, signal, ...) as
 * origin fields (origin.h) for the reports. */
#ifndef CT_COREDUMPCTL_H
#define CT_COREDUMPCTL_H

#include <stddef.h>

#include "ct_error.h"
#include "origin.h"

struct cdctl_entry {
	char *path;         /* the stored file (COREDUMP_FILENAME), or NULL: none known */
	char *state;        /* coredumpctl's "corefile": present, missing, none, ...; or NULL */
	struct origin meta; /* the journal's fields (collector "systemd-coredump") */
	unsigned long long pid, time; /* COREDUMP_PID; the entry's __REALTIME_TIMESTAMP (usec) */
};

struct cdctl_list {
	struct cdctl_entry *v;
	size_t n;
};

/* Parses what coredumpctl --json=short (or =pretty) list prints (one array)
 * or journalctl -o json entries (one object a line), in buf[0..len); what
 * names the input in errors. Entries are appended to *l. */
struct ct_error *cdctl_parse(struct cdctl_list *l, const char *buf, size_t len, const char *what);
/* cdctl_parse of a file's contents ("-": standard input), read to at most
 * 256 MiB. */
struct ct_error *cdctl_read(struct cdctl_list *l, const char *path);
/* Runs `coredumpctl --no-pager --json=short list MATCH...` (the words of
 * match, split at blanks) and appends its entries to *l. */
struct ct_error *cdctl_list_matches(struct cdctl_list *l, const char *match);
/* coredumpctl's list names no file: the entries without one are looked up in
 * the journal (journalctl -o json, systemd-coredump's MESSAGE_ID and their
 * PIDs), joined by PID and the entry's time, and get its file and fields. */
struct ct_error *cdctl_resolve(struct cdctl_list *l);
/* Why entry e cannot be read (its file not known, not there: coredumpctl's
 * state), in buf; NULL when its stored file is there. */
const char *cdctl_missing(const struct cdctl_entry *e, char *buf, size_t n);
void cdctl_release(struct cdctl_list *l);

#endif
