/*
 * http.c - libmicrohttpd glue: one request context per request, bodies
 * accumulated under http.max_body_bytes, routing and authentication before
 * the handler runs, the resources the route declares (JSON body, database
 * connection) owned by the request, and access log plus metrics when the
 * request completes.
 *
 * Every response leaves through send_response(); handlers only fill a
 * struct http_resp and return an outcome, which finish() turns into the
 * answer (the one place a failed handler becomes a 503 or a 500). Bodies
 * that are refused early (404, 405, 413 by Content-Length) are never read:
 * libmicrohttpd closes such connections.
 *
 * Before any of that, each request's raw target is checked as it arrives
 * (on_uri) and its framing once the headers are in (framing_refused):
 * encoded NULs, too many query arguments and request-smuggling shapes are
 * answered with a problem, at once. What libmicrohttpd still answers itself
 * is listed in docs/errors.md.
 */
#include "http/http.h"
#include "core/app.h"
#include "http/auth.h"
#include "core/config.h"
#include "http/jsonbody.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "db/db.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Each connection's memory pool in libmicrohttpd. It holds the read buffer
 * (half the pool at first, grown while the request line and headers need
 * it; when they cannot fit, libmicrohttpd answers 414 or 431 itself), a
 * 56-byte record per header and query argument (at most
 * ROUTER_MAX_QUERY_PARAMS of those, see on_uri), then the response's
 * headers. 64 KiB is twice the default: every request line up to far past
 * ROUTER_MAX_TARGET reaches on_uri and gets our 414, and ingest's signature
 * headers have room.
 */
#define HTTP_CONNECTION_MEMORY (64 * 1024)

struct http_server {
	struct MHD_Daemon *daemon;
	MHD_socket quiesced; /* closed only after MHD_stop_daemon, as libmicrohttpd requires */
	const struct app *app;
	atomic_int inflight;
};

struct request_ctx {
	struct http_req req; /* first: http_suspend() finds the context from it */
	struct http_server *srv;
	bool started;		   /* the handler has been called once; before, only on_uri has run */
	enum router_target target; /* the raw target's check, made by on_uri */
	struct http_resp resp;
	struct buf body;
	struct timespec start;
	enum router_result routed;
	char allow[64];
	bool responded;
	bool too_large;
	bool authenticated; /* header credentials already checked, before the body */
	size_t drained;	    /* bytes discarded past the cap */
	int sent_status;
	http_resume_fn resume_fn; /* set while suspended */
	void *resume_arg;
	PGconn *db;	     /* ROUTE_DB: taken by http_db(), given back by finish() */
	bool db_unavailable; /* http_db() found no connection */
};

void http_suspend(struct http_req *req, http_resume_fn fn, void *arg)
{
	struct request_ctx *rc = (struct request_ctx *)req;

	rc->resume_fn = fn;
	rc->resume_arg = arg;
	MHD_suspend_connection(req->conn);
}

void http_resume(struct http_req *req)
{
	MHD_resume_connection(req->conn);
}

PGconn *http_db(struct http_req *req)
{
	struct request_ctx *rc = (struct request_ctx *)req;
	const struct route *route = req->match.route;

	if (rc->db)
		return rc->db;
	if (!route || !(route->needs & ROUTE_DB)) {
		LOG_FIELDS(LOG_ERROR, "http: database asked for by a route that does not declare ROUTE_DB",
			   LOG_S("route", route ? route->pattern : "unmatched"));
		return NULL;
	}
	rc->db = db_acquire(rc->srv->app->db, DB_POOL_WAIT_MS);
	rc->db_unavailable = rc->db == NULL;
	return rc->db;
}

bool http_request_id_valid(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > HTTP_REQUEST_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

const char *http_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_req *req, const char *name)
{
	const char *value = NULL;

	if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &value, NULL) != MHD_YES)
		return NULL;
	return value ? value : ""; /* "?name" without '=' is given, and empty */
}

void http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
	if (resp->nheaders >= HTTP_MAX_EXTRA_HEADERS) {
		log_error("http: too many response headers, dropped %s", name);
		return;
	}
	struct http_header *h = &resp->headers[resp->nheaders++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->value, sizeof(h->value), "%s", value);
}

void http_resp_body(struct http_resp *resp, int status, const char *content_type, char *body, size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = content_type;
	resp->body = body;
	resp->body_len = len;
}

static void set_internal_error(struct http_resp *resp)
{
	static const char fallback[] =
		"{\"type\":\"" PROBLEM_TYPE_PREFIX
		"internal_error\",\"title\":\"Internal server error\",\"status\":500,\"code\":\"internal_error\"}";
	char *copy = strdup(fallback);

	http_resp_body(resp, 500, PROBLEM_CONTENT_TYPE, copy, copy ? strlen(copy) : 0);
}

void http_resp_json(struct http_resp *resp, int status, json_t *body)
{
	/* 15 significant digits: a percentage such as 85.71 prints as written, not as 85.709999999999994 */
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) : NULL;

	json_decref(body);
	if (!text) {
		set_internal_error(resp);
		return;
	}
	http_resp_body(resp, status, "application/json", text, strlen(text));
}

void http_resp_problem(struct http_resp *resp, const struct http_req *req, enum problem_code code, const char *detail,
		       json_t *extra)
{
	size_t len = 0;
	char *text = problem_render(code, detail, req->request_id, extra, &len);

	if (!text) {
		set_internal_error(resp);
		return;
	}
	http_resp_body(resp, problem_def(code)->status, PROBLEM_CONTENT_TYPE, text, len);
}

void http_resp_unavailable(struct http_resp *resp, const struct http_req *req, const char *detail)
{
	http_resp_problem(resp, req, PROBLEM_DATABASE_UNAVAILABLE, detail, NULL);
	http_resp_header(resp, "Retry-After", "5");
}

static bool is_json_content_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (!ct || strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ')
		ct++;
	if (*ct == '\0')
		return true;
	if (*ct != ';')
		return false;
	ct++;
	while (*ct == ' ')
		ct++;
	return strcasecmp(ct, "charset=utf-8") == 0;
}

json_t *http_req_json(const struct app *app, const struct http_req *req, struct http_resp *resp)
{
	char err[200];
	json_t *v;

	if (!is_json_content_type(http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		http_resp_problem(resp, req, PROBLEM_UNSUPPORTED_MEDIA_TYPE,
				  "Content-Type must be application/json (charset utf-8)", NULL);
		return NULL;
	}
	v = jsonbody_parse(req->body, req->body_len, (int)app->cfg->http_max_json_depth, err, sizeof(err));
	if (!v)
		http_resp_problem(resp, req, PROBLEM_MALFORMED_JSON, err, NULL);
	return v;
}

static double elapsed_seconds(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* "/staff" and everything under "/staff/": the dashboard's pages and files. */
static bool is_page_path(const char *path)
{
	return strncmp(path, "/staff", 6) == 0 && (path[6] == '\0' || path[6] == '/');
}

static enum MHD_Result send_response(struct request_ctx *rc)
{
	struct http_resp *resp = &rc->resp;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (resp->status == 0)
		set_internal_error(resp);
	r = MHD_create_response_from_buffer(resp->body_len, resp->body ? resp->body : (char *)"",
					    resp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	resp->body = NULL; /* owned by libmicrohttpd now */
	if (resp->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	MHD_add_response_header(r, "X-Request-Id", rc->req.request_id);
	/* no-store unless the handler chose otherwise (the dashboard's versioned files, api_pages.c) */
	bool cache_set = false;
	for (int i = 0; i < resp->nheaders; i++)
		cache_set |= strcasecmp(resp->headers[i].name, MHD_HTTP_HEADER_CACHE_CONTROL) == 0;
	if (!cache_set)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/*
	 * Every answer under /v1/staff/, errors included: judged by the path,
	 * not the matched route, so a 404, a 405 or an early 400 there carries
	 * them too. What a browser must not do with it: no script or style but
	 * our own files, no framing, no referrer.
	 */
	if (rc->req.path && strncmp(rc->req.path, "/v1/staff/", 10) == 0) {
		MHD_add_response_header(r, "Content-Security-Policy", STAFF_CSP);
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
	} else if (rc->req.path && is_page_path(rc->req.path)) {
		/* the dashboard's pages (api_pages.c), errors included: the policy a page needs to run our script */
		MHD_add_response_header(r, "Content-Security-Policy", STAFF_PAGE_CSP);
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
		MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	}
	for (int i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	ret = MHD_queue_response(rc->req.conn, (unsigned int)resp->status, r);
	MHD_destroy_response(r);
	rc->responded = true;
	rc->sent_status = resp->status;
	return ret;
}

static void fill_remote(struct request_ctx *rc)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rc->req.conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(rc->req.remote, sizeof(rc->req.remote), "-");
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, rc->req.remote,
			  sizeof(rc->req.remote));
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, rc->req.remote,
			  sizeof(rc->req.remote));
}

/*
 * Behind the shipped nginx config, X-Forwarded-For holds exactly the client
 * address (nginx overwrites it). Taken only when http.trust_forwarded_for is
 * on and the value is one well-formed address; otherwise the peer stays.
 */
static void forwarded_remote(struct request_ctx *rc)
{
	const char *xff = http_header(&rc->req, "X-Forwarded-For");
	unsigned char addr[sizeof(struct in6_addr)];
	char last[INET6_ADDRSTRLEN];
	const char *p;

	if (!rc->srv->app->cfg->http_trust_forwarded_for || !xff)
		return;
	p = strrchr(xff, ',');
	p = p ? p + 1 : xff;
	while (*p == ' ')
		p++;
	if (strlen(p) >= sizeof(last))
		return;
	snprintf(last, sizeof(last), "%s", p);
	if (inet_pton(AF_INET, last, addr) == 1 || inet_pton(AF_INET6, last, addr) == 1)
		snprintf(rc->req.remote, sizeof(rc->req.remote), "%s", last);
}

static void assign_request_id(struct request_ctx *rc)
{
	const char *given = http_header(&rc->req, "X-Request-Id");
	unsigned char raw[16];

	if (given && http_request_id_valid(given)) {
		snprintf(rc->req.request_id, sizeof(rc->req.request_id), "%s", given);
		return;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(rc->req.request_id, sizeof(rc->req.request_id), raw, sizeof(raw));
}

/* Content-Length larger than the cap: refuse before reading a byte of it. */
static bool declared_too_large(struct request_ctx *rc, long long cap)
{
	const char *cl = http_header(&rc->req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;

	if (!cl)
		return false;
	errno = 0;
	unsigned long long n = strtoull(cl, &end, 10);
	return errno == ERANGE || (end != cl && n > (unsigned long long)cap);
}

/*
 * libmicrohttpd calls this with the raw request target, before it decodes
 * it and before it splits the query into arguments; what it returns is the
 * request's context (*con_cls) from then on. The target is checked here,
 * while its bytes are as sent: once decoded, a %00 is a NUL that silently
 * ends the path or value.
 *
 * A refused target also loses its query, here, in place. libmicrohttpd
 * 0.9.75 stores each argument in the connection's memory pool right after
 * this call, and when the pool runs out (about 500 arguments) it neither
 * answers nor closes: the client holds the connection until the timeout.
 * Ending the target after its '?' leaves it no argument to store, and
 * on_request answers the 414 or 400 at once. The buffer is libmicrohttpd's
 * writable read buffer (the const is the callback's signature); 0.9.75 and
 * 0.9.76 both find the '?' before this call and parse the arguments after
 * it. tests/integration/hostile_http.test.js pins the outcome.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	enum router_target target = router_check_target(uri);
	struct request_ctx *rc;

	(void)conn;
	if (target != ROUTER_TARGET_OK) {
		char *query = strchr(uri, '?');
		if (query)
			query[1] = '\0';
	}
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return NULL; /* on_request closes the connection */
	rc->srv = cls;
	rc->target = target;
	return rc;
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

struct header_count {
	int content_length, host, transfer_encoding;
	const char *transfer_encoding_value;
	bool bad_name;
	bool folded; /* a framing header continued on the next line (obs-fold) */
};

/* True when key is longer than name and starts with it, case-insensitively. */
static bool extends_name(const char *key, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(key, name, n) == 0 && key[n] != '\0';
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct header_count *c = cls;
	size_t i = 0;

	(void)kind;
	while (is_tchar(key[i]))
		i++;
	if (i == 0 || key[i] != '\0')
		c->bad_name = true;
	/*
	 * libmicrohttpd 0.9.75 joins an obs-fold continuation line to the header
	 * name, so "Transfer-Encoding:" + CRLF + " chunked" arrives as the name
	 * "Transfer-Encodingchunked": a proxy that unfolds would see chunked.
	 */
	else if (extends_name(key, MHD_HTTP_HEADER_CONTENT_LENGTH) || extends_name(key, MHD_HTTP_HEADER_HOST) ||
		 extends_name(key, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		c->folded = true;
	else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		c->content_length++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		c->host++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		c->transfer_encoding++;
		c->transfer_encoding_value = value ? value : "";
	}
	return MHD_YES;
}

/*
 * The framing rules of RFC 9112 that libmicrohttpd 0.9.75 leaves to us:
 * each is a way for alertd and a proxy in front of it to disagree on where
 * a request ends or whom it is for (request smuggling). libmicrohttpd takes
 * the first Content-Length, accepts a header name with a space before the
 * colon as another header, and reads an unknown Transfer-Encoding until the
 * client closes. Refused with 400 (501 for a transfer coding other than
 * chunked) and Connection: close, before routing; true when refused.
 */
static bool framing_refused(struct request_ctx *rc, const char *version)
{
	struct header_count c = { 0 };
	enum problem_code code = PROBLEM_BAD_REQUEST;
	const char *why = NULL;

	MHD_get_connection_values(rc->req.conn, MHD_HEADER_KIND, count_header, &c);
	if (c.bad_name)
		why = "a header name is not a token (a space before the colon, or an empty name)";
	else if (c.folded)
		why = "a Content-Length, Transfer-Encoding or Host header is folded onto the next line (obs-fold)";
	else if (c.transfer_encoding && strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
		why = "HTTP/1.0 has no Transfer-Encoding (RFC 9112 6.1)";
	else if (c.content_length > 1)
		why = "more than one Content-Length header";
	else if (c.content_length && c.transfer_encoding)
		why = "both Content-Length and Transfer-Encoding";
	else if (c.host > 1)
		why = "more than one Host header";
	else if (c.host == 0 && strcmp(version, MHD_HTTP_VERSION_1_0) != 0)
		why = "HTTP/1.1 requires a Host header";
	else if (c.transfer_encoding > 1 || (c.transfer_encoding && strcasecmp(c.transfer_encoding_value, "chunked") != 0)) {
		code = PROBLEM_UNSUPPORTED_TRANSFER_ENCODING;
		why = "the only transfer coding accepted is a single \"Transfer-Encoding: chunked\"";
	}
	if (!why)
		return false;
	http_resp_problem(&rc->resp, &rc->req, code, why, NULL);
	http_resp_header(&rc->resp, MHD_HTTP_HEADER_CONNECTION, "close");
	return true;
}

/* The answer to a target on_uri refused; false when it was fine. */
static bool target_refused(struct request_ctx *rc)
{
	char detail[96];

	switch (rc->target) {
	case ROUTER_TARGET_OK:
		return false;
	case ROUTER_TARGET_NUL:
		http_resp_problem(&rc->resp, &rc->req, PROBLEM_BAD_REQUEST,
				  "the request target holds an encoded NUL (%00)", NULL);
		return true;
	case ROUTER_TARGET_TOO_LONG:
		snprintf(detail, sizeof(detail), "the request target is longer than %d bytes", ROUTER_MAX_TARGET);
		break;
	case ROUTER_TARGET_TOO_MANY_PARAMS:
		snprintf(detail, sizeof(detail), "more than %d query parameters", ROUTER_MAX_QUERY_PARAMS);
		break;
	}
	http_resp_problem(&rc->resp, &rc->req, PROBLEM_URI_TOO_LONG, detail, NULL);
	return true;
}

/* The first call of on_request for rc: the headers are in. */
static void begin_request(struct request_ctx *rc, struct MHD_Connection *conn, const char *url, const char *method)
{
	rc->started = true;
	clock_gettime(CLOCK_MONOTONIC, &rc->start);
	rc->req.conn = conn;
	rc->req.method = method;
	rc->req.path = url;
	rc->routed = ROUTER_NOT_FOUND;
	assign_request_id(rc);
	fill_remote(rc);
	forwarded_remote(rc);
	atomic_fetch_add(&rc->srv->inflight, 1);
}

/*
 * After the handler or resume callback: give the connection back and turn
 * HTTP_FAILED into the answer. A connection that could not be had or broke
 * while the request used it (inside the handler or a store call) means the
 * database is unavailable: 503 with Retry-After, whatever the handler was
 * doing. Anything else that failed is a 500.
 */
static void finish(struct request_ctx *rc, enum http_outcome outcome)
{
	const struct app *app = rc->srv->app;
	bool unavailable = rc->db_unavailable || (rc->db && db_broken(rc->db));

	/*
	 * An answer with its transaction still open would be rolled back by
	 * db_release() after the client was told it succeeded: a programming
	 * error, answered as a failure. (A broken connection is PQTRANS_UNKNOWN
	 * and not caught here: a handler may answer after its COMMIT.)
	 */
	if (outcome == HTTP_DONE && rc->db &&
	    (PQtransactionStatus(rc->db) == PQTRANS_INTRANS || PQtransactionStatus(rc->db) == PQTRANS_INERROR)) {
		log_error("http: handler of %s answered inside an open transaction", rc->req.match.route->pattern);
		outcome = HTTP_FAILED;
	}
	db_release(app->db, rc->db);
	rc->db = NULL;
	rc->db_unavailable = false;
	if (outcome != HTTP_FAILED)
		return;
	free(rc->resp.body);
	memset(&rc->resp, 0, sizeof(rc->resp));
	if (unavailable)
		http_resp_unavailable(&rc->resp, &rc->req, rc->req.unavailable_detail);
	else
		http_resp_problem(&rc->resp, &rc->req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
}

/* Runs once the whole body is in: authenticate, parse a declared JSON body, then the route's handler. */
static enum http_outcome dispatch(struct request_ctx *rc)
{
	const struct app *app = rc->srv->app;
	const struct route *route = rc->req.match.route;

	rc->req.body = rc->body.data ? rc->body.data : "";
	rc->req.body_len = rc->body.len;
	if (!rc->authenticated && !auth_check(app, &rc->req, route->auth, &rc->resp))
		return HTTP_DONE;
	if (route->needs & ROUTE_JSON) {
		rc->req.json = http_req_json(app, &rc->req, &rc->resp);
		if (!rc->req.json)
			return HTTP_DONE; /* the 415 or 400 is the answer */
	}
	return route->handler(app, &rc->req, &rc->resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request_ctx *rc = *con_cls;
	const struct app *app = srv->app;

	if (!rc)
		return MHD_NO; /* on_uri could not allocate the context */
	if (!rc->started) {
		begin_request(rc, conn, url, method);
		if (framing_refused(rc, version) || target_refused(rc))
			return send_response(rc);
		/* routing reads no body; it decides which cap applies */
		rc->routed =
			router_match(app->routes, app->nroutes, method, url, &rc->req.match, rc->allow, sizeof(rc->allow));
		long long cap = rc->routed == ROUTER_OK && (rc->req.match.route->needs & ROUTE_UPLOAD)
					? app->cfg->http_max_upload_bytes
					: app->cfg->http_max_body_bytes;
		buf_init(&rc->body, (size_t)cap);
		if (declared_too_large(rc, cap)) {
			http_resp_problem(&rc->resp, &rc->req, PROBLEM_PAYLOAD_TOO_LARGE, NULL, NULL);
			return send_response(rc);
		}
		if (rc->routed == ROUTER_NOT_FOUND) {
			http_resp_problem(&rc->resp, &rc->req, PROBLEM_NOT_FOUND, NULL, NULL);
			return send_response(rc);
		}
		if (rc->routed == ROUTER_METHOD_NOT_ALLOWED) {
			http_resp_problem(&rc->resp, &rc->req, PROBLEM_METHOD_NOT_ALLOWED, NULL, NULL);
			http_resp_header(&rc->resp, MHD_HTTP_HEADER_ALLOW, rc->allow);
			return send_response(rc);
		}
		/* credentials carried in headers are checked before a byte of the body is read */
		enum auth_kind kind = rc->req.match.route->auth;
		if (kind == AUTH_ADMIN_ROSTER || kind == AUTH_ADMIN_ACTIVATION || kind == AUTH_ADMIN_UNROUTED ||
		    kind == AUTH_APP || kind == AUTH_METRICS || kind == AUTH_STAFF || kind == AUTH_STAFF_READ) {
			if (!auth_check(app, &rc->req, kind, &rc->resp))
				return send_response(rc);
			rc->authenticated = true;
		}
		return MHD_YES;
	}
	if (rc->responded) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rc->resume_fn) {
		/* called again after http_resume(): the deferred work is done */
		http_resume_fn fn = rc->resume_fn;
		rc->resume_fn = NULL;
		enum http_outcome outcome = fn(app, &rc->req, &rc->resp, rc->resume_arg);
		if (outcome == HTTP_SUSPENDED) {
			log_error("http: a resume callback cannot suspend again (%s)", rc->req.match.route->pattern);
			outcome = HTTP_FAILED;
		}
		finish(rc, outcome);
		return send_response(rc);
	}
	if (*upload_data_size > 0) {
		if (!rc->too_large && !buf_append(&rc->body, upload_data, *upload_data_size))
			rc->too_large = true; /* keep draining a while, so the client can read the 413 */
		if (rc->too_large) {
			rc->drained += *upload_data_size;
			if (rc->drained > rc->body.limit)
				return MHD_NO; /* a client streaming on and on past the cap: close the connection */
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rc->too_large) {
		http_resp_problem(&rc->resp, &rc->req, PROBLEM_PAYLOAD_TOO_LARGE, NULL, NULL);
		return send_response(rc);
	}
	enum http_outcome outcome = dispatch(rc);
	if (outcome == HTTP_SUSPENDED && !rc->resume_fn) {
		log_error("http: handler of %s returned HTTP_SUSPENDED without suspending", rc->req.match.route->pattern);
		outcome = HTTP_FAILED;
	} else if (outcome != HTTP_SUSPENDED && rc->resume_fn) {
		/* the deferred work will still call http_resume(): wait for it, its callback answers */
		log_error("http: handler of %s suspended but did not return HTTP_SUSPENDED", rc->req.match.route->pattern);
		outcome = HTTP_SUSPENDED;
	}
	finish(rc, outcome);
	if (rc->resume_fn)
		return MHD_YES; /* suspended: answered after http_resume() */
	return send_response(rc);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct request_ctx *rc = *con_cls;

	(void)conn;
	if (!rc)
		return;
	if (!rc->started) { /* libmicrohttpd refused the request itself (and logged why) */
		free(rc);
		*con_cls = NULL;
		return;
	}
	double secs = elapsed_seconds(&rc->start);
	const struct app *app = srv->app;
	/* match.route stays NULL when the request was answered before or without routing */
	const struct route *matched = rc->req.match.route;
	size_t route_index = matched ? rc->req.match.index : app->nroutes;
	const char *route = matched ? matched->pattern : "unmatched";
	int status = rc->responded ? rc->sent_status : 0;

	if (status)
		metrics_observe_request(app->metrics, route_index, status, secs);
	LOG_FIELDS(LOG_INFO, "access", LOG_S("method", rc->req.method), LOG_S("route", route), LOG_I("status", status),
		   LOG_D("duration_ms", secs * 1000.0), LOG_S("request_id", rc->req.request_id),
		   LOG_S("remote", rc->req.remote), LOG_I("bytes_in", (long long)rc->body.len),
		   LOG_S("outcome", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted"));
	db_release(app->db, rc->db); /* only when the request ended while a handler held it; NULL otherwise */
	json_decref(rc->req.json);
	buf_free(&rc->body);
	free(rc->resp.body);
	atomic_fetch_sub(&srv->inflight, 1);
	free(rc);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	LOG_FIELDS(LOG_WARN, "http server", LOG_S("detail", msg));
}

bool http_start(const struct app *app, struct http_server **out)
{
	const struct config *cfg = app->cfg;
	struct http_server *srv = calloc(1, sizeof(*srv));
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	if (!srv)
		return false;
	srv->app = app;
	srv->quiesced = MHD_INVALID_SOCKET;
	atomic_init(&srv->inflight, 0);
	if (cfg->http_listen_addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
				       /* the logger must come first or early messages bypass it */
				       MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
				       (const struct sockaddr *)&cfg->http_listen_addr, MHD_OPTION_THREAD_POOL_SIZE,
				       (unsigned int)cfg->http_threads, MHD_OPTION_CONNECTION_LIMIT,
				       (unsigned int)cfg->http_max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
				       (unsigned int)cfg->http_connection_timeout_seconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				       (size_t)HTTP_CONNECTION_MEMORY, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
				       MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
	if (!srv->daemon) {
		log_error("http: cannot listen on %s", cfg->http_listen);
		free(srv);
		return false;
	}
	*out = srv;
	return true;
}

void http_quiesce(struct http_server *srv)
{
	srv->quiesced = MHD_quiesce_daemon(srv->daemon);
	/*
	 * Stop listening now, so new clients are refused rather than left in the
	 * backlog, but keep the descriptor open until MHD_stop_daemon: its
	 * threads may still refer to it, and a closed number could be reused.
	 */
	if (srv->quiesced != MHD_INVALID_SOCKET)
		shutdown(srv->quiesced, SHUT_RDWR);
}

bool http_drain(struct http_server *srv, int grace_ms)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load(&srv->inflight) > 0) {
		if (elapsed_seconds(&start) * 1000.0 >= grace_ms)
			return false;
		struct timespec pause = { 0, 20 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
	return true;
}

void http_stop(struct http_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	if (srv->quiesced != MHD_INVALID_SOCKET)
		close(srv->quiesced);
	free(srv);
}
