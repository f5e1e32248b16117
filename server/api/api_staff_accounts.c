/*
 * api_staff_accounts.c - staff actions on other accounts (see
 * api_staff_accounts.h): activation codes through the same issuing code as
 * the admin key route (api_issue_activation_code, people/activation.c), and
 * role changes through staff/accounts.c. Every refusal is audited with the
 * staff login, as every success is.
 */
#include "api/api_staff_accounts.h"
#include "api/api_admin.h"
#include "core/app.h"
#include "core/config.h"
#include "db/audit.h"
#include "http/validate.h"
#include "people/activation.h"
#include "staff/accounts.h"
#include "staff/reauth.h"

#include <string.h>

/* The role of the caller is one of the two given (the second may be NULL). */
static bool role_is(const struct http_req *req, const char *a, const char *b)
{
	return strcmp(req->staff.role, a) == 0 || (b && strcmp(req->staff.role, b) == 0);
}

bool api_staff_audit_denied(struct http_req *req, const char *action, const char *target, const char *reason)
{
	PGconn *conn = http_db(req);
	char details[80];

	snprintf(details, sizeof(details), "{\"reason\":\"%s\"}", reason);
	struct audit_entry e = { .actor_kind = "staff",
				 .actor_id = req->staff.login,
				 .action = action,
				 .target = target,
				 .outcome = "denied",
				 .ip = req->remote,
				 .request_id = req->request_id,
				 .details = details };
	return conn && audit_write(conn, &e);
}

enum http_outcome api_staff_refuse(struct http_req *req, struct http_resp *resp, const char *action, const char *target,
				   const char *reason, enum problem_code code, const char *detail)
{
	if (!api_staff_audit_denied(req, action, target, reason))
		return HTTP_FAILED;
	http_resp_problem(resp, req, code, detail, NULL);
	return HTTP_DONE;
}

enum http_outcome api_staff_activation_code(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *login = router_param(&req->match, "login");

	if (!role_is(req, "operator", "admin"))
		return api_staff_refuse(req, resp, "activation.issue", login, "role", PROBLEM_ROLE_NOT_ALLOWED,
					"issuing activation codes needs the operator or admin role");
	/* a code enrols a phone as that user: a step-up first, and a daily cap per account */
	enum http_outcome stale;
	if (!staff_reauth_fresh_or_reply(app, req, resp, &stale))
		return stale == HTTP_DONE && !api_staff_audit_denied(req, "activation.issue", login, "reauth_required")
			       ? HTTP_FAILED
			       : stale;
	struct activation_actor actor = { .kind = "staff",
					  .id = req->staff.login,
					  .ip = req->remote,
					  .request_id = req->request_id,
					  .daily_cap = app->cfg->staff_activation_codes_per_day };
	return api_issue_activation_code(app, req, resp, &actor, "code");
}

enum http_outcome api_staff_account_role(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	static const char *const known[] = { "role", NULL };
	const char *login = router_param(&req->match, "login");
	json_t *errors, *v = json_object_get(req->json, "role");
	struct staff_role_result out;

	(void)app;
	if (!role_is(req, "admin", NULL))
		return api_staff_refuse(req, resp, "staff.role", login, "role", PROBLEM_ROLE_NOT_ALLOWED,
					"changing roles needs the admin role");
	if (!staff_accounts_login_ok(login)) {
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	}
	/* json_object_foreach and json_object_get see no member in a body that is not an object */
	if (!(errors = json_array()) || !validate_unknown_members(errors, req->json, "", known) ||
	    (!(json_is_string(v) && staff_accounts_role_ok(json_string_value(v))) &&
	     !validate_member_error(errors, "", "role", "must be viewer, operator or admin"))) {
		json_decref(errors);
		return HTTP_FAILED;
	}
	if (json_array_size(errors) > 0) {
		validate_reply(resp, req, "the body is {\"role\": \"viewer|operator|admin\"}", errors);
		json_decref(errors);
		return HTTP_DONE;
	}
	json_decref(errors);
	if (strcmp(login, req->staff.login) == 0)
		return api_staff_refuse(req, resp, "staff.role", login, "own_role", PROBLEM_OWN_ROLE,
					"another admin of your office (or above) must change your role");
	enum http_outcome stale;
	if (!staff_reauth_fresh_or_reply(app, req, resp, &stale))
		return stale;
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	struct store_actor actor = { .kind = "staff", .id = req->staff.login, .ip = req->remote, .request_id = req->request_id };
	enum staff_role_change r =
		staff_accounts_set_role(conn, login, json_string_value(v), req->scope_office, &actor, &out);
	switch (r) {
	case STAFF_ROLE_CHANGED:
	case STAFF_ROLE_UNCHANGED:
		http_resp_json(resp, 200,
			       json_pack("{s:s,s:s?,s:s,s:b,s:b,s:I}", "login", login, "office",
					 out.office[0] ? out.office : NULL, "role", out.role, "active", out.active, "changed",
					 r == STAFF_ROLE_CHANGED, "sessions_ended", (json_int_t)out.sessions_ended));
		return HTTP_DONE;
	case STAFF_ROLE_NOT_FOUND:
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	case STAFF_ROLE_DEACTIVATED:
		http_resp_problem(resp, req, PROBLEM_CONFLICT, "this account is deactivated; deactivation is final", NULL);
		return HTTP_DONE;
	case STAFF_ROLE_ERROR:
		break;
	}
	return HTTP_FAILED;
}
