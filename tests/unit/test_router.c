/*
 * test_router.c - path matching, 404/405 decisions, and the rule that every
 * route other than the health checks declares its authentication.
 */
#include "api/api_routes.h"
#include "http/router.h"
#include "testlib.h"

static enum http_outcome h(const struct app *a, struct http_req *q, struct http_resp *r)
{
	(void)a;
	(void)q;
	(void)r;
	return HTTP_DONE;
}

static const struct route table[] = {
	{ "GET", "/healthz", h, AUTH_NONE, false },
	{ "POST", "/v1/ingest/{source}/events", h, AUTH_INGEST, false },
	{ "POST", "/v1/ingest/{source}/events/batch", h, AUTH_INGEST, false },
	{ "GET", "/v1/app/alerts/{id}", h, AUTH_APP, false },
	{ "POST", "/v1/app/alerts/{id}/read", h, AUTH_APP, false },
	{ "DELETE", "/v1/app/devices/{id}", h, AUTH_APP, false },
	{ "GET", "/v1/app/devices", h, AUTH_APP, false },
	{ "PUT", "/v1/app/device", h, AUTH_APP, false },
	{ "DELETE", "/v1/app/device", h, AUTH_APP, false },
};
#define N (sizeof(table) / sizeof(table[0]))

static enum router_result match(const char *method, const char *path, struct route_match *m, char *allow)
{
	return router_match(table, N, method, path, m, allow, 64);
}

static void test_literal_and_params(void)
{
	struct route_match m;
	char allow[64];

	CHECK(match("GET", "/healthz", &m, allow) == ROUTER_OK);
	CHECK(m.index == 0 && m.nparams == 0);
	CHECK(match("POST", "/v1/ingest/tabmis/events", &m, allow) == ROUTER_OK);
	CHECK(m.index == 1);
	CHECK_STR(router_param(&m, "source"), "tabmis");
	CHECK(router_param(&m, "nope") == NULL);
	CHECK(match("POST", "/v1/ingest/tabmis/events/batch", &m, allow) == ROUTER_OK);
	CHECK(m.index == 2);
	CHECK(match("POST", "/v1/app/alerts/42/read", &m, allow) == ROUTER_OK);
	CHECK_STR(router_param(&m, "id"), "42");
}

static void test_not_found(void)
{
	struct route_match m;
	char allow[64];

	CHECK(match("GET", "/nope", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("GET", "/healthz/", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("GET", "//healthz", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("GET", "/", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("GET", "", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("GET", "healthz", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("POST", "/v1/ingest//events", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("POST", "/v1/ingest/../events", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("POST", "/v1/ingest/./events", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("POST", "/v1/ingest/a/events/batch/more", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("GET", "/HEALTHZ", &m, allow) == ROUTER_NOT_FOUND);

	char longseg[200];
	char path[260];
	memset(longseg, 'a', 129);
	longseg[129] = '\0';
	snprintf(path, sizeof(path), "/v1/ingest/%s/events", longseg);
	CHECK(match("POST", path, &m, allow) == ROUTER_NOT_FOUND);
	longseg[128] = '\0';
	snprintf(path, sizeof(path), "/v1/ingest/%s/events", longseg);
	CHECK(match("POST", path, &m, allow) == ROUTER_OK);
}

static void test_method_not_allowed(void)
{
	struct route_match m;
	char allow[64];

	CHECK(match("POST", "/healthz", &m, allow) == ROUTER_METHOD_NOT_ALLOWED);
	CHECK_STR(allow, "GET, HEAD");
	CHECK(match("GET", "/v1/ingest/x/events", &m, allow) == ROUTER_METHOD_NOT_ALLOWED);
	CHECK_STR(allow, "POST");
	CHECK(match("POST", "/v1/app/device", &m, allow) == ROUTER_METHOD_NOT_ALLOWED);
	CHECK_STR(allow, "PUT, DELETE");
	CHECK(match("HEAD", "/healthz", &m, allow) == ROUTER_OK);
	CHECK(match("DELETE", "/v1/app/devices/7", &m, allow) == ROUTER_OK);
	CHECK_STR(router_param(&m, "id"), "7");
}

/* The real table: only /healthz and /readyz may be open, and both must exist. */
static void test_every_route_declares_auth(void)
{
	size_t n;
	const struct route *routes = api_routes(&n);
	int health = 0;

	CHECK(n > 0);
	for (size_t i = 0; i < n; i++) {
		if (router_auth_exempt(routes[i].pattern)) {
			health++;
			CHECK(routes[i].auth == AUTH_NONE);
			continue;
		}
		if (routes[i].auth == AUTH_NONE)
			fprintf(stderr, "  route %s %s declares no authentication\n", routes[i].method, routes[i].pattern);
		CHECK(routes[i].auth != AUTH_NONE);
		CHECK(routes[i].handler != NULL);
		for (size_t j = i + 1; j < n; j++)
			CHECK(strcmp(routes[i].method, routes[j].method) != 0 ||
			      strcmp(routes[i].pattern, routes[j].pattern) != 0);
	}
	CHECK(health == 2);
	CHECK(router_auth_exempt("/healthz") && router_auth_exempt("/readyz") && !router_auth_exempt("/metrics"));
}

int main(void)
{
	RUN(test_literal_and_params);
	RUN(test_not_found);
	RUN(test_method_not_allowed);
	RUN(test_every_route_declares_auth);
	TEST_SUMMARY("test_router");
}
