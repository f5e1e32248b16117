/*
 * problem.h - RFC 9457 application/problem+json bodies with stable codes.
 *
 * Every error alertd returns is one of the codes below. The code string is
 * the contract clients match on; titles may be reworded, codes never change.
 */
#ifndef ALERTD_PROBLEM_H
#define ALERTD_PROBLEM_H

#include <jansson.h>
#include <stddef.h>

enum problem_code {
	PROBLEM_MALFORMED_JSON,
	PROBLEM_UNAUTHORIZED,
	PROBLEM_FORBIDDEN,
	PROBLEM_NOT_FOUND,
	PROBLEM_METHOD_NOT_ALLOWED,
	PROBLEM_CONFLICT,
	PROBLEM_EVENT_ID_CONFLICT,
	PROBLEM_PAYLOAD_TOO_LARGE,
	PROBLEM_UNSUPPORTED_MEDIA_TYPE,
	PROBLEM_VALIDATION_FAILED,
	PROBLEM_RATE_LIMITED,
	PROBLEM_INTERNAL_ERROR,
	PROBLEM_DATABASE_UNAVAILABLE,
	PROBLEM_NOT_READY,
	PROBLEM_BAD_REQUEST,
	PROBLEM_URI_TOO_LONG,
	PROBLEM_UNSUPPORTED_TRANSFER_ENCODING,
	PROBLEM_OUT_OF_SCOPE,
	PROBLEM_CSRF_FAILED,
	PROBLEM_PASSWORD_CHANGE_REQUIRED,
	PROBLEM_TOTP_ENROLMENT_REQUIRED,
	PROBLEM_TOTP_ALREADY_ENROLLED,
	/* admin key scopes and staff roles */
	PROBLEM_ACTION_NOT_GRANTED,
	PROBLEM_ROSTER_OUT_OF_SCOPE,
	PROBLEM_ROLE_NOT_ALLOWED,
	PROBLEM_OWN_ROLE,
	PROBLEM_REAUTH_REQUIRED,
	PROBLEM_LOOKUP_QUOTA_EXCEEDED,
	PROBLEM_ACTIVATION_QUOTA_EXCEEDED,
	PROBLEM_REMINDER_LIMIT_REACHED, /* mail.reminders_per_unit_per_day / per_office_per_day */
	PROBLEM_NOT_APPROVER,
	PROBLEM_OWN_NOTICE,
	PROBLEM_NOTICE_CHANGED,
	PROBLEM__COUNT
};

struct problem_def {
	const char *code;  /* stable machine code, e.g. "not_found" */
	int status;	   /* HTTP status */
	const char *title; /* short human summary */
};

#define PROBLEM_CONTENT_TYPE "application/problem+json"
#define PROBLEM_TYPE_PREFIX "urn:alertd:problem:"

const struct problem_def *problem_def(enum problem_code code);

/*
 * Render a problem document. detail and request_id may be NULL. extra, when
 * not NULL, is an object whose members are added as extension members (for
 * example "errors"); it is borrowed, not stolen. Returns a malloc'd,
 * NUL-terminated string the caller frees, or NULL on allocation failure.
 */
char *problem_render(enum problem_code code, const char *detail, const char *request_id, json_t *extra, size_t *len);

#endif
