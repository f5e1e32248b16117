/*
 * api_staff_mail.c - the staff e-mail routes (see api_staff_mail.h). The
 * work is in mail/reminders.c and mail/instructions.c; this file checks
 * the role, the input and the re-authentication, and maps outcomes to
 * answers. Refusals by role or re-authentication are audited, as the
 * activation-code route does.
 */
#include "api/api_staff_mail.h"
#include "api/api_staff_accounts.h"
#include "core/app.h"
#include "core/config.h"
#include "core/parse.h"
#include "db/db.h"
#include "http/validate.h"
#include "mail/instructions.h"
#include "mail/reminders.h"
#include "staff/reauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAIL_LIST_LIMIT "50"

static bool may_send(const struct http_req *req)
{
	return strcmp(req->staff.role, "operator") == 0 || strcmp(req->staff.role, "admin") == 0;
}

static enum http_outcome refuse_role(struct http_req *req, struct http_resp *resp, const char *action, const char *target)
{
	if (!api_staff_audit_denied(req, action, target, "role"))
		return HTTP_FAILED;
	http_resp_problem(resp, req, PROBLEM_ROLE_NOT_ALLOWED, "sending mail needs the operator or admin role", NULL);
	return HTTP_DONE;
}

enum http_outcome api_staff_unit_reminders(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *code = router_param(&req->match, "code");
	struct mail_reminder_outcome o;
	PGconn *conn;

	if (!parse_unit_code(code)) {
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	}
	if (!may_send(req))
		return refuse_role(req, resp, "mail.reminder", code);
	if (!(conn = http_db(req)))
		return HTTP_FAILED;
	struct mail_reminder_request rq = { .unit_code = code,
					    .scope_office = req->scope_office,
					    .manual = true,
					    .actor_kind = "staff",
					    .actor_id = req->staff.login,
					    .ip = req->remote,
					    .request_id = req->request_id };
	enum mail_reminder_result rr = mail_reminders_queue(conn, app->cfg, &rq, &o);
	switch (rr) {
	case MAIL_REMINDER_QUEUED:
		http_resp_json(resp, 201,
			       json_pack("{s:s,s:i,s:{s:i,s:i}}", "unit", code, "queued", o.queued, "skipped",
					 "no_address", o.no_address, "duplicate_address", o.duplicate));
		return HTTP_DONE;
	case MAIL_REMINDER_NOT_FOUND:
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	case MAIL_REMINDER_UNIT_LIMIT:
	case MAIL_REMINDER_OFFICE_LIMIT: {
		char retry[24];
		bool unit = rr == MAIL_REMINDER_UNIT_LIMIT;
		snprintf(retry, sizeof(retry), "%lld", mail_reminders_retry_after());
		json_t *extra = json_pack("{s:s,s:I,s:I}", "window", unit ? "unit_day" : "office_day", "limit",
					  (json_int_t)o.limit, "used", (json_int_t)o.used);
		http_resp_problem(resp, req, PROBLEM_REMINDER_LIMIT_REACHED,
				  unit ? "this unit has had mail.reminders_per_unit_per_day reminders today"
				       : "this office's units have had mail.reminders_per_office_per_day reminders today",
				  extra);
		json_decref(extra);
		http_resp_header(resp, "Retry-After", retry);
		return HTTP_DONE;
	}
	case MAIL_REMINDER_ERROR:
		break;
	}
	return HTTP_FAILED;
}

/* The body {"units": ["1234567", ...]}: 1 to MAIL_INSTRUCTIONS_MAX_UNITS distinct unit codes. */
static bool units_or_reply(struct http_req *req, struct http_resp *resp, const char **units, size_t *n)
{
	static const char *const known[] = { "units", NULL };
	json_t *errors = json_array(), *arr = json_object_get(req->json, "units"), *v;
	size_t i;

	*n = 0;
	if (!errors || !validate_unknown_members(errors, req->json, "", known)) {
		json_decref(errors);
		return false;
	}
	if (!json_is_array(arr) || json_array_size(arr) < 1 || json_array_size(arr) > MAIL_INSTRUCTIONS_MAX_UNITS)
		validate_errorf(errors, "units", "must be an array of 1 to %d unit codes", MAIL_INSTRUCTIONS_MAX_UNITS);
	else
		json_array_foreach(arr, i, v) {
			const char *s = json_string_value(v);
			bool dup = false;
			for (size_t k = 0; k < *n && !dup; k++)
				dup = s && strcmp(units[k], s) == 0;
			if (!parse_unit_code(s) || dup) {
				validate_errorf(errors, "units", "element %zu: %s", i,
						dup ? "a unit named twice" : "must be a 7-digit unit code");
				break;
			}
			units[(*n)++] = s;
		}
	if (json_array_size(errors) > 0) {
		validate_reply(resp, req, "the body is {\"units\": [\"1234567\", ...]}", errors);
		json_decref(errors);
		*n = 0;
		return false;
	}
	json_decref(errors);
	return true;
}

enum http_outcome api_staff_instructions(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *units[MAIL_INSTRUCTIONS_MAX_UNITS];
	size_t n = 0;
	json_t *report = NULL;

	if (!may_send(req))
		return refuse_role(req, resp, "mail.instructions", NULL);
	if (!units_or_reply(req, resp, units, &n))
		return resp->status ? HTTP_DONE : HTTP_FAILED;
	/* every code enrols a phone as its user: a step-up first, as for one code */
	enum http_outcome stale;
	if (!staff_reauth_fresh_or_reply(app, req, resp, &stale))
		return stale == HTTP_DONE && !api_staff_audit_denied(req, "mail.instructions", NULL, "reauth_required")
			       ? HTTP_FAILED
			       : stale;
	if (!app->code_key_set || !app->kek_set) {
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, "activation is not configured (secrets.key_file)", NULL);
		return HTTP_DONE;
	}
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	struct activation_actor actor = { .kind = "staff",
					  .id = req->staff.login,
					  .ip = req->remote,
					  .request_id = req->request_id,
					  .daily_cap = app->cfg->staff_activation_codes_per_day };
	switch (mail_instructions_bulk(conn, app->cfg, app->code_key, &app->kek, units, n, req->scope_office, &actor, &report)) {
	case MAIL_INSTRUCTIONS_DONE:
		http_resp_json(resp, 200, json_pack("{s:o}", "units", report));
		return HTTP_DONE;
	case MAIL_INSTRUCTIONS_NOT_FOUND:
		if (!api_staff_audit_denied(req, "mail.instructions", NULL, "unit_not_found_or_out_of_scope"))
			return HTTP_FAILED;
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND,
				  "a selected unit is unknown, inactive or outside your office", NULL);
		return HTTP_DONE;
	case MAIL_INSTRUCTIONS_ERROR:
		break;
	}
	return HTTP_FAILED;
}

/* "n***@example.vn": enough to tell two addresses apart on the unit page, not to read them */
static void mask_addr(const char *addr, char *out, size_t cap)
{
	const char *at = strchr(addr, '@');
	snprintf(out, cap, "%c***%s", addr[0], at ? at : "");
}

/* last_error with the row's address masked (an SMTP refusal often quotes it) */
static void mask_in(const char *text, const char *addr, const char *masked, char *out, size_t cap)
{
	const char *hit = addr[0] ? strstr(text, addr) : NULL;
	if (!hit)
		snprintf(out, cap, "%s", text);
	else
		snprintf(out, cap, "%.*s%s%s", (int)(hit - text), text, masked, hit + strlen(addr));
}

enum http_outcome api_staff_unit_mail(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *code = router_param(&req->match, "code");
	PGconn *conn;
	PGresult *res;

	(void)app;
	if (!parse_unit_code(code)) {
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	}
	if (!(conn = http_db(req)))
		return HTTP_FAILED;
	const char *params[3] = { code, req->scope_office, MAIL_LIST_LIMIT };
	res = db_exec(conn,
		      "SELECT m.id, m.purpose, m.to_kind, m.to_addr, m.state, m.attempts, m.last_error,"
		      " to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		      " to_char(m.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), m.manual, m.created_by,"
		      " EXISTS (SELECT 1 FROM budget_units b WHERE b.code = $1 AND alertd_office_in_scope($2, b.office_code))"
		      " FROM (SELECT 1) one LEFT JOIN mail_outbox m ON m.unit_code = $1"
		      "   AND EXISTS (SELECT 1 FROM budget_units b WHERE b.code = $1 AND alertd_office_in_scope($2, b.office_code))"
		      " ORDER BY m.created_at DESC, m.id DESC LIMIT $3::int",
		      3, params);
	if (!res)
		return HTTP_FAILED;
	if (PQntuples(res) < 1 || strcmp(PQgetvalue(res, 0, 11), "t") != 0) {
		PQclear(res);
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	}
	json_t *items = json_array();
	for (int r = 0; items && r < PQntuples(res) && !PQgetisnull(res, r, 0); r++) {
		char masked[300], error[600];
		mask_addr(PQgetvalue(res, r, 3), masked, sizeof(masked));
		if (!PQgetisnull(res, r, 6))
			mask_in(PQgetvalue(res, r, 6), PQgetvalue(res, r, 3), masked, error, sizeof(error));
		json_array_append_new(items,
				      json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:s?,s:s,s:s?,s:b,s:s?}", "id",
						(json_int_t)strtoll(PQgetvalue(res, r, 0), NULL, 10), "purpose",
						PQgetvalue(res, r, 1), "to_kind", PQgetvalue(res, r, 2), "to", masked,
						"state", PQgetvalue(res, r, 4), "attempts",
						(int)strtol(PQgetvalue(res, r, 5), NULL, 10), "last_error",
						PQgetisnull(res, r, 6) ? NULL : error, "created_at", PQgetvalue(res, r, 7),
						"sent_at", PQgetisnull(res, r, 8) ? NULL : PQgetvalue(res, r, 8),
						"manual", strcmp(PQgetvalue(res, r, 9), "t") == 0, "created_by",
						PQgetisnull(res, r, 10) ? NULL : PQgetvalue(res, r, 10)));
	}
	PQclear(res);
	if (!items)
		return HTTP_FAILED;
	http_resp_json(resp, 200, json_pack("{s:s,s:o}", "unit", code, "items", items));
	return HTTP_DONE;
}
