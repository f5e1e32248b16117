/*
 * api_staff_accounts.h - what staff do to other people's accounts from the
 * dashboard: issue an activation code for a user of their subtree
 * (operator, admin) and change a staff member's role (admin). See
 * docs/staff.md and docs/openapi.yaml.
 */
#ifndef ALERTD_API_STAFF_ACCOUNTS_H
#define ALERTD_API_STAFF_ACCOUNTS_H

#include "http/http.h"

/*
 * POST /v1/staff/users/{login}/activation-code: operator or admin (a viewer
 * gets 403 role_not_allowed); a user whose unit is outside the caller's
 * subtree, or no such user, gets 404. 201 {"login", "code", "expires_at"}.
 */
enum http_outcome api_staff_activation_code(const struct app *app, struct http_req *req, struct http_resp *resp);

/*
 * PUT /v1/staff/accounts/{login}/role {"role": "viewer|operator|admin"}:
 * admin only (403 role_not_allowed), never one's own (403 own_role), an
 * account of the caller's subtree (404 otherwise), not deactivated (409).
 * Ends the account's sessions when the role changes. 200 {"login",
 * "office", "role", "active", "changed", "sessions_ended"}.
 */
enum http_outcome api_staff_account_role(const struct app *app, struct http_req *req, struct http_resp *resp);

/*
 * Write the denied audit row of a staff request refused before it did
 * anything (action on target, which may be NULL, and reason), with the
 * session's login, address and request id. False when it could not be
 * written (the caller answers HTTP_FAILED); the route must declare ROUTE_DB.
 */
bool api_staff_audit_denied(struct http_req *req, const char *action, const char *target, const char *reason)
	__attribute__((warn_unused_result));

/*
 * api_staff_audit_denied(), then answer code with detail (NULL: the
 * code's own words). HTTP_FAILED when the audit row could not be written.
 */
enum http_outcome api_staff_refuse(struct http_req *req, struct http_resp *resp, const char *action, const char *target,
				   const char *reason, enum problem_code code, const char *detail);

#endif
