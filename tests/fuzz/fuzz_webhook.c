/*
 * fuzz_webhook.c - libFuzzer harness for the Standard Webhooks signature
 * check (webhook_verify), above all its parser of the webhook-signature
 * header. The input is four parts split at the first three newlines:
 * webhook-id, webhook-timestamp, webhook-signature (C strings, as the HTTP
 * layer hands over header values) and the raw body (any bytes). Checked
 * besides crashes: the result is one of the four; a header list that also
 * carries the correct signature for one of the keys is accepted whenever the
 * id and timestamp are; the same list with that signature under a key not
 * given is not.
 */
#include "fuzz.h"
#include "ingest/webhook.h"

#include <sodium.h>
#include <string.h>

#define NOW 1795262400LL /* 2026-11-21T12:00:00Z */
#define TOLERANCE 300

static struct webhook_key keys[2], stranger;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	REQUIRE(sodium_init() >= 0);
	for (size_t k = 0; k < 2; k++) {
		keys[k].len = k ? 64 : 32;
		memset(keys[k].bytes, 0x41 + (int)k, keys[k].len);
	}
	stranger.len = 32;
	memset(stranger.bytes, 0x5a, stranger.len);
	return 0;
}

/* The next newline-terminated part of *p into out (cap-1 bytes kept); a NUL inside ends it, as in a header value. */
static void take(const unsigned char **p, const unsigned char *end, char *out, size_t cap)
{
	const unsigned char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	size_t keep = n < cap - 1 ? n : cap - 1;

	memcpy(out, *p, keep);
	out[keep] = '\0';
	*p += nl ? n + 1 : n;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char id[WEBHOOK_MAX_ID + 8], ts[32], sig[WEBHOOK_MAX_SIGNATURE_HEADER + 8],
		list[WEBHOOK_MAX_SIGNATURE_HEADER + 2 * WEBHOOK_SIGNATURE_TEXT + 8];
	char good[WEBHOOK_SIGNATURE_TEXT];
	const unsigned char *p = data, *end = data + size;
	enum webhook_result r, with_good;

	take(&p, end, id, sizeof(id));
	take(&p, end, ts, sizeof(ts));
	take(&p, end, sig, sizeof(sig));
	const char *body = (const char *)p;
	size_t bodylen = (size_t)(end - p);

	r = webhook_verify(keys, 2, id, ts, sig, body, bodylen, NOW, TOLERANCE);
	REQUIRE(r == WEBHOOK_OK || r == WEBHOOK_MISSING_HEADERS || r == WEBHOOK_BAD_TIMESTAMP || r == WEBHOOK_BAD_SIGNATURE);
	REQUIRE(strcmp(webhook_result_name(r), "") != 0);
	/* absent headers are never accepted */
	REQUIRE(webhook_verify(keys, 2, NULL, ts, sig, body, bodylen, NOW, TOLERANCE) == WEBHOOK_MISSING_HEADERS);
	REQUIRE(webhook_verify(keys, 2, id, ts, NULL, body, bodylen, NOW, TOLERANCE) == WEBHOOK_MISSING_HEADERS);
	REQUIRE(webhook_verify(keys, 0, id, ts, sig, body, bodylen, NOW, TOLERANCE) != WEBHOOK_OK);

	/* the fuzzed list with the right signature under one of the keys after it */
	REQUIRE(webhook_sign(&keys[size % 2], id, ts, body, bodylen, good));
	snprintf(list, sizeof(list), "%s %s", sig, good);
	with_good = webhook_verify(keys, 2, id, ts, list, body, bodylen, NOW, TOLERANCE);
	if (strlen(list) > WEBHOOK_MAX_SIGNATURE_HEADER)
		REQUIRE(with_good == WEBHOOK_MISSING_HEADERS); /* the header grew past its cap */
	else if (r == WEBHOOK_MISSING_HEADERS || r == WEBHOOK_BAD_TIMESTAMP)
		REQUIRE(with_good == r);
	else
		REQUIRE(with_good == WEBHOOK_OK);
	/* and before it */
	snprintf(list, sizeof(list), "%s %s", good, sig);
	if (r == WEBHOOK_BAD_SIGNATURE && strlen(list) <= WEBHOOK_MAX_SIGNATURE_HEADER)
		REQUIRE(webhook_verify(keys, 2, id, ts, list, body, bodylen, NOW, TOLERANCE) == WEBHOOK_OK);

	/* a signature under a key the source does not hold proves nothing */
	REQUIRE(webhook_sign(&stranger, id, ts, body, bodylen, good));
	snprintf(list, sizeof(list), "%s", good);
	REQUIRE(webhook_verify(keys, 2, id, ts, list, body, bodylen, NOW, TOLERANCE) != WEBHOOK_OK);
	return 0;
}
