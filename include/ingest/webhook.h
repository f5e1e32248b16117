/*
 * webhook.h - Standard Webhooks signatures (HMAC-SHA256).
 *
 * The signed content is "{webhook-id}.{webhook-timestamp}.{raw body}"; the
 * webhook-signature header is a space-separated list of "v1,<base64 MAC>".
 * Any one matching signature under any one active key is enough.
 */
#ifndef ALERTD_WEBHOOK_H
#define ALERTD_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_MAC_BYTES 32
#define WEBHOOK_MAX_ID 256
#define WEBHOOK_MAX_SIGNATURE_HEADER 4096
#define WEBHOOK_MAX_TIMESTAMP_DIGITS 12 /* Unix seconds; 12 digits reach past the year 30000 */
/* "v1," + base64 of 32 bytes + NUL */
#define WEBHOOK_SIGNATURE_TEXT 48

struct webhook_key {
	unsigned char bytes[64];
	size_t len;
};

enum webhook_result {
	WEBHOOK_OK,
	WEBHOOK_MISSING_HEADERS,
	WEBHOOK_BAD_TIMESTAMP, /* not an integer, or outside the tolerance */
	WEBHOOK_BAD_SIGNATURE, /* no signature matched */
};

/*
 * Verify. id, timestamp and signature are the three header values (NULL
 * when absent). now and tolerance are in seconds. Every candidate signature
 * is checked against every key in constant time.
 */
enum webhook_result webhook_verify(const struct webhook_key *keys, size_t nkeys, const char *id, const char *timestamp,
				   const char *signature, const char *body, size_t bodylen, int64_t now, int64_t tolerance);

/* Compute "v1,<base64>" for the given key and content into out. */
bool webhook_sign(const struct webhook_key *key, const char *id, const char *timestamp, const char *body, size_t bodylen,
		  char out[WEBHOOK_SIGNATURE_TEXT]) __attribute__((warn_unused_result));

const char *webhook_result_name(enum webhook_result r);

#endif
