/*
 * jsonbody.h - parse untrusted request bodies with jansson under limits.
 */
#ifndef ALERTD_JSONBODY_H
#define ALERTD_JSONBODY_H

#include <jansson.h>
#include <stddef.h>

/*
 * Parse len bytes (need not be NUL-terminated) as one JSON value. Duplicate
 * object keys are refused, as is nesting deeper than max_depth. On failure
 * returns NULL and writes jansson's short reason (position and a few bytes near it) to err. On success
 * the caller owns the returned reference.
 */
json_t *jsonbody_parse(const char *data, size_t len, int max_depth, char *err, size_t errlen);

/* Depth of a value: scalars 0, [] and {} 1, [[1]] 2. */
int jsonbody_depth(const json_t *v);

#endif
