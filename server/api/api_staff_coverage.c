/*
 * api_staff_coverage.c - the staff coverage routes (see api_staff_coverage.h).
 */
#include "api/api_staff_coverage.h"
#include "core/app.h"
#include "core/config.h"
#include "core/parse.h"
#include "http/validate.h"
#include "staff/coverage.h"

#include <stdlib.h>
#include <string.h>

static const struct validate_int units_limit = { 1, 200, 50, "must be 1 to 200" };
static const struct validate_int trend_days = { 1, 366, 90, "must be 1 to 366" };

/*
 * ?office= (default: the caller's own office). A value that cannot be an
 * office code names no office: 404 like an unknown or out-of-scope one.
 */
static bool office_or_reply(const struct http_req *req, struct http_resp *resp, const char **office)
{
	const char *o = http_query(req, "office");

	if (!o)
		o = req->scope_office;
	if (strlen(o) != 4 || strspn(o, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 4 || !req->scope_office[0]) {
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, "no such office in your scope", NULL);
		return false;
	}
	*office = o;
	return true;
}

static enum http_outcome answer(struct http_req *req, struct http_resp *resp, enum coverage_result rc, json_t *out)
{
	switch (rc) {
	case COVERAGE_OK:
		http_resp_json(resp, 200, out);
		return HTTP_DONE;
	case COVERAGE_NOT_FOUND:
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, "no such office in your scope", NULL);
		return HTTP_DONE;
	case COVERAGE_ERROR:
		break;
	}
	return HTTP_FAILED;
}

enum http_outcome api_staff_coverage(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *office;
	json_t *out = NULL;

	(void)app;
	if (!office_or_reply(req, resp, &office))
		return HTTP_DONE;
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	enum coverage_result rc = coverage_overview(conn, req->scope_office, office, &out);
	return answer(req, resp, rc, out);
}

enum http_outcome api_staff_coverage_trend(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *office;
	long long days;
	json_t *out = NULL;

	(void)app;
	if (!validate_int_or_reply(req, resp, "days", http_query(req, "days"), &trend_days, &days) ||
	    !office_or_reply(req, resp, &office))
		return HTTP_DONE;
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	enum coverage_result rc = coverage_trend(conn, req->scope_office, office, days, &out);
	return answer(req, resp, rc, out);
}

enum http_outcome api_staff_coverage_units(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	struct coverage_units_filter f = { .active_days = app->cfg->coverage_active_days };
	long long limit;
	int status, sort;
	char *next = NULL;

	if (!validate_int_or_reply(req, resp, "limit", http_query(req, "limit"), &units_limit, &limit) ||
	    !validate_enum_or_reply(req, resp, "status", http_query(req, "status"), coverage_status_names, -1,
				    "must be protected, partial, unprotected or not_protected", &status) ||
	    !validate_enum_or_reply(req, resp, "sort", http_query(req, "sort"), coverage_sort_names, COVERAGE_SORT_WORST,
				    "must be worst, code or name", &sort))
		return HTTP_DONE;
	f.status = status >= 0 ? coverage_status_names[status] : NULL;
	f.sort = (enum coverage_sort)sort;
	f.q = http_query(req, "q");
	if (f.q && (f.q[0] == '\0' || strlen(f.q) > COVERAGE_Q_MAX || !parse_utf8_valid(f.q, strlen(f.q)))) {
		validate_reply_one(resp, req, "q", "must be 1 to 100 bytes of UTF-8");
		return HTTP_DONE;
	}
	f.cursor = http_query(req, "cursor");
	if (f.cursor && !coverage_cursor_ok(f.sort, f.cursor)) {
		validate_reply_one(resp, req, "cursor", "is not a cursor this list handed out for this sort");
		return HTTP_DONE;
	}
	if (!office_or_reply(req, resp, &f.office))
		return HTTP_DONE;
	PGconn *conn = http_db(req);
	json_t *units = json_array();
	if (!conn || !units) {
		json_decref(units);
		return HTTP_FAILED;
	}
	/* the office itself first: an empty list must not hide an out-of-scope office */
	json_t *head = NULL;
	enum coverage_result rc = coverage_overview(conn, req->scope_office, f.office, &head);
	json_decref(head);
	if (rc == COVERAGE_OK)
		rc = coverage_units_list(conn, req->scope_office, &f, limit, units, &next);
	if (rc != COVERAGE_OK) {
		json_decref(units);
		return answer(req, resp, rc, NULL);
	}
	json_t *out = json_pack("{s:o,s:s?}", "units", units, "next_cursor", next);
	free(next);
	if (!out)
		return HTTP_FAILED;
	http_resp_json(resp, 200, out);
	return HTTP_DONE;
}
