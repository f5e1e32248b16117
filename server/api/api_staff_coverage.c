/*
 * api_staff_coverage.c - the staff coverage routes (see api_staff_coverage.h).
 */
#include "api/api_staff_coverage.h"
#include "core/app.h"
#include "core/config.h"
#include "core/parse.h"
#include "http/validate.h"
#include "api/api_staff.h"
#include "core/buf.h"
#include "staff/coverage.h"
#include "staff/export.h"
#include "staff/lookups.h"
#include "staff/reauth.h"

#include <stdio.h>
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

/*
 * The units list's filters (status, sort, q, cursor, office) from the query;
 * false when resp holds the 422 or 404.
 */
static bool units_filter_or_reply(const struct app *app, struct http_req *req, struct http_resp *resp,
				  struct coverage_units_filter *f)
{
	int status, sort;

	memset(f, 0, sizeof(*f));
	f->active_days = app->cfg->coverage_active_days;
	if (!validate_enum_or_reply(req, resp, "status", http_query(req, "status"), coverage_status_names, -1,
				    "must be protected, partial, unprotected or not_protected", &status) ||
	    !validate_enum_or_reply(req, resp, "sort", http_query(req, "sort"), coverage_sort_names, COVERAGE_SORT_WORST,
				    "must be worst, code or name", &sort))
		return false;
	f->status = status >= 0 ? coverage_status_names[status] : NULL;
	f->sort = (enum coverage_sort)sort;
	f->q = http_query(req, "q");
	if (f->q && (f->q[0] == '\0' || strlen(f->q) > COVERAGE_Q_MAX || !parse_utf8_valid(f->q, strlen(f->q)))) {
		validate_reply_one(resp, req, "q", "must be 1 to 100 bytes of UTF-8");
		return false;
	}
	f->cursor = http_query(req, "cursor");
	if (f->cursor && !coverage_cursor_ok(f->sort, f->cursor)) {
		validate_reply_one(resp, req, "cursor", "is not a cursor this list handed out for this sort");
		return false;
	}
	return office_or_reply(req, resp, &f->office);
}

/* The office itself first: an empty list must not hide an out-of-scope office. */
static enum coverage_result office_in_scope(PGconn *conn, const struct http_req *req, const char *office)
{
	json_t *head = NULL;
	enum coverage_result rc = coverage_overview(conn, req->scope_office, office, &head);

	json_decref(head);
	return rc;
}

/*
 * The people units name (their contacts: names, phones, e-mails), for the
 * look-up meter: *n of them, their ids in *ids (malloc'd, the caller
 * frees; NULL when none). False when out of memory.
 */
static bool contact_ids(json_t *units, long long **ids, size_t *n)
{
	size_t i, j, total = 0, at = 0;
	json_t *u, *c;

	*ids = NULL;
	*n = 0;
	json_array_foreach(units, i, u)
		total += json_array_size(json_object_get(u, "contacts"));
	if (total == 0)
		return true;
	if (!(*ids = calloc(total, sizeof(**ids))))
		return false;
	json_array_foreach(units, i, u)
		json_array_foreach(json_object_get(u, "contacts"), j, c)
			(*ids)[at++] = (long long)json_integer_value(json_object_get(c, "id"));
	*n = total;
	return true;
}

/*
 * Count the contacts of units against the caller's look-up quota; true when
 * the answer may be sent (nothing to count, or counted), else *out is what
 * the handler returns (the 429 written, or HTTP_FAILED).
 */
static bool contacts_metered(const struct app *app, struct http_req *req, struct http_resp *resp, json_t *units,
			     const char *what, const char *office, enum http_outcome *out)
{
	long long *ids = NULL;
	size_t n = 0;

	*out = HTTP_FAILED;
	if (!contact_ids(units, &ids, &n))
		return false;
	if (n == 0)
		return true;
	struct staff_lookup l = { .what = what, .target = office, .people = (long long)n, .user_ids = ids, .nuser_ids = n };
	bool ok = staff_lookups_take_or_reply(app, req, resp, &l, out);
	free(ids);
	return ok;
}

enum http_outcome api_staff_coverage_units(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	struct coverage_units_filter f;
	long long limit;
	char *next = NULL;
	enum http_outcome refused;

	if (!validate_int_or_reply(req, resp, "limit", http_query(req, "limit"), &units_limit, &limit) ||
	    !units_filter_or_reply(app, req, resp, &f))
		return HTTP_DONE;
	PGconn *conn = http_db(req);
	json_t *units = json_array();
	if (!conn || !units) {
		json_decref(units);
		return HTTP_FAILED;
	}
	enum coverage_result rc = office_in_scope(conn, req, f.office);
	if (rc == COVERAGE_OK)
		rc = coverage_units_list(conn, req->scope_office, &f, limit, units, &next);
	if (rc != COVERAGE_OK) {
		json_decref(units);
		return answer(req, resp, rc, NULL);
	}
	/* whom to call is personal data: counted before it is shown */
	if (!contacts_metered(app, req, resp, units, "coverage_units", f.office, &refused)) {
		json_decref(units);
		free(next);
		return refused;
	}
	json_t *out = json_pack("{s:o,s:s?}", "units", units, "next_cursor", next);
	free(next);
	if (!out)
		return HTTP_FAILED;
	http_resp_json(resp, 200, out);
	return HTTP_DONE;
}

/* ---- the units export ---- */

/* The most units one export holds (the whole country is about 95,000). */
#define EXPORT_MAX_UNITS 100000
#define EXPORT_PAGE 2000

static void append(struct buf *b, const char *text)
{
	(void)buf_append(b, text, strlen(text)); /* checked once, by steal_text */
}

/* b's text as a malloc'd string ("" when nothing was appended); NULL when b failed (its cap) or out of memory. */
static char *steal_text(struct buf *b)
{
	if (!buf_ok(b)) {
		buf_free(b);
		return NULL;
	}
	char *s = buf_steal(b, NULL);
	return s ? s : strdup("");
}

/* One unit's cells, malloc'd strings (NULL for an empty cell), in staff_export_units_headers order. */
static bool unit_cells(json_t *u, char **cells)
{
	static const char *const text_cols[] = { "code", "name", "office_code", "office_name", "status" };
	static const char *const bool_cols[] = { "never_installed", "installed_unreachable", "shared_phone" };
	static const char *const int_cols[] = { "users", "covered_users", "reachable_devices" };
	struct buf b;
	size_t i, k = 0;
	json_t *v;
	char num[32];

	for (i = 0; i < 5; i++)
		cells[k++] = strdup(json_string_value(json_object_get(u, text_cols[i])) ?: "");
	buf_init(&b, 4096);
	json_array_foreach(json_object_get(u, "missing_roles"), i, v) {
		if (i)
			append(&b, " ");
		append(&b, json_string_value(v) ?: "");
	}
	cells[k++] = steal_text(&b);
	for (i = 0; i < 3; i++)
		cells[k++] = strdup(json_is_true(json_object_get(u, bool_cols[i])) ? "yes" : "no");
	for (i = 0; i < 3; i++) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(json_object_get(u, int_cols[i])));
		cells[k++] = strdup(num);
	}
	cells[k++] = strdup(json_string_value(json_object_get(u, "volume_30d")) ?: "0");
	for (i = 0; i < 2; i++) {
		const char *t = json_string_value(json_object_get(u, i == 0 ? "contact_email" : "contact_phone"));
		cells[k++] = t ? strdup(t) : NULL;
	}
	/* whom to call, one per line: "full_name (login; roles): phone, email" */
	buf_init(&b, 64 * 1024);
	json_array_foreach(json_object_get(u, "contacts"), i, v) {
		size_t j;
		json_t *r;
		if (i)
			append(&b, "\n");
		append(&b, json_string_value(json_object_get(v, "full_name")) ?: "");
		append(&b, " (");
		append(&b, json_string_value(json_object_get(v, "login")) ?: "");
		append(&b, ";");
		json_array_foreach(json_object_get(v, "roles"), j, r) {
			append(&b, " ");
			append(&b, json_string_value(r) ?: "");
		}
		append(&b, "): ");
		append(&b, json_string_value(json_object_get(v, "phone")) ?: "-");
		append(&b, ", ");
		append(&b, json_string_value(json_object_get(v, "email")) ?: "-");
	}
	cells[k++] = steal_text(&b);
	for (i = 0; i < STAFF_EXPORT_UNITS_COLS; i++)
		if (!cells[i] && i != 13 && i != 14)
			return false;
	return true;
}

/*
 * GET /v1/staff/coverage/units.csv and .xlsx: the units list's filters and
 * order, every matching unit up to EXPORT_MAX_UNITS, one row each. A fresh
 * re-authentication first; the contacts it names are counted against the
 * look-up quota before anything is written.
 */
static enum http_outcome units_export(const struct app *app, struct http_req *req, struct http_resp *resp, bool xlsx)
{
	struct coverage_units_filter f;
	enum http_outcome result = HTTP_FAILED;
	json_t *units = NULL;
	char **cells = NULL;
	size_t nunits = 0;
	char *next = NULL;

	if (!units_filter_or_reply(app, req, resp, &f))
		return HTTP_DONE;
	f.cursor = NULL; /* an export is the whole list, never a page of it */
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	enum coverage_result rc = office_in_scope(conn, req, f.office);
	if (rc != COVERAGE_OK)
		return answer(req, resp, rc, NULL);
	if (!staff_reauth_fresh_or_reply(app, req, resp, &result))
		return result;
	result = HTTP_FAILED;
	/*
	 * An export that names more people than one minute's quota can never
	 * pass: refused (429, audited) before the whole list is read and built.
	 * The estimate comes from the last refresh; the exact count is metered
	 * below all the same.
	 */
	long long estimate;
	if (coverage_units_people_estimate(conn, req->scope_office, &f, &estimate) != COVERAGE_OK)
		goto out;
	if (estimate > app->cfg->staff_lookups_per_minute) {
		struct staff_lookup l = { .what = "coverage_units_export", .target = f.office, .people = estimate };
		if (!staff_lookups_take_or_reply(app, req, resp, &l, &result))
			goto out;
		/* cannot happen (the quota is smaller than the estimate); nothing shown all the same */
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, "the look-up quota check disagreed with itself", NULL);
		result = HTTP_DONE;
		goto out;
	}
	if (!(units = json_array()))
		goto out;
	/* f.cursor borrows the previous page's cursor (owned by prev) while the
	 * next page is read; only then is that one freed */
	char *prev = NULL;
	do {
		long long room = EXPORT_MAX_UNITS - (long long)json_array_size(units);
		next = NULL;
		enum coverage_result page = coverage_units_list(conn, req->scope_office, &f,
								room < EXPORT_PAGE ? room : EXPORT_PAGE, units, &next);
		free(prev);
		prev = next;
		f.cursor = next;
		if (page != COVERAGE_OK) {
			prev = NULL; /* freed at out: through next */
			goto out;
		}
	} while (next && json_array_size(units) < EXPORT_MAX_UNITS);
	if (!contacts_metered(app, req, resp, units, "coverage_units_export", f.office, &result))
		goto out;
	result = HTTP_FAILED;
	nunits = json_array_size(units);
	if (!(cells = calloc((nunits ? nunits : 1) * STAFF_EXPORT_UNITS_COLS, sizeof(*cells))))
		goto out;
	for (size_t i = 0; i < nunits; i++)
		if (!unit_cells(json_array_get(units, i), cells + i * STAFF_EXPORT_UNITS_COLS))
			goto out;
	json_decref(units);
	units = NULL;
	struct staff_export t = { .sheet = "units",
				  .ncols = STAFF_EXPORT_UNITS_COLS,
				  .headers = staff_export_units_headers,
				  .nrows = nunits,
				  .cells = (const char *const *)cells };
	char filename[48];
	snprintf(filename, sizeof(filename), "coverage-%s-units", f.office);
	result = api_staff_export_send(req, resp, xlsx, &t, filename);
out:
	json_decref(units);
	free(next);
	if (cells)
		for (size_t i = 0; i < nunits * STAFF_EXPORT_UNITS_COLS; i++)
			free(cells[i]);
	free(cells);
	return result;
}

enum http_outcome api_staff_coverage_units_csv(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	return units_export(app, req, resp, false);
}

enum http_outcome api_staff_coverage_units_xlsx(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	return units_export(app, req, resp, true);
}
