/*
 * api_pages.c - the dashboard's shell and static files from the binary
 * (api_pages.h). No database, no session: nothing here reads or reveals
 * data, and a name that is not embedded is the ordinary 404.
 */
#include "api/api_pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHELL_NAME "index.html"
#define CACHE_VERSIONED "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"

const struct web_asset *api_pages_find(const char *name)
{
	for (size_t i = 0; name && i < web_assets_count; i++)
		if (strcmp(web_assets[i].name, name) == 0)
			return &web_assets[i];
	return NULL;
}

bool api_pages_etag_matches(const char *if_none_match, const char *etag)
{
	size_t n = strlen(etag);

	/* a list of entity tags, each "..." or W/"..." (a weak comparison, as RFC 9110 13.1.2 asks) */
	for (const char *p = if_none_match; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p != '"')
			return false;
		const char *end = strchr(p + 1, '"');
		if (!end)
			return false;
		if ((size_t)(end - p - 1) == n && memcmp(p + 1, etag, n) == 0)
			return true;
		p = end + 1;
	}
	return false;
}

/* A copy of the file as the answer (the response owns and frees its body). */
static enum http_outcome send_asset(struct http_resp *resp, const struct web_asset *a)
{
	char *copy = malloc(a->len ? a->len : 1);

	if (!copy)
		return HTTP_FAILED;
	memcpy(copy, a->data, a->len);
	http_resp_body(resp, 200, a->content_type, copy, a->len);
	return HTTP_DONE;
}

enum http_outcome api_pages_redirect(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	(void)app;
	(void)req;
	http_resp_header(resp, "Location", "/staff/");
	http_resp_body(resp, 301, NULL, NULL, 0);
	return HTTP_DONE;
}

enum http_outcome api_pages_shell(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const struct web_asset *shell = api_pages_find(SHELL_NAME);

	(void)app;
	if (!shell) {
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	}
	/* http.c sends no-store by default: the shell names the current asset versions */
	return send_asset(resp, shell);
}

enum http_outcome api_pages_asset(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *name = router_param(&req->match, "file");
	const struct web_asset *a = api_pages_find(name);
	const char *version = http_query(req, "v");
	char etag[72];

	(void)app;
	/* the shell is served at /staff/ only, never as an asset */
	if (!a || strcmp(a->name, SHELL_NAME) == 0) {
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", a->etag);
	http_resp_header(resp, "ETag", etag);
	http_resp_header(resp, "Cache-Control", version && strcmp(version, a->etag) == 0 ? CACHE_VERSIONED : CACHE_REVALIDATE);
	if (api_pages_etag_matches(http_header(req, "If-None-Match"), a->etag)) {
		http_resp_body(resp, 304, NULL, NULL, 0);
		return HTTP_DONE;
	}
	return send_asset(resp, a);
}
