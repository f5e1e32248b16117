/*
 * test_router.c - path matching, 404/405 decisions, captures that must be
 * well-formed UTF-8 without control characters, the raw request target's
 * checks (encoded NUL, length, number of query arguments), and the rule
 * that every route other than the health checks declares its authentication.
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

/* A capture is well-formed UTF-8 without controls: anything else is no resource at all (404). */
static void test_captures_are_utf8(void)
{
	static const struct {
		const char *source;
		bool ok;
	} cases[] = {
		{ "t\xc3\xa0i", true },	      /* "tài" */
		{ "\xe1\xbb\x9f", true },     /* ở */
		{ "\xf0\x9f\x98\x80", true }, /* U+1F600 */
		{ "a b", true },	      /* a space names no source, but is text: the handler says 404 */
		{ "\xff", false },
		{ "a\xc3", false },	       /* cut character */
		{ "\xc3\xa0\xa0", false },     /* stray continuation byte */
		{ "\xc0\xaf", false },	       /* overlong '/' */
		{ "\xe0\x80\xaf", false },     /* overlong '/' */
		{ "\xed\xa0\x80", false },     /* UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", false }, /* above U+10FFFF */
		{ "a\x01"
		  "b",
		  false },
		{ "a\x1f", false },
		{ "\x7f", false },
		{ "a\tb", false },
	};
	struct route_match m;
	char allow[64], path[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "/v1/ingest/%s/events", cases[i].source);
		enum router_result r = match("POST", path, &m, allow);
		if ((r == ROUTER_OK) != cases[i].ok) {
			fprintf(stderr, "  capture case %zu: expected %s\n", i, cases[i].ok ? "a match" : "no match");
			tl_current_failed = 1;
		}
		if (r == ROUTER_OK)
			CHECK_STR(router_param(&m, "source"), cases[i].source);
	}
	CHECK(match("GET", "/v1/app/alerts/\xff", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("POST", "/v1/app/alerts/\xff/read", &m, allow) == ROUTER_NOT_FOUND);
}

/* The raw target, as received: %00 anywhere is a NUL once decoded; length and argument count are capped. */
static void test_raw_target(void)
{
	char big[ROUTER_MAX_TARGET + 2];

	CHECK(router_check_target("/healthz") == ROUTER_TARGET_OK);
	CHECK(router_check_target("/v1/app/alerts?limit=5&before=9") == ROUTER_TARGET_OK);
	CHECK(router_check_target("/healthz?") == ROUTER_TARGET_OK);
	CHECK(router_check_target("/healthz%00") == ROUTER_TARGET_NUL);
	CHECK(router_check_target("/v1/app/alerts/1%00junk") == ROUTER_TARGET_NUL);
	CHECK(router_check_target("/v1/app/alerts?limit=1%00") == ROUTER_TARGET_NUL);
	CHECK(router_check_target("/v1/app/alerts?%00=1") == ROUTER_TARGET_NUL);
	CHECK(router_check_target("/healthz%2500") == ROUTER_TARGET_OK); /* the text "%00" */
	CHECK(router_check_target("/healthz%0") == ROUTER_TARGET_OK);

	/* ROUTER_MAX_QUERY_PARAMS arguments pass, one more does not; empty ones count, as libmicrohttpd stores them */
	char q[400] = "/healthz?";
	for (int i = 1; i < ROUTER_MAX_QUERY_PARAMS; i++)
		strcat(q, "a=1&");
	strcat(q, "z=1");
	CHECK(router_check_target(q) == ROUTER_TARGET_OK);
	strcat(q, "&");
	CHECK(router_check_target(q) == ROUTER_TARGET_TOO_MANY_PARAMS);
	snprintf(q, sizeof(q), "/healthz?%s", "&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&");
	CHECK(router_check_target(q) == ROUTER_TARGET_TOO_MANY_PARAMS);

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[ROUTER_MAX_TARGET] = '\0';
	CHECK(router_check_target(big) == ROUTER_TARGET_OK);
	big[ROUTER_MAX_TARGET] = 'a';
	big[ROUTER_MAX_TARGET + 1] = '\0';
	CHECK(router_check_target(big) == ROUTER_TARGET_TOO_LONG);
}

/*
 * The real table: only /healthz and /readyz may be open, and both must
 * exist; AUTH_PAGE (the dashboard's data-free files) only on GET routes
 * under /staff that ask for no body and no database, and every /staff route
 * is one of those.
 */
static void test_every_route_declares_auth(void)
{
	size_t n;
	const struct route *routes = api_routes(&n);
	int health = 0, pages = 0;

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
		if (routes[i].auth == AUTH_PAGE || router_page_pattern(routes[i].pattern)) {
			pages++;
			if (routes[i].auth != AUTH_PAGE || !router_page_pattern(routes[i].pattern) ||
			    strcmp(routes[i].method, "GET") != 0 || routes[i].needs != 0)
				fprintf(stderr,
					"  route %s %s: AUTH_PAGE is for GET routes under /staff without body or "
					"database, and only those\n",
					routes[i].method, routes[i].pattern);
			CHECK(routes[i].auth == AUTH_PAGE && router_page_pattern(routes[i].pattern));
			CHECK(strcmp(routes[i].method, "GET") == 0 && routes[i].needs == 0);
		}
		CHECK(routes[i].handler != NULL);
		for (size_t j = i + 1; j < n; j++)
			CHECK(strcmp(routes[i].method, routes[j].method) != 0 ||
			      strcmp(routes[i].pattern, routes[j].pattern) != 0);
	}
	CHECK(health == 2);
	CHECK(pages == 3);
	CHECK(router_auth_exempt("/healthz") && router_auth_exempt("/readyz") && !router_auth_exempt("/metrics"));
	CHECK(router_page_pattern("/staff") && router_page_pattern("/staff/") && router_page_pattern("/staff/assets/{file}"));
	CHECK(!router_page_pattern("/staffx") && !router_page_pattern("/v1/staff/me") &&
	      !router_page_pattern("/stafF/") && !router_page_pattern("/"));
}

/* The dashboard's shell is "/staff/": a pattern's own trailing slash matches exactly that spelling. */
static void test_trailing_slash_pattern(void)
{
	static const struct route pages[] = {
		{ "GET", "/staff", h, AUTH_PAGE, 0 },
		{ "GET", "/staff/", h, AUTH_PAGE, 0 },
		{ "GET", "/staff/assets/{file}", h, AUTH_PAGE, 0 },
	};
	struct route_match m;
	char allow[64];

	CHECK(router_match(pages, 3, "GET", "/staff", &m, allow, sizeof(allow)) == ROUTER_OK && m.index == 0);
	CHECK(router_match(pages, 3, "GET", "/staff/", &m, allow, sizeof(allow)) == ROUTER_OK && m.index == 1);
	CHECK(router_match(pages, 3, "HEAD", "/staff/", &m, allow, sizeof(allow)) == ROUTER_OK && m.index == 1);
	CHECK(router_match(pages, 3, "GET", "/staff/assets/app.js", &m, allow, sizeof(allow)) == ROUTER_OK && m.index == 2);
	CHECK_STR(router_param(&m, "file"), "app.js");
	CHECK(router_match(pages, 3, "POST", "/staff/", &m, allow, sizeof(allow)) == ROUTER_METHOD_NOT_ALLOWED);
	CHECK_STR(allow, "GET, HEAD");
	CHECK(router_match(pages, 3, "GET", "/staff//", &m, allow, sizeof(allow)) == ROUTER_NOT_FOUND);
	CHECK(router_match(pages, 3, "GET", "//staff/", &m, allow, sizeof(allow)) == ROUTER_NOT_FOUND);
	CHECK(router_match(pages, 3, "GET", "/staff/assets/", &m, allow, sizeof(allow)) == ROUTER_NOT_FOUND);
	CHECK(router_match(pages, 3, "GET", "/staff/assets//", &m, allow, sizeof(allow)) == ROUTER_NOT_FOUND);
	CHECK(router_match(pages, 3, "GET", "/staff/assets/..", &m, allow, sizeof(allow)) == ROUTER_NOT_FOUND);
	CHECK(router_match(pages, 3, "GET", "/staff/assets/app.js/", &m, allow, sizeof(allow)) == ROUTER_NOT_FOUND);
	/* the rest of the table keeps its one spelling: no trailing slash */
	CHECK(match("GET", "/healthz/", &m, allow) == ROUTER_NOT_FOUND);
	CHECK(match("GET", "/v1/app/devices/", &m, allow) == ROUTER_NOT_FOUND);
}

/*
 * The credential kinds that let the handler check the body themselves are
 * each allowed on exactly one route: a staff or app route tagged with one
 * by mistake would be open to anyone. Every other /v1/staff/ route needs a
 * staff session, and no other kind may be used under /v1/staff/.
 */
static void test_body_credentials_only_where_meant(void)
{
	size_t n;
	const struct route *routes = api_routes(&n);
	int staff_password = 0, activation_code = 0;

	for (size_t i = 0; i < n; i++) {
		const struct route *r = &routes[i];
		bool staff = strncmp(r->pattern, "/v1/staff/", 10) == 0;
		if (r->auth == AUTH_STAFF_PASSWORD) {
			staff_password++;
			CHECK(strcmp(r->method, "POST") == 0 && strcmp(r->pattern, "/v1/staff/session") == 0);
		} else if (r->auth == AUTH_ACTIVATION_CODE) {
			activation_code++;
			CHECK(strcmp(r->method, "POST") == 0 && strcmp(r->pattern, "/v1/app/activate") == 0);
		} else if (staff && r->auth != AUTH_STAFF && r->auth != AUTH_STAFF_READ) {
			fprintf(stderr, "  staff route %s %s does not require a staff session\n", r->method, r->pattern);
			CHECK(r->auth == AUTH_STAFF || r->auth == AUTH_STAFF_READ);
		}
	}
	CHECK(staff_password == 1);
	CHECK(activation_code == 1);
}

/* The staff routes that are about the caller's own sign-in, not about data of an office. */
static bool own_signin_route(const char *pattern)
{
	static const char *const own[] = { "/v1/staff/session", "/v1/staff/password", "/v1/staff/me", "/v1/staff/reauth",
					   NULL };

	for (size_t i = 0; own[i]; i++)
		if (strcmp(pattern, own[i]) == 0)
			return true;
	return strncmp(pattern, "/v1/staff/totp/", 15) == 0;
}

/*
 * Every staff route with data checks the office scope, which needs the
 * caller's office (set by AUTH_STAFF and AUTH_STAFF_READ) and the database
 * (alertd_office_in_scope): so each declares one of those two kinds and
 * ROUTE_DB. A key may only read: AUTH_STAFF_READ is for GET routes only,
 * and the admin key kinds only for /v1/admin/.
 */
static void test_staff_data_routes_check_scope(void)
{
	size_t n;
	const struct route *routes = api_routes(&n);
	int data = 0;

	for (size_t i = 0; i < n; i++) {
		const struct route *r = &routes[i];
		bool staff = strncmp(r->pattern, "/v1/staff/", 10) == 0;
		bool admin_kind = r->auth == AUTH_ADMIN_ROSTER || r->auth == AUTH_ADMIN_ACTIVATION ||
				  r->auth == AUTH_ADMIN_UNROUTED;
		if (admin_kind && strncmp(r->pattern, "/v1/admin/", 10) != 0) {
			fprintf(stderr, "  route %s %s takes an admin key outside /v1/admin/\n", r->method, r->pattern);
			CHECK(!admin_kind);
		}
		if (r->auth == AUTH_STAFF_READ && (!staff || strcmp(r->method, "GET") != 0)) {
			fprintf(stderr, "  route %s %s lets a read key do more than read staff data\n", r->method, r->pattern);
			CHECK(staff && strcmp(r->method, "GET") == 0);
		}
		if (!staff || own_signin_route(r->pattern))
			continue;
		data++;
		bool scoped = (r->auth == AUTH_STAFF || r->auth == AUTH_STAFF_READ) && (r->needs & ROUTE_DB);
		if (!scoped)
			fprintf(stderr, "  staff data route %s %s cannot check the office scope (auth %s, needs %#x)\n",
				r->method, r->pattern, router_auth_name(r->auth), r->needs);
		CHECK(scoped);
	}
	CHECK(data >= 2); /* at least the activation code and the role change */
	CHECK(own_signin_route("/v1/staff/totp/enrol") && !own_signin_route("/v1/staff/users/{login}/activation-code"));
}

int main(void)
{
	RUN(test_literal_and_params);
	RUN(test_not_found);
	RUN(test_method_not_allowed);
	RUN(test_captures_are_utf8);
	RUN(test_raw_target);
	RUN(test_every_route_declares_auth);
	RUN(test_trailing_slash_pattern);
	RUN(test_body_credentials_only_where_meant);
	RUN(test_staff_data_routes_check_scope);
	TEST_SUMMARY("test_router");
}
