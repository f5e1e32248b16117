/*
 * api_staff_worklist.h - the staff worklist and escalation routes
 * (docs/staff.md "Worklist" and "Escalations", docs/openapi.yaml). Thin:
 * parameters and bodies checked here (422), the queries and actions in
 * staff/worklist.h and staff/escalation.h, every one bounded by
 * req->scope_office (404 outside, as for unknown). Reading: any role;
 * acting: operator or admin (403 role_not_allowed, audited). People's
 * names and phones are metered look-ups (staff/lookups.h).
 */
#ifndef ALERTD_API_STAFF_WORKLIST_H
#define ALERTD_API_STAFF_WORKLIST_H

#include "http/http.h"

#include <libpq-fe.h>

/* GET /v1/staff/worklist, GET|PUT /v1/staff/worklist/{id}, POST .../{id}/contacts, GET /v1/staff/worklist/print */
enum http_outcome api_staff_worklist(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_worklist_item(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_worklist_put(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_worklist_contact(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_worklist_print(const struct app *app, struct http_req *req, struct http_resp *resp);

/* GET /v1/staff/escalations, GET /v1/staff/escalations/count, POST /v1/staff/escalations/{id}/ack */
enum http_outcome api_staff_escalations(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_escalations_count(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_escalation_ack(const struct app *app, struct http_req *req, struct http_resp *resp);

/*
 * Shared by the two files: the caller may act (operator or admin), else a
 * 403 role_not_allowed audited as action on target (denied); false with
 * *outcome then. An office filter (NULL: none) in scope, else 404.
 */
bool api_worklist_actor_or_reply(struct http_req *req, struct http_resp *resp, const char *action, const char *target,
				 enum http_outcome *outcome) __attribute__((warn_unused_result));
bool api_worklist_office_or_reply(struct http_req *req, struct http_resp *resp, const char *office,
				  enum http_outcome *outcome) __attribute__((warn_unused_result));
/*
 * Count the people of res (their user ids in column id_col) as one metered
 * look-up (what, target) before anything is shown: staff_lookups_take_or_reply
 * on them. False with *outcome (the 429, or HTTP_FAILED) when refused.
 */
bool api_worklist_meter_or_reply(const struct app *app, struct http_req *req, struct http_resp *resp, const char *what,
				 const char *target, PGresult *res, int id_col, enum http_outcome *outcome)
	__attribute__((warn_unused_result));
/*
 * The start of an action on /{id}: the path id (404), the caller's role
 * (api_worklist_actor_or_reply, audited as action), then *errors, a new
 * array holding the body's unknown members (known: NULL-terminated). False
 * with *outcome when answered or out of memory.
 */
bool api_worklist_action_or_reply(struct http_req *req, struct http_resp *resp, const char *action, const char *const *known,
				  json_t **errors, enum http_outcome *outcome) __attribute__((warn_unused_result));
/* errors (stolen) empty: true; else the 422 with detail, false. */
bool api_worklist_body_ok_or_reply(struct http_req *req, struct http_resp *resp, json_t *errors, const char *detail)
	__attribute__((warn_unused_result));
/* A note: a UTF-8 string of 1 to 1000 bytes after trimming nothing; required says whether absent is an error. */
bool api_worklist_note_ok(json_t *v, bool required);

#endif
