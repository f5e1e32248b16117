/*
 * problem.c - the catalogue of stable error codes and their RFC 9457 rendering.
 */
#include "http/problem.h"

#include <string.h>

static const struct problem_def defs[PROBLEM__COUNT] = {
	[PROBLEM_MALFORMED_JSON] = { "malformed_json", 400, "Request body is not valid JSON" },
	[PROBLEM_BAD_REQUEST] = { "bad_request", 400, "Bad request" },
	[PROBLEM_UNAUTHORIZED] = { "unauthorized", 401, "Authentication required" },
	[PROBLEM_FORBIDDEN] = { "forbidden", 403, "Not allowed" },
	[PROBLEM_NOT_FOUND] = { "not_found", 404, "Not found" },
	[PROBLEM_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405, "Method not allowed" },
	[PROBLEM_CONFLICT] = { "conflict", 409, "Conflict" },
	[PROBLEM_EVENT_ID_CONFLICT] = { "event_id_conflict", 409, "Event id already used with different content" },
	[PROBLEM_PAYLOAD_TOO_LARGE] = { "payload_too_large", 413, "Request body too large" },
	[PROBLEM_UNSUPPORTED_MEDIA_TYPE] = { "unsupported_media_type", 415, "Unsupported content type" },
	[PROBLEM_VALIDATION_FAILED] = { "validation_failed", 422, "Request failed validation" },
	[PROBLEM_RATE_LIMITED] = { "rate_limited", 429, "Too many requests" },
	[PROBLEM_INTERNAL_ERROR] = { "internal_error", 500, "Internal server error" },
	[PROBLEM_DATABASE_UNAVAILABLE] = { "database_unavailable", 503, "Database unavailable" },
	[PROBLEM_NOT_READY] = { "not_ready", 503, "Service not ready" },
	[PROBLEM_URI_TOO_LONG] = { "uri_too_long", 414, "Request target too long" },
	[PROBLEM_UNSUPPORTED_TRANSFER_ENCODING] = { "unsupported_transfer_encoding", 501, "Transfer-Encoding not supported" },
	[PROBLEM_OUT_OF_SCOPE] = { "out_of_scope", 403, "Unit outside the source's scope" },
	[PROBLEM_CSRF_FAILED] = { "csrf_failed", 403, "Missing or wrong CSRF token" },
	[PROBLEM_PASSWORD_CHANGE_REQUIRED] = { "password_change_required", 403, "Change your password first" },
	[PROBLEM_TOTP_ENROLMENT_REQUIRED] = { "totp_enrolment_required", 403, "Enrol a TOTP second factor first" },
	[PROBLEM_TOTP_ALREADY_ENROLLED] = { "totp_already_enrolled", 409, "TOTP is already enrolled" },
	[PROBLEM_ACTION_NOT_GRANTED] = { "action_not_granted", 403, "This admin key is not granted this action" },
	[PROBLEM_ROSTER_OUT_OF_SCOPE] = { "roster_out_of_scope", 403, "Roster rows outside this key's offices" },
	[PROBLEM_ROLE_NOT_ALLOWED] = { "role_not_allowed", 403, "Your staff role does not allow this" },
	[PROBLEM_OWN_ROLE] = { "own_role", 403, "You cannot change your own role" },
	[PROBLEM_REAUTH_REQUIRED] = { "reauth_required", 403, "Give your password and a code again first" },
	[PROBLEM_LOOKUP_QUOTA_EXCEEDED] = { "lookup_quota_exceeded", 429, "Too many look-ups of personal data" },
	[PROBLEM_ACTIVATION_QUOTA_EXCEEDED] = { "activation_quota_exceeded", 429, "Too many activation codes today" },
	[PROBLEM_REMINDER_LIMIT_REACHED] = { "reminder_limit_reached", 429, "Too many reminder mails today" },
	[PROBLEM_NOT_APPROVER] = { "not_approver", 403, "Approving notices needs the approver permission" },
	[PROBLEM_OWN_NOTICE] = { "own_notice", 403, "You cannot approve your own notice" },
	[PROBLEM_NOTICE_CHANGED] = { "notice_changed", 409, "This is not the text you were shown" },
};

const struct problem_def *problem_def(enum problem_code code)
{
	if ((int)code < 0 || code >= PROBLEM__COUNT)
		code = PROBLEM_INTERNAL_ERROR;
	return &defs[code];
}

char *problem_render(enum problem_code code, const char *detail, const char *request_id, json_t *extra, size_t *len)
{
	const struct problem_def *d = problem_def(code);
	char type[96];
	char *out = NULL;
	json_t *o = json_object();

	if (!o)
		return NULL;
	snprintf(type, sizeof(type), "%s%s", PROBLEM_TYPE_PREFIX, d->code);
	if (json_object_set_new(o, "type", json_string(type)) || json_object_set_new(o, "title", json_string(d->title)) ||
	    json_object_set_new(o, "status", json_integer(d->status)) || json_object_set_new(o, "code", json_string(d->code)))
		goto out;
	if (detail) {
		json_t *s = json_string(detail);
		/* A detail that is not valid UTF-8 is dropped rather than failing the response. */
		if (s && json_object_set_new(o, "detail", s))
			goto out;
	}
	if (request_id && json_object_set_new(o, "request_id", json_string(request_id)))
		goto out;
	if (extra && json_is_object(extra)) {
		const char *k;
		json_t *v;
		json_object_foreach(extra, k, v) {
			/* extension members never overwrite the standard ones */
			if (json_object_get(o, k))
				continue;
			json_object_set(o, k, v);
		}
	}
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (out && len)
		*len = strlen(out);
out:
	json_decref(o);
	return out;
}
