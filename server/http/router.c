/*
 * router.c - match a request path against the routing table.
 *
 * Matching walks pattern and path segment by segment; no regular
 * expressions, no allocation. Paths with empty segments ("//", trailing "/")
 * or dot segments never match (but a trailing "/" the pattern itself has,
 * as the dashboard's "/staff/" does), so there is exactly one spelling per resource,
 * and a capture that is not well-formed UTF-8 or holds a control character
 * matches nothing: no handler, query or log line ever sees such bytes.
 */
#include "http/router.h"
#include "core/parse.h"

#include <stdio.h>
#include <string.h>

static bool segment_ok(const char *seg, size_t len)
{
	if (len == 0)
		return false;
	if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
		return false;
	return true;
}

/* A capture's text: well-formed UTF-8 without C0 controls or DEL. */
static bool capture_ok(const char *seg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)seg[i] < 0x20 || seg[i] == 0x7f)
			return false;
	return parse_utf8_valid(seg, len);
}

/* Returns true and fills captures when path matches pattern. */
static bool match_one(const char *pattern, const char *path, struct route_match *m)
{
	const char *p = pattern, *s = path;

	m->nparams = 0;
	if (*p != '/' || *s != '/')
		return false;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		/* a pattern's final '/' (the dashboard's "/staff/") matches a path that ends there too */
		if (*p == '\0')
			return *s == '\0';
		const char *pend = strchr(p, '/');
		const char *send = strchr(s, '/');
		size_t plen = pend ? (size_t)(pend - p) : strlen(p);
		size_t slen = send ? (size_t)(send - s) : strlen(s);

		if (!segment_ok(s, slen))
			return false;
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (m->nparams >= ROUTER_MAX_PARAMS || slen > ROUTER_MAX_PARAM_LEN ||
			    plen - 2 >= sizeof(m->params[0].name) || !capture_ok(s, slen))
				return false;
			struct route_param *rp = &m->params[m->nparams++];
			memcpy(rp->name, p + 1, plen - 2);
			rp->name[plen - 2] = '\0';
			memcpy(rp->value, s, slen);
			rp->value[slen] = '\0';
		} else if (plen != slen || memcmp(p, s, plen) != 0) {
			return false;
		}
		p += plen;
		s += slen;
	}
	return *p == '\0' && *s == '\0';
}

static bool method_matches(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return true;
	/* HEAD is served by the GET handler; the HTTP layer drops the body. */
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

static void add_allow(char *allow, size_t allowlen, const char *method)
{
	size_t used = strlen(allow);

	if (strstr(allow, method))
		return;
	snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", method);
}

enum router_result router_match(const struct route *routes, size_t n, const char *method, const char *path,
				struct route_match *m, char *allow, size_t allowlen)
{
	struct route_match tmp;
	bool path_seen = false;

	if (allowlen)
		allow[0] = '\0';
	if (strlen(path) > ROUTER_MAX_PATH)
		return ROUTER_NOT_FOUND;
	for (size_t i = 0; i < n; i++) {
		if (!match_one(routes[i].pattern, path, &tmp))
			continue;
		if (method_matches(routes[i].method, method)) {
			*m = tmp;
			m->route = &routes[i];
			m->index = i;
			return ROUTER_OK;
		}
		path_seen = true;
		if (allowlen) {
			add_allow(allow, allowlen, routes[i].method);
			if (strcmp(routes[i].method, "GET") == 0)
				add_allow(allow, allowlen, "HEAD");
		}
	}
	return path_seen ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}

enum router_target router_check_target(const char *target)
{
	const char *query = strchr(target, '?');
	size_t params = 0;

	/* libmicrohttpd decodes %00 into a NUL that silently ends the path or value */
	if (strstr(target, "%00"))
		return ROUTER_TARGET_NUL;
	if (strlen(target) > ROUTER_MAX_TARGET)
		return ROUTER_TARGET_TOO_LONG;
	if (query && query[1]) /* one argument, and one more after each '&' (empty ones included) */
		for (const char *p = query; p; p = strchr(p + 1, '&'))
			if (++params > ROUTER_MAX_QUERY_PARAMS)
				return ROUTER_TARGET_TOO_MANY_PARAMS;
	return ROUTER_TARGET_OK;
}

const char *router_param(const struct route_match *m, const char *name)
{
	for (int i = 0; i < m->nparams; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return m->params[i].value;
	return NULL;
}

bool router_auth_exempt(const char *pattern)
{
	return strcmp(pattern, "/healthz") == 0 || strcmp(pattern, "/readyz") == 0;
}

bool router_page_pattern(const char *pattern)
{
	return strncmp(pattern, "/staff", 6) == 0 && (pattern[6] == '\0' || pattern[6] == '/');
}

const char *router_auth_name(enum auth_kind auth)
{
	switch (auth) {
	case AUTH_NONE:
		return "none";
	case AUTH_METRICS:
		return "metrics-token";
	case AUTH_ADMIN_ROSTER:
		return "admin-key:roster";
	case AUTH_ADMIN_ACTIVATION:
		return "admin-key:activation";
	case AUTH_ADMIN_UNROUTED:
		return "admin-key:unrouted";
	case AUTH_APP:
		return "app-token";
	case AUTH_INGEST:
		return "ingest-signature";
	case AUTH_STAFF:
		return "staff-session";
	case AUTH_STAFF_READ:
		return "staff-session-or-read-key";
	case AUTH_ACTIVATION_CODE:
		return "activation-code";
	case AUTH_STAFF_PASSWORD:
		return "staff-password";
	case AUTH_PAGE:
		return "page";
	}
	return "unknown";
}
