/*
 * fileio.h - reading a whole file from disk under a size cap: key files,
 * service-account JSON, whsec_ secret files, roster CSVs, events to sign.
 */
#ifndef ALERTD_FILEIO_H
#define ALERTD_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
