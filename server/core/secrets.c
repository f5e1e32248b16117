/*
 * secrets.c - whsec_ secrets and their encryption at rest. See secrets.h.
 */
#include "core/secrets.h"
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char prefix[] = "whsec_";

bool secrets_load_kek(const char *path, struct secrets_kek *kek, char *err, size_t errlen)
{
	char why[400];
	size_t len = 0;
	char *buf = fileio_read_private(path, SECRETS_KEK_BYTES, &len, why, sizeof(why));

	if (!buf) {
		snprintf(err, errlen, "secrets.key_file: %s", why);
		return false;
	}
	bool ok = len == SECRETS_KEK_BYTES;
	if (ok)
		memcpy(kek->key, buf, SECRETS_KEK_BYTES);
	else
		snprintf(err, errlen, "secrets.key_file %s: must hold exactly %d bytes", path, SECRETS_KEK_BYTES);
	sodium_memzero(buf, len);
	free(buf);
	return ok;
}

bool secrets_create_kek(const char *path, char *err, size_t errlen)
{
	unsigned char key[SECRETS_KEK_BYTES];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	bool ok;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	randombytes_buf(key, sizeof(key));
	ok = write(fd, key, sizeof(key)) == (ssize_t)sizeof(key);
	sodium_memzero(key, sizeof(key));
	if (close(fd) != 0)
		ok = false;
	if (!ok) {
		snprintf(err, errlen, "%s: write failed", path);
		unlink(path);
	}
	return ok;
}

bool secrets_decode(const char *text, unsigned char *key, size_t keycap, size_t *keylen)
{
	size_t len;

	if (!text || strncmp(text, prefix, sizeof(prefix) - 1) != 0)
		return false;
	text += sizeof(prefix) - 1;
	len = strlen(text);
	if (len == 0 || len > SECRETS_TEXT_MAX)
		return false;
	if (sodium_base642bin(key, keycap, text, len, NULL, keylen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return *keylen >= SECRETS_MIN_KEY && *keylen <= SECRETS_MAX_KEY;
}

void secrets_generate(unsigned char key[SECRETS_NEW_KEY], char text[SECRETS_TEXT_MAX])
{
	randombytes_buf(key, SECRETS_NEW_KEY);
	memcpy(text, prefix, sizeof(prefix) - 1);
	sodium_bin2base64(text + sizeof(prefix) - 1, SECRETS_TEXT_MAX - (sizeof(prefix) - 1), key, SECRETS_NEW_KEY,
			  sodium_base64_VARIANT_ORIGINAL);
}

bool secrets_seal(const struct secrets_kek *kek, const unsigned char *key, size_t keylen, unsigned char **ct,
		  size_t *ctlen, unsigned char nonce[SECRETS_NONCE_BYTES])
{
	unsigned char *out = malloc(keylen + crypto_secretbox_MACBYTES);

	if (!out)
		return false;
	randombytes_buf(nonce, SECRETS_NONCE_BYTES);
	crypto_secretbox_easy(out, key, keylen, nonce, kek->key);
	*ct = out;
	*ctlen = keylen + crypto_secretbox_MACBYTES;
	return true;
}

bool secrets_open(const struct secrets_kek *kek, const unsigned char *ct, size_t ctlen,
		  const unsigned char nonce[SECRETS_NONCE_BYTES], unsigned char *key, size_t keycap, size_t *keylen)
{
	if (ctlen < crypto_secretbox_MACBYTES || ctlen - crypto_secretbox_MACBYTES > keycap)
		return false;
	if (crypto_secretbox_open_easy(key, ct, ctlen, nonce, kek->key) != 0)
		return false;
	*keylen = ctlen - crypto_secretbox_MACBYTES;
	return true;
}
