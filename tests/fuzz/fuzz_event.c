/*
 * fuzz_event.c - libFuzzer harness for the ingest event validator: the input
 * is a request body, parsed as the HTTP layer does (jsonbody_parse under the
 * default depth limit), then checked by event_validate() with and without a
 * batch prefix. Besides crashes and leaks it checks the contract of
 * event_validate: a valid event reports no error and has a canonical form
 * whose SHA-256 is the one given and which validates again to itself; an
 * invalid one reports at least one {field, message}, every field under the
 * prefix; both prefixes agree. The raw input also goes through the RFC 3339
 * parser.
 */
#include "fuzz.h"
#include "http/jsonbody.h"
#include "ingest/event.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-21T12:00:00Z, and the 30-day window api_ingest uses by default */
#define NOW_US 1795262400000000LL
#define MAX_AGE_US (30LL * 24 * 3600 * 1000000)
#define PREFIX "events[7]."

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	REQUIRE(sodium_init() >= 0);
	return 0;
}

/* Every error has a field and a message; the field is under the prefix ("events[7]" itself for a non-object). */
static void check_errors(const json_t *errors, const char *prefix)
{
	size_t i, plen = strlen(prefix);
	json_t *e;

	if (plen && prefix[plen - 1] == '.')
		plen--;

	REQUIRE(json_array_size(errors) > 0);
	json_array_foreach(errors, i, e) {
		const char *field = json_string_value(json_object_get(e, "field"));
		const char *message = json_string_value(json_object_get(e, "message"));
		REQUIRE(field && message && *message);
		REQUIRE(strncmp(field, prefix, plen) == 0);
		REQUIRE(!plen || field[plen] == '\0' || field[plen] == '.');
	}
}

/* The canonical form of a valid event is itself a valid event with the same canonical form. */
static void check_valid(const struct event_input *in)
{
	unsigned char sha[32];
	char err[256];
	struct event_input again;
	json_t *errors = json_array(), *reparsed;

	REQUIRE(in->canonical && strlen(in->canonical) == in->canonical_len);
	REQUIRE(in->id[0] && in->type_name && in->unit_code[0]);
	crypto_hash_sha256(sha, (const unsigned char *)in->canonical, in->canonical_len);
	REQUIRE(memcmp(sha, in->sha256, sizeof(sha)) == 0);
	reparsed = jsonbody_parse(in->canonical, in->canonical_len, 32, err, sizeof(err));
	REQUIRE(reparsed && errors);
	memset(&again, 0, sizeof(again));
	REQUIRE(event_validate(reparsed, "", NOW_US, MAX_AGE_US, &again, errors));
	REQUIRE(json_array_size(errors) == 0);
	REQUIRE(again.canonical_len == in->canonical_len && memcmp(again.canonical, in->canonical, in->canonical_len) == 0);
	REQUIRE(strcmp(again.id, in->id) == 0 && again.occurred_at_us == in->occurred_at_us);
	event_input_free(&again);
	json_decref(reparsed);
	json_decref(errors);
}

static void fuzz_rfc3339(const unsigned char *data, size_t size)
{
	char text[80];
	int64_t us = -1;

	if (size >= sizeof(text))
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (event_parse_rfc3339(text, &us))
		REQUIRE(us >= 0);
	else
		REQUIRE(us == -1);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char err[256];
	struct event_input plain, prefixed;
	json_t *ev, *errors, *perrors;
	bool ok, pok;

	fuzz_rfc3339(data, size);
	ev = jsonbody_parse((const char *)data, size, 32, err, sizeof(err));
	if (!ev) {
		REQUIRE(err[0] != '\0');
		return 0;
	}
	errors = json_array();
	perrors = json_array();
	REQUIRE(errors && perrors);
	memset(&plain, 0, sizeof(plain));
	memset(&prefixed, 0, sizeof(prefixed));
	ok = event_validate(ev, "", NOW_US, MAX_AGE_US, &plain, errors);
	pok = event_validate(ev, PREFIX, NOW_US, MAX_AGE_US, &prefixed, perrors);
	REQUIRE(ok == pok);
	REQUIRE(json_array_size(errors) == json_array_size(perrors));
	if (ok) {
		REQUIRE(json_array_size(errors) == 0);
		check_valid(&plain);
		REQUIRE(prefixed.canonical_len == plain.canonical_len &&
			memcmp(prefixed.canonical, plain.canonical, plain.canonical_len) == 0);
	} else {
		check_errors(errors, "");
		check_errors(perrors, PREFIX);
		REQUIRE(plain.canonical == NULL && prefixed.canonical == NULL);
	}
	event_input_free(&plain);
	event_input_free(&prefixed);
	event_input_free(&plain); /* freeing twice is allowed */
	json_decref(errors);
	json_decref(perrors);
	json_decref(ev);
	return 0;
}
