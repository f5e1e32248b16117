/*
 * api_app.c - app activation and device endpoints.
 *
 * Handler shape (http.h): the route gives the parsed body and the request's
 * connection; a handler checks its input, calls the store and renders, and
 * returns HTTP_FAILED when that fails. The device and user always come from
 * the access token (req->principal_id / principal_user_id), never from the
 * request.
 */
#include "api/api_app.h"
#include "people/activation.h"
#include "core/app.h"
#include "core/config.h"
#include "http/http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/ratelimit.h"
#include "http/validate.h"
#include "store/devices.h"
#include "store/users.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/*
 * Input checks of one request: the errors found so far, the path prefix of
 * the object being checked ("device." or ""), and whether every error could
 * be recorded (false: the request fails rather than pass as valid).
 */
struct check {
	json_t *errors;
	const char *prefix;
	bool ok;
};

static void bad(struct check *c, const char *key, const char *message)
{
	c->ok &= validate_member_error(c->errors, c->prefix, key, message);
}

/* Optional string member of at most max bytes made of printable characters; NULL when absent. */
static const char *opt_text(struct check *c, json_t *obj, const char *key, size_t max)
{
	json_t *v = json_object_get(obj, key);
	char message[64];

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		bad(c, key, "must be a string");
		return NULL;
	}
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len == 0 || len > max || strlen(s) != len) {
		snprintf(message, sizeof(message), "must be 1 to %zu bytes of UTF-8", max);
		bad(c, key, message);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			bad(c, key, "must not contain control characters");
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

/* The device fields shared by activation and the heartbeat, checked with c's prefix. */
static void device_fields(struct check *c, json_t *dev, bool require_platform, struct activation_device *out)
{
	static const char *const known[] = { "platform", "push_token", "app_version", "os_version",
					     "model",	 "locale",     NULL };

	memset(out, 0, sizeof(*out));
	if (require_platform) {
		const char *p = json_string_value(json_object_get(dev, "platform"));
		if (!p || (strcmp(p, "android") != 0 && strcmp(p, "ios") != 0))
			bad(c, "platform", "must be android or ios");
		else
			out->platform = p;
	}
	out->push_token = opt_text(c, dev, "push_token", 4096);
	if (out->push_token && !push_token_ok(out->push_token)) {
		bad(c, "push_token", "must be printable ASCII without spaces");
		out->push_token = NULL;
	}
	out->app_version = opt_text(c, dev, "app_version", 32);
	out->os_version = opt_text(c, dev, "os_version", 64);
	out->model = opt_text(c, dev, "model", 128);
	out->locale = opt_text(c, dev, "locale", 35);
	if (out->locale && !locale_ok(out->locale)) {
		bad(c, "locale", "must be a locale such as vi-VN or en");
		out->locale = NULL;
	}
	c->ok &= validate_unknown_members(c->errors, dev, c->prefix, known);
}

/*
 * Per-IP, per-login and global throttles, before any database work. The
 * global ceiling holds however many addresses a client rotates through
 * (an IPv6 prefix has billions); it is taken last, so one noisy address
 * spends only its own budget.
 */
static bool activation_rate_ok(const struct app *app, const struct http_req *req, const char *login, struct http_resp *resp)
{
	int64_t ip_key = ratelimit_address_key(req->remote), login_key = ratelimit_text_key(login ? login : "");
	int retry = 60;
	char value[16];
	bool global = false;

	if (ratelimit_take(app->activation_by_ip, ip_key, 1, &retry) &&
	    ratelimit_take(app->activation_by_login, login_key, 1, &retry)) {
		if (ratelimit_take(app->activation_global, 0, 1, &retry))
			return true;
		global = true;
		metrics_count(app->metrics, METRIC_ACTIVATION_GLOBAL_LIMITED, 1);
	}
	snprintf(value, sizeof(value), "%d", retry);
	http_resp_problem(resp, req, PROBLEM_RATE_LIMITED,
			  global ? "too many activation attempts on this service right now; wait and try again"
				 : "too many activation attempts; wait and try again",
			  NULL);
	http_resp_header(resp, "Retry-After", value);
	return false;
}

/* The user and unit as the app shows them. NULL on database error or when there is no such user. */
static json_t *user_and_unit(PGconn *conn, long long user_id)
{
	PGresult *res = NULL;
	json_t *out = NULL;

	if (!users_profile(conn, user_id, &res))
		return NULL;
	if (PQntuples(res) == 1) {
		json_error_t e;
		json_t *roles = json_loads(PQgetvalue(res, 0, USERS_COL_ROLES), 0, &e);
		out = json_pack("{s:{s:s,s:s,s:s?,s:s?,s:o},s:{s:s,s:s,s:s,s:s}}", "user", "login",
				PQgetvalue(res, 0, USERS_COL_LOGIN), "full_name", PQgetvalue(res, 0, USERS_COL_FULL_NAME),
				"email", store_opt(res, 0, USERS_COL_EMAIL), "phone", store_opt(res, 0, USERS_COL_PHONE),
				"roles", roles ? roles : json_array(), "unit", "code",
				PQgetvalue(res, 0, USERS_COL_UNIT_CODE), "name", PQgetvalue(res, 0, USERS_COL_UNIT_NAME),
				"office_code", PQgetvalue(res, 0, USERS_COL_OFFICE_CODE), "office_name",
				PQgetvalue(res, 0, USERS_COL_OFFICE_NAME));
	}
	PQclear(res);
	return out;
}

/*
 * The whole activation body's checks, all before the code is looked at: the
 * errors found are added to errors. False when one could not be recorded.
 */
static bool check_activation(json_t *body, const char *login, struct activation_device *dev, json_t *errors)
{
	static const char *const known[] = { "login", "activation_code", "device", NULL };
	struct check top = { errors, "", true }, device = { errors, "device.", true };

	if (!json_is_object(body)) {
		bad(&top, "", "must be an object");
		return top.ok;
	}
	if (!login || json_string_length(json_object_get(body, "login")) > 128 || !*login)
		bad(&top, "login", "is required (1 to 128 characters)");
	const char *code = json_string_value(json_object_get(body, "activation_code"));
	if (!code || strlen(code) > 32)
		bad(&top, "activation_code", "is required");
	top.ok &= validate_unknown_members(errors, body, "", known);
	json_t *d = json_object_get(body, "device");
	if (!json_is_object(d)) {
		bad(&top, "device", "is required and must be an object");
		return top.ok;
	}
	device_fields(&device, d, true, dev);
	/* a device without a push token could never be alerted: refuse it (null included) */
	json_t *pt = json_object_get(d, "push_token");
	if (!pt || json_is_null(pt))
		bad(&device, "push_token", "is required");
	return top.ok && device.ok;
}

enum http_outcome api_app_activate(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	json_t *body = req->json, *errors = NULL, *who = NULL;
	PGconn *conn;
	struct activation_device dev;
	struct activation_outcome outcome;
	enum http_outcome result = HTTP_FAILED;

	memset(&outcome, 0, sizeof(outcome));
	memset(&dev, 0, sizeof(dev));
	const char *login = json_string_value(json_object_get(body, "login"));
	if (!activation_rate_ok(app, req, login, resp))
		return HTTP_DONE;
	errors = json_array();
	if (!errors || !check_activation(body, login, &dev, errors))
		goto out;
	result = HTTP_DONE;
	if (json_array_size(errors) > 0) {
		validate_reply(resp, req, NULL, errors);
		goto out;
	}
	if (!app->code_key_set) {
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, "activation is not configured (secrets.key_file)", NULL);
		goto out;
	}
	result = HTTP_FAILED;
	conn = http_db(req);
	if (!conn)
		goto out;
	struct activation_actor actor = { .kind = "app", .id = login, .ip = req->remote, .request_id = req->request_id };
	enum activation_result r =
		activation_redeem(conn, app->code_key, login, json_string_value(json_object_get(body, "activation_code")),
				  &dev, app->cfg->app_token_ttl_days, app->cfg->app_token_max_lifetime_days,
				  app->cfg->alerts_privacy_mode, &actor, &outcome);
	if (r == ACTIVATION_DB_ERROR)
		goto out;
	result = HTTP_DONE;
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
	if (!who) {
		result = HTTP_FAILED;
		goto out;
	}
	json_object_set_new(who, "device_id", json_integer(outcome.device_id));
	json_object_set_new(who, "access_token", json_string(outcome.access_token));
	json_object_set_new(who, "expires_at", json_string(outcome.expires_at));
	http_resp_json(resp, 201, who);
	who = NULL;
	LOG_FIELDS(LOG_INFO, "device activated", LOG_I("device_id", outcome.device_id), LOG_I("user_id", outcome.user_id),
		   LOG_I("other_devices_alerted", outcome.other_devices_alerted));
out:
	sodium_memzero(outcome.access_token, sizeof(outcome.access_token));
	json_decref(who);
	json_decref(errors);
	return result;
}

/* Device JSON for row r (devices_col); current is the caller's device. */
static json_t *device_json(PGresult *res, int r, long long current)
{
	long long id = store_int(res, r, DEVICES_COL_ID);

	return json_pack("{s:I,s:s,s:s?,s:s?,s:s?,s:s?,s:s,s:s?,s:s,s:s,s:s?,s:b,s:b}", "id", (json_int_t)id, "platform",
			 PQgetvalue(res, r, DEVICES_COL_PLATFORM), "app_version", store_opt(res, r, DEVICES_COL_APP_VERSION),
			 "os_version", store_opt(res, r, DEVICES_COL_OS_VERSION), "model",
			 store_opt(res, r, DEVICES_COL_MODEL), "locale", store_opt(res, r, DEVICES_COL_LOCALE), "state",
			 PQgetvalue(res, r, DEVICES_COL_STATE), "state_reason", store_opt(res, r, DEVICES_COL_STATE_REASON),
			 "first_seen_at", PQgetvalue(res, r, DEVICES_COL_FIRST_SEEN), "last_seen_at",
			 PQgetvalue(res, r, DEVICES_COL_LAST_SEEN), "token_expires_at",
			 store_opt(res, r, DEVICES_COL_TOKEN_EXPIRES), "has_push_token",
			 store_bool(res, r, DEVICES_COL_HAS_PUSH_TOKEN), "current", id == current);
}

enum http_outcome api_app_me(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = http_db(req);
	json_t *who;

	(void)app;
	if (!conn || !(who = user_and_unit(conn, req->principal_user_id)))
		return HTTP_FAILED;
	json_object_set_new(who, "device_id", json_integer(req->principal_id));
	http_resp_json(resp, 200, who);
	return HTTP_DONE;
}

/* The caller as an audit actor: the app, named by its device id (text in id). */
static struct store_actor app_actor(const struct http_req *req, char id[STORE_ID_TEXT])
{
	snprintf(id, STORE_ID_TEXT, "%lld", req->principal_id);
	return (struct store_actor){ .kind = "app", .id = id, .ip = req->remote, .request_id = req->request_id };
}

enum http_outcome api_app_device_put(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	json_t *body = req->json, *errors = json_array();
	PGconn *conn;
	PGresult *res = NULL;
	struct activation_device dev;
	char actor_id[STORE_ID_TEXT];
	bool conflict = false;
	enum http_outcome result = HTTP_FAILED;

	memset(&dev, 0, sizeof(dev));
	if (!errors)
		goto out;
	struct check c = { errors, "", true };
	if (!json_is_object(body))
		bad(&c, "", "must be an object");
	else
		device_fields(&c, body, false, &dev);
	if (json_object_get(body, "platform"))
		bad(&c, "platform", "cannot change; activate the other device instead");
	if (!c.ok)
		goto out; /* an error could not be recorded: 500, never a pass */
	if (json_array_size(errors) > 0) {
		validate_reply(resp, req, NULL, errors);
		result = HTTP_DONE;
		goto out;
	}
	conn = http_db(req);
	struct store_actor actor = app_actor(req, actor_id);
	struct devices_heartbeat hb = { .device_id = req->principal_id,
					.user_id = req->principal_user_id,
					.push_token = dev.push_token,
					.app_version = dev.app_version,
					.os_version = dev.os_version,
					.model = dev.model,
					.locale = dev.locale,
					.token_ttl_days = app->cfg->app_token_ttl_days,
					.token_max_lifetime_days = app->cfg->app_token_max_lifetime_days,
					.actor = &actor };
	if (!conn || !devices_heartbeat(conn, &hb, &conflict, &res))
		goto out;
	result = HTTP_DONE;
	if (conflict)
		http_resp_problem(resp, req, PROBLEM_CONFLICT,
				  "this push token is registered to another account; activate this phone with a code instead",
				  NULL);
	else
		http_resp_json(resp, 200, device_json(res, 0, req->principal_id));
out:
	PQclear(res);
	json_decref(errors);
	return result;
}

/*
 * Revoke the caller's device id (logout, or one of their other devices),
 * audited. *found false means 404 (not the user's device).
 */
static bool revoke(PGconn *conn, const struct http_req *req, long long device_id, const char *reason, bool *found)
{
	char actor_id[STORE_ID_TEXT];
	struct store_actor actor = app_actor(req, actor_id);
	struct devices_revoke what = {
		.device_id = device_id, .user_id = req->principal_user_id, .reason = reason, .audit = &actor
	};
	struct devices_revoked done;

	if (!devices_revoke(conn, &what, &done))
		return false;
	*found = done.matched == 1;
	return true;
}

enum http_outcome api_app_device_delete(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = http_db(req);
	bool found = false;

	(void)app;
	if (!conn || !revoke(conn, req, req->principal_id, "logout", &found))
		return HTTP_FAILED;
	http_resp_body(resp, 204, NULL, NULL, 0);
	return HTTP_DONE;
}

enum http_outcome api_app_devices(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = http_db(req);
	PGresult *res = NULL;
	json_t *items;

	(void)app;
	if (!conn || !devices_list(conn, req->principal_user_id, &res))
		return HTTP_FAILED;
	items = json_array();
	for (int r = 0; r < PQntuples(res); r++)
		json_array_append_new(items, device_json(res, r, req->principal_id));
	PQclear(res);
	http_resp_json(resp, 200, json_pack("{s:o}", "items", items));
	return HTTP_DONE;
}

enum http_outcome api_app_devices_delete(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn;
	long long id;
	bool found = false;

	(void)app;
	if (!validate_path_id_or_reply(req, resp, "id", &id))
		return HTTP_DONE;
	conn = http_db(req);
	if (!conn || !revoke(conn, req, id, "revoked_by_user", &found))
		return HTTP_FAILED;
	if (!found) /* another user's device, or none: indistinguishable */
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
	else
		http_resp_body(resp, 204, NULL, NULL, 0);
	return HTTP_DONE;
}
