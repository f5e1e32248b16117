/*
 * http.h - the HTTP server core on libmicrohttpd: request bodies under a
 * cap, request ids, routing, authentication, problem+json errors, one
 * access-log line and metrics per request, and graceful shutdown.
 *
 * A request owns its resources. Its route (router.h) declares what the
 * handler needs: ROUTE_JSON has the body parsed under the configured limits
 * before the handler runs (req->json; a 415 or 400 answers the request
 * otherwise), ROUTE_DB gives it a pooled connection through http_db(). The
 * HTTP layer frees both when the request completes, so a handler has no
 * cleanup for them and never answers 503 itself:
 *
 *	static enum http_outcome handler(const struct app *app, struct http_req *req, struct http_resp *resp)
 *	{
 *		PGconn *conn = http_db(req);
 *		if (!conn || !store_something(conn, ...))
 *			return HTTP_FAILED;
 *		http_resp_json(resp, 200, ...);
 *		return HTTP_DONE;
 *	}
 *
 * HTTP_DONE sends what the handler put in resp (any status: 2xx, the 4xx
 * it decided on, a 5xx with its own detail). HTTP_FAILED discards resp and
 * answers in one place, after the handler: 503 database_unavailable with
 * Retry-After when no connection could be had or the request's connection
 * broke (inside the handler or a store call), else 500 internal_error.
 * HTTP_SUSPENDED is what a handler returns after http_suspend().
 */
#ifndef ALERTD_HTTP_H
#define ALERTD_HTTP_H

#include "http/problem.h"
#include "http/router.h"
#include "staff/session.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;
struct app;
struct http_server;

#define HTTP_REQUEST_ID_MAX 64
#define HTTP_MAX_EXTRA_HEADERS 10

struct http_req {
	struct MHD_Connection *conn;
	/* who authenticated: ingest source id, or device id for app tokens; 0 = none */
	long long principal_id;
	long long principal_user_id;  /* app tokens: the device's user */
	char principal_name[64];      /* admin keys: the key's name */
	struct staff_principal staff; /* AUTH_STAFF: the session's account (staff_id 0 otherwise) */
	/*
	 * The office whose subtree this caller may see (a staff session's office,
	 * or a scoped admin key's); "" = none. Staff reads filter every query
	 * through alertd_office_in_scope / alertd_office_subtree (migration 0013)
	 * with it, and answer 404 for anything outside.
	 */
	char scope_office[16];
	const char *method;
	const char *path;
	char request_id[HTTP_REQUEST_ID_MAX + 1];
	char remote[INET6_ADDRSTRLEN];
	const char *body; /* NUL-terminated copy of the body; may contain NULs */
	size_t body_len;
	json_t *json; /* ROUTE_JSON: the parsed body, owned by the request (json_incref to keep it) */
	/* said in the 503 when HTTP_FAILED is answered because the connection broke; NULL: no detail */
	const char *unavailable_detail;
	struct route_match match;
};

struct http_header {
	char name[40];
	char value[256];
};

struct http_resp {
	int status;
	char *body; /* malloc'd, owned by the response */
	size_t body_len;
	const char *content_type;
	int nheaders;
	struct http_header headers[HTTP_MAX_EXTRA_HEADERS];
};

/* Start serving app on app->cfg's listen address. On success *out owns the server. */
bool http_start(const struct app *app, struct http_server **out);

/* Stop accepting new connections; requests in flight and on open connections continue. */
void http_quiesce(struct http_server *srv);

/* Wait until no request is in flight or grace_ms passes. Returns true if drained. */
bool http_drain(struct http_server *srv, int grace_ms);

/* Close every connection, join the threads and free srv. */
void http_stop(struct http_server *srv);

/* Value of a request header (case-insensitive name), or NULL. */
const char *http_header(const struct http_req *req, const char *name);

/* Value of a query-string argument, or NULL. */
const char *http_query(const struct http_req *req, const char *name);

/* Add a response header; silently ignored past HTTP_MAX_EXTRA_HEADERS (a programming error, logged). */
void http_resp_header(struct http_resp *resp, const char *name, const char *value);

/* Respond with JSON. body is stolen. On allocation failure the response becomes a 500. */
void http_resp_json(struct http_resp *resp, int status, json_t *body);

/* Respond with body (stolen, malloc'd) of the given content type. */
void http_resp_body(struct http_resp *resp, int status, const char *content_type, char *body, size_t len);

/*
 * 503 database_unavailable with Retry-After: nothing was done; detail may be
 * NULL. Handlers do not call it: they return HTTP_FAILED (see above).
 */
void http_resp_unavailable(struct http_resp *resp, const struct http_req *req, const char *detail);

/* Respond with an RFC 9457 problem. detail may be NULL; extra is borrowed. */
void http_resp_problem(struct http_resp *resp, const struct http_req *req, enum problem_code code, const char *detail,
		       json_t *extra);

/*
 * Parse the request body as JSON under the configured depth limit, after
 * checking the content type. On failure sets a 415 or 400 problem on resp and
 * returns NULL. On success the caller owns the returned reference. Routes
 * declaring ROUTE_JSON get this done for them (req->json); call it only
 * where something must come before parsing (ingest's rate limit).
 */
json_t *http_req_json(const struct app *app, const struct http_req *req, struct http_resp *resp);

/*
 * The request's database connection, for routes that declare ROUTE_DB.
 * Taken from the pool on the first call (waiting up to DB_POOL_WAIT_MS), the
 * same connection on later calls, given back by the HTTP layer once the
 * handler (or resume callback) has returned: never release or close it.
 * Taken on first use rather than before the handler, so that what a handler
 * checks without the database (input, throttles) answers at once, without
 * waiting for a pooled connection. NULL when none could be had (logged by
 * the pool): return HTTP_FAILED and the answer is a 503. NULL too, logged
 * as a programming error, on a route that did not declare ROUTE_DB (a 500).
 */
PGconn *http_db(struct http_req *req);

typedef enum http_outcome (*http_resume_fn)(const struct app *app, struct http_req *req, struct http_resp *resp, void *arg);

/*
 * Call from a handler to answer later, then return HTTP_SUSPENDED: the
 * connection is parked without holding an HTTP thread (nor a pooled
 * database connection: it is given back when the handler returns). Once
 * http_resume() is called (from any thread), fn runs in an HTTP thread to
 * fill the response and returns an outcome as a handler does. The handler
 * must leave resp untouched after suspending.
 */
void http_suspend(struct http_req *req, http_resume_fn fn, void *arg);

/* Thread-safe; call exactly once per http_suspend(). */
void http_resume(struct http_req *req);

/* True when id is 1-64 characters of [A-Za-z0-9._-]. */
bool http_request_id_valid(const char *id);

#endif
