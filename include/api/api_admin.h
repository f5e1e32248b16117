/*
 * api_admin.h - admin endpoints (admin API key). Every use of a key is
 * audited by auth.c before the handler runs.
 */
#ifndef ALERTD_API_ADMIN_H
#define ALERTD_API_ADMIN_H

#include "http/router.h"

struct app;
struct http_req;
struct http_resp;

/* POST /v1/admin/users/{login}/activation-code: issue (and void the old) code. */
enum http_outcome api_admin_activation_code(const struct app *app, struct http_req *req, struct http_resp *resp);

/* GET /v1/admin/events/unrouted?limit=: units with events not routed (unit not in the roster). */
enum http_outcome api_admin_unrouted(const struct app *app, struct http_req *req, struct http_resp *resp);

/* POST /v1/admin/roster (text/csv, ?dry_run=true): see docs/roster.md. In api_admin_roster.c. */
enum http_outcome api_admin_roster(const struct app *app, struct http_req *req, struct http_resp *resp);

#endif
