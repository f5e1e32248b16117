/*
 * api_staff_worklist.c - the worklist routes (see api_staff_worklist.h):
 * the list (no personal data: reasons are counts), an item with its
 * contact history and the unit's people (metered), changes by hand,
 * contact attempts, and the printable list for the counter (metered).
 */
#include "api/api_staff_worklist.h"
#include "core/app.h"
#include "core/config.h"
#include "core/parse.h"
#include "db/audit.h"
#include "http/validate.h"
#include "staff/lookups.h"
#include "staff/worklist.h"
#include "store/staffview.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const struct validate_int list_limit = { 1, 200, 50, "must be 1 to 200" };

bool api_worklist_actor_or_reply(struct http_req *req, struct http_resp *resp, const char *action, const char *target,
				 enum http_outcome *outcome)
{
	*outcome = HTTP_DONE;
	if (strcmp(req->staff.role, "operator") == 0 || strcmp(req->staff.role, "admin") == 0)
		return true;
	PGconn *conn = http_db(req);
	struct audit_entry e = { .actor_kind = "staff",
				 .actor_id = req->staff.login,
				 .action = action,
				 .target = target,
				 .outcome = "denied",
				 .ip = req->remote,
				 .request_id = req->request_id,
				 .details = "{\"reason\":\"role\"}" };
	if (!conn || !audit_write(conn, &e)) {
		*outcome = HTTP_FAILED;
		return false;
	}
	http_resp_problem(resp, req, PROBLEM_ROLE_NOT_ALLOWED, "this needs the operator or admin role", NULL);
	return false;
}

bool api_worklist_office_or_reply(struct http_req *req, struct http_resp *resp, const char *office, enum http_outcome *outcome)
{
	bool in = false;
	size_t n = office ? strlen(office) : 0;

	*outcome = HTTP_DONE;
	if (!office)
		return true;
	PGconn *conn = http_db(req);
	if (!conn) {
		*outcome = HTTP_FAILED;
		return false;
	}
	if (n >= 1 && n <= 15 && !staffview_office_in_scope(conn, req->scope_office, office, &in)) {
		*outcome = HTTP_FAILED;
		return false;
	}
	if (!in)
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, "no such office among yours", NULL);
	return in;
}

bool api_worklist_meter_or_reply(const struct app *app, struct http_req *req, struct http_resp *resp, const char *what,
				 const char *target, PGresult *res, int id_col, enum http_outcome *outcome)
{
	int n = PQntuples(res);
	long long *ids = calloc(n > 0 ? (size_t)n : 1, sizeof(*ids));

	*outcome = HTTP_FAILED;
	if (!ids)
		return false;
	for (int r = 0; r < n; r++)
		ids[r] = store_int(res, r, id_col);
	struct staff_lookup l = { .what = what, .target = target, .people = n, .user_ids = ids, .nuser_ids = (size_t)n };
	bool ok = staff_lookups_take_or_reply(app, req, resp, &l, outcome);
	free(ids);
	return ok;
}

bool api_worklist_action_or_reply(struct http_req *req, struct http_resp *resp, const char *action,
				  const char *const *known, json_t **errors, enum http_outcome *outcome)
{
	long long id;

	*errors = NULL;
	*outcome = HTTP_DONE;
	if (!validate_path_id_or_reply(req, resp, "id", &id) ||
	    !api_worklist_actor_or_reply(req, resp, action, router_param(&req->match, "id"), outcome))
		return false;
	if (!(*errors = json_array()) || !validate_unknown_members(*errors, req->json, "", known)) {
		json_decref(*errors);
		*errors = NULL;
		*outcome = HTTP_FAILED;
		return false;
	}
	return true;
}

bool api_worklist_body_ok_or_reply(struct http_req *req, struct http_resp *resp, json_t *errors, const char *detail)
{
	bool ok = json_array_size(errors) == 0;

	if (!ok)
		validate_reply(resp, req, detail, errors);
	json_decref(errors);
	return ok;
}

bool api_worklist_note_ok(json_t *v, bool required)
{
	if (!v)
		return !required;
	if (!json_is_string(v))
		return false;
	size_t n = json_string_length(v);
	return n >= 1 && n <= WORKLIST_NOTE_MAX && parse_utf8_valid(json_string_value(v), n) &&
	       strlen(json_string_value(v)) == n;
}

/* An item row as JSON (NULL out of memory). */
static json_t *item_json(PGresult *res, int r)
{
	json_t *reasons = json_loads(PQgetvalue(res, r, WL_REASONS), 0, NULL);
	json_t *assignee = PQgetisnull(res, r, WL_ASSIGNEE)
				   ? json_null()
				   : json_pack("{s:s,s:s}", "login", PQgetvalue(res, r, WL_ASSIGNEE), "full_name",
					       PQgetvalue(res, r, WL_ASSIGNEE_NAME));
	if (!reasons || !assignee) {
		json_decref(reasons);
		json_decref(assignee);
		return NULL;
	}
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:b,s:s?,s:o,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:I,s:s?,"
			 "s:I,s:b}",
			 "id", (json_int_t)store_int(res, r, WL_ID), "unit_code", PQgetvalue(res, r, WL_UNIT), "unit_name",
			 PQgetvalue(res, r, WL_UNIT_NAME), "office_code", PQgetvalue(res, r, WL_OFFICE), "office_name",
			 PQgetvalue(res, r, WL_OFFICE_NAME), "state", PQgetvalue(res, r, WL_STATE), "status",
			 PQgetvalue(res, r, WL_STATUS), "reasons", reasons, "opened_at", PQgetvalue(res, r, WL_OPENED),
			 "due_at", PQgetvalue(res, r, WL_DUE), "overdue", store_bool(res, r, WL_OVERDUE), "escalated_to",
			 store_opt(res, r, WL_ESCALATED_TO), "assignee", assignee, "assigned_at",
			 store_opt(res, r, WL_ASSIGNED_AT), "closed_at", store_opt(res, r, WL_CLOSED_AT), "closed_by",
			 store_opt(res, r, WL_CLOSED_BY), "close_reason", store_opt(res, r, WL_CLOSE_REASON),
			 "close_note", store_opt(res, r, WL_CLOSE_NOTE), "reopened_at", store_opt(res, r, WL_REOPENED_AT),
			 "reopen_count", (json_int_t)store_int(res, r, WL_REOPEN_COUNT), "last_contact_at",
			 store_opt(res, r, WL_LAST_CONTACT), "contacts", (json_int_t)store_int(res, r, WL_CONTACTS),
			 "current", store_bool(res, r, WL_EPISODE_OPEN));
}

/* Append to list (stolen on failure too); false out of memory. */
static bool append(json_t *list, json_t *o)
{
	return o && json_array_append_new(list, o) == 0;
}

enum http_outcome api_staff_worklist(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	static const char *const states[] = { "open", "closed", "all", NULL };
	static const char *const statuses[] = { "partial", "unprotected", NULL };
	struct worklist_filter f = { .office = http_query(req, "office"),
				     .assignee = http_query(req, "assignee"),
				     .after_id = http_query(req, "cursor") };
	const char *overdue = http_query(req, "overdue");
	enum http_outcome outcome;
	int state, status;
	bool od;
	long long id;
	PGresult *res = NULL;

	(void)app;
	if (!validate_int_or_reply(req, resp, "limit", http_query(req, "limit"), &list_limit, &f.limit) ||
	    !validate_enum_or_reply(req, resp, "state", http_query(req, "state"), states, 0,
				    "must be open, closed or all", &state) ||
	    !validate_enum_or_reply(req, resp, "status", http_query(req, "status"), statuses, -1,
				    "must be partial or unprotected", &status) ||
	    !validate_bool_or_reply(req, resp, "overdue", overdue, false, &od))
		return HTTP_DONE;
	if (f.after_id && !parse_id(f.after_id, &id)) {
		validate_reply_one(resp, req, "cursor", "must be a next_cursor of an earlier page");
		return HTTP_DONE;
	}
	if (f.assignee) {
		/* me: the caller; none: unassigned; else a login */
		if (strcmp(f.assignee, "none") == 0)
			f.assignee = "";
		else if (strcmp(f.assignee, "me") == 0)
			f.assignee = req->staff.login;
		size_t n = strlen(f.assignee);
		if ((n == 0 && strcmp(http_query(req, "assignee"), "none") != 0) || n > 64 ||
		    !parse_utf8_valid(f.assignee, n)) {
			validate_reply_one(resp, req, "assignee", "must be me, none or a staff login");
			return HTTP_DONE;
		}
	}
	f.state = states[state];
	f.status = status >= 0 ? statuses[status] : NULL;
	f.overdue = overdue ? (od ? "true" : "false") : NULL;
	if (!api_worklist_office_or_reply(req, resp, f.office, &outcome))
		return outcome;
	PGconn *conn = http_db(req);
	long long want = f.limit;
	f.limit = want + 1;
	if (!conn || !worklist_list(conn, req->scope_office, &f, &res))
		return HTTP_FAILED;
	int n = PQntuples(res), shown = n > want ? (int)want : n;
	json_t *list = json_array();
	for (int r = 0; list && r < shown; r++)
		if (!append(list, item_json(res, r))) {
			json_decref(list);
			list = NULL;
		}
	json_t *out = list ? json_pack("{s:o,s:o}", "items", list, "next_cursor",
				       n > want ? json_string(PQgetvalue(res, shown - 1, WL_ID)) : json_null())
			   : NULL;
	PQclear(res);
	if (!out)
		return HTTP_FAILED;
	http_resp_json(resp, 200, out);
	return HTTP_DONE;
}

/* The unit's people with roles, phone, activation and covered, for an item's detail. */
static json_t *people_json(PGresult *users, PGresult *devices)
{
	json_t *list = json_array();

	for (int r = 0; list && r < PQntuples(users); r++) {
		if (!store_bool(users, r, SV_USER_ACTIVE))
			continue;
		long long uid = store_int(users, r, SV_USER_ID);
		bool covered = false;
		for (int k = 0; k < PQntuples(devices); k++)
			covered |= store_int(devices, k, SV_DEV_USER_ID) == uid && store_bool(devices, k, SV_DEV_REACHABLE);
		json_t *roles = json_loads(PQgetvalue(users, r, SV_USER_ROLES), 0, NULL);
		json_t *o = roles ? json_pack("{s:I,s:s,s:s,s:o,s:s?,s:s?,s:s,s:b}", "id", (json_int_t)uid, "login",
					      PQgetvalue(users, r, SV_USER_LOGIN), "full_name",
					      PQgetvalue(users, r, SV_USER_NAME), "roles", roles, "phone",
					      store_opt(users, r, SV_USER_PHONE), "email", store_opt(users, r, SV_USER_EMAIL),
					      "activation", PQgetvalue(users, r, SV_USER_ACTIVATION), "covered", covered)
				  : NULL;
		if (!append(list, o)) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

static json_t *contacts_json(PGresult *c)
{
	json_t *list = json_array();

	for (int r = 0; list && r < PQntuples(c); r++)
		if (!append(list, json_pack("{s:I,s:s,s:s,s:s,s:s?,s:s}", "id", (json_int_t)store_int(c, r, WLC_ID), "at",
					    PQgetvalue(c, r, WLC_AT), "channel", PQgetvalue(c, r, WLC_CHANNEL), "outcome",
					    PQgetvalue(c, r, WLC_OUTCOME), "note", store_opt(c, r, WLC_NOTE), "staff",
					    PQgetvalue(c, r, WLC_STAFF)))) {
			json_decref(list);
			list = NULL;
		}
	return list;
}

enum http_outcome api_staff_worklist_item(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGresult *item = NULL, *contacts = NULL, *users = NULL, *devices = NULL;
	enum http_outcome result = HTTP_FAILED;
	long long id;
	json_t *out = NULL;

	if (!validate_path_id_or_reply(req, resp, "id", &id))
		return HTTP_DONE;
	const char *sid = router_param(&req->match, "id");
	PGconn *conn = http_db(req);
	if (!conn || !worklist_get(conn, req->scope_office, sid, &item))
		goto out;
	if (PQntuples(item) != 1) {
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		result = HTTP_DONE;
		goto out;
	}
	const char *unit = PQgetvalue(item, 0, WL_UNIT);
	if (!worklist_contacts(conn, sid, &contacts) || !staffview_unit_users(conn, unit, &users) ||
	    !staffview_unit_devices(conn, unit, app->cfg->coverage_active_days, &devices))
		goto out;
	if (!api_worklist_meter_or_reply(app, req, resp, "worklist_item", unit, users, SV_USER_ID, &result))
		goto out;
	result = HTTP_FAILED;
	json_t *o = item_json(item, 0);
	json_t *c = o ? contacts_json(contacts) : NULL;
	json_t *p = c ? people_json(users, devices) : NULL;
	if (p) {
		json_object_set_new(o, "unit_phone",
				    PQgetisnull(item, 0, WL_UNIT_PHONE) ? json_null()
									: json_string(PQgetvalue(item, 0, WL_UNIT_PHONE)));
		json_object_set_new(o, "unit_email",
				    PQgetisnull(item, 0, WL_UNIT_EMAIL) ? json_null()
									: json_string(PQgetvalue(item, 0, WL_UNIT_EMAIL)));
		out = json_pack("{s:o,s:o,s:o}", "item", o, "contact_attempts", c, "people", p);
		o = c = p = NULL;
	}
	json_decref(o);
	json_decref(c);
	json_decref(p);
	if (!out)
		goto out;
	http_resp_json(resp, 200, out);
	result = HTTP_DONE;
out:
	PQclear(item);
	PQclear(contacts);
	PQclear(users);
	PQclear(devices);
	return result;
}

/* Answer what a worklist action returned (the item's new state on success). */
static enum http_outcome action_reply(struct http_req *req, struct http_resp *resp, enum worklist_result r, int ok_status,
				      json_t *extra)
{
	PGresult *item = NULL;

	switch (r) {
	case WORKLIST_OK:
		if (!worklist_get(http_db(req), req->scope_office, router_param(&req->match, "id"), &item) ||
		    PQntuples(item) != 1)
			break;
		json_t *o = item_json(item, 0);
		PQclear(item);
		if (!o)
			break;
		json_t *out = json_pack("{s:o}", "item", o);
		if (out && extra)
			json_object_update(out, extra);
		json_decref(extra);
		if (!out)
			return HTTP_FAILED;
		http_resp_json(resp, ok_status, out);
		return HTTP_DONE;
	case WORKLIST_NOT_FOUND:
		json_decref(extra);
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	case WORKLIST_ENDED:
		json_decref(extra);
		http_resp_problem(resp, req, PROBLEM_CONFLICT,
				  "this item is history: its unit was protected again (or left the roster)", NULL);
		return HTTP_DONE;
	case WORKLIST_BAD_ASSIGNEE:
		json_decref(extra);
		validate_reply_one(resp, req, "assignee",
				   "must be an active operator or admin of the item's office or an office above it, "
				   "within yours");
		return HTTP_DONE;
	case WORKLIST_DUE_IN_PAST:
		json_decref(extra);
		validate_reply_one(resp, req, "due_date", "must not be before today (Vietnam)");
		return HTTP_DONE;
	case WORKLIST_ERROR:
		break;
	}
	PQclear(item);
	json_decref(extra);
	return HTTP_FAILED;
}

/* YYYY-MM-DD with digits where they belong, a day that exists. */
static bool day_shape_ok(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	/* a day that does not exist (2026-02-30) would fail the ::date cast: a 500 instead of a 422 */
	return s[0] == '2' && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] && (m != 2 || d <= 28 || leap);
}

enum http_outcome api_staff_worklist_put(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	static const char *const known[] = { "assignee", "due_date", "state", "note", NULL };
	json_t *body = req->json, *errors;
	json_t *assignee = json_object_get(body, "assignee"), *due = json_object_get(body, "due_date"),
	       *state = json_object_get(body, "state"), *note = json_object_get(body, "note");
	enum http_outcome outcome;

	(void)app;
	if (!api_worklist_action_or_reply(req, resp, "worklist.update", known, &errors, &outcome))
		return outcome;
	if (assignee && !json_is_null(assignee) &&
	    !(json_is_string(assignee) && json_string_length(assignee) >= 1 && json_string_length(assignee) <= 64))
		validate_member_error(errors, "", "assignee", "must be a staff login, or null to unassign");
	if (due && !(json_is_string(due) && day_shape_ok(json_string_value(due))))
		validate_member_error(errors, "", "due_date", "must be a day, YYYY-MM-DD");
	const char *st = json_string_value(state);
	if (state && !(st && (strcmp(st, "open") == 0 || strcmp(st, "closed") == 0)))
		validate_member_error(errors, "", "state", "must be open or closed");
	if (!api_worklist_note_ok(note, st && strcmp(st, "closed") == 0))
		validate_member_error(errors, "", "note",
				      "a note of 1 to 1000 bytes is required to close, and optional otherwise");
	if (json_array_size(errors) == 0 && !assignee && !due && !state)
		validate_member_error(errors, "", "assignee", "give at least one of assignee, due_date and state");
	if (!api_worklist_body_ok_or_reply(req, resp, errors,
					   "the body is {\"assignee\": login|null, \"due_date\": \"YYYY-MM-DD\", "
					   "\"state\": \"open|closed\", \"note\": \"...\"}"))
		return HTTP_DONE;
	struct worklist_change c = { .set_assignee = assignee != NULL,
				     .assignee = json_string_value(assignee),
				     .due_date = json_string_value(due),
				     .state = st,
				     .note = json_string_value(note) };
	struct store_actor actor = { .kind = "staff", .id = req->staff.login, .ip = req->remote, .request_id = req->request_id };
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	return action_reply(req, resp, worklist_update(conn, req->scope_office, router_param(&req->match, "id"), &c, &actor),
			    200, NULL);
}

enum http_outcome api_staff_worklist_contact(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	static const char *const known[] = { "channel", "outcome", "note", NULL };
	json_t *body = req->json, *errors;
	const char *channel = json_string_value(json_object_get(body, "channel"));
	const char *result = json_string_value(json_object_get(body, "outcome"));
	json_t *note = json_object_get(body, "note");
	enum http_outcome outcome;
	long long contact = 0;

	(void)app;
	if (!api_worklist_action_or_reply(req, resp, "worklist.contact", known, &errors, &outcome))
		return outcome;
	if (!worklist_channel_ok(channel))
		validate_member_error(errors, "", "channel", "must be phone, email, visit or counter");
	if (!worklist_outcome_ok(result))
		validate_member_error(errors, "", "outcome",
				      "must be reached, no_answer, wrong_number, promised, refused or other");
	if (!api_worklist_note_ok(note, false))
		validate_member_error(errors, "", "note", "must be 1 to 1000 bytes of text");
	if (!api_worklist_body_ok_or_reply(req, resp, errors,
					   "the body is {\"channel\": ..., \"outcome\": ..., \"note\": \"...\"}"))
		return HTTP_DONE;
	struct store_actor actor = { .kind = "staff", .id = req->staff.login, .ip = req->remote, .request_id = req->request_id };
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	enum worklist_result r =
		worklist_add_contact(conn, req->scope_office, router_param(&req->match, "id"), req->staff.staff_id,
				     channel, result, json_string_value(note), &actor, &contact);
	return action_reply(req, resp, r, 201,
			    r == WORKLIST_OK ? json_pack("{s:I}", "contact_id", (json_int_t)contact) : NULL);
}

enum http_outcome api_staff_worklist_print(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *office = http_query(req, "office");
	PGresult *items = NULL, *people = NULL;
	enum http_outcome result = HTTP_FAILED;
	json_t *units = NULL;

	if (!office) {
		validate_reply_one(resp, req, "office", "is required: the transaction office whose list to print");
		return HTTP_DONE;
	}
	if (!api_worklist_office_or_reply(req, resp, office, &result))
		return result;
	result = HTTP_FAILED;
	PGconn *conn = http_db(req);
	if (!conn || !worklist_print_items(conn, office, &items) ||
	    !worklist_print_people(conn, office, app->cfg->coverage_active_days, &people))
		goto out;
	int np = PQntuples(people);
	if (!api_worklist_meter_or_reply(app, req, resp, "worklist_print", office, people, WLP_ID, &result))
		goto out;
	result = HTTP_FAILED;
	units = json_array();
	int k = 0;
	for (int r = 0; units && r < PQntuples(items); r++) {
		json_t *o = item_json(items, r), *users = json_array();
		const char *unit = PQgetvalue(items, r, WL_UNIT);
		/* both are ordered by unit code: the people of this unit follow */
		while (k < np && strcmp(PQgetvalue(people, k, WLP_UNIT), unit) < 0)
			k++;
		for (; o && users && k < np && strcmp(PQgetvalue(people, k, WLP_UNIT), unit) == 0; k++) {
			json_t *roles = json_loads(PQgetvalue(people, k, WLP_ROLES), 0, NULL);
			if (!roles ||
			    !append(users, json_pack("{s:s,s:o,s:s?,s:s,s:b}", "full_name", PQgetvalue(people, k, WLP_NAME),
						     "roles", roles, "phone", store_opt(people, k, WLP_PHONE),
						     "activation", PQgetvalue(people, k, WLP_ACTIVATION), "covered",
						     store_bool(people, k, WLP_COVERED)))) {
				json_decref(users);
				users = NULL;
			}
		}
		if (!o || !users) {
			json_decref(o);
			json_decref(users);
			json_decref(units);
			units = NULL;
			break;
		}
		json_object_set_new(o, "unit_phone",
				    PQgetisnull(items, r, WL_UNIT_PHONE) ? json_null()
									 : json_string(PQgetvalue(items, r, WL_UNIT_PHONE)));
		/* o_set steals users even when it fails; append steals o */
		if (json_object_set_new(o, "users", users) != 0) {
			json_decref(o);
			o = NULL;
		}
		if (!append(units, o)) {
			json_decref(units);
			units = NULL;
		}
	}
	json_t *out = units ? json_pack("{s:s,s:o,s:b}", "office", office, "units", units, "truncated",
					PQntuples(items) >= WORKLIST_PRINT_MAX)
			    : NULL;
	units = NULL;
	if (!out)
		goto out;
	http_resp_json(resp, 200, out);
	result = HTTP_DONE;
out:
	json_decref(units);
	PQclear(items);
	PQclear(people);
	return result;
}
