/*
 * jsonbody.c - jansson parsing of request bodies with duplicate-key and
 * depth limits. jansson itself caps nesting at 2048 while parsing, so the
 * recursive depth walk below is bounded and cannot exhaust the stack.
 */
#include "http/jsonbody.h"

#include <stdio.h>

int jsonbody_depth(const json_t *v)
{
	int best = 0;
	size_t i;
	const char *k;
	json_t *child;

	if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			int d = jsonbody_depth(child);
			if (d > best)
				best = d;
		}
		return best + 1;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, child) {
			int d = jsonbody_depth(child);
			if (d > best)
				best = d;
		}
		return best + 1;
	}
	return 0;
}

json_t *jsonbody_parse(const char *data, size_t len, int max_depth, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *v;

	if (len == 0) {
		snprintf(err, errlen, "empty body");
		return NULL;
	}
	v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		snprintf(err, errlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (jsonbody_depth(v) > max_depth) {
		snprintf(err, errlen, "nesting deeper than %d", max_depth);
		json_decref(v);
		return NULL;
	}
	return v;
}
