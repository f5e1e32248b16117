/*
 * fileio.h - reading a whole file from disk under a size cap: key files,
 * service-account JSON, whsec_ secret files, roster CSVs, events to sign.
 */
#ifndef ALERTD_FILEIO_H
#define ALERTD_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

struct stat;

/*
 * Read the regular file at path, at most max bytes, into a malloc'd buffer
 * with a NUL after the data (*len excludes it; the data may itself hold
 * NULs). On failure returns NULL with a reason that names the path in err:
 * "cannot open", "not a regular file", "larger than N bytes", "cannot read".
 * Whatever was read before a failure is wiped before it is freed, since the
 * file may hold a key. On success the caller frees the buffer, and wipes it
 * first (sodium_memzero) when it holds a secret.
 */
char *fileio_read(const char *path, size_t max, size_t *len, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * fileio_read for a file that holds a key: also refused when path is a
 * symbolic link or its mode lets the group or others read or write it
 * ("mode 0644 lets other accounts read a private key; chmod 600 it"), both
 * checked on the open file, so nothing can swap the file in between.
 */
char *fileio_read_private(const char *path, size_t max, size_t *len, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* True when st (of path) gives the group and others no access; otherwise false with the reason in err. */
bool fileio_mode_private(const struct stat *st, const char *path, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
