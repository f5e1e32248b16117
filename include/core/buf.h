/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * Appends never overflow: past the cap (or on allocation failure) the buffer
 * is marked failed and later appends are ignored, so a caller may build a
 * whole document and check buf_ok() once at the end.
 */
#ifndef ALERTD_BUF_H
#define ALERTD_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t limit;
	bool failed;
};

/* Start an empty buffer that may grow to at most limit bytes. */
void buf_init(struct buf *b, size_t limit);

/* Append; false once the buffer has failed. Results may be ignored until a final buf_ok() (see above). */
bool buf_append(struct buf *b, const void *data, size_t len);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool buf_ok(const struct buf *b) __attribute__((warn_unused_result));

/* Hand the data to the caller (who frees it) and reset b; NULL if failed. */
char *buf_steal(struct buf *b, size_t *len);

void buf_free(struct buf *b);

#endif
