/*
 * api_staff_escalations.c - the "call this unit now" routes (see
 * api_staff_worklist.h): the list with the unit's and its users' phones
 * (metered look-ups), the count for the dashboard's badge (no personal
 * data, not metered) and the acknowledgement with a note.
 */
#include "api/api_staff_worklist.h"
#include "core/app.h"
#include "core/buf.h"
#include "core/parse.h"
#include "http/validate.h"
#include "staff/escalation.h"
#include "staff/lookups.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const struct validate_int list_limit = { 1, 100, 50, "must be 1 to 100" };

/* The people of unit from the contacts result (ordered by unit), starting at *k. */
static json_t *unit_people(PGresult *c, int *k, const char *unit)
{
	json_t *list = json_array();
	int n = PQntuples(c);

	while (*k < n && strcmp(PQgetvalue(c, *k, ESCU_UNIT), unit) < 0)
		(*k)++;
	for (; list && *k < n && strcmp(PQgetvalue(c, *k, ESCU_UNIT), unit) == 0; (*k)++) {
		json_t *roles = json_loads(PQgetvalue(c, *k, ESCU_ROLES), 0, NULL);
		json_t *o = roles ? json_pack("{s:s,s:o,s:s?}", "full_name", PQgetvalue(c, *k, ESCU_NAME), "roles", roles,
					      "phone", store_opt(c, *k, ESCU_PHONE))
				  : NULL;
		if (!o || json_array_append_new(list, o) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

static json_t *escalation_json(PGresult *e, int r, json_t *people)
{
	if (!people)
		return NULL;
	return json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s?,s:o,s:s?,s:s?,s:s?,s:o}", "id",
			 (json_int_t)store_int(e, r, ESC_ID), "event_id", (json_int_t)store_int(e, r, ESC_EVENT), "rule",
			 PQgetvalue(e, r, ESC_RULE), "unit_code", PQgetvalue(e, r, ESC_UNIT), "unit_name",
			 PQgetvalue(e, r, ESC_UNIT_NAME), "office_code", PQgetvalue(e, r, ESC_OFFICE), "reason",
			 PQgetvalue(e, r, ESC_REASON), "alert_created_at", PQgetvalue(e, r, ESC_ALERT_CREATED),
			 "created_at", PQgetvalue(e, r, ESC_CREATED), "age_seconds",
			 (json_int_t)store_int(e, r, ESC_AGE_SECONDS), "users_alerted",
			 (json_int_t)store_int(e, r, ESC_USERS_ALERTED), "unit_phone", store_opt(e, r, ESC_UNIT_PHONE),
			 "people", people, "acknowledged_at", store_opt(e, r, ESC_ACKED_AT), "acknowledged_by",
			 store_opt(e, r, ESC_ACKED_BY), "note", store_opt(e, r, ESC_NOTE), "ack_seconds",
			 PQgetisnull(e, r, ESC_ACK_SECONDS) ? json_null() : json_integer(store_int(e, r, ESC_ACK_SECONDS)));
}

enum http_outcome api_staff_escalations(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	static const char *const states[] = { "open", "acknowledged", NULL };
	const char *office = http_query(req, "office"), *cursor = http_query(req, "cursor");
	PGresult *esc = NULL, *people = NULL;
	enum http_outcome result = HTTP_FAILED;
	long long limit, id;
	int state;
	struct buf units;
	json_t *list = NULL;

	if (!validate_int_or_reply(req, resp, "limit", http_query(req, "limit"), &list_limit, &limit) ||
	    !validate_enum_or_reply(req, resp, "state", http_query(req, "state"), states, 0,
				    "must be open or acknowledged", &state))
		return HTTP_DONE;
	if (cursor && !parse_id(cursor, &id)) {
		validate_reply_one(resp, req, "cursor", "must be a next_cursor of an earlier page");
		return HTTP_DONE;
	}
	if (!api_worklist_office_or_reply(req, resp, office, &result))
		return result;
	result = HTTP_FAILED;
	buf_init(&units, 1 << 16);
	PGconn *conn = http_db(req);
	if (!conn || !escalation_list(conn, req->scope_office, office, state == 1, cursor, limit + 1, &esc))
		goto out;
	int n = PQntuples(esc), shown = n > limit ? (int)limit : n;
	buf_append(&units, "{", 1);
	for (int r = 0; r < shown; r++)
		buf_printf(&units, "%s%s", r ? "," : "", PQgetvalue(esc, r, ESC_UNIT));
	buf_append(&units, "}", 1);
	if (!buf_ok(&units) || !escalation_contacts(conn, units.data, &people))
		goto out;
	/* every person whose phone is shown counts against the caller's quota (once per unit shown) */
	if (!api_worklist_meter_or_reply(app, req, resp, "escalations", office, people, ESCU_ID, &result))
		goto out;
	result = HTTP_FAILED;
	list = json_array();
	for (int r = 0; list && r < shown; r++) {
		int k = 0;
		json_t *o = escalation_json(esc, r, unit_people(people, &k, PQgetvalue(esc, r, ESC_UNIT)));
		if (!o || json_array_append_new(list, o) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	json_t *out = list ? json_pack("{s:o,s:o}", "escalations", list, "next_cursor",
				       n > limit ? json_string(PQgetvalue(esc, shown - 1, ESC_ID)) : json_null())
			   : NULL;
	list = NULL;
	if (!out)
		goto out;
	http_resp_json(resp, 200, out);
	result = HTTP_DONE;
out:
	PQclear(esc);
	PQclear(people);
	buf_free(&units);
	return result;
}

enum http_outcome api_staff_escalations_count(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *office = http_query(req, "office");
	enum http_outcome outcome;
	long long n;

	(void)app;
	if (!api_worklist_office_or_reply(req, resp, office, &outcome))
		return outcome;
	PGconn *conn = http_db(req);
	if (!conn || !escalation_count_open(conn, req->scope_office, office, &n))
		return HTTP_FAILED;
	http_resp_json(resp, 200, json_pack("{s:I}", "open", (json_int_t)n));
	return HTTP_DONE;
}

enum http_outcome api_staff_escalation_ack(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	static const char *const known[] = { "note", NULL };
	json_t *note = json_object_get(req->json, "note"), *errors;
	enum http_outcome outcome;
	long long id;

	(void)app;
	if (!api_worklist_action_or_reply(req, resp, "escalation.ack", known, &errors, &outcome))
		return outcome;
	if (!api_worklist_note_ok(note, true))
		validate_member_error(errors, "", "note", "is required: 1 to 1000 bytes saying what was done");
	if (!api_worklist_body_ok_or_reply(req, resp, errors, "the body is {\"note\": \"...\"}"))
		return HTTP_DONE;
	if (!parse_id(router_param(&req->match, "id"), &id)) /* checked by api_worklist_action_or_reply already */
		return HTTP_FAILED;
	struct store_actor actor = { .kind = "staff", .id = req->staff.login, .ip = req->remote, .request_id = req->request_id };
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	switch (escalation_ack(conn, req->scope_office, router_param(&req->match, "id"), json_string_value(note), &actor)) {
	case ESCALATION_ACKED:
		http_resp_json(resp, 200,
			       json_pack("{s:I,s:b,s:s}", "id", (json_int_t)id, "acknowledged", 1, "acknowledged_by",
					 req->staff.login));
		return HTTP_DONE;
	case ESCALATION_NOT_FOUND:
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	case ESCALATION_ALREADY:
		http_resp_problem(resp, req, PROBLEM_CONFLICT, "this escalation was acknowledged already", NULL);
		return HTTP_DONE;
	case ESCALATION_ERROR:
		break;
	}
	return HTTP_FAILED;
}
