/*
 * webhook.c - Standard Webhooks HMAC-SHA256 signing and verification, with
 * libsodium's HMAC and constant-time comparison.
 */
#include "ingest/webhook.h"
#include "core/parse.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void mac(const struct webhook_key *key, const char *id, const char *timestamp, const char *body, size_t bodylen,
		unsigned char out[WEBHOOK_MAC_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key->bytes, key->len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp, strlen(timestamp));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, bodylen);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

bool webhook_sign(const struct webhook_key *key, const char *id, const char *timestamp, const char *body, size_t bodylen,
		  char out[WEBHOOK_SIGNATURE_TEXT])
{
	unsigned char m[WEBHOOK_MAC_BYTES];

	mac(key, id, timestamp, body, bodylen, m);
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, WEBHOOK_SIGNATURE_TEXT - 3, m, sizeof(m), sodium_base64_VARIANT_ORIGINAL);
	return true;
}

enum webhook_result webhook_verify(const struct webhook_key *keys, size_t nkeys, const char *id, const char *timestamp,
				   const char *signature, const char *body, size_t bodylen, int64_t now, int64_t tolerance)
{
	unsigned char want[8][WEBHOOK_MAC_BYTES];
	long long ts;
	bool matched = false;

	if (!id || !timestamp || !signature || !*id || strlen(id) > WEBHOOK_MAX_ID ||
	    strlen(signature) > WEBHOOK_MAX_SIGNATURE_HEADER)
		return WEBHOOK_MISSING_HEADERS;
	if (!parse_decimal(timestamp, WEBHOOK_MAX_TIMESTAMP_DIGITS, &ts) || ts < now - tolerance || ts > now + tolerance)
		return WEBHOOK_BAD_TIMESTAMP;
	if (nkeys > 8)
		nkeys = 8;
	for (size_t k = 0; k < nkeys; k++)
		mac(&keys[k], id, timestamp, body, bodylen, want[k]);

	/* walk the space-separated list; only v1 entries count */
	const char *p = signature;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > 3 && memcmp(p, "v1,", 3) == 0 && len - 3 < 100) {
			char b64[100];
			unsigned char got[WEBHOOK_MAC_BYTES + 8];
			size_t gotlen = 0;
			memcpy(b64, p + 3, len - 3);
			b64[len - 3] = '\0';
			if (sodium_base642bin(got, sizeof(got), b64, len - 3, NULL, &gotlen, NULL,
					      sodium_base64_VARIANT_ORIGINAL) == 0 &&
			    gotlen == WEBHOOK_MAC_BYTES) {
				for (size_t k = 0; k < nkeys; k++)
					matched |= sodium_memcmp(got, want[k], WEBHOOK_MAC_BYTES) == 0;
			}
		}
		p += len;
	}
	sodium_memzero(want, sizeof(want));
	return matched ? WEBHOOK_OK : WEBHOOK_BAD_SIGNATURE;
}

const char *webhook_result_name(enum webhook_result r)
{
	static const char *const names[] = {
		[WEBHOOK_OK] = "ok", [WEBHOOK_MISSING_HEADERS] = "missing_headers", [WEBHOOK_BAD_TIMESTAMP] = "bad_timestamp", [WEBHOOK_BAD_SIGNATURE] = "bad_signature"
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "bad_signature";
}
