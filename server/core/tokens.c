/*
 * tokens.c - token and activation-code helpers (see tokens.h), all on
 * libsodium primitives.
 */
#include "core/tokens.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void tokens_generate(const char *prefix, char out[TOKENS_TEXT_MAX])
{
	unsigned char raw[TOKENS_RANDOM_BYTES];
	size_t plen = strlen(prefix);

	randombytes_buf(raw, sizeof(raw));
	memcpy(out, prefix, plen);
	out[plen] = '_';
	sodium_bin2base64(out + plen + 1, TOKENS_TEXT_MAX - plen - 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

void tokens_hash(const char *token, size_t len, unsigned char out[TOKENS_HASH_BYTES])
{
	crypto_hash_sha256(out, (const unsigned char *)token, len);
}

bool tokens_has_prefix(const char *token, size_t len, const char *prefix)
{
	size_t plen = strlen(prefix);

	return len == plen + 1 + 43 && memcmp(token, prefix, plen) == 0 && token[plen] == '_';
}

void tokens_new_code(char out[TOKENS_CODE_LEN + 1])
{
	for (int i = 0; i < TOKENS_CODE_LEN; i++)
		out[i] = crockford[randombytes_uniform(32)];
	out[TOKENS_CODE_LEN] = '\0';
}

bool tokens_normalize_code(const char *typed, char out[TOKENS_CODE_LEN + 1])
{
	size_t n = 0;

	for (const char *p = typed; *p; p++) {
		char c = (char)toupper((unsigned char)*p);
		if (c == ' ' || c == '-')
			continue;
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		if (!strchr(crockford, c) || c == '\0' || n >= TOKENS_CODE_LEN)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == TOKENS_CODE_LEN;
}

void tokens_code_key(const struct secrets_kek *kek, unsigned char key[32])
{
	/* context is exactly crypto_kdf_CONTEXTBYTES (8) characters */
	crypto_kdf_derive_from_key(key, 32, 1, "actcode1", kek->key);
}

void tokens_collapse_key(const struct secrets_kek *kek, unsigned char key[32])
{
	crypto_kdf_derive_from_key(key, 32, 1, "collapse", kek->key);
}

void tokens_recovery_key(const struct secrets_kek *kek, unsigned char key[32])
{
	crypto_kdf_derive_from_key(key, 32, 1, "recover1", kek->key);
}

void tokens_code_hash(const unsigned char key[32], const char code[TOKENS_CODE_LEN + 1], unsigned char out[TOKENS_HASH_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)code, TOKENS_CODE_LEN);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

void tokens_pseudonym_key(const struct secrets_kek *kek, unsigned char key[32])
{
	crypto_kdf_derive_from_key(key, 32, 1, "pseudon1", kek->key);
}

void tokens_pseudonym(const unsigned char key[32], const char *text, size_t len, char out[TOKENS_PSEUDONYM_LEN + 1])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)text, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	out[0] = '~';
	sodium_bin2hex(out + 1, TOKENS_PSEUDONYM_LEN, mac, (TOKENS_PSEUDONYM_LEN - 1) / 2);
}
