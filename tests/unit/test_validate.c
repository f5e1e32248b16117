/*
 * test_validate.c - the one validation module: {field, message} error lists
 * and the 422 problem carrying them, and the "...or reply" checks of path
 * ids, query integers, booleans and enums (each case: accepted value, or
 * the exact 404/422 written), with the bounds the handlers use. Also the
 * store layer's column check and the route table's declared needs.
 */
#include "api/api_routes.h"
#include "http/http.h"
#include "http/validate.h"
#include "core/parse.h"
#include "store/devices.h"
#include "store/store.h"
#include "testlib.h"

#include <limits.h>
#include <stdlib.h>

static struct http_req new_req(void)
{
	struct http_req req;

	memset(&req, 0, sizeof(req));
	snprintf(req.request_id, sizeof(req.request_id), "req-7");
	return req;
}

/* The response body as JSON (NULL when none); resp is reset for the next case. */
static json_t *take(struct http_resp *resp)
{
	json_error_t e;
	json_t *o = resp->body ? json_loadb(resp->body, resp->body_len, 0, &e) : NULL;

	free(resp->body);
	memset(resp, 0, sizeof(*resp));
	return o;
}

/* resp holds 422 validation_failed with exactly the one error {field, message}. */
static void check_one_error(struct http_resp *resp, const char *field, const char *message)
{
	int status = resp->status;
	json_t *o = take(resp);
	json_t *errors = json_object_get(o, "errors");

	CHECK(status == 422);
	CHECK_STR(json_string_value(json_object_get(o, "code")), "validation_failed");
	CHECK_STR(json_string_value(json_object_get(o, "request_id")), "req-7");
	CHECK(json_object_get(o, "detail") == NULL);
	CHECK(json_array_size(errors) == 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 0), "field")), field);
	CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 0), "message")), message);
	json_decref(o);
}

static void test_error_list_and_reply(void)
{
	struct http_req req = new_req();
	struct http_resp resp;
	json_t *errors = json_array();

	memset(&resp, 0, sizeof(resp));
	CHECK(validate_error(errors, "device.locale", "must be a locale such as vi-VN or en"));
	CHECK(validate_errorf(errors, "model", "must be 1 to %zu bytes of UTF-8", (size_t)128));
	CHECK(!validate_error(NULL, "f", "m"));
	char *text = json_dumps(errors, JSON_COMPACT | JSON_PRESERVE_ORDER);
	/* the exact shape event.c and the handlers have always produced */
	CHECK_STR(text, "[{\"field\":\"device.locale\",\"message\":\"must be a locale such as vi-VN or en\"},"
			"{\"field\":\"model\",\"message\":\"must be 1 to 128 bytes of UTF-8\"}]");
	free(text);

	validate_reply(&resp, &req, "the event does not match the schema", errors);
	CHECK(resp.status == 422);
	CHECK_STR(resp.content_type, "application/problem+json");
	CHECK_STR(resp.body,
		  "{\"type\":\"urn:alertd:problem:validation_failed\",\"title\":\"Request failed validation\","
		  "\"status\":422,\"code\":\"validation_failed\",\"detail\":\"the event does not match the schema\","
		  "\"request_id\":\"req-7\",\"errors\":[{\"field\":\"device.locale\",\"message\":\"must be a locale such "
		  "as vi-VN or en\"},{\"field\":\"model\",\"message\":\"must be 1 to 128 bytes of UTF-8\"}]}");
	json_decref(take(&resp));
	CHECK(json_array_size(errors) == 2); /* borrowed */
	json_decref(errors);

	validate_reply_one(&resp, &req, "limit", "must be 1 to 100");
	check_one_error(&resp, "limit", "must be 1 to 100");
}

/* Text cut to fit, on character boundaries, always well-formed UTF-8 (the one helper every error name goes through). */
static void test_utf8_fit(void)
{
	static const struct {
		const char *in;
		size_t outlen;
		const char *out;
	} cases[] = {
		{ "abc", 10, "abc" },
		{ "abcdefghi", 10, "abcdefghi" },	    /* exactly fits */
		{ "abcdefghij", 10, "abcdef\xe2\x80\xa6" }, /* cut: 6 + "…" */
		{ "abcde\xc3\xa9"
		  "fghi",
		  10, "abcde\xe2\x80\xa6" },					/* é would need 2 of the last 4 */
		{ "abcdef\xc3\xa9", 10, "abcdef\xc3\xa9" },			/* 8 bytes: fits */
		{ "abcdefg\xe1\xbb\x9f", 10, "abcdef\xe2\x80\xa6" },		/* never half of ở */
		{ "bad \xff", 10, "bad \xef\xbf\xbd" },				/* a stray byte is U+FFFD */
		{ "a\xc3", 10, "a\xef\xbf\xbd" },				/* cut character */
		{ "\xed\xa0\x80", 20, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate: three stray bytes */
		{ "abcdef", 3, "ab" },						/* no room for "…" */
		{ "abc", 1, "" },
	};
	char out[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'X', sizeof(out));
		size_t n = validate_utf8_fit(out, cases[i].outlen, cases[i].in, strlen(cases[i].in));
		CHECK(n == strlen(out) && n < cases[i].outlen);
		if (strcmp(out, cases[i].out) != 0) {
			fprintf(stderr, "  fit case %zu: \"%s\", expected \"%s\"\n", i, out, cases[i].out);
			tl_current_failed = 1;
		}
		CHECK(parse_utf8_valid(out, n));
	}
	CHECK(validate_utf8_fit(out, 0, "abc", 3) == 0);
}

/*
 * Unknown members are reported however long or odd their name: a name cut
 * inside a character used to make jansson refuse the error, which was then
 * lost and the request passed (issue 11, finding 8).
 */
static void test_member_errors(void)
{
	static const char *const known[] = { "platform", "locale", NULL };
	json_t *errors = json_array();
	json_t *obj = json_object();
	char name[400];
	const char *field;

	/* 69 'a' and an é: the old "%.70s" cut fell inside the é */
	memset(name, 'a', 69);
	snprintf(name + 69, sizeof(name) - 69, "\xc3\xa9");
	json_object_set_new(obj, name, json_integer(1));
	json_object_set_new(obj, "platform", json_string("ios"));
	CHECK(validate_unknown_members(errors, obj, "device.", known));
	CHECK(json_array_size(errors) == 1);
	field = json_string_value(json_object_get(json_array_get(errors, 0), "field"));
	CHECK(field && strncmp(field, "device.aaaa", 11) == 0 && strlen(field) == 7 + 71);
	CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 0), "message")), "unknown field");

	/* longer than VALIDATE_FIELD_MAX: cut on a boundary with "…", still reported */
	memset(name, 'b', 300);
	snprintf(name + 300, sizeof(name) - 300, "\xe1\xbb\x9f");
	CHECK(validate_member_error(errors, "toggles.", name, "unknown alert type"));
	CHECK(json_array_size(errors) == 2);
	field = json_string_value(json_object_get(json_array_get(errors, 1), "field"));
	CHECK(field && strlen(field) <= VALIDATE_FIELD_MAX && strncmp(field, "toggles.bbb", 11) == 0);
	CHECK(field && strcmp(field + strlen(field) - 3, "\xe2\x80\xa6") == 0);

	/* a field or message that is not UTF-8 (a caller's own cut) is still reported */
	CHECK(validate_error(errors, "bad \xff", "msg \xc3"));
	CHECK(json_array_size(errors) == 3);
	CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 2), "field")), "bad \xef\xbf\xbd");
	CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 2), "message")), "msg \xef\xbf\xbd");

	/* nothing unknown: nothing added */
	json_t *fine = json_pack("{s:s,s:s}", "platform", "android", "locale", "vi");
	CHECK(validate_unknown_members(errors, fine, "", known));
	CHECK(json_array_size(errors) == 3);
	/* an error that cannot be added says so */
	CHECK(!validate_unknown_members(NULL, obj, "", known));
	CHECK(!validate_member_error(NULL, "", "x", "m"));
	json_decref(fine);
	json_decref(obj);
	json_decref(errors);
}

static void test_path_id(void)
{
	static const struct {
		const char *value; /* NULL: no such capture */
		bool ok;
		long long id;
	} cases[] = {
		{ "1", true, 1 },
		{ "42", true, 42 },
		{ "999999999999999999", true, 999999999999999999LL },
		{ "0", false, 0 },
		{ "01", false, 0 },
		{ "-1", false, 0 },
		{ "+1", false, 0 },
		{ " 1", false, 0 },
		{ "1 ", false, 0 },
		{ "1e3", false, 0 },
		{ "abc", false, 0 },
		{ "", false, 0 },
		{ "1000000000000000000", false, 0 },
		{ NULL, false, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_req req = new_req();
		struct http_resp resp;
		long long id = -7;

		memset(&resp, 0, sizeof(resp));
		if (cases[i].value) {
			req.match.nparams = 1;
			snprintf(req.match.params[0].name, sizeof(req.match.params[0].name), "id");
			snprintf(req.match.params[0].value, sizeof(req.match.params[0].value), "%s", cases[i].value);
		}
		bool ok = validate_path_id_or_reply(&req, &resp, "id", &id);
		if (ok != cases[i].ok)
			fprintf(stderr, "  path id \"%s\"\n", cases[i].value ? cases[i].value : "(none)");
		CHECK(ok == cases[i].ok);
		if (cases[i].ok) {
			CHECK(id == cases[i].id);
			CHECK(resp.status == 0 && resp.body == NULL); /* nothing written */
		} else {
			CHECK(id == -7); /* left alone */
			CHECK(resp.status == 404);
			json_t *o = take(&resp);
			CHECK_STR(json_string_value(json_object_get(o, "code")), "not_found");
			json_decref(o);
		}
	}
}

/* The bounds of the inbox (api_app_alerts.c) and of the admin unrouted list (api_admin.c). */
static const struct validate_int inbox_limit = { 1, 100, 20, "must be 1 to 100" };
static const struct validate_int inbox_before = { 1, LLONG_MAX, 0, "must be an alert id" };
static const struct validate_int unrouted_limit = { 1, 10000, 100, "must be 1 to 10000" };

static void test_query_int(void)
{
	static const struct {
		const struct validate_int *spec;
		const char *field, *value;
		bool ok;
		long long n;
	} cases[] = {
		{ &inbox_limit, "limit", NULL, true, 20 },
		{ &inbox_limit, "limit", "1", true, 1 },
		{ &inbox_limit, "limit", "100", true, 100 },
		{ &inbox_limit, "limit", "101", false, 0 },
		{ &inbox_limit, "limit", "0", false, 0 },
		{ &inbox_limit, "limit", "05", false, 0 },
		{ &inbox_limit, "limit", "", false, 0 },
		{ &inbox_limit, "limit", "-1", false, 0 },
		{ &inbox_limit, "limit", "ten", false, 0 },
		{ &inbox_before, "before", NULL, true, 0 },
		{ &inbox_before, "before", "123456789", true, 123456789 },
		{ &inbox_before, "before", "0", false, 0 },
		{ &inbox_before, "before", "x", false, 0 },
		{ &unrouted_limit, "limit", NULL, true, 100 },
		{ &unrouted_limit, "limit", "10000", true, 10000 },
		{ &unrouted_limit, "limit", "10001", false, 0 },
		{ &unrouted_limit, "limit", "0", false, 0 },
		/* strtol accepted these until the one decimal parser was used: the stricter rule wins */
		{ &unrouted_limit, "limit", "+5", false, 0 },
		{ &unrouted_limit, "limit", " 5", false, 0 },
		{ &unrouted_limit, "limit", "5 ", false, 0 },
		{ &unrouted_limit, "limit", "007", false, 0 },
		{ &unrouted_limit, "limit", "99999999999999999999", false, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_req req = new_req();
		struct http_resp resp;
		long long n = -7;

		memset(&resp, 0, sizeof(resp));
		bool ok = validate_int_or_reply(&req, &resp, cases[i].field, cases[i].value, cases[i].spec, &n);
		if (ok != cases[i].ok)
			fprintf(stderr, "  %s=\"%s\"\n", cases[i].field, cases[i].value ? cases[i].value : "(absent)");
		CHECK(ok == cases[i].ok);
		if (cases[i].ok) {
			CHECK(n == cases[i].n);
			CHECK(resp.status == 0 && resp.body == NULL);
		} else {
			CHECK(n == -7);
			check_one_error(&resp, cases[i].field, cases[i].spec->message);
		}
	}
}

static void test_query_bool_and_enum(void)
{
	static const struct {
		const char *value;
		bool absent, ok, out;
	} bools[] = {
		{ "true", false, true, true },	  { "1", false, true, true },	  { "false", true, true, false },
		{ "0", true, true, false },	  { NULL, false, true, false },	  { NULL, true, true, true },
		{ "TRUE", false, false, false },  { "yes", false, false, false }, { "", false, false, false },
		{ "true ", false, false, false }, { "2", false, false, false },
	};
	static const char *const langs[] = { "vi", "en", NULL };

	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		struct http_req req = new_req();
		struct http_resp resp;
		bool out = !bools[i].out;

		memset(&resp, 0, sizeof(resp));
		bool ok = validate_bool_or_reply(&req, &resp, "dry_run", bools[i].value, bools[i].absent, &out);
		if (ok != bools[i].ok)
			fprintf(stderr, "  dry_run=\"%s\"\n", bools[i].value ? bools[i].value : "(absent)");
		CHECK(ok == bools[i].ok);
		if (ok)
			CHECK(out == bools[i].out);
		else
			check_one_error(&resp, "dry_run", "must be true or false");
	}

	struct http_req req = new_req();
	struct http_resp resp;
	int which = -7;
	memset(&resp, 0, sizeof(resp));
	CHECK(validate_enum_or_reply(&req, &resp, "lang", "en", langs, 0, "must be vi or en", &which) && which == 1);
	CHECK(validate_enum_or_reply(&req, &resp, "lang", NULL, langs, 0, "must be vi or en", &which) && which == 0);
	CHECK(resp.status == 0);
	which = -7;
	CHECK(!validate_enum_or_reply(&req, &resp, "lang", "fr", langs, 0, "must be vi or en", &which));
	CHECK(which == -7);
	check_one_error(&resp, "lang", "must be vi or en");
	CHECK(!validate_enum_or_reply(&req, &resp, "lang", "EN", langs, 0, "must be vi or en", &which));
	check_one_error(&resp, "lang", "must be vi or en");
}

/* A result whose columns drifted from its enum is refused, never read. */
static void test_store_columns(void)
{
	PGresAttDesc attrs[3];
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	memset(attrs, 0, sizeof(attrs));
	for (int i = 0; i < 3; i++) {
		attrs[i].name = (char *)"c";
		attrs[i].format = 0;
		attrs[i].typid = 25; /* text */
		attrs[i].typlen = -1;
		attrs[i].atttypmod = -1;
	}
	CHECK(res != NULL);
	CHECK(PQsetResultAttrs(res, 3, attrs));
	CHECK(store_columns_ok(res, "test", 3));
	CHECK(!store_columns_ok(res, "test", 2));
	CHECK(!store_columns_ok(res, "test", 4));
	CHECK(PQsetvalue(res, 0, 0, (char *)"12", 2) && PQsetvalue(res, 0, 1, NULL, -1) &&
	      PQsetvalue(res, 0, 2, (char *)"t", 1));
	CHECK(store_int(res, 0, 0) == 12);
	CHECK(store_opt(res, 0, 1) == NULL);
	CHECK_STR(store_opt(res, 0, 0), "12");
	CHECK(store_bool(res, 0, 2) && !store_bool(res, 0, 0));
	PQclear(res);

	char buf[STORE_ID_TEXT];
	CHECK_STR(store_id(buf, 9223372036854775807LL), "9223372036854775807");
	CHECK(store_id(buf, 0) == NULL && store_id(buf, -3) == NULL);
}

/*
 * devices_revoke refuses criteria that could reach devices beyond the
 * caller's: a device id without its user, nothing at all, no reason. It
 * refuses before any SQL, so no connection is needed to show it.
 */
static void test_revoke_criteria_refused(void)
{
	struct devices_revoked out;
	struct devices_revoke unscoped = { .device_id = 5, .reason = "logout" };
	struct devices_revoke nothing = { .reason = "logout" };
	struct devices_revoke no_reason = { .device_id = 5, .user_id = 3 };
	struct devices_revoke platform_alone = { .user_ids = "{3}", .platform = "ios", .reason = "x" };

	CHECK(!devices_revoke(NULL, &unscoped, &out));
	CHECK(!devices_revoke(NULL, &nothing, &out));
	CHECK(!devices_revoke(NULL, &no_reason, &out));
	CHECK(!devices_revoke(NULL, &platform_alone, &out));
	CHECK(out.matched == 0 && out.revoked == 0);
}

/*
 * The needs the real table declares: ingest answers while suspended and
 * must not hold a pooled connection meanwhile; every admin and app route
 * reads the database through the request's connection; only the roster is
 * an upload.
 */
static void test_route_needs(void)
{
	size_t n;
	const struct route *routes = api_routes(&n);

	for (size_t i = 0; i < n; i++) {
		const struct route *r = &routes[i];
		bool db = (r->needs & ROUTE_DB) != 0;
		if (r->auth == AUTH_INGEST)
			CHECK(!db);
		if (r->auth == AUTH_ADMIN_ROSTER || r->auth == AUTH_ADMIN_ACTIVATION || r->auth == AUTH_ADMIN_UNROUTED ||
		    r->auth == AUTH_APP || r->auth == AUTH_ACTIVATION_CODE)
			CHECK(db);
		CHECK(((r->needs & ROUTE_UPLOAD) != 0) == (strcmp(r->pattern, "/v1/admin/roster") == 0));
		CHECK((r->needs & ~(unsigned)(ROUTE_UPLOAD | ROUTE_JSON | ROUTE_DB)) == 0);
		/* a file upload is not a JSON body */
		CHECK(!((r->needs & ROUTE_UPLOAD) && (r->needs & ROUTE_JSON)));
	}
}

int main(void)
{
	RUN(test_error_list_and_reply);
	RUN(test_utf8_fit);
	RUN(test_member_errors);
	RUN(test_path_id);
	RUN(test_query_int);
	RUN(test_query_bool_and_enum);
	RUN(test_store_columns);
	RUN(test_revoke_criteria_refused);
	RUN(test_route_needs);
	TEST_SUMMARY("test_validate");
}
