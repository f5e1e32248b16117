/*
 * api_app.c - app activation and device endpoints.
 *
 * Handler shape: the response starts as a 500, one out: label releases the
 * connection and JSON. The device and user always come from the access
 * token (req->principal_id / principal_user_id), never from the request.
 */
#include "api/api_app.h"
#include "core/parse.h"
#include "core/clock.h"
#include "people/activation.h"
#include "db/audit.h"
#include "core/app.h"
#include "core/config.h"
#include "db/db.h"
#include "http/http.h"
#include "core/log.h"
#include "http/ratelimit.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>




static void add_error(json_t *errors, const char *field, const char *message)
{
	json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message", message));
}

/* Optional string member of at most max bytes made of printable characters; NULL when absent. */
static const char *opt_text(json_t *obj, const char *key, const char *field, size_t max, json_t *errors)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		add_error(errors, field, "must be a string");
		return NULL;
	}
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len == 0 || len > max || strlen(s) != len) {
		char msg[64];
		snprintf(msg, sizeof(msg), "must be 1 to %zu bytes of UTF-8", max);
		add_error(errors, field, msg);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			add_error(errors, field, "must not contain control characters");
			return NULL;
		}
	return s;
}

static bool locale_ok(const char *s)
{
	/* ll, lll, ll-CC, ll_CC, ll-Hant-TW ... (as the devices_locale_format constraint) */
	size_t i = 0, n = 0;
	while (s[i] && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
		i++, n++;
	if (n < 2 || n > 3)
		return false;
	while (s[i]) {
		if (s[i] != '-' && s[i] != '_')
			return false;
		i++;
		n = 0;
		while (s[i] && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			i++, n++;
		if (n < 2 || n > 8)
			return false;
	}
	return true;
}

static bool push_token_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* The device fields shared by activation and the heartbeat. */
static void device_fields(json_t *dev, const char *prefix, bool require_platform, struct activation_device *out,
			  json_t *errors)
{
	char f[64];

	memset(out, 0, sizeof(*out));
#define FIELD(name) (snprintf(f, sizeof(f), "%s%s", prefix, name), f)
	if (require_platform) {
		const char *p = json_string_value(json_object_get(dev, "platform"));
		if (!p || (strcmp(p, "android") != 0 && strcmp(p, "ios") != 0))
			add_error(errors, FIELD("platform"), "must be android or ios");
		else
			out->platform = p;
	}
	out->push_token = opt_text(dev, "push_token", FIELD("push_token"), 4096, errors);
	if (out->push_token && !push_token_ok(out->push_token)) {
		add_error(errors, FIELD("push_token"), "must be printable ASCII without spaces");
		out->push_token = NULL;
	}
	out->app_version = opt_text(dev, "app_version", FIELD("app_version"), 32, errors);
	out->os_version = opt_text(dev, "os_version", FIELD("os_version"), 64, errors);
	out->model = opt_text(dev, "model", FIELD("model"), 128, errors);
	out->locale = opt_text(dev, "locale", FIELD("locale"), 35, errors);
	if (out->locale && !locale_ok(out->locale)) {
		add_error(errors, FIELD("locale"), "must be a locale such as vi-VN or en");
		out->locale = NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(dev, key, v) {
		static const char *known[] = { "platform", "push_token", "app_version", "os_version", "model", "locale" };
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= strcmp(key, known[i]) == 0;
		if (!ok)
			add_error(errors, FIELD(key), "unknown field");
	}
#undef FIELD
}

static bool hash_key(const char *s, int64_t *key)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	memcpy(key, h, sizeof(*key));
	return true;
}

/* Per-IP and per-login throttles, before any database work. */
static bool activation_rate_ok(const struct app *app, const struct http_req *req, const char *login,
			       struct http_resp *resp)
{
	int64_t ip_key, login_key;
	int retry = 60;
	char value[16];

	hash_key(req->remote, &ip_key);
	hash_key(login ? login : "", &login_key);
	if (ratelimit_take(app->activation_by_ip, ip_key, 1, &retry) &&
	    ratelimit_take(app->activation_by_login, login_key, 1, &retry))
		return true;
	snprintf(value, sizeof(value), "%d", retry);
	http_resp_problem(resp, req, PROBLEM_RATE_LIMITED, "too many activation attempts; wait and try again", NULL);
	http_resp_header(resp, "Retry-After", value);
	return false;
}

/* The user and unit as the app shows them. NULL on database error. */
static json_t *user_and_unit(PGconn *conn, long long user_id)
{
	char id[24];
	json_t *out = NULL;

	snprintf(id, sizeof(id), "%lld", user_id);
	const char *params[1] = { id };
	PGresult *res = db_exec(
		conn,
		"SELECT u.dvctt_login, u.full_name, u.email, u.phone,"
		" COALESCE((SELECT json_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '[]'),"
		" b.code, b.name, b.office_code, o.name"
		" FROM users u JOIN budget_units b ON b.code = u.unit_code JOIN offices o ON o.code = b.office_code"
		" WHERE u.id = $1",
		1, params);
	if (res && PQntuples(res) == 1) {
		json_error_t e;
		json_t *roles = json_loads(PQgetvalue(res, 0, 4), 0, &e);
		out = json_pack("{s:{s:s,s:s,s:s?,s:s?,s:o},s:{s:s,s:s,s:s,s:s}}", "user", "login", PQgetvalue(res, 0, 0),
				"full_name", PQgetvalue(res, 0, 1), "email", PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2),
				"phone", PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3), "roles", roles ? roles : json_array(),
				"unit", "code", PQgetvalue(res, 0, 5), "name", PQgetvalue(res, 0, 6), "office_code",
				PQgetvalue(res, 0, 7), "office_name", PQgetvalue(res, 0, 8));
	}
	PQclear(res);
	return out;
}

void api_app_activate(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	json_t *body = NULL, *errors = NULL, *who = NULL;
	PGconn *conn = NULL;
	struct activation_device dev;
	struct activation_outcome outcome;

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	body = http_req_json(app, req, resp);
	if (!body)
		goto out;
	const char *login = json_string_value(json_object_get(body, "login"));
	if (!activation_rate_ok(app, req, login, resp))
		goto out;
	errors = json_array();
	if (!json_is_object(body)) {
		add_error(errors, "", "must be an object");
	} else {
		if (!login || json_string_length(json_object_get(body, "login")) > 128 || !*login)
			add_error(errors, "login", "is required (1 to 128 characters)");
		const char *code = json_string_value(json_object_get(body, "activation_code"));
		if (!code || strlen(code) > 32)
			add_error(errors, "activation_code", "is required");
		json_t *d = json_object_get(body, "device");
		if (!json_is_object(d))
			add_error(errors, "device", "is required and must be an object");
		else
			device_fields(d, "device.", true, &dev, errors);
		/* a device without a push token could never be alerted: refuse it (null included) */
		json_t *pt = json_object_get(d, "push_token");
		if (json_is_object(d) && (!pt || json_is_null(pt)))
			add_error(errors, "device.push_token", "is required");
	}
	if (json_array_size(errors) > 0) {
		http_resp_invalid(resp, req, NULL, errors);
		goto out;
	}
	if (!app->code_key_set) {
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, "activation is not configured (secrets.key_file)", NULL);
		goto out;
	}
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	struct activation_actor actor = { .kind = "app", .id = login, .ip = req->remote, .request_id = req->request_id };
	enum activation_result r = activation_redeem(conn, app->code_key, login,
						     json_string_value(json_object_get(body, "activation_code")), &dev,
						     app->cfg->app_token_ttl_days, &actor, &outcome);
	if (r == ACTIVATION_DB_ERROR) {
		if (db_broken(conn))
			http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	if (r == ACTIVATION_DENIED) {
		/* one answer for every reason: the audit log has the real one */
		http_resp_problem(resp, req, PROBLEM_UNAUTHORIZED,
				  "the login or activation code is wrong, expired or locked; ask your treasury office for a new code",
				  NULL);
		goto out;
	}
	/*
	 * The activation is committed: the token must reach the phone even if
	 * this read fails (the app can ask /v1/app/me later), or the code would
	 * be spent for nothing.
	 */
	who = user_and_unit(conn, outcome.user_id);
	if (!who)
		who = json_object();
	if (!who)
		goto out;
	json_object_set_new(who, "device_id", json_integer(outcome.device_id));
	json_object_set_new(who, "access_token", json_string(outcome.access_token));
	json_object_set_new(who, "expires_at", json_string(outcome.expires_at));
	http_resp_json(resp, 201, who);
	who = NULL;
	{
		LOG_FIELDS(LOG_INFO, "device activated", LOG_I("device_id", outcome.device_id), LOG_I("user_id", outcome.user_id),
					 LOG_I("other_devices_alerted", outcome.other_devices_alerted));
	}
out:
	sodium_memzero(outcome.access_token, sizeof(outcome.access_token));
	json_decref(who);
	db_release(app->db, conn);
	json_decref(errors);
	json_decref(body);
}

/* Device JSON for one row of DEVICE_COLUMNS. */
#define DEVICE_COLUMNS                                                                                              \
	"d.id, d.platform, d.app_version, d.os_version, d.model, d.locale, d.state, d.state_reason,"                \
	" to_char(d.first_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                           \
	" to_char(d.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                            \
	" to_char(d.access_token_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), d.push_token IS NOT NULL"

static const char *opt(PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

static json_t *device_json(PGresult *res, int r, long long current)
{
	long long id = strtoll(PQgetvalue(res, r, 0), NULL, 10);

	return json_pack("{s:I,s:s,s:s?,s:s?,s:s?,s:s?,s:s,s:s?,s:s,s:s,s:s?,s:b,s:b}", "id", (json_int_t)id, "platform",
			 PQgetvalue(res, r, 1), "app_version", opt(res, r, 2), "os_version", opt(res, r, 3), "model",
			 opt(res, r, 4), "locale", opt(res, r, 5), "state", PQgetvalue(res, r, 6), "state_reason",
			 opt(res, r, 7), "first_seen_at", PQgetvalue(res, r, 8), "last_seen_at", PQgetvalue(res, r, 9),
			 "token_expires_at", opt(res, r, 10), "has_push_token", strcmp(PQgetvalue(res, r, 11), "t") == 0,
			 "current", id == current);
}

void api_app_me(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = NULL;
	json_t *who = NULL;

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	who = user_and_unit(conn, req->principal_user_id);
	if (!who)
		goto out;
	json_object_set_new(who, "device_id", json_integer(req->principal_id));
	http_resp_json(resp, 200, who);
	who = NULL;
out:
	json_decref(who);
	db_release(app->db, conn);
}

void api_app_device_put(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	json_t *body = NULL, *errors = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	struct activation_device dev;
	char id[24], ttl[24];

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	body = http_req_json(app, req, resp);
	if (!body)
		goto out;
	errors = json_array();
	if (!json_is_object(body))
		add_error(errors, "", "must be an object");
	else
		device_fields(body, "", false, &dev, errors);
	if (json_object_get(body, "platform"))
		add_error(errors, "platform", "cannot change; activate the other device instead");
	if (json_array_size(errors) > 0) {
		http_resp_invalid(resp, req, NULL, errors);
		goto out;
	}
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	snprintf(id, sizeof(id), "%lld", req->principal_id);
	snprintf(ttl, sizeof(ttl), "%lld", app->cfg->app_token_ttl_days);
	const char *params[7] = { id, dev.push_token, dev.app_version, dev.os_version, dev.locale, ttl, dev.model };
	if (!db_begin(conn))
		goto rollback;
	/*
	 * A push token belongs to one device. A heartbeat may move it only
	 * between the caller's own devices: taking it from another user's phone
	 * would silence that person's alerts, so that needs an activation code.
	 */
	res = db_exec(conn,
		      "SELECT count(*) FROM devices o JOIN devices me ON me.id = $1"
		      " WHERE $2::text IS NOT NULL AND o.id <> me.id AND o.platform = me.platform"
		      " AND o.push_token = $2 AND o.state = 'active' AND o.user_id <> me.user_id",
		      2, params);
	if (!res)
		goto rollback;
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
		struct audit_entry e = { .actor_kind = "app", .actor_id = id, .action = "device.push_token_conflict",
					 .outcome = "denied", .ip = req->remote, .request_id = req->request_id };
		PQclear(res);
		res = NULL;
		if (!audit_write(conn, &e) || !db_commit(conn))
			goto rollback;
		http_resp_problem(resp, req, PROBLEM_CONFLICT,
				  "this push token is registered to another account; activate this phone with a code instead",
				  NULL);
		goto out;
	}
	PQclear(res);
	res = db_exec(conn,
		      "UPDATE devices o SET state = 'revoked', state_reason = 'push_token_reused',"
		      " access_token_hash = NULL, access_token_expires_at = NULL"
		      " FROM devices me WHERE me.id = $1 AND $2::text IS NOT NULL AND o.id <> me.id"
		      " AND o.platform = me.platform AND o.push_token = $2 AND o.state = 'active' AND o.user_id = me.user_id",
		      2, params);
	if (!res)
		goto rollback;
	PQclear(res);
	/* the heartbeat: refresh what the phone reports, last_seen and the token's expiry */
	res = db_exec(conn,
		      "UPDATE devices d SET push_token = COALESCE($2, d.push_token), app_version = COALESCE($3, d.app_version),"
		      " os_version = COALESCE($4, d.os_version), locale = COALESCE($5, d.locale),"
		      " model = COALESCE($7, d.model), last_seen_at = now(),"
		      " access_token_expires_at = now() + make_interval(days => $6::int),"
		      /* a phone whose push token the provider rejected is back once it reports a new one */
		      " state = CASE WHEN d.state = 'token_invalid' AND $2::text IS DISTINCT FROM d.push_token AND $2::text IS NOT NULL"
		      "   THEN 'active' ELSE d.state END,"
		      " state_reason = CASE WHEN d.state = 'token_invalid' AND $2::text IS DISTINCT FROM d.push_token AND $2::text IS NOT NULL"
		      "   THEN 'new_push_token' ELSE d.state_reason END,"
		      " state_changed_at = CASE WHEN d.state = 'token_invalid' AND $2::text IS DISTINCT FROM d.push_token"
		      "   AND $2::text IS NOT NULL THEN now() ELSE d.state_changed_at END"
		      " WHERE d.id = $1 AND d.state IN ('active', 'token_invalid') RETURNING " DEVICE_COLUMNS,
		      7, params);
	if (!res || PQntuples(res) != 1)
		goto rollback;
	if (!db_commit(conn))
		goto rollback;
	http_resp_json(resp, 200, device_json(res, 0, req->principal_id));
	goto out;
rollback:
	db_rollback(conn);
	if (db_broken(conn))
		http_resp_unavailable(resp, req, NULL);
out:
	PQclear(res);
	db_release(app->db, conn);
	json_decref(errors);
	json_decref(body);
}

/*
 * Revoke device id if it belongs to user, with its audit entry, in one
 * statement. *found false means 404 (not the user's device).
 */
static bool revoke(PGconn *conn, const struct http_req *req, long long device_id, const char *reason, bool *found)
{
	char uid[24], did[24];
	long long user_id = req->principal_user_id;

	snprintf(uid, sizeof(uid), "%lld", user_id);
	snprintf(did, sizeof(did), "%lld", device_id);
	char actor[24];
	snprintf(actor, sizeof(actor), "%lld", req->principal_id);
	const char *params[6] = { did, uid, reason, actor, req->remote, req->request_id };
	PGresult *res = db_exec(conn,
				"WITH d AS (SELECT id, state FROM devices WHERE id = $1 AND user_id = $2 FOR UPDATE)"
				" , u AS (UPDATE devices x SET state = 'revoked', state_reason = $3,"
				"   access_token_hash = NULL, access_token_expires_at = NULL"
				"   FROM d WHERE x.id = d.id AND d.state <> 'revoked' RETURNING x.id)"
				" , a AS (INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id, details)"
				"   SELECT 'app', $4, 'device.revoke', 'device ' || u.id, 'ok', $5, $6,"
				"   jsonb_build_object('reason', $3::text) FROM u RETURNING id)"
				" SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM a)",
				6, params);

	if (!res)
		return false;
	*found = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
	PQclear(res);
	return true;
}

void api_app_device_delete(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = NULL;
	bool found = false;

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	if (!revoke(conn, req, req->principal_id, "logout", &found))
		goto out;
	http_resp_body(resp, 204, NULL, NULL, 0);
out:
	db_release(app->db, conn);
}

void api_app_devices(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char uid[24];
	json_t *items = NULL;

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	snprintf(uid, sizeof(uid), "%lld", req->principal_user_id);
	const char *params[1] = { uid };
	res = db_exec(conn, "SELECT " DEVICE_COLUMNS " FROM devices d WHERE d.user_id = $1 ORDER BY d.id DESC LIMIT 100",
		      1, params);
	if (!res)
		goto out;
	items = json_array();
	for (int r = 0; r < PQntuples(res); r++)
		json_array_append_new(items, device_json(res, r, req->principal_id));
	http_resp_json(resp, 200, json_pack("{s:o}", "items", items));
	items = NULL;
out:
	json_decref(items);
	PQclear(res);
	db_release(app->db, conn);
}

void api_app_devices_delete(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = NULL;
	long long id;
	bool found = false;

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
	if (!revoke(conn, req, id, "revoked_by_user", &found))
		goto out;
	if (!found) /* another user's device, or none: indistinguishable */
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
	else
		http_resp_body(resp, 204, NULL, NULL, 0);
out:
	db_release(app->db, conn);
}
