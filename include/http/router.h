/*
 * router.h - the routing table: method, path pattern, handler, the
 * authentication each route requires and what else its handler needs from
 * the HTTP layer (a JSON body, a database connection, an upload-sized body).
 *
 * Patterns are literal segments and {name} captures, e.g.
 * "/v1/ingest/{source}/events". A pattern that ends in '/' (the dashboard's
 * "/staff/") matches exactly that path, the slash included; no other path
 * with an empty segment matches anything. A capture matches one non-empty segment of
 * at most ROUTER_MAX_PARAM_LEN bytes of well-formed UTF-8 without control
 * characters (anything else is 404).
 */
#ifndef ALERTD_ROUTER_H
#define ALERTD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTER_MAX_PARAMS 4
#define ROUTER_MAX_PARAM_LEN 128
#define ROUTER_MAX_PATH 1024
/* The raw request target (path and query, still percent-encoded) and its query arguments. */
#define ROUTER_MAX_TARGET 4096
#define ROUTER_MAX_QUERY_PARAMS 32

/* Every route must say how callers prove who they are. */
enum auth_kind {
	AUTH_NONE,    /* only the health checks */
	AUTH_METRICS, /* bearer token whose hash is metrics.token_sha256 */
	/* an admin API key granted the action the kind names (people/admin_keys.h); its office is the scope */
	AUTH_ADMIN_ROSTER,
	AUTH_ADMIN_ACTIVATION,
	AUTH_ADMIN_UNROUTED,
	AUTH_APP,    /* device access token */
	AUTH_INGEST, /* Standard Webhooks signature of an ingest source */
	AUTH_STAFF,  /* treasury staff session */
	/*
	 * The staff read API: a staff session (any role, every AUTH_STAFF check),
	 * or, when the request has an Authorization header, an admin API key
	 * granted "read" (not "unrouted": that is GET /v1/admin/events/unrouted only). Either way req->scope_office is the caller's office;
	 * req->staff.staff_id stays 0 for a key, whose name is in principal_name.
	 */
	AUTH_STAFF_READ,
	/* the one-time activation code in the body; the handler checks it (rate-limited, audited) */
	AUTH_ACTIVATION_CODE,
	/* staff sign-in: the password (and code) in the body; the handler checks it (throttled, audited) */
	AUTH_STAFF_PASSWORD,
	/*
	 * the staff dashboard's static, data-free shell and files (api_pages.h),
	 * which the sign-in page needs before any session; only under /staff
	 */
	AUTH_PAGE,
};

struct http_req;
struct http_resp;
struct app;

/* What a handler tells the HTTP layer when it returns; see http.h. */
enum http_outcome {
	HTTP_DONE,	/* resp holds the answer the handler chose, whatever its status */
	HTTP_FAILED,	/* no answer: 503 when the request's connection is missing or broke, else 500 */
	HTTP_SUSPENDED, /* http_suspend() was called: the resume callback answers later */
};

typedef enum http_outcome (*route_handler)(const struct app *app, struct http_req *req, struct http_resp *resp);

/* What a route's handler needs; the HTTP layer provides it and frees it when the request completes. */
enum route_needs {
	ROUTE_UPLOAD = 1u << 0, /* takes a file: body capped by http.max_upload_bytes, not max_body_bytes */
	ROUTE_JSON = 1u << 1,	/* a JSON body, parsed under the limits before the handler: req->json */
	ROUTE_DB = 1u << 2,	/* a pooled database connection: http_db(req) */
};

struct route {
	const char *method;
	const char *pattern;
	route_handler handler;
	enum auth_kind auth;
	unsigned needs; /* enum route_needs, or-ed; 0 for none */
};

struct route_param {
	char name[32];
	char value[ROUTER_MAX_PARAM_LEN + 1];
};

struct route_match {
	const struct route *route;
	size_t index; /* position in the table, used for per-route metrics */
	int nparams;
	struct route_param params[ROUTER_MAX_PARAMS];
};

enum router_result { ROUTER_OK, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED };

/*
 * Match method and path against the table. On ROUTER_OK fills m. On
 * ROUTER_METHOD_NOT_ALLOWED writes the comma-separated methods the path
 * does accept into allow (HEAD is implied by GET).
 */
enum router_result router_match(const struct route *routes, size_t n, const char *method, const char *path,
				struct route_match *m, char *allow, size_t allowlen);

enum router_target {
	ROUTER_TARGET_OK,
	ROUTER_TARGET_NUL,	       /* "%00" somewhere: a NUL once decoded */
	ROUTER_TARGET_TOO_LONG,	       /* more than ROUTER_MAX_TARGET bytes */
	ROUTER_TARGET_TOO_MANY_PARAMS, /* more than ROUTER_MAX_QUERY_PARAMS query arguments */
};

/*
 * Check the raw request target as received, before percent-decoding: an
 * encoded NUL (400), its length and the number of query arguments (414).
 */
enum router_target router_check_target(const char *target);

/* Value of capture name in m, or NULL. */
const char *router_param(const struct route_match *m, const char *name);

/* True when the path is exempt from authentication (/healthz, /readyz). */
bool router_auth_exempt(const char *pattern);

/* True when the pattern is the dashboard's: "/staff" or under "/staff/", the only place AUTH_PAGE may be used. */
bool router_page_pattern(const char *pattern);

const char *router_auth_name(enum auth_kind auth);

#endif
