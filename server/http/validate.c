/*
 * validate.c - validation error lists, the 422 problem that carries them,
 * and the path/query parameter checks that answer for themselves (see
 * validate.h).
 */
#include "http/validate.h"
#include "core/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool validate_error(json_t *errors, const char *field, const char *message)
{
	json_t *e = json_pack("{s:s,s:s}", "field", field, "message", message);

	return e && json_array_append_new(errors, e) == 0;
}

bool validate_errorf(json_t *errors, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return validate_error(errors, field, msg);
}

void validate_reply(struct http_resp *resp, const struct http_req *req, const char *detail, json_t *errors)
{
	json_t *extra = json_pack("{s:O}", "errors", errors);

	http_resp_problem(resp, req, PROBLEM_VALIDATION_FAILED, detail, extra);
	json_decref(extra);
}

void validate_reply_one(struct http_resp *resp, const struct http_req *req, const char *field, const char *message)
{
	json_t *errors = json_array();

	/* out of memory: the problem renders without "errors", or becomes the fallback 500 */
	if (!validate_error(errors, field, message)) {
		json_decref(errors);
		errors = NULL;
	}
	validate_reply(resp, req, NULL, errors);
	json_decref(errors);
}

bool validate_path_id_or_reply(const struct http_req *req, struct http_resp *resp, const char *name, long long *out)
{
	if (parse_id(router_param(&req->match, name), out))
		return true;
	http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
	return false;
}

bool validate_int_or_reply(const struct http_req *req, struct http_resp *resp, const char *field, const char *value,
			   const struct validate_int *spec, long long *out)
{
	long long n;

	if (!value) {
		*out = spec->absent;
		return true;
	}
	if (parse_decimal(value, PARSE_ID_MAX_DIGITS, &n) && n >= spec->min && n <= spec->max) {
		*out = n;
		return true;
	}
	validate_reply_one(resp, req, field, spec->message);
	return false;
}

bool validate_enum_or_reply(const struct http_req *req, struct http_resp *resp, const char *field, const char *value,
			    const char *const *names, int absent, const char *message, int *out)
{
	if (!value) {
		*out = absent;
		return true;
	}
	for (int i = 0; names[i]; i++)
		if (strcmp(value, names[i]) == 0) {
			*out = i;
			return true;
		}
	validate_reply_one(resp, req, field, message);
	return false;
}

bool validate_bool_or_reply(const struct http_req *req, struct http_resp *resp, const char *field, const char *value,
			    bool absent, bool *out)
{
	/* even positions say false, odd ones true */
	static const char *const names[] = { "false", "true", "0", "1", NULL };
	int i;

	if (!validate_enum_or_reply(req, resp, field, value, names, absent ? 1 : 0, "must be true or false", &i))
		return false;
	*out = (i & 1) != 0;
	return true;
}
