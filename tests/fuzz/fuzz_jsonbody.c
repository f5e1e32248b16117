/*
 * fuzz_jsonbody.c - libFuzzer harness for request bodies parsed under the
 * limits (jsonbody_parse): the first byte picks the depth limit (2-64, the
 * bounds of http.max_json_depth), the rest is the body, not NUL-terminated.
 * Checked besides crashes and leaks: a refused body says why; an accepted
 * one is no deeper than the limit, and its compact dump parses again (no
 * duplicate keys) to an equal value of the same depth.
 */
#include "fuzz.h"
#include "http/jsonbody.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char err[256] = "";
	json_t *v, *again;
	int max_depth;

	if (size == 0)
		return 0;
	max_depth = 2 + data[0] % 63;
	/* a copy of exactly the body's bytes, so that ASan sees any read past its end */
	char *body = malloc(size - 1 ? size - 1 : 1);
	REQUIRE(body);
	memcpy(body, data + 1, size - 1);
	v = jsonbody_parse(body, size - 1, max_depth, err, sizeof(err));
	free(body);
	if (!v) {
		REQUIRE(err[0] != '\0' && memchr(err, '\0', sizeof(err)));
		return 0;
	}
	int depth = jsonbody_depth(v);
	REQUIRE(depth <= max_depth);
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	REQUIRE(text);
	again = jsonbody_parse(text, strlen(text), max_depth, err, sizeof(err));
	REQUIRE(again && json_equal(v, again) && jsonbody_depth(again) == depth);
	free(text);
	json_decref(again);
	json_decref(v);
	return 0;
}
