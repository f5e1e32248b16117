/*
 * auth.c - per-route authentication.
 *
 * Tokens are compared by hash in constant time (sodium_memcmp), so neither
 * the token nor its prefix can be recovered from timing, and alertd never
 * needs to hold a plaintext token.
 */
#include "http/auth.h"
#include "people/admin_keys.h"
#include "core/app.h"
#include "core/config.h"
#include "db/db.h"
#include "http/ratelimit.h"
#include "core/tokens.h"
#include "http/http.h"
#include "core/log.h"
#include "ingest/sources.h"
#include "ingest/webhook.h"
#include "staff/session.h"
#include "store/devices.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <time.h>


bool auth_bearer_token(const char *header, const char **token, size_t *len)
{
	static const char scheme[] = "Bearer ";
	size_t n;

	if (!header || strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
		return false;
	header += sizeof(scheme) - 1;
	while (*header == ' ')
		header++;
	n = strlen(header);
	while (n > 0 && header[n - 1] == ' ')
		n--;
	if (n == 0 || n > AUTH_MAX_TOKEN_LEN)
		return false;
	*token = header;
	*len = n;
	return true;
}

static bool metrics_token_ok(const struct app *app, const struct http_req *req)
{
	const char *token;
	size_t len;
	unsigned char h[crypto_hash_sha256_BYTES];

	if (!app->metrics_token_set)
		return false;
	if (!auth_bearer_token(http_header(req, "Authorization"), &token, &len))
		return false;
	crypto_hash_sha256(h, (const unsigned char *)token, len);
	return sodium_memcmp(h, app->metrics_token_hash, sizeof(h)) == 0;
}

enum ingest_auth { INGEST_AUTH_OK, INGEST_AUTH_DENIED, INGEST_AUTH_UNAVAILABLE };

/*
 * Standard Webhooks signature of the source named in the path. Unknown
 * sources cost the same HMAC work as known ones and get the same answer,
 * so neither the body nor the timing says which sources exist.
 */
static enum ingest_auth ingest_signature(const struct app *app, struct http_req *req)
{
	const char *name = router_param(&req->match, "source");
	struct source_keys keys;
	enum webhook_result wr;
	enum source_lookup lr = source_cache_get(app->sources, app->db, name ? name : "", &keys);

	if (lr == SOURCE_UNAVAILABLE)
		return INGEST_AUTH_UNAVAILABLE;
	if (lr == SOURCE_UNKNOWN) {
		keys.nkeys = 1;
		keys.keys[0].len = 32;
		randombytes_buf(keys.keys[0].bytes, 32);
	}
	wr = webhook_verify(keys.keys, keys.nkeys, http_header(req, "webhook-id"), http_header(req, "webhook-timestamp"),
			    http_header(req, "webhook-signature"), req->body, req->body_len, (int64_t)time(NULL),
			    app->cfg->ingest_timestamp_tolerance_seconds);
	sodium_memzero(&keys.keys, sizeof(keys.keys));
	if (lr == SOURCE_FOUND && wr == WEBHOOK_OK) {
		req->principal_id = keys.source_id;
		return INGEST_AUTH_OK;
	}
	/* the reason goes to the log for the integrator's operator, never to the caller */
	LOG_FIELDS(LOG_WARN, "ingest request refused", LOG_S("source", name),
		   LOG_S("reason", lr == SOURCE_UNKNOWN ? "unknown_source" : webhook_result_name(wr)),
		   LOG_S("request_id", req->request_id), LOG_S("remote", req->remote));
	return INGEST_AUTH_DENIED;
}

enum bearer_auth {
	BEARER_OK,
	BEARER_DENIED,
	BEARER_UNAVAILABLE,
	BEARER_THROTTLED,
	BEARER_LIFETIME_OVER,
	BEARER_NOT_GRANTED, /* a live admin key without the route's action */
};

/*
 * Admin API key granted action; the check itself writes the audit entry for
 * this use (denied when the action is not granted). On BEARER_OK the key's
 * name is req->principal_name and its office req->scope_office.
 */
static enum bearer_auth admin_key(const struct app *app, struct http_req *req, enum admin_action action)
{
	const char *token;
	size_t len;
	char target[300];
	enum admin_auth r;
	struct admin_key_principal who;
	PGconn *conn;

	if (!auth_bearer_token(http_header(req, "Authorization"), &token, &len) || !tokens_has_prefix(token, len, "ak"))
		return BEARER_DENIED;
	int retry;
	if (!ratelimit_take(app->admin_by_ip, ratelimit_address_key(req->remote), 1, &retry))
		return BEARER_THROTTLED;
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn)
		return BEARER_UNAVAILABLE;
	snprintf(target, sizeof(target), "%s %s", req->method, req->match.route->pattern);
	r = admin_keys_authenticate(conn, token, len, action, target, req->remote, req->request_id, &who);
	db_release(app->db, conn);
	switch (r) {
	case ADMIN_AUTH_OK:
		snprintf(req->principal_name, sizeof(req->principal_name), "%s", who.name);
		snprintf(req->scope_office, sizeof(req->scope_office), "%s", who.office);
		return BEARER_OK;
	case ADMIN_AUTH_NOT_GRANTED:
		return BEARER_NOT_GRANTED;
	case ADMIN_AUTH_UNAVAILABLE:
		return BEARER_UNAVAILABLE;
	case ADMIN_AUTH_DENIED:
		break;
	}
	return BEARER_DENIED;
}

/* Device access token: active device, unexpired token within its lifetime, active user. */
static enum bearer_auth app_token(const struct app *app, struct http_req *req)
{
	const char *token;
	size_t len;
	unsigned char h[TOKENS_HASH_BYTES];
	char hex[2 * TOKENS_HASH_BYTES + 1];
	enum bearer_auth result = BEARER_UNAVAILABLE;
	enum devices_auth found;
	PGconn *conn;

	if (!auth_bearer_token(http_header(req, "Authorization"), &token, &len) || !tokens_has_prefix(token, len, "at"))
		return BEARER_DENIED;
	tokens_hash(token, len, h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	/* its own connection: header credentials are checked before the body arrives, long before the handler */
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn)
		return BEARER_UNAVAILABLE;
	if (devices_authenticate(conn, hex, app->cfg->app_token_max_lifetime_days, &found, &req->principal_id,
				 &req->principal_user_id))
		result = found == DEVICES_AUTH_OK	       ? BEARER_OK
			 : found == DEVICES_AUTH_LIFETIME_OVER ? BEARER_LIFETIME_OVER
							       : BEARER_DENIED;
	db_release(app->db, conn);
	return result;
}

/* The value of the session cookie in a Cookie header, or false. */
static bool session_cookie(const char *header, const char **value, size_t *len)
{
	static const char name[] = STAFF_COOKIE_NAME "=";

	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		size_t n = strcspn(p, ";");
		if (n > sizeof(name) - 1 && strncmp(p, name, sizeof(name) - 1) == 0) {
			*value = p + sizeof(name) - 1;
			*len = n - (sizeof(name) - 1);
			while (*len > 0 && (*value)[*len - 1] == ' ')
				(*len)--;
			return *len > 0 && *len <= AUTH_MAX_TOKEN_LEN;
		}
		p += n;
	}
	return false;
}

/* Routes a session may use whatever it must do next. */
static bool route_is(const struct http_req *req, const char *method, const char *pattern)
{
	return strcmp(req->method, method) == 0 && strcmp(req->match.route->pattern, pattern) == 0;
}

enum staff_auth { STAFF_AUTH_OK, STAFF_AUTH_DENIED, STAFF_AUTH_UNAVAILABLE, STAFF_AUTH_ANSWERED };

/*
 * Staff session cookie; then, on a state-changing method, the CSRF token
 * in X-CSRF-Token (compared by hash in constant time); then what the
 * account must do first (change its password, enrol TOTP).
 */
static enum staff_auth staff_session(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *token, *csrf;
	size_t len;
	enum staff_result r;
	PGconn *conn;

	if (!session_cookie(http_header(req, "Cookie"), &token, &len))
		return STAFF_AUTH_DENIED;
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn)
		return STAFF_AUTH_UNAVAILABLE;
	r = staff_session_authenticate(conn, app->cfg, token, len, &req->staff);
	db_release(app->db, conn);
	if (r != STAFF_OK)
		return r == STAFF_ERROR ? STAFF_AUTH_UNAVAILABLE : STAFF_AUTH_DENIED;
	req->principal_id = req->staff.staff_id;
	snprintf(req->scope_office, sizeof(req->scope_office), "%s", req->staff.office);
	bool safe = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	if (!safe) {
		unsigned char h[crypto_hash_sha256_BYTES];
		csrf = http_header(req, "X-CSRF-Token");
		size_t clen = csrf ? strlen(csrf) : 0;
		bool ok = clen > 0 && clen <= AUTH_MAX_TOKEN_LEN;
		crypto_hash_sha256(h, (const unsigned char *)(ok ? csrf : ""), ok ? clen : 0);
		if (!ok || sodium_memcmp(h, req->staff.csrf_hash, sizeof(h)) != 0) {
			http_resp_problem(resp, req, PROBLEM_CSRF_FAILED,
					  "send the csrf_token given at sign-in in the X-CSRF-Token header", NULL);
			return STAFF_AUTH_ANSWERED;
		}
	}
	bool signout = route_is(req, "DELETE", "/v1/staff/session");
	/* the password first, then the second factor: each stage allows only its own route and signing out */
	if (req->staff.password_temporary || req->staff.password_expired) {
		if (signout || route_is(req, "POST", "/v1/staff/password"))
			return STAFF_AUTH_OK;
		http_resp_problem(resp, req, PROBLEM_PASSWORD_CHANGE_REQUIRED,
				  req->staff.password_temporary
					  ? "your password is temporary: change it (POST /v1/staff/password)"
					  : "your password has expired: change it (POST /v1/staff/password)",
				  NULL);
		return STAFF_AUTH_ANSWERED;
	}
	if (app->cfg->auth_require_totp && !req->staff.totp_enrolled && !signout &&
	    !route_is(req, "POST", "/v1/staff/totp/enrol") && !route_is(req, "POST", "/v1/staff/totp/confirm")) {
		http_resp_problem(resp, req, PROBLEM_TOTP_ENROLMENT_REQUIRED,
				  "enrol a TOTP second factor (POST /v1/staff/totp/enrol, then /v1/staff/totp/confirm)",
				  NULL);
		return STAFF_AUTH_ANSWERED;
	}
	return STAFF_AUTH_OK;
}

#define STAFF_CHALLENGE "Cookie realm=\"alertd-staff\", cookie-name=\"" STAFF_COOKIE_NAME "\""

/* The action an admin route kind needs; 0 (granted to no key) for any other kind, so a forgotten one is refused. */
static enum admin_action admin_action_of(enum auth_kind kind)
{
	switch (kind) {
	case AUTH_ADMIN_ROSTER:
		return ADMIN_ACTION_ROSTER;
	case AUTH_ADMIN_ACTIVATION:
		return ADMIN_ACTION_ACTIVATION;
	case AUTH_ADMIN_UNROUTED:
		return ADMIN_ACTION_UNROUTED;
	default:
		return (enum admin_action)0;
	}
}

/*
 * The answers a bearer check gives itself: false when resp now holds one
 * (503, 429, or 403 action_not_granted); otherwise true, with *ok telling
 * whether the credential was accepted (a refusal is the caller's 401).
 */
static bool bearer_answered(enum bearer_auth b, const struct http_req *req, struct http_resp *resp, bool *ok)
{
	switch (b) {
	case BEARER_UNAVAILABLE:
		http_resp_unavailable(resp, req, NULL);
		return false;
	case BEARER_THROTTLED:
		http_resp_problem(resp, req, PROBLEM_RATE_LIMITED, "too many admin requests from this address", NULL);
		http_resp_header(resp, "Retry-After", "60");
		return false;
	case BEARER_NOT_GRANTED:
		http_resp_problem(resp, req, PROBLEM_ACTION_NOT_GRANTED,
				  "this admin key is not granted the action this route needs (alertd admin-key list)", NULL);
		return false;
	case BEARER_OK:
		*ok = true;
		return true;
	case BEARER_DENIED:
	case BEARER_LIFETIME_OVER:
		break;
	}
	*ok = false;
	return true;
}

bool auth_check(const struct app *app, struct http_req *req, enum auth_kind kind, struct http_resp *resp)
{
	enum bearer_auth b = BEARER_DENIED;
	bool ok = false;

	switch (kind) {
	case AUTH_NONE:
		/* only the health checks may be open; the route table test enforces it */
		ok = router_auth_exempt(req->match.route->pattern);
		break;
	case AUTH_METRICS:
		ok = metrics_token_ok(app, req);
		break;
	case AUTH_INGEST:
		switch (ingest_signature(app, req)) {
		case INGEST_AUTH_OK:
			ok = true;
			break;
		case INGEST_AUTH_UNAVAILABLE:
			http_resp_unavailable(resp, req, NULL);
			return false;
		case INGEST_AUTH_DENIED:
			break;
		}
		break;
	case AUTH_ADMIN_ROSTER:
	case AUTH_ADMIN_ACTIVATION:
	case AUTH_ADMIN_UNROUTED:
	case AUTH_APP:
		b = kind == AUTH_APP ? app_token(app, req) : admin_key(app, req, admin_action_of(kind));
		if (!bearer_answered(b, req, resp, &ok))
			return false;
		break;
	case AUTH_ACTIVATION_CODE:
		ok = true; /* the handler verifies the code: it is part of the body it validates */
		break;
	case AUTH_STAFF_PASSWORD:
		ok = true; /* the handler verifies the password: it is part of the body it validates */
		break;
	case AUTH_PAGE:
		/* the dashboard's data-free files, only under /staff; the route table test enforces it */
		ok = router_page_pattern(req->match.route->pattern);
		break;
	case AUTH_STAFF_READ:
		/*
		 * A request that carries an Authorization header is a key's: its cookie,
		 * if any, is not looked at. Otherwise it is a staff session's.
		 */
		if (http_header(req, "Authorization")) {
			b = admin_key(app, req, ADMIN_ACTION_READ);
			if (!bearer_answered(b, req, resp, &ok))
				return false;
			break;
		}
		/* fall through */
	case AUTH_STAFF:
		switch (staff_session(app, req, resp)) {
		case STAFF_AUTH_OK:
			ok = true;
			break;
		case STAFF_AUTH_UNAVAILABLE:
			http_resp_unavailable(resp, req, NULL);
			return false;
		case STAFF_AUTH_ANSWERED:
			return false;
		case STAFF_AUTH_DENIED:
			break;
		}
		break;
	}
	if (!ok) {
		/* only the holder of a once valid token learns this; the app shows it and asks for a new code */
		http_resp_problem(resp, req, PROBLEM_UNAUTHORIZED,
				  b == BEARER_LIFETIME_OVER ? "this phone's activation has reached its maximum lifetime; activate"
							      " the app again with a new code from your treasury office"
							    : NULL,
				  NULL);
		/* a 401 must name the scheme the route expects */
		http_resp_header(resp, "WWW-Authenticate",
				 kind == AUTH_INGEST  ? "Webhook-Signature realm=\"alertd\", spec=\"standard-webhooks\""
				 : kind == AUTH_STAFF ? STAFF_CHALLENGE
				 : kind == AUTH_STAFF_READ ? STAFF_CHALLENGE ", Bearer realm=\"alertd\""
							   : "Bearer realm=\"alertd\"");
	}
	return ok;
}
