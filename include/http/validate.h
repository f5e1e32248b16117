/*
 * validate.h - the one place validation errors are built: the
 * [{"field": ..., "message": ...}] arrays that event.c and every handler
 * report, the 422 validation_failed problem that carries them, and the
 * "...or reply" checks of path and query parameters, which write the 404 or
 * 422 themselves and return false (the shape of redis's
 * getLongLongFromObjectOrReply):
 *
 *	long long limit;
 *	if (!validate_int_or_reply(req, resp, "limit", http_query(req, "limit"), &LIMIT, &limit))
 *		return HTTP_DONE;
 */
#ifndef ALERTD_VALIDATE_H
#define ALERTD_VALIDATE_H

#include "http/http.h"

#include <jansson.h>
#include <stdbool.h>

/* The longest field name and message an error carries, in bytes (longer ones are cut, see validate_utf8_fit). */
#define VALIDATE_FIELD_MAX 128
#define VALIDATE_MESSAGE_MAX 255

/*
 * Write s (len bytes) into out (outlen bytes) as well-formed UTF-8 and
 * NUL-terminated: every byte that does not begin a well-formed character
 * becomes U+FFFD, and when it does not fit it is cut on a character
 * boundary and ends with U+2026 ("..."), all within outlen - 1 bytes.
 * Returns the bytes written. The one place text from outside is shortened,
 * so that no cut ever splits a character: jansson refuses such a string,
 * and the error carrying it would be lost.
 */
size_t validate_utf8_fit(char *out, size_t outlen, const char *s, size_t len);

/*
 * Append {"field": field, "message": message} to errors (a JSON array),
 * each made to fit VALIDATE_FIELD_MAX / VALIDATE_MESSAGE_MAX bytes of
 * UTF-8 by validate_utf8_fit, so a long or malformed name is still
 * reported. False only when it could not be added (out of memory, errors
 * not an array, field or message NULL): the caller must then fail the
 * request (HTTP_FAILED) rather than carry on as if the input were valid.
 */
bool validate_error(json_t *errors, const char *field, const char *message);

/* validate_error() with a printf-style message of at most VALIDATE_MESSAGE_MAX bytes. */
bool validate_errorf(json_t *errors, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* validate_error() for the member key of an object whose path is prefix (e.g. "device."): field prefix + key. */
bool validate_member_error(json_t *errors, const char *prefix, const char *key, const char *message);

/*
 * An "unknown field" error (validate_member_error) for every member of obj
 * not named in known (NULL-terminated). False when one could not be added.
 */
bool validate_unknown_members(json_t *errors, json_t *obj, const char *prefix, const char *const *known);

/* Answer 422 validation_failed carrying errors (borrowed) as "errors"; detail may be NULL. */
void validate_reply(struct http_resp *resp, const struct http_req *req, const char *detail, json_t *errors);

/* validate_reply() with the one error {field, message} and no detail. */
void validate_reply_one(struct http_resp *resp, const struct http_req *req, const char *field, const char *message);

/* An integer parameter: its bounds, its value when absent, and the 422 message when out of them. */
struct validate_int {
	long long min, max;  /* inclusive; min >= 0 (no sign is accepted) */
	long long absent;    /* the value when the parameter is not given */
	const char *message; /* e.g. "must be 1 to 100" */
};

/*
 * The path capture name (router_param) as a database id (parse_id: 1 to 18
 * digits, no sign, no leading zero). On anything else answers 404 not_found
 * (an id that cannot exist names no resource) and returns false.
 */
bool validate_path_id_or_reply(const struct http_req *req, struct http_resp *resp, const char *name, long long *out)
	__attribute__((warn_unused_result));

/*
 * value (a parameter's text as received, e.g. http_query(); NULL when
 * absent) as a plain decimal (parse_decimal: no sign, space or leading
 * zero) within spec's bounds; spec->absent when NULL. Otherwise answers 422
 * validation_failed with the one error {field, spec->message} and returns
 * false, leaving *out alone.
 */
bool validate_int_or_reply(const struct http_req *req, struct http_resp *resp, const char *field, const char *value,
			   const struct validate_int *spec, long long *out) __attribute__((warn_unused_result));

/*
 * value exactly one of names (NULL-terminated): *out is its index; absent
 * (NULL value) gives *out = absent. Otherwise answers 422 with {field,
 * message} and returns false, leaving *out alone.
 */
bool validate_enum_or_reply(const struct http_req *req, struct http_resp *resp, const char *field, const char *value,
			    const char *const *names, int absent, const char *message, int *out)
	__attribute__((warn_unused_result));

/*
 * value "true" or "1" (true), "false" or "0" (false), absent (NULL) gives
 * absent. Otherwise answers 422 {field, "must be true or false"} and returns
 * false, leaving *out alone.
 */
bool validate_bool_or_reply(const struct http_req *req, struct http_resp *resp, const char *field, const char *value,
			    bool absent, bool *out) __attribute__((warn_unused_result));

#endif
