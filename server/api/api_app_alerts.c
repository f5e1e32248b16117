/*
 * api_app_alerts.c - the app's alert inbox (keyset pagination, newest
 * first), read receipts, and the user's notification preferences.
 *
 * Every query is scoped by the token's user id, so another user's alert is
 * simply not found (404), never forbidden (which would confirm it exists).
 */
#include "api/api_app.h"
#include "core/parse.h"
#include "core/app.h"
#include "db/db.h"
#include "http/http.h"

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

#define ALERT_COLUMNS                                                                                             \
	"a.id, a.kind, a.severity, a.risk_rule, a.lang, a.title, a.body, a.details::text,"                        \
	" to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"                           \
	" to_char(a.read_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), a.event_id,"                  \
	" to_char(a.event_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), a.unit_code, a.delivery_state"


static const char *opt(PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

static json_t *alert_json(PGresult *res, int r)
{
	json_error_t e;
	json_t *details = json_loads(PQgetvalue(res, r, 7), 0, &e);
	json_t *event = PQgetisnull(res, r, 10)
				? json_null()
				: json_pack("{s:I,s:s}", "id", (json_int_t)strtoll(PQgetvalue(res, r, 10), NULL, 10),
					    "occurred_at", PQgetvalue(res, r, 11));

	return json_pack("{s:I,s:s,s:s,s:s?,s:s,s:s,s:s,s:o,s:s,s:s?,s:o,s:s,s:s}", "id",
			 (json_int_t)strtoll(PQgetvalue(res, r, 0), NULL, 10), "kind", PQgetvalue(res, r, 1), "severity",
			 PQgetvalue(res, r, 2), "risk_rule", opt(res, r, 3), "lang", PQgetvalue(res, r, 4), "title",
			 PQgetvalue(res, r, 5), "body", PQgetvalue(res, r, 6), "details", details ? details : json_object(),
			 "created_at", PQgetvalue(res, r, 8), "read_at", opt(res, r, 9), "event", event ? event : json_null(),
			 "unit_code", PQgetvalue(res, r, 12), "delivery_state", PQgetvalue(res, r, 13));
}

static bool parse_limit(const char *s, long long *out)
{
	if (!s) {
		*out = INBOX_DEFAULT;
		return true;
	}
	return parse_id(s, out) && *out <= INBOX_MAX;
}

void api_app_alerts(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	json_t *items = NULL;
	long long limit, before = 0;
	char uid[24], lim[24], bef[24];
	const char *before_s = http_query(req, "before");

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	bool limit_ok = parse_limit(http_query(req, "limit"), &limit);
	bool before_ok = !before_s || parse_id(before_s, &before);
	if (!limit_ok || !before_ok) {
		json_t *extra = json_pack("{s:[{s:s,s:s}]}", "errors", "field", limit_ok ? "before" : "limit", "message",
					  limit_ok ? "must be an alert id" : "must be 1 to 100");
		http_resp_problem(resp, req, PROBLEM_VALIDATION_FAILED, NULL, extra);
		json_decref(extra);
		goto out;
	}
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	snprintf(uid, sizeof(uid), "%lld", req->principal_user_id);
	snprintf(lim, sizeof(lim), "%lld", limit + 1); /* one extra row tells whether there is a next page */
	snprintf(bef, sizeof(bef), "%lld", before);
	const char *params[3] = { uid, before_s ? bef : NULL, lim };
	res = db_exec(conn,
		      "SELECT " ALERT_COLUMNS " FROM alerts a WHERE a.user_id = $1 AND ($2::bigint IS NULL OR a.id < $2)"
		      " ORDER BY a.id DESC LIMIT $3",
		      3, params);
	if (!res)
		goto out;
	items = json_array();
	int n = PQntuples(res) > limit ? (int)limit : PQntuples(res);
	for (int r = 0; r < n; r++)
		json_array_append_new(items, alert_json(res, r));
	json_t *next = PQntuples(res) > limit ? json_integer(strtoll(PQgetvalue(res, n - 1, 0), NULL, 10)) : json_null();
	http_resp_json(resp, 200, json_pack("{s:o,s:o}", "items", items, "next_before", next));
	items = NULL;
out:
	json_decref(items);
	PQclear(res);
	db_release(app->db, conn);
}

/* One alert of the caller, optionally marking it read; 404 when not theirs. */
static void one_alert(const struct app *app, struct http_req *req, struct http_resp *resp, bool mark_read)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	long long id;
	char uid[24], aid[24];

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	if (!parse_id(router_param(&req->match, "id"), &id)) {
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		goto out;
	}
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	snprintf(uid, sizeof(uid), "%lld", req->principal_user_id);
	snprintf(aid, sizeof(aid), "%lld", id);
	const char *params[2] = { aid, uid };
	/* the read receipt is idempotent: the first read time stays */
	res = db_exec(conn,
		      mark_read ? "UPDATE alerts a SET read_at = COALESCE(a.read_at, now())"
				  " WHERE a.id = $1 AND a.user_id = $2 RETURNING " ALERT_COLUMNS
				: "SELECT " ALERT_COLUMNS " FROM alerts a WHERE a.id = $1 AND a.user_id = $2",
		      2, params);
	if (!res)
		goto out;
	if (PQntuples(res) != 1)
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
	else
		http_resp_json(resp, 200, alert_json(res, 0));
out:
	PQclear(res);
	db_release(app->db, conn);
}

void api_app_alert(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	one_alert(app, req, resp, false);
}

void api_app_alert_read(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	one_alert(app, req, resp, true);
}

#define PREF_SQL                                                                                                   \
	"SELECT COALESCE(p.lang, 'vi'), COALESCE(p.min_amount, 0), to_char(p.quiet_from, 'HH24:MI'),"           \
	" to_char(p.quiet_to, 'HH24:MI'), COALESCE(p.toggles, '{}')::text"                                        \
	" FROM users u LEFT JOIN user_preferences p ON p.user_id = u.id WHERE u.id = $1"

static json_t *prefs_json(PGresult *res)
{
	json_error_t e;
	json_t *stored = json_loads(PQgetvalue(res, 0, 4), 0, &e);
	json_t *toggles = json_object();

	for (size_t i = 0; i < N_TOGGLEABLE; i++) {
		json_t *v = json_object_get(stored, toggleable[i]);
		json_object_set_new(toggles, toggleable[i], json_boolean(!json_is_false(v)));
	}
	json_object_set_new(toggles, "risk", json_true());
	json_object_set_new(toggles, "security.new_device", json_true());
	json_decref(stored);
	json_t *quiet = PQgetisnull(res, 0, 2) ? json_null()
					       : json_pack("{s:s,s:s,s:s}", "from", PQgetvalue(res, 0, 2), "to",
							   PQgetvalue(res, 0, 3), "time_zone", "Asia/Ho_Chi_Minh");
	return json_pack("{s:s,s:I,s:o,s:o,s:s}", "lang", PQgetvalue(res, 0, 0), "min_amount",
			 (json_int_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10), "quiet_hours", quiet, "toggles", toggles,
			 "note", "risk alerts are always delivered, ignoring quiet hours, min_amount and toggles");
}

void api_app_preferences_get(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char uid[24];

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	snprintf(uid, sizeof(uid), "%lld", req->principal_user_id);
	const char *params[1] = { uid };
	res = db_exec(conn, PREF_SQL, 1, params);
	if (!res || PQntuples(res) != 1)
		goto out;
	http_resp_json(resp, 200, prefs_json(res));
out:
	PQclear(res);
	db_release(app->db, conn);
}

static void add_error(json_t *errors, const char *field, const char *message)
{
	json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message", message));
}

static bool hhmm(const char *s)
{
	return s && strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
	       s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' && (s[0] < '2' || s[1] <= '3');
}

/* Check a PUT body; fills the SQL parameters (NULL = leave as is). */
static void check_prefs(json_t *body, json_t *errors, const char **lang, char *min_amount, size_t mlen,
			const char **qfrom, const char **qto, bool *quiet_set, char **toggles_text)
{
	const char *key;
	json_t *v;

	*lang = NULL;
	*qfrom = *qto = NULL;
	*quiet_set = false;
	*toggles_text = NULL;
	min_amount[0] = '\0';
	if (!json_is_object(body)) {
		add_error(errors, "", "must be an object");
		return;
	}
	json_object_foreach(body, key, v) {
		if (strcmp(key, "lang") == 0) {
			*lang = json_string_value(v);
			if (!*lang || (strcmp(*lang, "vi") != 0 && strcmp(*lang, "en") != 0))
				add_error(errors, "lang", "must be vi or en");
		} else if (strcmp(key, "min_amount") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 9000000000000000LL)
				add_error(errors, "min_amount", "must be a whole number of VND from 0 to 9000000000000000");
			else
				snprintf(min_amount, mlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		} else if (strcmp(key, "quiet_hours") == 0) {
			*quiet_set = true;
			if (json_is_null(v))
				continue;
			*qfrom = json_string_value(json_object_get(v, "from"));
			*qto = json_string_value(json_object_get(v, "to"));
			if (!json_is_object(v) || !hhmm(*qfrom) || !hhmm(*qto) || strcmp(*qfrom, *qto) == 0)
				add_error(errors, "quiet_hours",
					  "must be null or {\"from\":\"HH:MM\",\"to\":\"HH:MM\"} (local time, from before to, may wrap midnight)");
		} else if (strcmp(key, "toggles") == 0) {
			const char *t;
			json_t *tv;
			if (!json_is_object(v)) {
				add_error(errors, "toggles", "must be an object of alert type: true|false");
				continue;
			}
			json_object_foreach(v, t, tv) {
				char field[96];
				bool known = false;
				snprintf(field, sizeof(field), "toggles.%s", t);
				for (size_t i = 0; i < N_TOGGLEABLE; i++)
					known |= strcmp(t, toggleable[i]) == 0;
				if ((strcmp(t, "risk") == 0 || strcmp(t, "security.new_device") == 0) && !json_is_true(tv))
					add_error(errors, field, strcmp(t, "risk") == 0 ? "risk alerts cannot be switched off"
											 : "security alerts cannot be switched off");
				else if (!json_is_boolean(tv))
					add_error(errors, field, "must be true or false");
				else if (!known && strcmp(t, "risk") != 0 && strcmp(t, "security.new_device") != 0)
					add_error(errors, field, "unknown alert type");
			}
			json_t *copy = json_deep_copy(v);
			json_object_del(copy, "risk");
			json_object_del(copy, "security.new_device");
			*toggles_text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
			json_decref(copy);
		} else {
			char field[80];
			snprintf(field, sizeof(field), "%.70s", key);
			add_error(errors, field, "unknown field");
		}
	}
}

void api_app_preferences_put(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	json_t *body = NULL, *errors = json_array();
	const char *lang, *qfrom, *qto;
	char min_amount[24], uid[24];
	char *toggles = NULL;
	bool quiet_set;

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	body = http_req_json(app, req, resp);
	if (!body || !errors)
		goto out;
	check_prefs(body, errors, &lang, min_amount, sizeof(min_amount), &qfrom, &qto, &quiet_set, &toggles);
	if (json_array_size(errors) > 0) {
		http_resp_invalid(resp, req, NULL, errors);
		goto out;
	}
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	snprintf(uid, sizeof(uid), "%lld", req->principal_user_id);
	const char *params[7] = { uid, lang, min_amount[0] ? min_amount : NULL, quiet_set ? "t" : "f", qfrom, qto, toggles };
	res = db_exec(conn,
		      "INSERT INTO user_preferences AS p (user_id, lang, min_amount, quiet_from, quiet_to, toggles)"
		      " VALUES ($1, COALESCE($2, 'vi'), COALESCE($3::bigint, 0), $5::time, $6::time, COALESCE($7::jsonb, '{}'))"
		      " ON CONFLICT (user_id) DO UPDATE SET lang = COALESCE($2, p.lang),"
		      " min_amount = COALESCE($3::bigint, p.min_amount),"
		      " quiet_from = CASE WHEN $4::boolean THEN $5::time ELSE p.quiet_from END,"
		      " quiet_to = CASE WHEN $4::boolean THEN $6::time ELSE p.quiet_to END,"
		      " toggles = p.toggles || COALESCE($7::jsonb, '{}')",
		      7, params);
	if (!res)
		goto out;
	PQclear(res);
	res = db_exec(conn, PREF_SQL, 1, params);
	if (!res || PQntuples(res) != 1)
		goto out;
	http_resp_json(resp, 200, prefs_json(res));
out:
	free(toggles);
	PQclear(res);
	db_release(app->db, conn);
	json_decref(errors);
	json_decref(body);
}
