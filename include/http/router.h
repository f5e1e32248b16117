/*
 * router.h - the routing table: method, path pattern, handler and the
 * authentication each route requires.
 *
 * Patterns are literal segments and {name} captures, e.g.
 * "/v1/ingest/{source}/events". A capture matches one non-empty segment of
 * at most ROUTER_MAX_PARAM_LEN bytes.
 */
#ifndef ALERTD_ROUTER_H
#define ALERTD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTER_MAX_PARAMS 4
#define ROUTER_MAX_PARAM_LEN 128
#define ROUTER_MAX_PATH 1024

/* Every route must say how callers prove who they are. */
enum auth_kind {
	AUTH_NONE,    /* only the health checks */
	AUTH_METRICS, /* bearer token whose hash is metrics.token_sha256 */
	AUTH_ADMIN,   /* admin API key */
	AUTH_APP,     /* device access token */
	AUTH_INGEST,  /* Standard Webhooks signature of an ingest source */
	AUTH_STAFF,   /* treasury staff session */
	/* the one-time activation code in the body; the handler checks it (rate-limited, audited) */
	AUTH_ACTIVATION_CODE,
};

struct http_req;
struct http_resp;
struct app;

typedef void (*route_handler)(const struct app *app, struct http_req *req, struct http_resp *resp);

struct route {
	const char *method;
	const char *pattern;
	route_handler handler;
	enum auth_kind auth;
	bool upload; /* takes a file: body capped by http.max_upload_bytes, not max_body_bytes */
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
enum router_result router_match(const struct route *routes, size_t n, const char *method,
				const char *path, struct route_match *m, char *allow, size_t allowlen);

/* Value of capture name in m, or NULL. */
const char *router_param(const struct route_match *m, const char *name);

/* True when the path is exempt from authentication (/healthz, /readyz). */
bool router_auth_exempt(const char *pattern);

const char *router_auth_name(enum auth_kind auth);

#endif
