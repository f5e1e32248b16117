/*
 * fuzz_router.c - libFuzzer harness for the router against alertd's real
 * routing table (api_routes): the input is "METHOD PATH", split at the first
 * space, the path ending at the first NUL as the URL libmicrohttpd hands
 * over. The allow buffer has the size http.c gives it. Checked besides
 * crashes: a match names the row it returns, with a method that fits and
 * captures of 1-128 bytes without '/'; substituting the captures into the
 * pattern gives back the path exactly (one spelling per resource); a 405's
 * Allow list is non-empty and every method in it matches the path.
 */
#include "api/api_routes.h"
#include "fuzz.h"
#include "http/router.h"

#include <string.h>

#define ALLOW_LEN 64 /* as struct request_ctx in http.c */

static const struct route *routes;
static size_t nroutes;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	routes = api_routes(&nroutes);
	return 0;
}

/* The pattern with each {name} replaced by its capture, into out. */
static void rebuild(const struct route_match *m, char *out, size_t cap)
{
	const char *p = m->route->pattern;
	size_t used = 0;
	int k = 0;

	while (*p) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			REQUIRE(close && k < m->nparams);
			REQUIRE(strlen(m->params[k].name) == (size_t)(close - p - 1) &&
				memcmp(m->params[k].name, p + 1, (size_t)(close - p - 1)) == 0);
			size_t n = strlen(m->params[k].value);
			REQUIRE(used + n < cap);
			memcpy(out + used, m->params[k].value, n);
			used += n;
			k++;
			p = close + 1;
			continue;
		}
		REQUIRE(used + 1 < cap);
		out[used++] = *p++;
	}
	REQUIRE(k == m->nparams);
	out[used] = '\0';
}

static void check_match(const struct route_match *m, const char *method, const char *path)
{
	static char rebuilt[ROUTER_MAX_PATH + 2];

	REQUIRE(m->index < nroutes && m->route == &routes[m->index]);
	REQUIRE(strcmp(m->route->method, method) == 0 ||
		(strcmp(method, "HEAD") == 0 && strcmp(m->route->method, "GET") == 0));
	REQUIRE(m->nparams >= 0 && m->nparams <= ROUTER_MAX_PARAMS);
	for (int i = 0; i < m->nparams; i++) {
		const char *v = m->params[i].value;
		REQUIRE(*v && strlen(v) <= ROUTER_MAX_PARAM_LEN && !strchr(v, '/'));
		REQUIRE(strcmp(v, ".") != 0 && strcmp(v, "..") != 0);
		REQUIRE(router_param(m, m->params[i].name) == v);
	}
	rebuild(m, rebuilt, sizeof(rebuilt));
	REQUIRE(strcmp(rebuilt, path) == 0);
}

static void check_allow(const char *allow, const char *path)
{
	char copy[ALLOW_LEN];
	char *save = NULL;
	struct route_match m;

	REQUIRE(allow[0] != '\0' && memchr(allow, '\0', ALLOW_LEN));
	snprintf(copy, sizeof(copy), "%s", allow);
	for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		REQUIRE(router_match(routes, nroutes, tok, path, &m, NULL, 0) == ROUTER_OK);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char method[32], path[4096];
	const unsigned char *sp = memchr(data, ' ', size);
	struct route_match m;
	char allow[ALLOW_LEN];

	if (!sp || (size_t)(sp - data) >= sizeof(method) || size - (size_t)(sp - data) - 1 >= sizeof(path))
		return 0;
	memcpy(method, data, (size_t)(sp - data));
	method[sp - data] = '\0';
	memcpy(path, sp + 1, size - (size_t)(sp - data) - 1);
	path[size - (size_t)(sp - data) - 1] = '\0';

	memset(&m, 0, sizeof(m));
	switch (router_match(routes, nroutes, method, path, &m, allow, sizeof(allow))) {
	case ROUTER_OK:
		check_match(&m, method, path);
		break;
	case ROUTER_METHOD_NOT_ALLOWED:
		check_allow(allow, path);
		break;
	case ROUTER_NOT_FOUND:
		break;
	default:
		REQUIRE(!"router_match returned something else");
	}
	return 0;
}
