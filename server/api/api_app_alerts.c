/*
 * api_app_alerts.c - the app's alert inbox (keyset pagination, newest
 * first), read receipts, and the user's notification preferences.
 *
 * Every query is scoped by the token's user id (and their current unit, see
 * store/alerts.h), so another user's alert is simply not found (404), never
 * forbidden (which would confirm it exists).
 */
#include "api/api_app.h"
#include "core/clock.h"
#include "http/http.h"
#include "http/validate.h"
#include "store/alerts.h"
#include "store/preferences.h"
#include "store/store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INBOX_DEFAULT 20
#define INBOX_MAX 100

/*
 * Alert types a user may switch off. Risk alerts and the new-device security
 * alert are never among them: someone holding a stolen session must not be
 * able to silence the warnings meant for the real user.
 */
static const char *const toggleable[] = { "balance.changed", "voucher.status_changed" };
#define N_TOGGLEABLE (sizeof(toggleable) / sizeof(toggleable[0]))

/* Alert JSON for row r (alerts_col). */
static json_t *alert_json(PGresult *res, int r)
{
	json_error_t e;
	json_t *details = json_loads(PQgetvalue(res, r, ALERTS_COL_DETAILS), 0, &e);
	json_t *event = PQgetisnull(res, r, ALERTS_COL_EVENT_ID)
				? json_null()
				: json_pack("{s:I,s:s}", "id", (json_int_t)store_int(res, r, ALERTS_COL_EVENT_ID),
					    "occurred_at", PQgetvalue(res, r, ALERTS_COL_EVENT_OCCURRED_AT));

	return json_pack("{s:I,s:s,s:s,s:s?,s:s,s:s,s:s,s:o,s:s,s:s?,s:o,s:s,s:s}", "id",
			 (json_int_t)store_int(res, r, ALERTS_COL_ID), "kind", PQgetvalue(res, r, ALERTS_COL_KIND),
			 "severity", PQgetvalue(res, r, ALERTS_COL_SEVERITY), "risk_rule",
			 store_opt(res, r, ALERTS_COL_RISK_RULE), "lang", PQgetvalue(res, r, ALERTS_COL_LANG), "title",
			 PQgetvalue(res, r, ALERTS_COL_TITLE), "body", PQgetvalue(res, r, ALERTS_COL_BODY), "details",
			 details ? details : json_object(), "created_at", PQgetvalue(res, r, ALERTS_COL_CREATED_AT),
			 "read_at", store_opt(res, r, ALERTS_COL_READ_AT), "event", event ? event : json_null(),
			 "unit_code", PQgetvalue(res, r, ALERTS_COL_UNIT_CODE), "delivery_state",
			 PQgetvalue(res, r, ALERTS_COL_DELIVERY_STATE));
}

static const struct validate_int inbox_limit = { 1, INBOX_MAX, INBOX_DEFAULT, "must be 1 to 100" };
static const struct validate_int inbox_before = { 1, LLONG_MAX, 0, "must be an alert id" };

enum http_outcome api_app_alerts(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn;
	PGresult *res = NULL;
	json_t *items;
	long long limit, before;

	(void)app;
	if (!validate_int_or_reply(req, resp, "limit", http_query(req, "limit"), &inbox_limit, &limit) ||
	    !validate_int_or_reply(req, resp, "before", http_query(req, "before"), &inbox_before, &before))
		return HTTP_DONE;
	conn = http_db(req);
	/* one extra row tells whether there is a next page */
	if (!conn || !alerts_list(conn, req->principal_user_id, before, limit + 1, &res))
		return HTTP_FAILED;
	items = json_array();
	int n = PQntuples(res) > limit ? (int)limit : PQntuples(res);
	for (int r = 0; r < n; r++)
		json_array_append_new(items, alert_json(res, r));
	json_t *next = PQntuples(res) > limit ? json_integer(store_int(res, n - 1, ALERTS_COL_ID)) : json_null();
	PQclear(res);
	http_resp_json(resp, 200, json_pack("{s:o,s:o}", "items", items, "next_before", next));
	return HTTP_DONE;
}

/* One alert of the caller, optionally marking it read; 404 when not theirs. */
static enum http_outcome one_alert(struct http_req *req, struct http_resp *resp, bool mark_read)
{
	PGconn *conn;
	PGresult *res = NULL;
	long long id;

	if (!validate_path_id_or_reply(req, resp, "id", &id))
		return HTTP_DONE;
	conn = http_db(req);
	if (!conn || !alerts_get(conn, req->principal_user_id, id, mark_read, &res))
		return HTTP_FAILED;
	if (PQntuples(res) != 1)
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
	else
		http_resp_json(resp, 200, alert_json(res, 0));
	PQclear(res);
	return HTTP_DONE;
}

enum http_outcome api_app_alert(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	(void)app;
	return one_alert(req, resp, false);
}

enum http_outcome api_app_alert_read(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	(void)app;
	return one_alert(req, resp, true);
}

/* Preferences JSON for the one row of res (preferences_col). */
static json_t *prefs_json(PGresult *res)
{
	json_error_t e;
	json_t *stored = json_loads(PQgetvalue(res, 0, PREFERENCES_COL_TOGGLES), 0, &e);
	json_t *toggles = json_object();

	for (size_t i = 0; i < N_TOGGLEABLE; i++) {
		json_t *v = json_object_get(stored, toggleable[i]);
		json_object_set_new(toggles, toggleable[i], json_boolean(!json_is_false(v)));
	}
	json_object_set_new(toggles, "risk", json_true());
	json_object_set_new(toggles, "security.new_device", json_true());
	json_decref(stored);
	json_t *quiet = PQgetisnull(res, 0, PREFERENCES_COL_QUIET_FROM)
				? json_null()
				: json_pack("{s:s,s:s,s:s}", "from", PQgetvalue(res, 0, PREFERENCES_COL_QUIET_FROM), "to",
					    PQgetvalue(res, 0, PREFERENCES_COL_QUIET_TO), "time_zone", CLOCK_VN_TIME_ZONE);
	return json_pack("{s:s,s:I,s:o,s:o,s:s}", "lang", PQgetvalue(res, 0, PREFERENCES_COL_LANG), "min_amount",
			 (json_int_t)store_int(res, 0, PREFERENCES_COL_MIN_AMOUNT), "quiet_hours", quiet, "toggles",
			 toggles, "note", "risk alerts are always delivered, ignoring quiet hours, min_amount and toggles");
}

/* The caller's preferences as the app shows them; res (one row expected) is cleared. */
static enum http_outcome prefs_answer(struct http_resp *resp, PGresult *res)
{
	if (PQntuples(res) != 1) {
		PQclear(res);
		return HTTP_FAILED;
	}
	http_resp_json(resp, 200, prefs_json(res));
	PQclear(res);
	return HTTP_DONE;
}

enum http_outcome api_app_preferences_get(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = http_db(req);
	PGresult *res = NULL;

	(void)app;
	if (!conn || !preferences_get(conn, req->principal_user_id, &res))
		return HTTP_FAILED;
	return prefs_answer(resp, res);
}

static bool hhmm(const char *s)
{
	return s && strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
	       s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' && (s[0] < '2' || s[1] <= '3');
}

/*
 * Check a PUT body; fills the SQL parameters (NULL = leave as is). False when
 * an error could not be recorded (the request must fail, not pass).
 */
static bool check_prefs(json_t *body, json_t *errors, const char **lang, char *min_amount, size_t mlen,
			const char **qfrom, const char **qto, bool *quiet_set, char **toggles_text)
{
	const char *key;
	json_t *v;
	bool ok = true;

	*lang = NULL;
	*qfrom = *qto = NULL;
	*quiet_set = false;
	*toggles_text = NULL;
	min_amount[0] = '\0';
	if (!json_is_object(body))
		return validate_error(errors, "", "must be an object");
	json_object_foreach(body, key, v) {
		if (strcmp(key, "lang") == 0) {
			*lang = json_string_value(v);
			if (!*lang || (strcmp(*lang, "vi") != 0 && strcmp(*lang, "en") != 0))
				ok &= validate_error(errors, "lang", "must be vi or en");
		} else if (strcmp(key, "min_amount") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 9000000000000000LL)
				ok &= validate_error(errors, "min_amount",
						     "must be a whole number of VND from 0 to 9000000000000000");
			else
				snprintf(min_amount, mlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		} else if (strcmp(key, "quiet_hours") == 0) {
			*quiet_set = true;
			if (json_is_null(v))
				continue;
			*qfrom = json_string_value(json_object_get(v, "from"));
			*qto = json_string_value(json_object_get(v, "to"));
			if (!json_is_object(v) || !hhmm(*qfrom) || !hhmm(*qto) || strcmp(*qfrom, *qto) == 0)
				ok &= validate_error(
					errors, "quiet_hours",
					"must be null or {\"from\":\"HH:MM\",\"to\":\"HH:MM\"} (local time, from before to, may wrap midnight)");
		} else if (strcmp(key, "toggles") == 0) {
			const char *t;
			json_t *tv;
			if (!json_is_object(v)) {
				ok &= validate_error(errors, "toggles", "must be an object of alert type: true|false");
				continue;
			}
			json_object_foreach(v, t, tv) {
				bool known = false;
				for (size_t i = 0; i < N_TOGGLEABLE; i++)
					known |= strcmp(t, toggleable[i]) == 0;
				if ((strcmp(t, "risk") == 0 || strcmp(t, "security.new_device") == 0) && !json_is_true(tv))
					ok &= validate_member_error(errors, "toggles.", t,
								    strcmp(t, "risk") == 0
									    ? "risk alerts cannot be switched off"
									    : "security alerts cannot be switched off");
				else if (!json_is_boolean(tv))
					ok &= validate_member_error(errors, "toggles.", t, "must be true or false");
				else if (!known && strcmp(t, "risk") != 0 && strcmp(t, "security.new_device") != 0)
					ok &= validate_member_error(errors, "toggles.", t, "unknown alert type");
			}
			json_t *copy = json_deep_copy(v);
			json_object_del(copy, "risk");
			json_object_del(copy, "security.new_device");
			*toggles_text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
			json_decref(copy);
			ok &= *toggles_text != NULL;
		} else {
			ok &= validate_member_error(errors, "", key, "unknown field");
		}
	}
	return ok;
}

enum http_outcome api_app_preferences_put(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn;
	PGresult *res = NULL;
	json_t *errors = json_array();
	struct preferences_update u;
	char min_amount[24];
	char *toggles = NULL;
	enum http_outcome result = HTTP_FAILED;

	(void)app;
	if (!errors || !check_prefs(req->json, errors, &u.lang, min_amount, sizeof(min_amount), &u.quiet_from,
				    &u.quiet_to, &u.quiet_set, &toggles))
		goto out; /* an error that could not be recorded is a 500, never a pass */
	if (json_array_size(errors) > 0) {
		validate_reply(resp, req, NULL, errors);
		result = HTTP_DONE;
		goto out;
	}
	u.min_amount = min_amount[0] ? min_amount : NULL;
	u.toggles = toggles;
	conn = http_db(req);
	if (conn && preferences_put(conn, req->principal_user_id, &u, &res))
		result = prefs_answer(resp, res);
out:
	free(toggles);
	json_decref(errors);
	return result;
}
