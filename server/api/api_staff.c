/*
 * api_staff.c - the staff sign-in routes: the HTTP side of staff/session.h.
 *
 * The session travels only in the __Host-alertd_session cookie (HttpOnly,
 * Secure, SameSite=Strict, no Max-Age: it ends with the browser and, on the
 * server, with the idle and absolute timeouts). The CSRF token is given in
 * the sign-in answer and checked by http/auth.c. Passwords, codes and
 * tokens are never logged; local copies are wiped.
 */
#include "api/api_staff.h"
#include "core/app.h"
#include "core/config.h"
#include "core/log.h"
#include "http/ratelimit.h"
#include "http/validate.h"
#include "staff/accounts.h"
#include "staff/session.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define COOKIE_ATTRS "; Path=/; HttpOnly; Secure; SameSite=Strict"

/* Per-address throttle of password attempts, before any Argon2id work. */
static bool throttle_ok(const struct app *app, const struct http_req *req, struct http_resp *resp)
{
	int retry = 60;
	char value[16];

	if (ratelimit_take(app->staff_signin_by_ip, ratelimit_address_key(req->remote), 1, &retry))
		return true;
	snprintf(value, sizeof(value), "%d", retry);
	http_resp_problem(resp, req, PROBLEM_RATE_LIMITED,
			  "too many sign-in attempts from this address; wait and try again", NULL);
	http_resp_header(resp, "Retry-After", value);
	return false;
}

/* A string member of at most max bytes, NULL when absent; an error when present but not such a string. */
static const char *member(json_t *body, const char *key, size_t max, bool required, json_t *errors, size_t *len)
{
	json_t *v = json_object_get(body, key);
	char message[64];

	*len = 0;
	if (!v || json_is_null(v)) {
		if (required)
			validate_member_error(errors, "", key, "is required");
		return NULL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
		snprintf(message, sizeof(message), "must be a string of 1 to %zu bytes", max);
		validate_member_error(errors, "", key, message);
		return NULL;
	}
	*len = json_string_length(v);
	return json_string_value(v);
}

static const char *next_step(const struct app *app, const struct staff_principal *who)
{
	if (who->password_temporary || who->password_expired)
		return "change_password";
	if (app->cfg->auth_require_totp && !who->totp_enrolled)
		return "enrol_totp";
	return NULL;
}

static json_t *principal_json(const struct app *app, const struct staff_principal *who)
{
	return json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:s?,s:b}", "login", who->login, "office", who->office, "role",
			 who->role, "password_temporary", who->password_temporary, "password_expired", who->password_expired,
			 "totp_enrolled", who->totp_enrolled, "next", next_step(app, who), "approver", who->approver);
}

/* Hand a renewed session over: its cookie, and csrf_token in out. */
static bool hand_over(struct http_resp *resp, const struct staff_new_session *s, json_t *out)
{
	char cookie[sizeof(STAFF_COOKIE_NAME) + STAFF_TOKEN_TEXT + sizeof(COOKIE_ATTRS)];

	if (json_object_set_new(out, "csrf_token", json_string(s->csrf)) != 0)
		return false;
	snprintf(cookie, sizeof(cookie), "%s=%s%s", STAFF_COOKIE_NAME, s->token, COOKIE_ATTRS);
	http_resp_header(resp, "Set-Cookie", cookie);
	sodium_memzero(cookie, sizeof(cookie));
	return true;
}

static struct staff_request request_of(const struct http_req *req)
{
	return (struct staff_request){ .ip = req->remote,
				       .request_id = req->request_id,
				       .user_agent = http_header(req, "User-Agent") };
}

enum http_outcome api_staff_signin(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	json_t *errors = json_array(), *out = NULL;
	struct staff_new_session s;
	size_t login_len, pw_len, code_len, rec_len;
	enum http_outcome result = HTTP_FAILED;
	char cookie[sizeof(STAFF_COOKIE_NAME) + STAFF_TOKEN_TEXT + sizeof(COOKIE_ATTRS)];

	memset(&s, 0, sizeof(s));
	if (!errors)
		return HTTP_FAILED;
	if (!throttle_ok(app, req, resp)) {
		json_decref(errors);
		return HTTP_DONE;
	}
	const char *login = member(req->json, "login", 64, true, errors, &login_len);
	const char *pw = member(req->json, "password", STAFF_PASSWORD_MAX_BYTES, true, errors, &pw_len);
	const char *code = member(req->json, "totp_code", 16, false, errors, &code_len);
	const char *recovery = member(req->json, "recovery_code", 32, false, errors, &rec_len);
	if (json_array_size(errors) > 0) {
		validate_reply(resp, req, NULL, errors);
		result = HTTP_DONE;
		goto out;
	}
	PGconn *conn = http_db(req);
	if (!conn)
		goto out;
	struct staff_request rq = request_of(req);
	/* a login that cannot exist is looked up all the same: one answer, the same work */
	enum staff_result r = staff_session_signin(conn, app->cfg, app->kek_set ? &app->kek : NULL, login, pw, pw_len,
						   code, recovery, &rq, &s);
	if (r == STAFF_ERROR)
		goto out;
	result = HTTP_DONE;
	if (r == STAFF_NO_KEK) {
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR,
				  "the second factor cannot be checked: TOTP is not configured (secrets.key_file)", NULL);
		goto out;
	}
	if (r == STAFF_DENIED) {
		http_resp_problem(resp, req, PROBLEM_UNAUTHORIZED,
				  "the login, password or code is wrong, or the account is locked or disabled", NULL);
		goto out;
	}
	out = principal_json(app, &s.who);
	if (!out || json_object_set_new(out, "csrf_token", json_string(s.csrf)) != 0 ||
	    json_object_set_new(out, "idle_timeout_seconds", json_integer(app->cfg->auth_session_idle_seconds)) != 0) {
		/* the session is committed but its token cannot be handed over: it ends unused at its idle timeout */
		result = HTTP_FAILED;
		goto out;
	}
	snprintf(cookie, sizeof(cookie), "%s=%s%s", STAFF_COOKIE_NAME, s.token, COOKIE_ATTRS);
	http_resp_header(resp, "Set-Cookie", cookie);
	http_resp_json(resp, 201, out);
	out = NULL;
out:
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(cookie, sizeof(cookie));
	json_decref(out);
	json_decref(errors);
	return result;
}

enum http_outcome api_staff_signout(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	(void)app;
	PGconn *conn = http_db(req);
	struct staff_request rq = request_of(req);

	if (!conn || !staff_session_end(conn, &req->staff, &rq))
		return HTTP_FAILED;
	http_resp_header(resp, "Set-Cookie", STAFF_COOKIE_NAME "=" COOKIE_ATTRS "; Max-Age=0");
	http_resp_body(resp, 204, NULL, NULL, 0);
	return HTTP_DONE;
}

enum http_outcome api_staff_me(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	json_t *out = principal_json(app, &req->staff);

	if (!out)
		return HTTP_FAILED;
	http_resp_json(resp, 200, out);
	return HTTP_DONE;
}

enum http_outcome api_staff_password(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	json_t *errors = json_array();
	size_t cur_len, new_len;
	char message[160];
	enum http_outcome result = HTTP_DONE;
	struct staff_new_session renewed;

	memset(&renewed, 0, sizeof(renewed));

	if (!errors)
		return HTTP_FAILED;
	if (!throttle_ok(app, req, resp))
		goto out;
	const char *cur = member(req->json, "current_password", STAFF_PASSWORD_MAX_BYTES, true, errors, &cur_len);
	/* a longer new password gets the rule's own message */
	const char *fresh = member(req->json, "new_password", 1 << 16, true, errors, &new_len);
	if (json_array_size(errors) > 0) {
		validate_reply(resp, req, NULL, errors);
		goto out;
	}
	PGconn *conn = http_db(req);
	if (!conn) {
		result = HTTP_FAILED;
		goto out;
	}
	struct staff_request rq = request_of(req);
	switch (staff_session_change_password(conn, app->cfg, &req->staff, cur, cur_len, fresh, new_len, &rq, message,
					      sizeof(message), &renewed)) {
	case STAFF_PASSWORD_CHANGED:
		if (!renewed.token[0]) {
			http_resp_body(resp, 204, NULL, NULL, 0);
			break;
		}
		/* the session was renewed: the new cookie and CSRF token (the old ones are refused now) */
		json_t *out = principal_json(app, &renewed.who);
		if (!out || !hand_over(resp, &renewed, out)) {
			json_decref(out);
			result = HTTP_FAILED;
			break;
		}
		http_resp_json(resp, 200, out);
		break;
	case STAFF_PASSWORD_WRONG_CURRENT:
		validate_reply_one(resp, req, "current_password", message);
		break;
	case STAFF_PASSWORD_LOCKED:
		http_resp_problem(resp, req, PROBLEM_UNAUTHORIZED,
				  "the account is locked after too many wrong passwords; its sessions have ended", NULL);
		break;
	case STAFF_PASSWORD_REFUSED:
	case STAFF_PASSWORD_REUSED:
		validate_reply_one(resp, req, "new_password", message);
		break;
	case STAFF_PASSWORD_CHANGE_ERROR:
		result = HTTP_FAILED;
		break;
	}
out:
	sodium_memzero(&renewed, sizeof(renewed));
	json_decref(errors);
	return result;
}

enum http_outcome api_staff_totp_enrol(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	char base32[STAFF_TOTP_BASE32_MAX];
	char *uri = NULL, *svg = NULL;
	int modules = 0;
	enum http_outcome result = HTTP_FAILED;

	if (!app->kek_set) {
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, "TOTP is not configured (secrets.key_file)", NULL);
		return HTTP_DONE;
	}
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	struct staff_request rq = request_of(req);
	switch (staff_session_totp_enrol(conn, &app->kek, &req->staff, &rq, base32)) {
	case STAFF_TOTP_OK:
		break;
	case STAFF_TOTP_ALREADY:
		http_resp_problem(resp, req, PROBLEM_TOTP_ALREADY_ENROLLED,
				  "a confirmed TOTP enrolment exists; an operator can remove it (alertd staff reset --totp)",
				  NULL);
		return HTTP_DONE;
	default:
		return HTTP_FAILED;
	}
	uri = staff_totp_uri(req->staff.login, base32);
	svg = uri ? staff_totp_qr_svg(uri, &modules) : NULL;
	json_t *out = svg ? json_pack("{s:s,s:s,s:s,s:i,s:i}", "secret", base32, "otpauth_uri", uri, "qr_svg", svg,
				      "digits", STAFF_TOTP_DIGITS, "period", STAFF_TOTP_STEP)
			  : NULL;
	if (out) {
		http_resp_json(resp, 201, out);
		result = HTTP_DONE;
	}
	sodium_memzero(base32, sizeof(base32));
	if (uri)
		sodium_memzero(uri, strlen(uri));
	/* the QR code encodes the URI, secret included */
	if (svg)
		sodium_memzero(svg, strlen(svg));
	free(uri);
	free(svg);
	return result;
}

enum http_outcome api_staff_totp_confirm(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	char codes[STAFF_RECOVERY_CODES][STAFF_RECOVERY_CODE_LEN + 1];
	json_t *errors = json_array(), *list = NULL, *out = NULL;
	size_t len;
	enum http_outcome result = HTTP_DONE;
	struct staff_new_session renewed;

	memset(&renewed, 0, sizeof(renewed));

	if (!errors)
		return HTTP_FAILED;
	const char *code = member(req->json, "code", 16, true, errors, &len);
	if (json_array_size(errors) > 0) {
		validate_reply(resp, req, NULL, errors);
		goto out;
	}
	if (!app->kek_set) {
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, "TOTP is not configured (secrets.key_file)", NULL);
		goto out;
	}
	PGconn *conn = http_db(req);
	if (!conn) {
		result = HTTP_FAILED;
		goto out;
	}
	struct staff_request rq = request_of(req);
	switch (staff_session_totp_confirm(conn, &app->kek, &req->staff, code, &rq, codes, &renewed)) {
	case STAFF_TOTP_OK:
		list = json_array();
		for (int i = 0; list && i < STAFF_RECOVERY_CODES; i++)
			if (json_array_append_new(list, json_string(codes[i])) != 0) {
				json_decref(list);
				list = NULL;
			}
		sodium_memzero(codes, sizeof(codes));
		out = list ? json_pack("{s:o}", "recovery_codes", list) : NULL;
		/* the session was renewed: the new cookie and CSRF token (the old ones are refused now) */
		if (!out || !hand_over(resp, &renewed, out)) {
			json_decref(out);
			result = HTTP_FAILED;
			break;
		}
		http_resp_json(resp, 200, out);
		break;
	case STAFF_TOTP_BAD_CODE:
		validate_reply_one(resp, req, "code", "is not the current code of your authenticator app");
		break;
	case STAFF_TOTP_NO_PENDING:
		validate_reply_one(resp, req, "code", "enrol first (POST /v1/staff/totp/enrol)");
		break;
	case STAFF_TOTP_ALREADY:
		http_resp_problem(resp, req, PROBLEM_TOTP_ALREADY_ENROLLED, NULL, NULL);
		break;
	case STAFF_TOTP_ERROR:
		result = HTTP_FAILED;
		break;
	}
out:
	sodium_memzero(&renewed, sizeof(renewed));
	json_decref(errors);
	return result;
}

/* Step-up re-authentication before a sensitive action (staff/reauth.h). */
enum http_outcome api_staff_reauth(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	json_t *errors = json_array();
	size_t pw_len, code_len, rec_len;
	enum http_outcome result = HTTP_DONE;
	static const char *const known[] = { "password", "totp_code", "recovery_code", NULL };

	if (!errors)
		return HTTP_FAILED;
	if (!throttle_ok(app, req, resp))
		goto out;
	const char *pw = member(req->json, "password", STAFF_PASSWORD_MAX_BYTES, true, errors, &pw_len);
	const char *code = member(req->json, "totp_code", 16, false, errors, &code_len);
	const char *recovery = member(req->json, "recovery_code", 32, false, errors, &rec_len);
	if (code && recovery)
		validate_member_error(errors, "", "recovery_code", "give totp_code or recovery_code, not both");
	if (json_is_object(req->json) && !validate_unknown_members(errors, req->json, "", known)) {
		result = HTTP_FAILED;
		goto out;
	}
	if (json_array_size(errors) > 0) {
		validate_reply(resp, req, NULL, errors);
		goto out;
	}
	PGconn *conn = http_db(req);
	if (!conn) {
		result = HTTP_FAILED;
		goto out;
	}
	struct staff_request rq = request_of(req);
	switch (staff_session_reauth(conn, app->cfg, app->kek_set ? &app->kek : NULL, &req->staff, pw, pw_len, code,
				     recovery, &rq)) {
	case STAFF_OK:
		http_resp_body(resp, 204, NULL, NULL, 0);
		break;
	case STAFF_DENIED:
		/* 403, not 401: the session stays signed in (unless this attempt locked the account) */
		http_resp_problem(resp, req, PROBLEM_FORBIDDEN, "the password or code is wrong, or the account is locked",
				  NULL);
		break;
	case STAFF_NO_KEK:
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR,
				  "the second factor cannot be checked: TOTP is not configured (secrets.key_file)", NULL);
		break;
	case STAFF_ERROR:
		result = HTTP_FAILED;
		break;
	}
out:
	json_decref(errors);
	return result;
}
