/*
 * api_staff_data.c - the staff data routes: a unit's people, devices and
 * delivery history (GET /v1/staff/units/{code}, metered by
 * staff/lookups.h), risk alerts grouped per event and rule
 * (GET /v1/staff/risk-alerts) and the audit log for admins
 * (GET /v1/staff/audit). Every read is limited to req->scope_office's
 * subtree in SQL (store/staffview.h); anything outside answers 404, as if
 * it did not exist. Lists page with a keyset cursor (next_cursor, null on
 * the last page). See docs/staff.md and docs/openapi.yaml.
 */
#include "api/api_staff.h"
#include "core/app.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/parse.h"
#include "http/validate.h"
#include "staff/export.h"
#include "staff/lookups.h"
#include "staff/reauth.h"
#include "store/staffview.h"
#include "store/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct validate_int list_limit = { 1, 200, 50, "must be 1 to 200" };

/* [a-z][a-z0-9_.]{0,63}: a risk rule or an audit action, as the schema's CHECKs allow them. */
static bool dotted_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !islower((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* YYYY-MM-DD, a real calendar day between 2000 and 2199. */
static bool day_ok(const char *s)
{
	struct tm tm = { 0 };

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
	tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
	int y = tm.tm_year, m = tm.tm_mon, d = tm.tm_mday;
	if (y < 100 || y >= 300 || m < 0 || m > 11 || d < 1)
		return false;
	time_t t = timegm(&tm);
	struct tm back;
	/* timegm normalises 2026-02-30 to March: a day that does not exist comes back different */
	return t != (time_t)-1 && gmtime_r(&t, &back) && back.tm_year == y && back.tm_mon == m && back.tm_mday == d;
}

/*
 * A list's limit (list_limit) and its from and to (Vietnam days, to
 * inclusive: well-formed and in order). False with *outcome to return:
 * HTTP_DONE after a 422 naming every bad one, HTTP_FAILED out of memory.
 */
static bool list_params_or_reply(const struct http_req *req, struct http_resp *resp, long long *limit, const char **from,
				 const char **to, enum http_outcome *outcome)
{
	json_t *errors;

	*outcome = HTTP_DONE;
	if (!validate_int_or_reply(req, resp, "limit", http_query(req, "limit"), &list_limit, limit))
		return false;
	*from = http_query(req, "from");
	*to = http_query(req, "to");
	if (!(errors = json_array())) {
		*outcome = HTTP_FAILED;
		return false;
	}
	if (*from && !day_ok(*from))
		validate_error(errors, "from", "must be a day, YYYY-MM-DD");
	if (*to && !day_ok(*to))
		validate_error(errors, "to", "must be a day, YYYY-MM-DD");
	if (json_array_size(errors) == 0 && *from && *to && strcmp(*from, *to) > 0)
		validate_error(errors, "to", "must not be before from");
	bool ok = json_array_size(errors) == 0;
	if (!ok)
		validate_reply(resp, req, NULL, errors);
	json_decref(errors);
	return ok;
}

/*
 * Answer 200 {key: items, "next_cursor": next} (next NULL: null, the last
 * page); items is stolen, NULL when it could not be built (HTTP_FAILED).
 */
static enum http_outcome page_reply(struct http_resp *resp, const char *key, json_t *items, const char *next)
{
	json_t *out = items ? json_pack("{s:o,s:o}", key, items, "next_cursor", next ? json_string(next) : json_null()) : NULL;

	if (!out)
		return HTTP_FAILED;
	http_resp_json(resp, 200, out);
	return HTTP_DONE;
}

/* ---- GET /v1/staff/units/{code} ---- */

/* The unit's coverage, computed live from the rows shown (docs/coverage.md's definitions). */
struct unit_cover {
	long long users, covered, holders, holders_covered, chiefs, chiefs_covered, reachable, unreachable;
	bool ever_installed;
};

static bool has_role(json_t *roles, const char *role)
{
	size_t i;
	json_t *v;

	json_array_foreach(roles, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), role) == 0)
			return true;
	return false;
}

static json_t *unit_json(PGresult *u, const struct unit_cover *c)
{
	json_t *missing = json_array();
	if (!missing)
		return NULL;
	if (c->holders == 0 || c->holders_covered < c->holders)
		json_array_append_new(missing, json_string("account_holder"));
	if (c->chiefs == 0 || c->chiefs_covered < c->chiefs)
		json_array_append_new(missing, json_string("chief_accountant"));
	const char *status = json_array_size(missing) == 0 ? "protected" : c->covered > 0 ? "partial" : "unprotected";
	return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:b,s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:b,s:s,s:s?}",
			 "code", PQgetvalue(u, 0, SV_UNIT_CODE), "name", PQgetvalue(u, 0, SV_UNIT_NAME), "office_code",
			 PQgetvalue(u, 0, SV_UNIT_OFFICE), "office_name", PQgetvalue(u, 0, SV_UNIT_OFFICE_NAME),
			 "contact_email", store_opt(u, 0, SV_UNIT_EMAIL), "contact_phone", store_opt(u, 0, SV_UNIT_PHONE),
			 "active", store_bool(u, 0, SV_UNIT_ACTIVE), "status", status, "missing_roles", missing, "users",
			 (json_int_t)c->users, "covered_users", (json_int_t)c->covered, "holders", (json_int_t)c->holders,
			 "holders_covered", (json_int_t)c->holders_covered, "chiefs", (json_int_t)c->chiefs,
			 "chiefs_covered", (json_int_t)c->chiefs_covered, "reachable_devices", (json_int_t)c->reachable,
			 "unreachable_devices", (json_int_t)c->unreachable, "ever_installed", c->ever_installed,
			 "shared_phone", store_bool(u, 0, SV_UNIT_SHARED_PHONE), "volume_30d",
			 PQgetvalue(u, 0, SV_UNIT_VOLUME_30D), "computed_at", store_opt(u, 0, SV_UNIT_COMPUTED_AT));
}

static json_t *device_json(PGresult *d, int r)
{
	return json_pack("{s:I,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s,s:b}", "id", (json_int_t)store_int(d, r, SV_DEV_ID),
			 "platform", PQgetvalue(d, r, SV_DEV_PLATFORM), "state", PQgetvalue(d, r, SV_DEV_STATE),
			 "state_reason", store_opt(d, r, SV_DEV_STATE_REASON), "model", store_opt(d, r, SV_DEV_MODEL),
			 "app_version", store_opt(d, r, SV_DEV_APP_VERSION), "first_seen_at",
			 PQgetvalue(d, r, SV_DEV_FIRST_SEEN), "last_seen_at", PQgetvalue(d, r, SV_DEV_LAST_SEEN),
			 "reachable", store_bool(d, r, SV_DEV_REACHABLE));
}

/* The users with their devices (rows of d ordered by user), adding up the unit's coverage in c. */
static json_t *users_json(PGresult *us, PGresult *d, struct unit_cover *c)
{
	json_t *list = json_array();
	int dr = 0, nd = PQntuples(d);

	for (int r = 0; list && r < PQntuples(us); r++) {
		long long id = store_int(us, r, SV_USER_ID);
		bool active = store_bool(us, r, SV_USER_ACTIVE), covered = false;
		json_t *roles = json_loads(PQgetvalue(us, r, SV_USER_ROLES), 0, NULL), *devices = json_array();
		/* devices are ordered by user id, users by login: find this user's run */
		for (dr = 0; dr < nd && store_int(d, dr, SV_DEV_USER_ID) != id; dr++)
			;
		for (; devices && dr < nd && store_int(d, dr, SV_DEV_USER_ID) == id; dr++) {
			bool reachable = store_bool(d, dr, SV_DEV_REACHABLE);
			const char *state = PQgetvalue(d, dr, SV_DEV_STATE);
			covered |= reachable;
			if (active) {
				c->ever_installed = true;
				c->reachable += reachable;
				c->unreachable += !reachable && strcmp(state, "revoked") != 0;
			}
			if (json_array_append_new(devices, device_json(d, dr)) != 0) {
				json_decref(devices);
				devices = NULL;
			}
		}
		json_t *u = roles && devices
				    ? json_pack("{s:I,s:s,s:s,s:O,s:s?,s:s?,s:b,s:b,s:s,s:O}", "id", (json_int_t)id,
						"login", PQgetvalue(us, r, SV_USER_LOGIN), "full_name",
						PQgetvalue(us, r, SV_USER_NAME), "roles", roles, "email",
						store_opt(us, r, SV_USER_EMAIL), "phone", store_opt(us, r, SV_USER_PHONE),
						"active", active, "covered", covered, "activation",
						PQgetvalue(us, r, SV_USER_ACTIVATION), "devices", devices)
				    : NULL;
		if (active) {
			bool holder = has_role(roles, "account_holder"), chief = has_role(roles, "chief_accountant");
			c->users++;
			c->covered += covered;
			c->holders += holder;
			c->holders_covered += holder && covered;
			c->chiefs += chief;
			c->chiefs_covered += chief && covered;
		}
		json_decref(roles);
		json_decref(devices);
		if (!u || json_array_append_new(list, u) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

static json_t *alerts_json(PGresult *a, PGresult *del)
{
	json_t *list = json_array();
	int nd = PQntuples(del);

	for (int r = 0; list && r < PQntuples(a); r++) {
		long long id = store_int(a, r, SV_ALERT_ID);
		json_t *deliveries = json_array();
		for (int k = 0; deliveries && k < nd; k++)
			if (store_int(del, k, SV_DEL_ALERT_ID) == id &&
			    json_array_append_new(deliveries, json_pack("{s:I,s:s,s:s?,s:I,s:s?}", "device_id",
									(json_int_t)store_int(del, k, SV_DEL_DEVICE_ID),
									"state", PQgetvalue(del, k, SV_DEL_STATE), "reason",
									store_opt(del, k, SV_DEL_REASON), "attempts",
									(json_int_t)store_int(del, k, SV_DEL_ATTEMPTS),
									"sent_at", store_opt(del, k, SV_DEL_SENT))) != 0) {
				json_decref(deliveries);
				deliveries = NULL;
			}
		json_t *o = deliveries
				    ? json_pack("{s:I,s:s,s:s,s:s?,s:s,s:s,s:s,s:o}", "id", (json_int_t)id, "kind",
						PQgetvalue(a, r, SV_ALERT_KIND), "severity",
						PQgetvalue(a, r, SV_ALERT_SEVERITY), "risk_rule",
						store_opt(a, r, SV_ALERT_RULE), "title", PQgetvalue(a, r, SV_ALERT_TITLE),
						"created_at", PQgetvalue(a, r, SV_ALERT_CREATED), "user_login",
						PQgetvalue(a, r, SV_ALERT_LOGIN), "deliveries", deliveries)
				    : NULL;
		if (!o || json_array_append_new(list, o) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

/*
 * The path's unit if it is in the caller's subtree: true with the request's
 * connection and the unit's row. Otherwise false with *outcome: HTTP_DONE
 * after a 404 (malformed, unknown or outside the caller's offices: the same
 * answer), HTTP_FAILED on a database error.
 */
static bool unit_or_reply(struct http_req *req, struct http_resp *resp, const char *code, PGconn **conn, PGresult **unit,
			  enum http_outcome *outcome)
{
	*unit = NULL;
	*outcome = HTTP_FAILED;
	if (parse_unit_code(code)) {
		if (!(*conn = http_db(req)) || !staffview_unit(*conn, req->scope_office, code, unit))
			return false;
		if (PQntuples(*unit) == 1)
			return true;
	}
	http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
	*outcome = HTTP_DONE;
	return false;
}

enum http_outcome api_staff_unit(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *code = router_param(&req->match, "code");
	PGresult *unit = NULL, *users = NULL, *devices = NULL, *alerts = NULL, *del = NULL;
	enum http_outcome result = HTTP_FAILED;
	long long *ids = NULL;
	struct buf arr;
	json_t *out = NULL;

	buf_init(&arr, 1 << 20);
	PGconn *conn = NULL;
	if (!unit_or_reply(req, resp, code, &conn, &unit, &result))
		goto out;
	result = HTTP_FAILED;
	if (!staffview_unit_users(conn, code, &users) ||
	    !staffview_unit_devices(conn, code, app->cfg->coverage_active_days, &devices) ||
	    !staffview_unit_alerts(conn, req->scope_office, code, &alerts))
		goto out;
	buf_append(&arr, "{", 1);
	for (int r = 0; r < PQntuples(alerts); r++)
		buf_printf(&arr, "%s%lld", r ? "," : "", store_int(alerts, r, SV_ALERT_ID));
	buf_append(&arr, "}", 1);
	if (!buf_ok(&arr) || !staffview_deliveries(conn, arr.data, &del))
		goto out;
	/* every person shown counts against the caller's look-up quota, before anything is built */
	int n = PQntuples(users);
	ids = calloc(n > 0 ? (size_t)n : 1, sizeof(*ids));
	if (!ids)
		goto out;
	for (int r = 0; r < n; r++)
		ids[r] = store_int(users, r, SV_USER_ID);
	struct staff_lookup l = { .what = "unit_detail", .target = code, .people = n, .user_ids = ids, .nuser_ids = (size_t)n };
	if (!staff_lookups_take_or_reply(app, req, resp, &l, &result))
		goto out;
	struct unit_cover c = { 0 };
	json_t *ulist = users_json(users, devices, &c);
	json_t *u = ulist ? unit_json(unit, &c) : NULL;
	json_t *alist = u ? alerts_json(alerts, del) : NULL;
	out = alist ? json_pack("{s:o,s:o,s:o}", "unit", u, "users", ulist, "recent_alerts", alist) : NULL;
	if (!out) {
		json_decref(ulist);
		json_decref(u);
		json_decref(alist);
		result = HTTP_FAILED;
		goto out;
	}
	http_resp_json(resp, 200, out);
	out = NULL;
	result = HTTP_DONE;
out:
	PQclear(unit);
	PQclear(users);
	PQclear(devices);
	PQclear(alerts);
	PQclear(del);
	free(ids);
	buf_free(&arr);
	json_decref(out);
	return result;
}

/* ---- exports ---- */

enum http_outcome api_staff_export_send(struct http_req *req, struct http_resp *resp, bool xlsx,
					const struct staff_export *t, const char *filename)
{
	char disposition[128], err[200] = "";
	size_t len = 0;
	char *body = NULL;

	if (xlsx) {
		body = staff_export_xlsx(t, STAFF_EXPORT_MAX_BYTES, &len, err, sizeof(err));
	} else {
		struct buf b;
		buf_init(&b, STAFF_EXPORT_MAX_BYTES);
		if (staff_export_csv(t, &b))
			body = buf_steal(&b, &len);
		else
			snprintf(err, sizeof(err), "the CSV is larger than %u bytes", STAFF_EXPORT_MAX_BYTES);
		buf_free(&b);
	}
	if (!body) {
		LOG_FIELDS(LOG_ERROR, "export failed", LOG_S("reason", err), LOG_S("request_id", req->request_id));
		return HTTP_FAILED;
	}
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s.%s\"", filename, xlsx ? "xlsx" : "csv");
	http_resp_header(resp, "Content-Disposition", disposition);
	http_resp_body(resp, 200, xlsx ? STAFF_EXPORT_XLSX_TYPE : STAFF_EXPORT_CSV_TYPE, body, len);
	return HTTP_DONE;
}

/* The columns of a unit's users export. */
static const char *const user_export_headers[] = { "login",  "full_name", "roles",	"email",   "phone",
						   "active", "covered",	  "activation", "devices", "reachable_devices" };
#define USER_EXPORT_COLS (sizeof(user_export_headers) / sizeof(user_export_headers[0]))

static enum http_outcome unit_users_export(const struct app *app, struct http_req *req, struct http_resp *resp, bool xlsx)
{
	const char *code = router_param(&req->match, "code");
	PGresult *unit = NULL, *users = NULL, *devices = NULL;
	enum http_outcome result = HTTP_FAILED;
	long long *ids = NULL;
	char *texts = NULL;
	const char **cells = NULL;

	PGconn *conn = NULL;
	if (!unit_or_reply(req, resp, code, &conn, &unit, &result))
		goto out;
	result = HTTP_FAILED;
	/* an export needs a fresh re-authentication, then counts its rows against the quota */
	if (!staff_reauth_fresh_or_reply(app, req, resp, &result))
		goto out;
	result = HTTP_FAILED;
	if (!staffview_unit_users(conn, code, &users) ||
	    !staffview_unit_devices(conn, code, app->cfg->coverage_active_days, &devices))
		goto out;
	int n = PQntuples(users), nd = PQntuples(devices);
	ids = calloc(n > 0 ? (size_t)n : 1, sizeof(*ids));
	cells = calloc((size_t)(n > 0 ? n : 1) * USER_EXPORT_COLS, sizeof(*cells));
	/* per user: roles, active, covered, device counts as text (3 * 24 bytes and the roles) */
	texts = calloc(n > 0 ? (size_t)n : 1, 160);
	if (!ids || !cells || !texts)
		goto out;
	for (int r = 0; r < n; r++) {
		long long id = store_int(users, r, SV_USER_ID), ndev = 0, reach = 0;
		char *t = texts + (size_t)r * 160;
		ids[r] = id;
		for (int k = 0; k < nd; k++)
			if (store_int(devices, k, SV_DEV_USER_ID) == id) {
				ndev++;
				reach += store_bool(devices, k, SV_DEV_REACHABLE);
			}
		json_t *roles = json_loads(PQgetvalue(users, r, SV_USER_ROLES), 0, NULL);
		size_t i, at = 0;
		json_t *v;
		t[0] = '\0';
		json_array_foreach(roles, i, v) {
			/* at stays inside the 100 bytes of the roles text: a longer list is cut */
			int w = snprintf(t + at, 100 - at, "%s%s", i ? " " : "",
					 json_string_value(v) ? json_string_value(v) : "");
			if (w < 0 || (size_t)w >= 100 - at)
				break;
			at += (size_t)w;
		}
		json_decref(roles);
		snprintf(t + 100, 30, "%lld", ndev);
		snprintf(t + 130, 30, "%lld", reach);
		const char **row = cells + (size_t)r * USER_EXPORT_COLS;
		row[0] = PQgetvalue(users, r, SV_USER_LOGIN);
		row[1] = PQgetvalue(users, r, SV_USER_NAME);
		row[2] = t;
		row[3] = store_opt(users, r, SV_USER_EMAIL);
		row[4] = store_opt(users, r, SV_USER_PHONE);
		row[5] = store_bool(users, r, SV_USER_ACTIVE) ? "yes" : "no";
		row[6] = reach > 0 ? "yes" : "no";
		row[7] = PQgetvalue(users, r, SV_USER_ACTIVATION);
		row[8] = t + 100;
		row[9] = t + 130;
	}
	struct staff_lookup l = {
		.what = "unit_users_export", .target = code, .people = n, .user_ids = ids, .nuser_ids = (size_t)n
	};
	if (!staff_lookups_take_or_reply(app, req, resp, &l, &result))
		goto out;
	struct staff_export t = {
		.sheet = code, .ncols = USER_EXPORT_COLS, .headers = user_export_headers, .nrows = (size_t)n, .cells = cells
	};
	char filename[32];
	snprintf(filename, sizeof(filename), "unit-%s-users", code);
	result = api_staff_export_send(req, resp, xlsx, &t, filename);
out:
	PQclear(unit);
	PQclear(users);
	PQclear(devices);
	free(ids);
	free(cells);
	free(texts);
	return result;
}

enum http_outcome api_staff_unit_users_csv(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	return unit_users_export(app, req, resp, false);
}

enum http_outcome api_staff_unit_users_xlsx(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	return unit_users_export(app, req, resp, true);
}

/* ---- GET /v1/staff/risk-alerts ---- */

/* An office filter: in the caller's subtree, else 404 (unknown or outside: the same answer). */
static bool office_or_reply(PGconn *conn, struct http_req *req, struct http_resp *resp, const char *office, bool *db_ok)
{
	bool in = false;
	size_t n = strlen(office);

	*db_ok = true;
	if (n >= 1 && n <= 15 && !staffview_office_in_scope(conn, req->scope_office, office, &in)) {
		*db_ok = false;
		return false;
	}
	if (!in)
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, "no such office among yours", NULL);
	return in;
}

enum http_outcome api_staff_risk_alerts(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	struct staffview_risk_filter f = { .rule = http_query(req, "rule"), .office = http_query(req, "office") };
	const char *cursor = http_query(req, "cursor");
	char event[STORE_ID_TEXT] = "", rule[65] = "", next[STORE_ID_TEXT + 66];
	bool db_ok;
	enum http_outcome outcome;
	PGresult *res = NULL;

	(void)app;
	if (!list_params_or_reply(req, resp, &f.limit, &f.from, &f.to, &outcome))
		return outcome;
	if (f.rule && !dotted_name_ok(f.rule, 64)) {
		validate_reply_one(resp, req, "rule", "must be a risk rule name, e.g. large_amount");
		return HTTP_DONE;
	}
	if (cursor) {
		/* "<event id>:<rule>", as next_cursor gave it */
		const char *colon = strchr(cursor, ':');
		long long id;
		size_t idlen = colon ? (size_t)(colon - cursor) : 0;
		if (!colon || idlen == 0 || idlen >= sizeof(event) || !dotted_name_ok(colon + 1, 64)) {
			validate_reply_one(resp, req, "cursor", "must be a next_cursor of an earlier page");
			return HTTP_DONE;
		}
		memcpy(event, cursor, idlen);
		event[idlen] = '\0';
		if (!parse_id(event, &id)) {
			validate_reply_one(resp, req, "cursor", "must be a next_cursor of an earlier page");
			return HTTP_DONE;
		}
		snprintf(rule, sizeof(rule), "%s", colon + 1);
		f.after_event = event;
		f.after_rule = rule;
	}
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	if (f.office && !office_or_reply(conn, req, resp, f.office, &db_ok))
		return db_ok ? HTTP_DONE : HTTP_FAILED;
	long long want = f.limit;
	f.limit = want + 1; /* one more tells whether a next page exists */
	if (!staffview_risk_alerts(conn, req->scope_office, &f, &res))
		return HTTP_FAILED;
	int n = PQntuples(res), shown = n > want ? (int)want : n;
	json_t *list = json_array();
	for (int r = 0; list && r < shown; r++) {
		json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "event_id",
				      (json_int_t)store_int(res, r, SV_RISK_EVENT_ID), "rule",
				      PQgetvalue(res, r, SV_RISK_RULE), "unit_code", PQgetvalue(res, r, SV_RISK_UNIT),
				      "unit_name", PQgetvalue(res, r, SV_RISK_UNIT_NAME), "office_code",
				      PQgetvalue(res, r, SV_RISK_OFFICE), "occurred_at", PQgetvalue(res, r, SV_RISK_OCCURRED),
				      "created_at", PQgetvalue(res, r, SV_RISK_CREATED), "users_alerted",
				      (json_int_t)store_int(res, r, SV_RISK_USERS), "delivered_users",
				      (json_int_t)store_int(res, r, SV_RISK_DELIVERED));
		if (!o || json_array_append_new(list, o) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	if (n > want)
		snprintf(next, sizeof(next), "%s:%s", PQgetvalue(res, shown - 1, SV_RISK_EVENT_ID),
			 PQgetvalue(res, shown - 1, SV_RISK_RULE));
	PQclear(res);
	return page_reply(resp, "alerts", list, n > want ? next : NULL);
}

/* ---- GET /v1/staff/audit ---- */

enum http_outcome api_staff_audit(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	struct staffview_audit_filter f = { .actor = http_query(req, "actor"),
					    .action = http_query(req, "action"),
					    .before_id = http_query(req, "cursor") };
	char next[STORE_ID_TEXT];
	long long id;
	enum http_outcome outcome;
	PGresult *res = NULL;

	(void)app;
	if (strcmp(req->staff.role, "admin") != 0) {
		http_resp_problem(resp, req, PROBLEM_FORBIDDEN, "the audit log is for admins", NULL);
		return HTTP_DONE;
	}
	if (!list_params_or_reply(req, resp, &f.limit, &f.from, &f.to, &outcome))
		return outcome;
	if (f.actor && (strlen(f.actor) == 0 || strlen(f.actor) > 128 || !parse_utf8_valid(f.actor, strlen(f.actor)))) {
		validate_reply_one(resp, req, "actor", "must be 1 to 128 bytes of UTF-8");
		return HTTP_DONE;
	}
	if (f.action && !dotted_name_ok(f.action, 64)) {
		validate_reply_one(resp, req, "action", "must be an action such as staff.signin, or a prefix such as staff.");
		return HTTP_DONE;
	}
	if (f.before_id && !parse_id(f.before_id, &id)) {
		validate_reply_one(resp, req, "cursor", "must be a next_cursor of an earlier page");
		return HTTP_DONE;
	}
	PGconn *conn = http_db(req);
	long long want = f.limit;
	f.limit = want + 1;
	if (!conn || !staffview_audit(conn, req->scope_office, &f, &res))
		return HTTP_FAILED;
	int n = PQntuples(res), shown = n > want ? (int)want : n;
	json_t *list = json_array();
	for (int r = 0; list && r < shown; r++) {
		json_t *details = json_loads(PQgetvalue(res, r, SV_AUDIT_DETAILS), 0, NULL);
		json_t *o = json_pack(
			"{s:I,s:s,s:s,s:s?,s:s,s:s?,s:s,s:s?,s:o}", "id", (json_int_t)store_int(res, r, SV_AUDIT_ID),
			"at", PQgetvalue(res, r, SV_AUDIT_AT), "actor_kind", PQgetvalue(res, r, SV_AUDIT_ACTOR_KIND),
			"actor_id", store_opt(res, r, SV_AUDIT_ACTOR_ID), "action", PQgetvalue(res, r, SV_AUDIT_ACTION),
			"target", store_opt(res, r, SV_AUDIT_TARGET), "outcome", PQgetvalue(res, r, SV_AUDIT_OUTCOME),
			"ip", store_opt(res, r, SV_AUDIT_IP), "details", details ? details : json_object());
		if (!o || json_array_append_new(list, o) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	if (n > want)
		snprintf(next, sizeof(next), "%s", PQgetvalue(res, shown - 1, SV_AUDIT_ID));
	PQclear(res);
	return page_reply(resp, "entries", list, n > want ? next : NULL);
}
