/* Opening the files a core names or a user gives, which may be anything: a
 * FIFO or a device would block open() or read() for ever. */
#ifndef CT_FILE_H
#define CT_FILE_H

/* Opens path read-only without blocking and keeps it only if it is a regular
 * file: the descriptor, or -1 with errno set (EINVAL: not a regular file). */
int ct_open_regular(const char *path);

#endif
