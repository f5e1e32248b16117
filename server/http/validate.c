/*
 * validate.c - validation error lists, the 422 problem that carries them,
 * and the path/query parameter checks that answer for themselves (see
 * validate.h).
 */
#include "http/validate.h"
#include "core/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define ELLIPSIS "\xe2\x80\xa6"	   /* U+2026 */

/* The character at s[i] (len bytes in all) as written out: itself, or U+FFFD for a byte that begins none. */
static const char *utf8_piece(const char *s, size_t len, size_t i, size_t *in, size_t *out)
{
	size_t n = parse_utf8_char(s + i, len - i);

	*in = n ? n : 1;
	*out = n ? n : sizeof(REPLACEMENT) - 1;
	return n ? s + i : REPLACEMENT;
}

size_t validate_utf8_fit(char *out, size_t outlen, const char *s, size_t len)
{
	size_t need = 0, used = 0, limit, in, plen;
	const size_t ell = sizeof(ELLIPSIS) - 1;
	bool cut;

	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < len; i += in) {
		utf8_piece(s, len, i, &in, &plen);
		need += plen;
	}
	limit = outlen - 1;
	cut = need > limit;
	if (cut)
		limit = limit >= ell ? limit - ell : limit; /* no room for "…": just cut */
	for (size_t i = 0; i < len; i += in) {
		const char *piece = utf8_piece(s, len, i, &in, &plen);
		if (used + plen > limit)
			break;
		memcpy(out + used, piece, plen);
		used += plen;
	}
	if (cut && used + ell <= outlen - 1) {
		memcpy(out + used, ELLIPSIS, ell);
		used += ell;
	}
	out[used] = '\0';
	return used;
}

bool validate_error(json_t *errors, const char *field, const char *message)
{
	char f[VALIDATE_FIELD_MAX + 1], m[VALIDATE_MESSAGE_MAX + 1];
	json_t *e;

	if (!field || !message)
		return false;
	validate_utf8_fit(f, sizeof(f), field, strlen(field));
	validate_utf8_fit(m, sizeof(m), message, strlen(message));
	e = json_pack("{s:s,s:s}", "field", f, "message", m);
	return e && json_array_append_new(errors, e) == 0;
}

bool validate_errorf(json_t *errors, const char *field, const char *fmt, ...)
{
	char msg[VALIDATE_MESSAGE_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return validate_error(errors, field, msg);
}

bool validate_member_error(json_t *errors, const char *prefix, const char *key, const char *message)
{
	size_t plen = strlen(prefix), klen = strlen(key);
	char *field = malloc(plen + klen + 1);
	bool ok;

	if (!field)
		return false;
	memcpy(field, prefix, plen);
	memcpy(field + plen, key, klen + 1);
	ok = validate_error(errors, field, message);
	free(field);
	return ok;
}

bool validate_unknown_members(json_t *errors, json_t *obj, const char *prefix, const char *const *known)
{
	const char *key;
	json_t *v;
	bool ok = true;

	json_object_foreach(obj, key, v) {
		size_t i = 0;
		while (known[i] && strcmp(key, known[i]) != 0)
			i++;
		if (!known[i])
			ok &= validate_member_error(errors, prefix, key, "unknown field");
	}
	return ok;
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
