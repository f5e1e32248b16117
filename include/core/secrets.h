/*
 * secrets.h - ingest signing secrets: generation in the Standard Webhooks
 * "whsec_" form, and encryption at rest under a key-encryption key (KEK)
 * that lives in a file, never in the database.
 *
 * Encryption is libsodium's secretbox (XSalsa20-Poly1305) with a random
 * 24-byte nonce per secret.
 */
#ifndef ALERTD_SECRETS_H
#define ALERTD_SECRETS_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#define SECRETS_KEK_BYTES crypto_secretbox_KEYBYTES
#define SECRETS_NONCE_BYTES crypto_secretbox_NONCEBYTES
#define SECRETS_MIN_KEY 24
#define SECRETS_MAX_KEY 64
#define SECRETS_NEW_KEY 32
/* "whsec_" + base64 of at most 64 bytes + NUL */
#define SECRETS_TEXT_MAX (6 + 4 * ((SECRETS_MAX_KEY + 2) / 3) + 1)

struct secrets_kek {
	unsigned char key[SECRETS_KEK_BYTES];
};

/*
 * Read the KEK: exactly 32 bytes in a regular file that only its owner can
 * read or write (mode 0600 or stricter). On failure writes err and returns
 * false; kek is untouched.
 */
bool secrets_load_kek(const char *path, struct secrets_kek *kek, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Write a fresh random KEK to path with mode 0600; refuses to overwrite. */
bool secrets_create_kek(const char *path, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Decode "whsec_<base64>" into its key bytes (24-64 of them). Returns false
 * for any other shape.
 */
bool secrets_decode(const char *text, unsigned char *key, size_t keycap, size_t *keylen) __attribute__((warn_unused_result));

/* Generate SECRETS_NEW_KEY random bytes and their "whsec_" text. */
void secrets_generate(unsigned char key[SECRETS_NEW_KEY], char text[SECRETS_TEXT_MAX]);

/* Encrypt key bytes: *ct receives keylen + MAC bytes (caller frees), nonce is filled. */
bool secrets_seal(const struct secrets_kek *kek, const unsigned char *key, size_t keylen, unsigned char **ct,
		  size_t *ctlen, unsigned char nonce[SECRETS_NONCE_BYTES]) __attribute__((warn_unused_result));

/* Decrypt into key (capacity keycap). False when forged, truncated or under another KEK. */
bool secrets_open(const struct secrets_kek *kek, const unsigned char *ct, size_t ctlen,
		  const unsigned char nonce[SECRETS_NONCE_BYTES], unsigned char *key, size_t keycap, size_t *keylen)
	__attribute__((warn_unused_result));

#endif
