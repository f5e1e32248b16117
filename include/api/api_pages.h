/*
 * api_pages.h - the treasury staff dashboard's pages: the single-page shell
 * (GET /staff/, also the sign-in page), GET /staff (a redirect to it) and
 * its static files (GET /staff/assets/{file}), all embedded in the binary
 * from web/ by tools/embed_web.c. These routes are AUTH_PAGE: data-free
 * files the sign-in page needs before any session exists; every figure the
 * pages show comes from the /v1/staff/ JSON API, under a session.
 *
 * Headers (http.c, by path): STAFF_PAGE_CSP, Referrer-Policy no-referrer,
 * X-Frame-Options DENY, nosniff. The shell is Cache-Control no-store; an
 * asset asked for by the version the shell names (?v=ETAG) may be cached
 * for a year (immutable), any other request of it must revalidate
 * (no-cache) against its strong ETag (304 on If-None-Match).
 */
#ifndef ALERTD_API_PAGES_H
#define ALERTD_API_PAGES_H

#include "http/http.h"

#include <stddef.h>

struct web_asset {
	const char *name;	  /* "app.js" */
	const char *content_type; /* "text/javascript; charset=utf-8" */
	const char *etag;	  /* 32 hex digits: the first 128 bits of the SHA-256 of data (unquoted) */
	const char *data;
	size_t len;
};

/* Provided by the generated build/gen/web_assets.c; index.html is the shell. */
extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

/* The embedded file of that name, or NULL. */
const struct web_asset *api_pages_find(const char *name);

/* True when an If-None-Match header value (may be NULL) names etag (unquoted) or is "*". */
bool api_pages_etag_matches(const char *if_none_match, const char *etag);

enum http_outcome api_pages_redirect(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_pages_shell(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_pages_asset(const struct app *app, struct http_req *req, struct http_resp *resp);

#endif
