/*
 * fileio.c - whole-file reads under a cap (see fileio.h).
 *
 * The buffer grows by doubling up to max + 1 bytes: the extra byte tells a
 * file of exactly max bytes from a larger one without trusting st_size,
 * which can change while the file is read.
 */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILEIO_FIRST_CHUNK 4096

bool fileio_mode_private(const struct stat *st, const char *path, char *err, size_t errlen)
{
	if (!(st->st_mode & (S_IRWXG | S_IRWXO)))
		return true;
	snprintf(err, errlen, "%s: mode %04o lets other accounts read a private key; chmod 600 it", path,
		 (unsigned)(st->st_mode & 0777));
	return false;
}

/* fileio_read and fileio_read_private: private adds O_NOFOLLOW and the mode check, both on the open file. */
static char *read_whole(const char *path, bool private, size_t max, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t n = 0, cap = 0;
	char *buf = NULL;
	int fd;

	if (max >= SIZE_MAX / 2) {
		snprintf(err, errlen, "%s: read cap too large", path);
		return NULL;
	}
	/* O_NONBLOCK: a FIFO must be refused below, not block the open until a writer comes */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (private ? O_NOFOLLOW : 0));
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (private && !fileio_mode_private(&st, path, err, errlen))
		goto fail;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				snprintf(err, errlen, "%s is larger than %zu bytes", path, max);
				goto fail;
			}
			size_t grow = cap ? cap * 2 : FILEIO_FIRST_CHUNK;
			if (grow > max + 1)
				grow = max + 1;
			char *p = malloc(grow + 1);
			if (!p) {
				snprintf(err, errlen, "out of memory reading %s", path);
				goto fail;
			}
			if (buf) {
				/* not realloc: the old block may hold a key and must be wiped, not left behind */
				memcpy(p, buf, n);
				sodium_memzero(buf, cap);
				free(buf);
			}
			buf = p;
			cap = grow;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		snprintf(err, errlen, "%s is larger than %zu bytes", path, max);
		goto fail;
	}
	buf[n] = '\0';
	close(fd);
	*len = n;
	return buf;
fail:
	if (buf) {
		sodium_memzero(buf, cap);
		free(buf);
	}
	close(fd);
	return NULL;
}

char *fileio_read(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	return read_whole(path, false, max, len, err, errlen);
}

char *fileio_read_private(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	return read_whole(path, true, max, len, err, errlen);
}
