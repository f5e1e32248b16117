/*
 * api_admin.h - admin endpoints (admin API key). Every use of a key is
 * audited by auth.c before the handler runs.
 */
#ifndef ALERTD_API_ADMIN_H
#define ALERTD_API_ADMIN_H

#include "http/router.h"

struct activation_actor;
struct app;
struct http_req;
struct http_resp;

/*
 * Issue (and void the old) activation code for the route's {login}, within
 * req->scope_office's subtree (404 not_found outside it, as for an unknown
 * login), audited with actor: 201 {"login", code_member, "expires_at"}.
 * Shared by the admin key and the staff routes.
 */
enum http_outcome api_issue_activation_code(const struct app *app, struct http_req *req, struct http_resp *resp,
					    const struct activation_actor *actor, const char *code_member);

/* POST /v1/admin/users/{login}/activation-code: issue (and void the old) code, within the key's offices. */
enum http_outcome api_admin_activation_code(const struct app *app, struct http_req *req, struct http_resp *resp);

/* GET /v1/admin/events/unrouted?limit=: units with events not routed (unit not in the roster), within the key's offices. */
enum http_outcome api_admin_unrouted(const struct app *app, struct http_req *req, struct http_resp *resp);

/* POST /v1/admin/roster (text/csv, ?dry_run=true): see docs/roster.md. In api_admin_roster.c. */
enum http_outcome api_admin_roster(const struct app *app, struct http_req *req, struct http_resp *resp);

#endif
