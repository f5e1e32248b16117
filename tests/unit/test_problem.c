/*
 * test_problem.c - RFC 9457 rendering, the stable code catalogue, and the
 * small input helpers next to it: JSON body limits, request ids, bearer
 * tokens and the capped buffer.
 */
#include "http/auth.h"
#include "core/buf.h"
#include "http/http.h"
#include "http/jsonbody.h"
#include "http/problem.h"
#include "testlib.h"

#include <stdlib.h>

static void test_render_fields(void)
{
	size_t len = 0;
	char *text = problem_render(PROBLEM_NOT_FOUND, "no such thing", "req-1", NULL, &len);
	json_error_t e;
	json_t *o = text ? json_loads(text, 0, &e) : NULL;

	CHECK(o != NULL);
	CHECK(len == strlen(text));
	CHECK_STR(json_string_value(json_object_get(o, "type")), "urn:alertd:problem:not_found");
	CHECK_STR(json_string_value(json_object_get(o, "title")), "Not found");
	CHECK(json_integer_value(json_object_get(o, "status")) == 404);
	CHECK_STR(json_string_value(json_object_get(o, "code")), "not_found");
	CHECK_STR(json_string_value(json_object_get(o, "detail")), "no such thing");
	CHECK_STR(json_string_value(json_object_get(o, "request_id")), "req-1");
	json_decref(o);
	free(text);
}

static void test_render_extra_and_bad_utf8(void)
{
	json_t *extra = json_pack("{s:[{s:s,s:s}],s:i}", "errors", "field", "data.amount", "message",
				  "must be an integer", "status", 200);
	char *text = problem_render(PROBLEM_VALIDATION_FAILED, "bad \xff utf8", NULL, extra, NULL);
	json_error_t e;
	json_t *o = text ? json_loads(text, 0, &e) : NULL;

	CHECK(o != NULL);
	/* an extension member never overrides a standard one */
	CHECK(json_integer_value(json_object_get(o, "status")) == 422);
	CHECK(json_array_size(json_object_get(o, "errors")) == 1);
	/* invalid UTF-8 detail is dropped, the document still renders */
	CHECK(json_object_get(o, "detail") == NULL);
	CHECK(json_object_get(o, "request_id") == NULL);
	CHECK(json_object_get(extra, "errors") != NULL); /* borrowed, not stolen */
	json_decref(o);
	json_decref(extra);
	free(text);
}

static void test_catalogue_is_stable_and_unique(void)
{
	for (int i = 0; i < PROBLEM__COUNT; i++) {
		const struct problem_def *d = problem_def((enum problem_code)i);
		CHECK(d->code && d->title);
		CHECK(d->status >= 400 && d->status <= 599);
		for (int j = i + 1; j < PROBLEM__COUNT; j++)
			CHECK(strcmp(d->code, problem_def((enum problem_code)j)->code) != 0);
	}
	CHECK(problem_def(PROBLEM_PAYLOAD_TOO_LARGE)->status == 413);
	CHECK(problem_def(PROBLEM_METHOD_NOT_ALLOWED)->status == 405);
	CHECK(problem_def(PROBLEM_DATABASE_UNAVAILABLE)->status == 503);
	CHECK_STR(problem_def((enum problem_code)999)->code, "internal_error");
}

static void test_json_limits(void)
{
	char err[200];
	json_t *v;

	v = jsonbody_parse("{\"a\":[1,{\"b\":2}]}", 17, 3, err, sizeof(err));
	CHECK(v != NULL);
	CHECK(v && jsonbody_depth(v) == 3);
	json_decref(v);
	CHECK(jsonbody_parse("{\"a\":[1,{\"b\":[]}]}", 18, 3, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "deeper than 3");
	CHECK(jsonbody_parse("{\"a\":1,\"a\":2}", 13, 8, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "duplicate");
	CHECK(jsonbody_parse("", 0, 8, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "empty");
	CHECK(jsonbody_parse("{\"a\":", 5, 8, err, sizeof(err)) == NULL);
	CHECK(jsonbody_parse("{} trailing", 11, 8, err, sizeof(err)) == NULL);
	CHECK(jsonbody_parse("\"\xff\"", 3, 8, err, sizeof(err)) == NULL);
	CHECK(jsonbody_parse("{\"a\":\"\xc3\"}", 9, 8, err, sizeof(err)) == NULL);
	/* not NUL-terminated input is read only up to len */
	const char unterminated[] = { '{', '}', 'x' };
	v = jsonbody_parse(unterminated, 2, 8, err, sizeof(err));
	CHECK(v != NULL);
	json_decref(v);
	char deep[5000];
	for (int i = 0; i < 2500; i++) {
		deep[i] = '[';
		deep[4999 - i] = ']';
	}
	CHECK(jsonbody_parse(deep, sizeof(deep), 32, err, sizeof(err)) == NULL);
}

static void test_request_id(void)
{
	CHECK(http_request_id_valid("abc-123_X.y"));
	CHECK(!http_request_id_valid(""));
	CHECK(!http_request_id_valid("has space"));
	CHECK(!http_request_id_valid("new\nline"));
	CHECK(!http_request_id_valid("quote\""));
	char id[80];
	memset(id, 'a', 64);
	id[64] = '\0';
	CHECK(http_request_id_valid(id));
	id[64] = 'a';
	id[65] = '\0';
	CHECK(!http_request_id_valid(id));
}

static void test_bearer(void)
{
	const char *t;
	size_t n;

	CHECK(auth_bearer_token("Bearer abc", &t, &n) && n == 3 && strncmp(t, "abc", 3) == 0);
	CHECK(auth_bearer_token("bearer  abc  ", &t, &n) && n == 3);
	CHECK(!auth_bearer_token("Basic abc", &t, &n));
	CHECK(!auth_bearer_token("Bearer ", &t, &n));
	CHECK(!auth_bearer_token("Bearerabc", &t, &n));
	CHECK(!auth_bearer_token(NULL, &t, &n));
	char big[600] = "Bearer ";
	memset(big + 7, 'x', 513);
	big[520] = '\0';
	CHECK(!auth_bearer_token(big, &t, &n));
}

static void test_buf_cap(void)
{
	struct buf b;
	size_t len;

	buf_init(&b, 10);
	CHECK(buf_append(&b, "12345", 5));
	CHECK(buf_printf(&b, "%d", 6789));
	CHECK(b.len == 9 && strcmp(b.data, "123456789") == 0);
	CHECK(!buf_append(&b, "ab", 2));
	CHECK(!buf_ok(&b));
	CHECK(!buf_append(&b, "a", 1)); /* stays failed */
	CHECK(buf_steal(&b, &len) == NULL);
	buf_init(&b, 1000);
	CHECK(buf_printf(&b, "%0300d", 1));
	char *s = buf_steal(&b, &len);
	CHECK(s && len == 300 && strlen(s) == 300);
	free(s);
}

int main(void)
{
	RUN(test_render_fields);
	RUN(test_render_extra_and_bad_utf8);
	RUN(test_catalogue_is_stable_and_unique);
	RUN(test_json_limits);
	RUN(test_request_id);
	RUN(test_bearer);
	RUN(test_buf_cap);
	TEST_SUMMARY("test_problem");
}
